//! The connection state machine (RFC 6455 sections 5 to 7), sans IO: [`Connection`],
//! whose documentation gives the call order a caller follows.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

#[cfg(feature = "deflate")]
mod compressed;
mod control;
mod error;
mod event;
mod inflate;
mod receive;
mod send;

#[cfg(feature = "deflate")]
pub use error::InflateError;
pub use error::{ProtocolError, SendError};
pub use event::{Event, EventSpan, Message, MessageKind, Piece, PieceHeader};
pub use inflate::{Inflate, NoInflater};

/// What one step over the input gives: the next event's span, nothing yet, or the
/// error that failed the connection.
type Step = Result<crate::Status<Option<EventSpan>>, ProtocolError>;

/// An event handed out, or the error that failed the connection.
type Handout<'a> = Result<Event<'a>, ProtocolError>;

pub(crate) use control::ControlPayload;
#[cfg(any(feature = "blocking", feature = "async"))]
pub(crate) use send::close_payload_of;

use crate::utf8::Utf8Validator;

/// Which end of the connection this is; it decides the masking rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Role {
    /// Masks what it sends; refuses masked frames.
    Client,
    /// Refuses unmasked frames; sends unmasked.
    Server,
}

/// Where the closing handshake stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// The largest message accepted, in bytes; larger ones fail with 1009 as soon as a
    /// frame header announces them. In reassembly mode the adapters also cap this at what
    /// their receive buffer can hold.
    pub max_message: u64,
    /// Hand out data as [`Event::Piece`]s instead of reassembling whole messages, for
    /// messages larger than any buffer.
    pub streaming: bool,
    /// Streaming mode: the fewest bytes of a frame handed out as a piece before the frame
    /// is complete (a frame whose rest has arrived is handed out whatever its size).
    /// 0 (the default): the adapters wait for as much as their receive buffer holds, so
    /// a frame that fits arrives as one piece, and a bare [`Connection`] hands out
    /// whatever arrived. `n`: pieces of at least `n` bytes (capped by the adapters at
    /// what their buffer holds).
    pub min_piece: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self { max_message: 16 * 1024 * 1024, streaming: false, min_piece: 0 }
    }
}

/// The largest control frame on the wire: 2 header bytes, 4 mask bytes, 125 payload bytes.
pub const MAX_CONTROL_FRAME: usize = 2 + 4 + 125;

/// A data frame whose header was taken and whose payload is still arriving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OpenFrame {
    fin: bool,
    mask: Option<[u8; 4]>,
    remaining: u64,
    offset: usize,
}

