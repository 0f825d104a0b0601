//! The connection state machine (RFC 6455 sections 5 to 7), sans IO.
//!
//! A [`Connection`] turns received bytes into [`Event`]s and outgoing [`Message`]s
//! into bytes, in buffers the caller owns. It never reads a socket, a clock or a random
//! number generator: the caller passes the mask key for every frame it sends.
//!
//! # Call order
//! 1. **Input** ([`handle_input`](Connection::handle_input)): pass the unconsumed input.
//!    Each call returns one step: `Complete { value, consumed }` says to remove
//!    `consumed` bytes from the front of the buffer once `value` (`Some(event)` when
//!    there is something to handle) is no longer needed. `Partial { needed }` means read
//!    more bytes and call again. While a fragmented message is being reassembled in
//!    place, `consumed` is 0 and the buffer's front holds the message so far; if the
//!    buffer fills up, [`compact`](Connection::compact) frees the space taken by the
//!    frame headers already joined.
//! 2. **Owed output** ([`poll_transmit`](Connection::poll_transmit)): after each event,
//!    send what the connection owes the peer (a pong, the close reply, the close frame
//!    that reports a protocol error).
//! 3. **Application output** ([`encode`](Connection::encode),
//!    [`encode_fragment`](Connection::encode_fragment)).
//!
//! ```
//! use wscodec::{Connection, Event, Message, Role, Status};
//! let mut server = Connection::new(Role::Server);
//! let mut wire = [0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2]; // masked "Hi"
//! let Status::Complete { value: Some(Event::Text(s)), consumed } = server.handle_input(&mut wire)? else {
//!     panic!()
//! };
//! assert_eq!((s, consumed), ("Hi", 8));
//! let mut out = [0u8; 16];
//! let n = server.encode(Message::Text("Hi"), [0; 4], &mut out).unwrap();
//! assert_eq!(&out[..n], &[0x81, 0x02, b'H', b'i']);
//! # Ok::<(), wscodec::ProtocolError>(())
//! ```
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

mod error;
mod event;

pub use error::{ProtocolError, SendError};
pub use event::{Event, Message, MessageKind};

use crate::close::{CloseFrame, MAX_REASON_LEN};
use crate::frame::{FrameError, FrameHeader, OpCode};
use crate::mask::{apply_mask, mask_into};
use crate::utf8::Utf8Validator;
use crate::{CloseCode, Status};

/// Which end of the connection this is; it decides the masking rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Masks what it sends; refuses masked frames.
    Client,
    /// Refuses unmasked frames; sends unmasked.
    Server,
}

/// Where the closing handshake stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Data flows both ways.
    Open,
    /// We sent a close frame and wait for the peer's; incoming data is still delivered.
    CloseSent,
    /// The peer sent a close frame; our reply is owed (`poll_transmit`).
    CloseReceived,
    /// The peer broke the protocol; the close frame that says why is owed (`poll_transmit`).
    Failing,
    /// The closing handshake is over (or the connection failed): close the transport.
    Closed,
}

/// Receive limits and modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The largest message accepted, in bytes; larger ones fail with 1009 as soon as a
    /// frame header announces them. In reassembly mode the adapters also cap this at what
    /// their receive buffer can hold.
    pub max_message: u64,
    /// Hand out data as [`Event::Fragment`] pieces as it arrives instead of reassembling
    /// whole messages, for messages larger than any buffer.
    pub streaming: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self { max_message: 16 * 1024 * 1024, streaming: false }
    }
}

/// What the next call to [`Connection::handle_input`] will do (see [`Connection::next_step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// It returns an event or an error.
    Event,
    /// It makes progress without an event: joins a non-final fragment to the message
    /// being reassembled, or checks the UTF-8 of a text frame that is still arriving.
    Progress,
}

/// The largest control frame on the wire: 2 header bytes, 4 mask bytes, 125 payload bytes.
pub const MAX_CONTROL_FRAME: usize = 2 + 4 + 125;

/// A frame whose header was consumed and whose payload is still arriving (streaming mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OpenFrame {
    fin: bool,
    mask: Option<[u8; 4]>,
    remaining: u64,
    offset: usize,
}

/// A control frame payload we owe the peer (a pong or a close reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ControlPayload {
    bytes: [u8; 125],
    len: u8,
}

impl ControlPayload {
    fn new(data: &[u8]) -> Self {
        let mut bytes = [0u8; 125];
        let len = data.len().min(125);
        if let (Some(dst), Some(src)) = (bytes.get_mut(..len), data.get(..len)) {
            dst.copy_from_slice(src);
        }
        Self { bytes, len: len as u8 }
    }