/// One end of a WebSocket connection after the handshake.
///
/// It turns received bytes into [`Event`]s and outgoing [`Message`]s into bytes, in
/// buffers the caller owns. It never reads a socket, a clock or a random number
/// generator: the caller passes the mask key for every frame it sends.
///
/// Memory: a fixed-size struct (`size_of::<Connection>()` is 344 bytes on x86_64) holding
/// the state and at most one owed pong and one owed close frame; message data lives in
/// the caller's buffers.
///
/// # Call order
/// 1. **Input** ([`handle_input`](Connection::handle_input)): pass the unconsumed input.
///    Each call returns one step: `Complete { value, consumed }` says to remove
///    `consumed` bytes from the front of the buffer once `value` (`Some(event)` when
///    there is something to handle) is no longer needed. `Partial { needed }` means read
///    more bytes and call again. While a fragmented message is being reassembled in
///    place, `consumed` is 0 and the buffer's front holds the message so far; if the
///    buffer fills up, [`compact`](Connection::compact) frees the space taken by the
///    frame headers already joined.
/// 2. **Owed output** ([`poll_transmit`](Connection::poll_transmit)): after each event,
///    send what the connection owes the peer (a pong, the close reply, the close frame
///    that reports a protocol error).
/// 3. **Application output** ([`encode`](Connection::encode); a message in pieces with
///    [`encode_piece`](Connection::encode_piece)).
///
/// A caller that loops over its buffer (an adapter), or receives compressed messages,
/// uses [`handle_input_span`](Connection::handle_input_span), which says where the event
/// is instead of borrowing the buffer, and [`event`](Connection::event) once it has one:
/// the same step, so the two cannot disagree.
///
/// ```
/// use wscodec::{Connection, Event, Message, Role, Status};
/// let mut server = Connection::new(Role::Server);
/// let mut wire = [0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2]; // masked "Hi"
/// let Status::Complete { value: Some(Event::Text(s)), consumed } = server.handle_input(&mut wire)? else {
///     panic!()
/// };
/// assert_eq!((s, consumed), ("Hi", 8));
/// let mut out = [0u8; 16];
/// let n = server.encode(Message::Text("Hi"), [0; 4], &mut out).unwrap();
/// assert_eq!(&out[..n], &[0x81, 0x02, b'H', b'i']);
/// # Ok::<(), wscodec::ProtocolError>(())
/// ```
// On bare metal `repr(C)`, in this order: a new connection's zeroed fields lie in short
// runs between fields that start non-zero. Ordered by the compiler, 18 zeroed bytes lay
// together, which opt-level "z" clears with a call to the runtime's `memclr8`, bringing
// its 174 bytes into a Cortex-M firmware (another order brought `memclr`'s 208): the
// minimal server is 148 bytes smaller on thumbv7em, 132 on thumbv6m, for 8 bytes more per
// connection (336 on a 32-bit target).
// Hosts keep the compiler's order (the smallest struct there).
#[derive(Debug, Clone)]
#[cfg_attr(target_os = "none", repr(C))]
pub struct Connection {
    /// Payload bytes of that message announced so far.
    rx_message_len: u64,
    open_frame: Option<OpenFrame>,
    /// Streaming mode: the next piece is the first of its message.
    rx_first_piece: bool,
    /// Kind of the message being received, if one is in progress.
    rx_message: Option<MessageKind>,
    tx_message: Option<MessageKind>,
    role: Role,
    /// Reassembly mode: payload bytes kept at the start of the caller's buffer.
    retained: usize,
    /// Payload bytes of the open frame, at the front of its input, that were already
    /// unmasked and, for text, checked for UTF-8.
    checked: usize,
    /// Reassembly mode: spent bytes (the headers of joined frames and of the open one,
    /// control frames) between the retained payload and the next payload byte; freed by
    /// `compact`.
    gap: usize,
    state: State,
    config: Config,
    utf8: Utf8Validator,
    pending_pong: Option<ControlPayload>,
    pending_close: Option<ControlPayload>,
    /// permessage-deflate, when agreed: RSV1 marks compressed messages both ways.
    #[cfg(feature = "deflate")]
    deflate: Option<crate::deflate::PerMessageDeflate>,
    /// The message being received is compressed.
    #[cfg(feature = "deflate")]
    rx_compressed: bool,
    /// The largest inflated message accepted.
    #[cfg(feature = "deflate")]
    max_inflated: u64,
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
            #[cfg(feature = "deflate")]
            deflate: None,
            #[cfg(feature = "deflate")]
            rx_compressed: false,
            #[cfg(feature = "deflate")]
            max_inflated: config.max_message,
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

    /// Changes the smallest piece handed out in streaming mode (see [`Config::min_piece`]).
    pub fn set_min_piece(&mut self, min: usize) {
        self.config.min_piece = min;
    }

    /// The closing-handshake state.
    pub const fn state(&self) -> State {
        self.state
    }

    /// Whether the connection is [`State::Closed`].
    pub const fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// The kind of the data message being received, while one is in progress: the header
    /// of its first frame arrived and its last frame (or piece) has not been handed out.
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
        crate::buffer::move_down(buf, from, buf.len() - from, self.retained);
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

    /// The peer broke the protocol: owe it the close frame that says why.
    pub(crate) fn fail(&mut self, error: ProtocolError) {
        self.pending_pong = None;
        if self.state == State::CloseSent {
            // Our close frame is already out: nothing more may be sent.
            self.state = State::Closed;
        } else {
            self.state = State::Failing;
            let reason = error.close_reason();
            ControlPayload::put_close(&mut self.pending_close, Some(error.close_code()), reason);
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fast_path;