    fn close(code: Option<CloseCode>, reason: &str) -> Self {
        let mut bytes = [0u8; 125];
        let Some(code) = code else {
            return Self { bytes, len: 0 };
        };
        let reason = reason.as_bytes();
        let len = reason.len().min(MAX_REASON_LEN);
        if let ([hi, lo, rest @ ..], Some(src)) = (&mut bytes, reason.get(..len)) {
            [*hi, *lo] = code.as_u16().to_be_bytes();
            if let Some(dst) = rest.get_mut(..len) {
                dst.copy_from_slice(src);
            }
        }
        Self { bytes, len: (len + 2) as u8 }
    }

    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// One end of a WebSocket connection after the handshake.
///
/// Memory: a fixed-size struct (see `size_of::<Connection>()`, about 300 bytes) holding
/// the state and at most one owed pong and one owed close frame; message data lives in
/// the caller's buffers.
#[derive(Debug, Clone)]
pub struct Connection {
    role: Role,
    config: Config,
    state: State,
    /// Kind of the message being received, if one is in progress.
    rx_message: Option<MessageKind>,
    /// Payload bytes of that message announced so far.
    rx_message_len: u64,
    /// Reassembly mode: payload bytes kept at the start of the caller's buffer.
    retained: usize,
    /// Reassembly mode: payload bytes of the incomplete text frame at the front of the
    /// input that were already unmasked and checked for UTF-8.
    checked: usize,
    /// Reassembly mode: spent bytes (joined frames' headers, control frames) between the
    /// retained payload and the next frame; freed by `compact`.
    gap: usize,
    /// Streaming mode: the next piece is the first of its message.
    rx_first_piece: bool,
    utf8: Utf8Validator,
    open_frame: Option<OpenFrame>,
    tx_message: Option<MessageKind>,
    pending_pong: Option<ControlPayload>,
    pending_close: Option<ControlPayload>,
}

impl Connection {
    /// A connection in the open state with the default [`Config`].
    pub fn new(role: Role) -> Self {
        Self::with_config(role, Config::default())
    }

    /// A connection in the open state with the given limits.
    pub fn with_config(role: Role, config: Config) -> Self {
        Self {
            role,
            config,
            state: State::Open,
            rx_message: None,
            rx_message_len: 0,
            retained: 0,
            gap: 0,
            checked: 0,
            rx_first_piece: true,
            utf8: Utf8Validator::new(),
            open_frame: None,
            tx_message: None,
            pending_pong: None,
            pending_close: None,
        }
    }

    /// This end's role.
    pub const fn role(&self) -> Role {
        self.role
    }

    /// The receive configuration.
    pub const fn config(&self) -> Config {
        self.config
    }

    /// Changes the largest accepted message (takes effect at the next frame header).
    pub fn set_max_message(&mut self, max: u64) {
        self.config.max_message = max;
    }

    /// The closing-handshake state.
    pub const fn state(&self) -> State {
        self.state
    }

    /// Whether the connection is [`State::Closed`].
    pub const fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// The kind of the data message being received, while one is in progress: its first
    /// frame (or piece) arrived and its last has not.
    pub const fn receiving(&self) -> Option<MessageKind> {
        self.rx_message
    }

    /// Reassembly mode: how many bytes at the start of the input buffer belong to the
    /// message being reassembled so far. They must stay in place between calls.
    pub const fn retained(&self) -> usize {
        self.retained
    }

    /// Reassembly mode: frees the space that already joined frames still take in `buf`
    /// (their headers, and control frames that arrived between fragments) by moving the
    /// unprocessed bytes down. Returns how many bytes were freed: the caller's buffer now
    /// holds that many fewer bytes at its end. Call it when the buffer is full.
    ///
    /// Each call moves the unprocessed tail once, so calling it only when out of space
    /// keeps reassembly linear in the message size.
    pub fn compact(&mut self, buf: &mut [u8]) -> usize {
        let gap = self.gap;
        let from = self.retained.saturating_add(gap);
        if gap == 0 || from > buf.len() {
            return 0;
        }
        buf.copy_within(from.., self.retained);
        self.gap = 0;
        gap
    }

    /// The transport under this connection broke: a write failed, timed out or was
    /// cancelled, so a frame may be cut short on the wire. Nothing more may be sent or
    /// received: the connection is [`State::Closed`] and whatever was owed is dropped.
    pub fn abort(&mut self) {
        self.state = State::Closed;
        self.pending_pong = None;
        self.pending_close = None;
    }

    /// Whether output is owed: call [`poll_transmit`](Self::poll_transmit).
    pub const fn wants_transmit(&self) -> bool {
        self.pending_close.is_some() || self.pending_pong.is_some()
    }

    /// Processes input: the unconsumed bytes received so far.
    ///
    /// Returns one step at a time; see the [module docs](self) for the contract on
    /// `consumed` and [`retained`](Self::retained). Payloads are unmasked in place.
    ///
    /// # Errors
    /// A [`ProtocolError`] when the peer broke the protocol; the connection moves to
    /// [`State::Failing`] and [`poll_transmit`](Self::poll_transmit) yields the close
    /// frame with [`ProtocolError::close_code`]. After the peer's close frame, or after
    /// a failure, any further call returns [`ProtocolError::AfterClose`].
    #[inline(always)]
    pub fn handle_input<'a>(
        &mut self,
        buf: &'a mut [u8],
    ) -> Result<Status<Option<Event<'a>>>, ProtocolError> {
        if matches!(self.state, State::CloseReceived | State::Failing | State::Closed) {
            return Err(ProtocolError::AfterClose);
        }
        let result =
            if self.open_frame.is_some() { self.continue_frame(buf) } else { self.next_frame(buf) };
        if let Err(e) = result {
            self.fail(e);
        }
        result
    }

    /// Tells, without changing or borrowing anything, what
    /// [`handle_input`](Self::handle_input) would do with `buf`: `Partial` if it needs
    /// more bytes, otherwise whether it would return an event (or an error) or only
    /// make progress (a non-final fragment joined to the message being reassembled).
    ///
    /// Adapters use it to decide when to read without holding a borrow of their buffer.
    #[inline]
    pub fn next_step(&self, buf: &[u8]) -> Status<Step> {
        let ready = |consumed| Status::Complete { value: Step::Event, consumed };
        if matches!(self.state, State::CloseReceived | State::Failing | State::Closed) {
            return ready(0);
        }
        if let Some(frame) = self.open_frame {
            return if buf.is_empty() && frame.remaining > 0 {
                Status::Partial { needed: 1 }
            } else {
                ready(0)
            };
        }
        let start = self.frame_start();
        let input = buf.get(start..).unwrap_or(&[]);
        let (header, header_len) = match FrameHeader::decode(input) {
            Ok(Status::Complete { value, consumed }) => (value, consumed),
            Ok(Status::Partial { needed }) => return Status::Partial { needed },
            Err(_) => return ready(0),
        };
        let is_data = !header.opcode.is_control();
        if self.check_header(&header).is_err()
            || (is_data
                && self.rx_message_len.saturating_add(header.payload_len) > self.config.max_message)
        {
            return ready(0);
        }
        // A continuation without a message, or a new message inside one, fails at the
        // header: handle_input returns the error without waiting for the payload.
        let continuation = header.opcode == OpCode::Continuation;
        if is_data && continuation != self.rx_message.is_some() {
            return ready(0);
        }
        if self.config.streaming && is_data {
            return if header.payload_len > 0 && input.len() <= header_len {
                Status::Partial { needed: 1 }
            } else {
                ready(0)
            };
        }
        let frame_len = (header_len as u64).saturating_add(header.payload_len);
        if let Some(partial) = Self::missing(buf.len(), start, frame_len) {
            let is_text = match header.opcode {
                OpCode::Text => true,
                OpCode::Continuation => self.rx_message == Some(MessageKind::Text),
                _ => false,
            };
            let available = input.len().saturating_sub(header_len);
            return if is_text && available > self.checked {
                Status::Complete { value: Step::Progress, consumed: 0 }
            } else {
                partial
            };
        }
        if is_data && !header.fin {
            Status::Complete { value: Step::Progress, consumed: 0 }
        } else {
            ready(0)
        }
    }

    fn fail(&mut self, error: ProtocolError) {
        self.pending_pong = None;
        if self.state == State::CloseSent {
            // Our close frame is already out: nothing more may be sent.
            self.state = State::Closed;
        } else {
            self.state = State::Failing;
            let reason = error.close_reason();
            self.pending_close = Some(ControlPayload::close(Some(error.close_code()), reason));
        }
    }

    #[inline(always)]
    fn next_frame<'a>(
        &mut self,
        buf: &'a mut [u8],
    ) -> Result<Status<Option<Event<'a>>>, ProtocolError> {
        if let Some(small) = self.small_message(buf) {
            return Self::small_message_event(buf, small);
        }
        self.any_frame(buf)
    }

    /// The general path of [`next_frame`](Self::next_frame): every frame kind, length,
    /// mode and state.
    #[inline(always)]
    fn any_frame<'a>(
        &mut self,
        buf: &'a mut [u8],
    ) -> Result<Status<Option<Event<'a>>>, ProtocolError> {
        let input = buf.get(self.frame_start()..).unwrap_or(&[]);
        let (header, header_len) = match FrameHeader::decode(input)? {
            Status::Complete { value, consumed } => (value, consumed),
            Status::Partial { needed } => return Ok(Status::Partial { needed }),
        };
        self.check_header(&header)?;
        if header.opcode.is_control() {
            return self.control_frame(buf, header, header_len);
        }
        let kind = match (header.opcode, self.rx_message) {
            (OpCode::Continuation, Some(kind)) => kind,
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (_, Some(_)) => return Err(ProtocolError::ExpectedContinuation),
            (OpCode::Text, None) => MessageKind::Text,
            _ => MessageKind::Binary,
        };
        let message_len = self.rx_message_len.saturating_add(header.payload_len);
        if message_len > self.config.max_message {
            return Err(
                FrameError::TooLarge { size: message_len, max: self.config.max_message }.into()
            );
        }
        if self.config.streaming {
            self.start_streamed_frame(buf, header, header_len, kind)
        } else {
            self.reassemble_frame(buf, header, header_len, kind)
        }
    }

    /// The common case, told apart with few branches: a whole text or binary message in
    /// one frame with a 7-bit length, at the front of the input, masked if and only if
    /// the peer is a client, while no message is in progress (reassembly mode). Returns
    /// the kind, the mask key, the header length and the payload length. `None` sends
    /// everything else, including every error and every partial frame, down the general
    /// path, which treats these frames the same way (the connection tests and proptests
    /// run both).
    #[inline(always)]
    fn small_message(&self, buf: &[u8]) -> Option<(MessageKind, Option<[u8; 4]>, usize, usize)> {
        if self.rx_message.is_some() || self.checked != 0 || self.config.streaming {
            return None;
        }
        let [first, second, rest @ ..] = buf else { return None };
        // FIN set, RSV clear, opcode 1 (text) or 2 (binary).
        let kind = match *first {
            0x81 => MessageKind::Text,
            0x82 => MessageKind::Binary,
            _ => return None,
        };
        let len = usize::from(*second & 0x7f);
        if len > 125 || len as u64 > self.config.max_message {
            return None;
        }
        let (key, header_len) = match (*second & 0x80 != 0, self.role, rest) {
            (true, Role::Server, [k0, k1, k2, k3, ..]) => (Some([*k0, *k1, *k2, *k3]), 6),
            (false, Role::Client, _) => (None, 2),
            _ => return None,
        };
        (buf.len() >= header_len + len).then_some((kind, key, header_len, len))
    }

    /// Decodes what [`small_message`](Self::small_message) found.
    #[inline(always)]
    fn small_message_event<'a>(
        buf: &'a mut [u8],
        (kind, key, header_len, len): (MessageKind, Option<[u8; 4]>, usize, usize),
    ) -> Result<Status<Option<Event<'a>>>, ProtocolError> {
        let Some(payload) = buf.get_mut(header_len..header_len + len) else {
            return Ok(Status::Partial { needed: 1 });
        };
        if let Some(key) = key {
            apply_mask(payload, key, 0);
        }
        let payload: &'a [u8] = payload;
        let event = match kind {
            MessageKind::Binary => Event::Binary(payload),
            MessageKind::Text => {
                Event::Text(core::str::from_utf8(payload).map_err(|_| ProtocolError::InvalidUtf8)?)
            }
        };
        Ok(Status::Complete { value: Some(event), consumed: header_len + len })
    }

    /// Where the next frame starts in the input buffer.
    #[inline(always)]
    const fn frame_start(&self) -> usize {
        self.retained.saturating_add(self.gap)
    }

    #[inline(always)]
    fn check_header(&self, header: &FrameHeader) -> Result<(), FrameError> {
        // "MUST be 0 unless an extension is negotiated that defines meanings" (5.2)
        if header.rsv != 0 {
            return Err(FrameError::ReservedBits(header.rsv));
        }
        match (self.role, header.mask.is_some()) {
            // "The server MUST close the connection upon receiving a frame that is not masked." (5.1)
            (Role::Server, false) => Err(FrameError::UnmaskedClientFrame),
            // "A client MUST close a connection if it detects a masked frame." (5.1)
            (Role::Client, true) => Err(FrameError::MaskedServerFrame),
            _ => Ok(()),
        }
    }

    /// Bytes still missing for a frame of `total` bytes at `start`, as a `Partial` status.
    #[inline(always)]
    fn missing<T>(buf_len: usize, start: usize, total: u64) -> Option<Status<T>> {
        let have = buf_len.saturating_sub(start) as u64;
        (have < total).then(|| Status::Partial {
            needed: usize::try_from(total - have).unwrap_or(usize::MAX),
        })
    }

    #[inline]
    fn control_frame<'a>(
        &mut self,
        buf: &'a mut [u8],
        header: FrameHeader,
        header_len: usize,
    ) -> Result<Status<Option<Event<'a>>>, ProtocolError> {
        let start = self.frame_start();
        // Control payloads are at most 125 bytes (checked by the header decoder).
        let len = header.payload_len as usize;
        if let Some(partial) = Self::missing(buf.len(), start, (header_len + len) as u64) {
            return Ok(partial);
        }
        let Some(payload) = buf.get_mut(start + header_len..start + header_len + len) else {
            return Ok(Status::Partial { needed: 1 });
        };
        if let Some(key) = header.mask {
            apply_mask(payload, key, 0);
        }
        let payload: &'a [u8] = payload;
        let consumed = if self.rx_message.is_some() && !self.config.streaming {
            // Between fragments being reassembled: the message so far stays at the front
            // of the buffer. (Streaming mode keeps nothing, so the frame is consumed.)
            self.gap += header_len + len;
            0
        } else {
            header_len + len
        };
        let event = match header.opcode {
            OpCode::Ping => {
                if self.state == State::Open {
                    // "MAY elect to send a Pong frame for only the most recently processed
                    // Ping frame" (5.5.3): one pending pong, the newest, bounds memory.
                    self.pending_pong = Some(ControlPayload::new(payload));
                }
                Event::Ping(payload)
            }
            OpCode::Pong => Event::Pong(payload),
            _ => {
                let close = CloseFrame::decode(payload)?;
                self.pending_pong = None;
                if self.state == State::CloseSent {
                    self.state = State::Closed;
                } else {
                    // "the endpoint MUST send a Close frame in response ... typically
                    // echoing the status code it received" (5.5.1). The reason is echoed
                    // too, so the peer's application sees the words it chose.
                    self.state = State::CloseReceived;
                    self.pending_close = Some(ControlPayload::close(close.code, close.reason));
                }
                Event::Close { code: close.code, reason: close.reason }
            }
        };
        Ok(Status::Complete { value: Some(event), consumed })
    }

    #[inline(always)]
    fn begin_piece(&mut self, kind: MessageKind, header: &FrameHeader) {
        if self.rx_message.is_none() {
            self.rx_message = Some(kind);
            self.rx_message_len = 0;
            self.rx_first_piece = true;
            if self.checked == 0 {
                // (Text already checked ahead in this frame started the validator.)
                self.utf8.reset();
            }
        }
        self.rx_message_len = self.rx_message_len.saturating_add(header.payload_len);
    }

    #[inline(always)]
    fn end_message(&mut self) {
        self.rx_message = None;
        self.rx_message_len = 0;
        self.retained = 0;
        self.gap = 0;
    }

    /// Text in a frame that has not fully arrived: unmask and check what is there, so
    /// that invalid UTF-8 fails the connection at once rather than when the frame ends
    /// ("fail fast", RFC 6455 section 8.1 and Autobahn 6.4.x).
    fn check_text_ahead<'a>(
        &mut self,
        buf: &mut [u8],
        header: &FrameHeader,
        payload_at: usize,
        partial: Status<Option<Event<'a>>>,
    ) -> Result<Status<Option<Event<'a>>>, ProtocolError> {
        let available = buf.len().saturating_sub(payload_at);
        let Some(fresh) = buf.get_mut(payload_at + self.checked..payload_at + available) else {
            return Ok(partial);
        };
        if fresh.is_empty() {
            return Ok(partial);
        }
        if self.checked == 0 && self.rx_message.is_none() {
            self.utf8.reset();
        }
        if let Some(key) = header.mask {
            apply_mask(fresh, key, self.checked);
        }
        self.utf8.feed(fresh).map_err(|_| ProtocolError::InvalidUtf8)?;
        self.checked = available;
        Ok(Status::Complete { value: None, consumed: 0 })
    }

    #[inline(always)]
    fn reassemble_frame<'a>(
        &mut self,
        buf: &'a mut [u8],
        header: FrameHeader,
        header_len: usize,
        kind: MessageKind,
    ) -> Result<Status<Option<Event<'a>>>, ProtocolError> {
        let (retained, start) = (self.retained, self.frame_start());
        let frame_len = (header_len as u64).saturating_add(header.payload_len);
        let payload_at = start + header_len;
        if let Some(partial) = Self::missing(buf.len(), start, frame_len) {
            if kind == MessageKind::Text {
                return self.check_text_ahead(buf, &header, payload_at, partial);
            }
            return Ok(partial);
        }
        // The whole frame is in `buf`, so its length fits in usize.
        let len = header.payload_len as usize;
        let checked = self.checked.min(len);
        let single_frame = header.fin && self.rx_message.is_none() && checked == 0;
        self.begin_piece(kind, &header);
        self.checked = 0;
        let Some(payload) = buf.get_mut(payload_at..payload_at + len) else {
            return Ok(Status::Partial { needed: 1 });
        };
        let (_, unchecked) = payload.split_at_mut(checked);
        if let Some(key) = header.mask {
            apply_mask(unchecked, key, checked);
        }
        if kind == MessageKind::Text && !single_frame {
            self.utf8.feed(unchecked).map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        let message_at = if single_frame {
            // A whole message in one frame (nothing retained, `start` is 0): hand it out
            // where it lies, without moving it.
            payload_at
        } else {
            // Join the payload to the bytes already reassembled.
            move_down(buf, payload_at, len, retained);
            if !header.fin {
                self.retained = retained + len;
                self.gap += header_len;
                return Ok(Status::Complete { value: None, consumed: 0 });
            }
            if kind == MessageKind::Text && !self.utf8.is_complete() {
                return Err(ProtocolError::InvalidUtf8);
            }
            0
        };
        self.end_message();
        let consumed = start + header_len + len;
        let message: &'a [u8] = buf.get(message_at..message_at + retained + len).unwrap_or(&[]);
        let event = match kind {
            MessageKind::Binary => Event::Binary(message),
            MessageKind::Text => {
                Event::Text(core::str::from_utf8(message).map_err(|_| ProtocolError::InvalidUtf8)?)
            }
        };
        Ok(Status::Complete { value: Some(event), consumed })
    }

    fn start_streamed_frame<'a>(
        &mut self,
        buf: &'a mut [u8],
        header: FrameHeader,
        header_len: usize,
        kind: MessageKind,
    ) -> Result<Status<Option<Event<'a>>>, ProtocolError> {
        if header.payload_len > 0 && buf.len() <= header_len {
            // Wait for at least one payload byte so that every step hands out data.
            return Ok(Status::Partial { needed: 1 });
        }
        self.begin_piece(kind, &header);
        self.open_frame = Some(OpenFrame {
            fin: header.fin,
            mask: header.mask,
            remaining: header.payload_len,
            offset: 0,
        });
        let rest = buf.get_mut(header_len..).unwrap_or(&mut []);
        match self.continue_frame(rest)? {
            Status::Complete { value, consumed } => {
                Ok(Status::Complete { value, consumed: consumed + header_len })
            }
            Status::Partial { needed } => Ok(Status::Partial { needed }),
        }
    }

    /// Streaming mode: hand out the next piece of the current frame's payload.
    fn continue_frame<'a>(
        &mut self,
        buf: &'a mut [u8],
    ) -> Result<Status<Option<Event<'a>>>, ProtocolError> {
        let (Some(mut frame), Some(kind)) = (self.open_frame, self.rx_message) else {
            return Ok(Status::Partial { needed: 1 });
        };
        let take = usize::try_from(frame.remaining).unwrap_or(usize::MAX).min(buf.len());
        if take == 0 && frame.remaining > 0 {
            return Ok(Status::Partial { needed: 1 });
        }
        let Some(piece) = buf.get_mut(..take) else {
            return Ok(Status::Partial { needed: 1 });
        };
        if let Some(key) = frame.mask {
            apply_mask(piece, key, frame.offset);
        }
        if kind == MessageKind::Text {
            self.utf8.feed(piece).map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        frame.remaining -= take as u64;
        frame.offset = frame.offset.wrapping_add(take);
        let frame_done = frame.remaining == 0;
        let last = frame_done && frame.fin;
        if last && kind == MessageKind::Text && !self.utf8.is_complete() {
            return Err(ProtocolError::InvalidUtf8);
        }
        let first = core::mem::replace(&mut self.rx_first_piece, false);
        self.open_frame = if frame_done { None } else { Some(frame) };
        if last {
            self.end_message();
        }
        let event = Event::Fragment { kind, data: piece, first, last };
        Ok(Status::Complete { value: Some(event), consumed: take })
    }

    /// Writes the control frame the connection owes the peer, if any: the close frame of a
    /// failure, the reply to the peer's close, or the pong for the latest ping.
    ///
    /// Returns the number of bytes written into `out`, or `None` if nothing is owed.
    /// `mask_key` is used by clients only; pass fresh random bytes for each call.
    ///
    /// # Errors
    /// [`SendError::BufferTooSmall`] if `out` is shorter than the frame (at most
    /// [`MAX_CONTROL_FRAME`] bytes); the frame stays owed.
    #[inline]
    pub fn poll_transmit(
        &mut self,
        mask_key: [u8; 4],
        out: &mut [u8],
    ) -> Result<Option<usize>, SendError> {
        if let Some(close) = self.pending_close {
            let n = self.write_frame(OpCode::Close, true, close.as_slice(), mask_key, out)?;
            self.pending_close = None;
            self.state = match self.state {
                State::CloseReceived | State::Failing => State::Closed,
                other => other,
            };
            return Ok(Some(n));
        }
        if let Some(pong) = self.pending_pong {
            let n = self.write_frame(OpCode::Pong, true, pong.as_slice(), mask_key, out)?;
            self.pending_pong = None;
            return Ok(Some(n));
        }
        Ok(None)
    }

    /// Encodes a whole message as one frame into `out` and returns its length.
    ///
    /// `mask_key` is used by clients only; pass fresh random bytes for each frame.
    /// Sending a close frame moves the connection to [`State::CloseSent`] (or
    /// [`State::Closed`] if it answers the peer's close).
    ///
    /// # Errors
    /// [`SendError`] if the state forbids the message (after a close), a control payload
    /// is too long, the close code may not be sent, or `out` is too small.
    #[inline(always)]
    pub fn encode(
        &mut self,
        message: Message<'_>,
        mask_key: [u8; 4],
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        let (opcode, payload): (OpCode, &[u8]) = match message {
            Message::Text(text) => (OpCode::Text, text.as_bytes()),
            Message::Binary(data) => (OpCode::Binary, data),
            Message::Ping(data) => (OpCode::Ping, data),
            Message::Pong(data) => (OpCode::Pong, data),
            Message::Close(close) => return self.encode_close(close, mask_key, out),
        };
        self.write_frame(opcode, true, payload, mask_key, out)
    }

    /// Encodes one fragment of a message sent in pieces: the first call starts a message
    /// of `kind`, later calls continue it, and `last = true` ends it. Control messages
    /// may be sent between fragments.
    ///
    /// # Errors
    /// As [`encode`](Self::encode).
    ///
    /// ```
    /// use wscodec::{conn::MessageKind, Connection, Role};
    /// let mut c = Connection::new(Role::Server);
    /// let mut out = [0u8; 16];
    /// let n = c.encode_fragment(MessageKind::Text, b"Hel", false, [0; 4], &mut out).unwrap();
    /// assert_eq!(&out[..n], &[0x01, 0x03, b'H', b'e', b'l']); // RFC 6455 section 5.7
    /// let n = c.encode_fragment(MessageKind::Text, b"lo", true, [0; 4], &mut out).unwrap();
    /// assert_eq!(&out[..n], &[0x80, 0x02, b'l', b'o']);
    /// ```
    pub fn encode_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        last: bool,
        mask_key: [u8; 4],
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        let needed = self.frame_len(data.len());
        if out.len() < needed {
            return Err(SendError::BufferTooSmall { needed });
        }
        let header_len =
            self.encode_fragment_header(kind, data.len() as u64, last, mask_key, out)?;
        self.write_payload(header_len, data, mask_key, out)
    }

    /// Like [`encode_fragment`](Self::encode_fragment) but writes only the header, for a
    /// payload of `len` bytes the caller sends itself (masked with
    /// [`mask::apply_mask`](crate::mask::apply_mask) and `mask_key` when this is a client).
    /// This is how an adapter streams a payload larger than its output buffer.
    ///
    /// # Errors
    /// As [`encode`](Self::encode).
    pub fn encode_fragment_header(
        &mut self,
        kind: MessageKind,
        len: u64,
        last: bool,
        mask_key: [u8; 4],
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        let opcode = match (self.tx_message, kind) {
            (Some(open), _) if open != kind => return Err(SendError::MessageInProgress),
            (Some(_), _) => OpCode::Continuation,
            (None, MessageKind::Text) => OpCode::Text,
            (None, MessageKind::Binary) => OpCode::Binary,
        };
        let n = self.encode_header(opcode, last, len, mask_key, out)?;
        self.tx_message = if last { None } else { Some(kind) };
        Ok(n)
    }

    fn encode_close(
        &mut self,
        close: Option<(CloseCode, &str)>,
        mask_key: [u8; 4],
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        if let Some((code, reason)) = close {
            if !code.is_sendable() {
                return Err(SendError::InvalidCloseCode(code.as_u16()));
            }
            if reason.len() > MAX_REASON_LEN {
                return Err(SendError::ControlTooLong(reason.len() + 2));
            }
        }
        let payload = ControlPayload::close(close.map(|c| c.0), close.map_or("", |c| c.1));
        self.write_frame(OpCode::Close, true, payload.as_slice(), mask_key, out)
    }

    /// Checks state and sizes, writes a header and updates the state for control frames.
    #[inline(always)]
    fn encode_header(
        &mut self,
        opcode: OpCode,
        fin: bool,
        len: u64,
        mask_key: [u8; 4],
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        let sendable = match self.state {
            State::Open => true,
            // Only the close reply (or the close that reports a failure) may still go out.
            State::CloseReceived | State::Failing => opcode == OpCode::Close,
            State::CloseSent | State::Closed => false,
        };
        if !sendable {
            return Err(SendError::Closed);
        }
        if opcode.is_control() && len > 125 {
            return Err(SendError::ControlTooLong(usize::try_from(len).unwrap_or(usize::MAX)));
        }
        if !opcode.is_control() && opcode != OpCode::Continuation && self.tx_message.is_some() {
            return Err(SendError::MessageInProgress);
        }
        let mask = (self.role == Role::Client).then_some(mask_key);
        let header = FrameHeader { fin, rsv: 0, opcode, mask, payload_len: len };
        let needed = header.encoded_len();
        let n = header.encode(out).ok_or(SendError::BufferTooSmall { needed })?;
        if opcode == OpCode::Close {
            self.pending_pong = None;
            self.state = match self.state {
                State::CloseReceived | State::Failing => {
                    self.pending_close = None;
                    State::Closed
                }
                _ => State::CloseSent,
            };
        }
        Ok(n)
    }

    #[inline(always)]
    fn write_frame(
        &mut self,
        opcode: OpCode,
        fin: bool,
        payload: &[u8],
        mask_key: [u8; 4],
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        let needed = self.frame_len(payload.len());
        if out.len() < needed {
            // Check before changing any state so a failed send can be retried.
            return Err(SendError::BufferTooSmall { needed });
        }
        let header_len = self.encode_header(opcode, fin, payload.len() as u64, mask_key, out)?;
        self.write_payload(header_len, payload, mask_key, out)
    }

    /// The encoded size of a frame with `len` payload bytes sent by this end.
    #[inline(always)]
    pub const fn frame_len(&self, len: usize) -> usize {
        let mask = match self.role {
            Role::Client => Some([0; 4]),
            Role::Server => None,
        };
        FrameHeader { fin: true, rsv: 0, opcode: OpCode::Binary, mask, payload_len: len as u64 }
            .encoded_len()
            + len
    }

    #[inline(always)]
    fn write_payload(
        &self,
        header_len: usize,
        payload: &[u8],
        mask_key: [u8; 4],
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        let end = header_len + payload.len();
        let dst = out.get_mut(header_len..end).ok_or(SendError::BufferTooSmall { needed: end })?;
        match self.role {
            Role::Client => mask_into(dst, payload, mask_key),
            Role::Server => dst.copy_from_slice(payload),
        }
        Ok(end)
    }
}

/// `buf.copy_within(from..from + len, to)` for `to <= from`, written with explicit checks
/// so that no panic path is left for bounds the caller already checked (the
/// `tests/panic-never` link check proves it); out-of-range arguments copy nothing.
fn move_down(buf: &mut [u8], from: usize, len: usize, to: usize) {
    let Some(offset) = from.checked_sub(to) else { return };
    let Some(end) = offset.checked_add(len) else { return };
    let Some(span) = buf.get_mut(to..).and_then(|b| b.get_mut(..end)) else { return };
    span.copy_within(offset.., 0);
}

#[cfg(test)]
mod tests;
