//! The receiving side: frames in, events out, in reassembly or streaming mode.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::event::{Event, EventSpan, Found, MessageKind};
use super::inflate::{Inflate, NoInflater};
use super::{Connection, OpenFrame, ProtocolError, Role, State, Step};
use crate::buffer::move_down;
use crate::frame::{FrameError, FrameHeader, OpCode};
use crate::mask::{apply_mask, unmask_text};
use crate::Status;

impl Connection {
    /// Processes input: the unconsumed bytes received so far. The simple way to receive,
    /// for a connection without permessage-deflate: the event borrows `buf`.
    ///
    /// Returns one step at a time; see [the call order](Self#call-order) for the contract on
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
        match self.handle_input_span(buf, &mut NoInflater)? {
            Status::Complete { value: Some(span), consumed } => {
                Ok(Status::Complete { value: Some(self.event(span, buf, &NoInflater)?), consumed })
            }
            Status::Complete { value: None, consumed } => {
                Ok(Status::Complete { value: None, consumed })
            }
            Status::Partial { needed } => Ok(Status::Partial { needed }),
        }
    }

    /// [`handle_input`](Self::handle_input) in two steps, for a caller that reads more
    /// input into `buf` in a loop until there is an event, or that receives compressed
    /// messages: this finds the next event and gives its [`EventSpan`] rather than
    /// borrowing `buf`; [`event`](Self::event) then hands it out. `inflater` inflates
    /// compressed messages (permessage-deflate, see [`set_deflate`](Self::set_deflate)):
    /// [`NoInflater`] without it.
    ///
    /// # Errors
    /// As [`handle_input`](Self::handle_input), and [`ProtocolError::Inflate`] for a
    /// compressed message that is corrupt (1007) or too large once inflated (1009).
    ///
    /// ```
    /// use wscodec::{Connection, Event, NoInflater, Role, Status};
    /// let mut conn = Connection::new(Role::Server);
    /// let mut buf = [0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2]; // masked "Hi"
    /// let span = loop {
    ///     match conn.handle_input_span(&mut buf, &mut NoInflater)? {
    ///         Status::Complete { value: Some(span), .. } => break span,
    ///         _ => { /* drain `consumed` bytes or read more into `buf`, then go on */ }
    ///     }
    /// };
    /// assert_eq!(conn.event(span, &buf, &NoInflater)?, Event::Text("Hi"));
    /// # Ok::<(), wscodec::ProtocolError>(())
    /// ```
    #[inline(always)]
    pub fn handle_input_span<I: Inflate>(&mut self, buf: &mut [u8], inflater: &mut I) -> Step {
        inflater.input_step(self, buf)
    }

    /// The event that [`handle_input_span`](Self::handle_input_span) found at `span`, in
    /// `buf` (the same buffer, unchanged since) or in `inflater` (the same one). A text
    /// message is checked to be UTF-8 here, once.
    ///
    /// # Errors
    /// [`ProtocolError::InvalidUtf8`] for text that is not UTF-8 (the connection fails as
    /// in `handle_input`).
    #[inline(always)]
    pub fn event<'a, I: Inflate>(
        &mut self,
        span: EventSpan,
        buf: &'a [u8],
        inflater: &'a I,
    ) -> Result<Event<'a>, ProtocolError> {
        inflater.event(self, span, buf)
    }

    /// One step of [`handle_input_span`](Self::handle_input_span); `compressed` continues a
    /// compressed frame (permessage-deflate), which needs an inflater.
    #[inline(always)]
    pub(super) fn input_step<F>(&mut self, buf: &mut [u8], compressed: F) -> Step
    where
        F: FnOnce(&mut Self, &mut [u8]) -> Step,
    {
        if matches!(self.state, State::CloseReceived | State::Failing | State::Closed) {
            return Err(ProtocolError::AfterClose);
        }
        let result = match self.open_frame {
            Some(_) if self.receiving_compressed() => compressed(self, buf),
            Some(_) => self.continue_frame(buf),
            None => self.next_frame(buf),
        };
        if let Err(e) = result {
            self.fail(e);
        }
        result
    }

    /// Whether the message being received is compressed (permessage-deflate).
    #[inline(always)]
    pub(super) const fn receiving_compressed(&self) -> bool {
        #[cfg(feature = "deflate")]
        return self.rx_compressed;
        #[cfg(not(feature = "deflate"))]
        false
    }

    /// The event at `at` in `bytes` (the input buffer, or the inflater's memory).
    #[inline(always)]
    pub(super) fn materialize<'a>(
        &mut self,
        at: EventSpan,
        buf: &'a [u8],
    ) -> Result<Event<'a>, ProtocolError> {
        let bytes = buf.get(at.at..at.at.saturating_add(at.len)).unwrap_or(&[]);
        // One UTF-8 check for both kinds that carry text (one call site: on riscv32imc 96
        // bytes less than one per kind).
        let text = match at.found {
            Found::Text | Found::Close(_) => match crate::utf8::text(bytes) {
                Ok(text) => text,
                Err(_) => {
                    self.fail(ProtocolError::InvalidUtf8);
                    return Err(ProtocolError::InvalidUtf8);
                }
            },
            _ => "",
        };
        Ok(match at.found {
            Found::Binary => Event::Binary(bytes),
            Found::Text => Event::Text(text),
            Found::Piece { kind, first, last } => Event::Piece { kind, data: bytes, first, last },
            Found::Ping => Event::Ping(bytes),
            Found::Pong => Event::Pong(bytes),
            // The code was checked when the close frame was decoded.
            Found::Close(code) => Event::Close { code, reason: text },
        })
    }

    #[inline(always)]
    fn next_frame(&mut self, buf: &mut [u8]) -> Step {
        if let Some(small) = self.small_message(buf) {
            return Ok(self.small_message_event(buf, small));
        }
        self.any_frame(buf)
    }

    /// The general path of [`next_frame`](Self::next_frame): every frame kind, length,
    /// mode and state.
    // `#[inline]`, not `always`: at opt-level "z" this stays one function instead of a
    // copy in each caller (688 bytes less in the minimal firmware server); at opt-level 3
    // the hot case is the small-message path above, which is still inlined.
    #[inline]
    pub(super) fn any_frame(&mut self, buf: &mut [u8]) -> Step {
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
        #[cfg(feature = "deflate")]
        if header.rsv != 0 || self.rx_compressed {
            return self.start_compressed_frame(header, header_len, kind);
        }
        let message_len = self.rx_message_len.saturating_add(header.payload_len);
        if message_len > self.config.max_message {
            return Err(
                FrameError::TooLarge { size: message_len, max: self.config.max_message }.into()
            );
        }
        if self.config.streaming {
            return Ok(self.start_streamed_frame(header, header_len, kind));
        }
        // Reassembly mode: the header joins the spent bytes before the payload.
        self.begin_frame(kind, &header);
        self.gap += header_len;
        self.continue_frame(buf)
    }

    /// The common case, told apart with few branches: a whole text or binary message in
    /// one frame with a 7-bit or 16-bit length (up to 64 KiB), at the front of the input,
    /// masked if and only if the peer is a client, while no message is in progress
    /// (reassembly mode). Returns the kind, the mask key, the header length and the
    /// payload length. `None` sends everything else, including every error and every
    /// partial frame, down the general path, which treats these frames the same way (the
    /// connection tests and proptests run both).
    #[inline(always)]
    pub(super) fn small_message(
        &self,
        buf: &[u8],
    ) -> Option<(MessageKind, Option<[u8; 4]>, usize, usize)> {
        if self.rx_message.is_some() || self.config.streaming {
            return None;
        }
        let [first, second, rest @ ..] = buf else { return None };
        // FIN set, RSV clear, opcode 1 (text) or 2 (binary).
        let kind = match *first {
            0x81 => MessageKind::Text,
            0x82 => MessageKind::Binary,
            _ => return None,
        };
        let (len, ext, rest) = match (*second & 0x7f, rest) {
            (126, [hi, lo, rest @ ..]) => (usize::from(u16::from_be_bytes([*hi, *lo])), 2, rest),
            (126.., _) => return None,
            (len, rest) => (usize::from(len), 0, rest),
        };
        if len as u64 > self.config.max_message {
            return None;
        }
        let (key, header_len) = match (*second & 0x80 != 0, self.role, rest) {
            (true, Role::Server, [k0, k1, k2, k3, ..]) => (Some([*k0, *k1, *k2, *k3]), 6 + ext),
            (false, Role::Client, _) => (None, 2 + ext),
            _ => return None,
        };
        (buf.len() >= header_len + len).then_some((kind, key, header_len, len))
    }

    /// Unmasks what [`small_message`](Self::small_message) found.
    #[inline(always)]
    fn small_message_event(
        &self,
        buf: &mut [u8],
        (kind, key, header_len, len): (MessageKind, Option<[u8; 4]>, usize, usize),
    ) -> Status<Option<EventSpan>> {
        let Some(payload) = buf.get_mut(header_len..header_len + len) else {
            return Status::Partial { needed: 1 };
        };
        match (key, kind) {
            (Some(key), MessageKind::Text) => unmask_text(payload, key),
            (Some(key), MessageKind::Binary) => apply_mask(payload, key, 0),
            (None, _) => {}
        }
        let found = match kind {
            MessageKind::Binary => Found::Binary,
            MessageKind::Text => Found::Text,
        };
        Status::Complete {
            value: Some(EventSpan::new(found, header_len, len)),
            consumed: header_len + len,
        }
    }

    /// Where the next frame starts in the input buffer.
    #[inline(always)]
    pub(super) const fn frame_start(&self) -> usize {
        self.retained.saturating_add(self.gap)
    }

    #[inline(always)]
    fn check_header(&self, header: &FrameHeader) -> Result<(), ProtocolError> {
        // "MUST be 0 unless an extension is negotiated that defines meanings" (5.2)
        if header.rsv != 0 {
            #[cfg(feature = "deflate")]
            self.check_rsv1(header)?;
            #[cfg(not(feature = "deflate"))]
            return Err(FrameError::ReservedBits(header.rsv).into());
        }
        match (self.role, header.mask.is_some()) {
            // "The server MUST close the connection upon receiving a frame that is not masked." (5.1)
            (Role::Server, false) => Err(FrameError::UnmaskedClientFrame.into()),
            // "A client MUST close a connection if it detects a masked frame." (5.1)
            (Role::Client, true) => Err(FrameError::MaskedServerFrame.into()),
            _ => Ok(()),
        }
    }

    /// A data frame's header was taken: its payload is walked by
    /// [`continue_frame`](Self::continue_frame) (or the inflater) as it arrives.
    #[inline(always)]
    pub(super) fn begin_frame(&mut self, kind: MessageKind, header: &FrameHeader) {
        if self.rx_message.is_none() {
            self.rx_message = Some(kind);
            self.rx_message_len = 0;
            self.rx_first_piece = true;
            self.utf8.reset();
        }
        self.rx_message_len = self.rx_message_len.saturating_add(header.payload_len);
        self.checked = 0;
        self.open_frame = Some(OpenFrame {
            fin: header.fin,
            mask: header.mask,
            remaining: header.payload_len,
            offset: 0,
        });
    }

    #[inline(always)]
    pub(super) fn end_message(&mut self) {
        self.rx_message = None;
        self.rx_message_len = 0;
        self.retained = 0;
        self.gap = 0;
        #[cfg(feature = "deflate")]
        {
            self.rx_compressed = false;
        }
    }

    /// Reassembly mode, a message in progress whose payload stays at the front of the
    /// input (not a compressed one, which goes to the inflater as it arrives).
    #[inline(always)]
    pub(super) const fn reassembling_in_place(&self) -> bool {
        self.rx_message.is_some() && !self.config.streaming && !self.receiving_compressed()
    }

    /// Streaming mode: a data frame's header is taken at once; its payload is handed out
    /// in pieces by [`continue_frame`](Self::continue_frame).
    pub(super) fn start_streamed_frame(
        &mut self,
        header: FrameHeader,
        header_len: usize,
        kind: MessageKind,
    ) -> Status<Option<EventSpan>> {
        self.begin_frame(kind, &header);
        Status::Complete { value: None, consumed: header_len }
    }

    /// The payload of the open frame, at [`frame_start`](Self::frame_start) in `buf`,
    /// in either mode: what arrived since the last call is unmasked and, for text, checked
    /// for UTF-8 at once, so that invalid text fails the connection before its frame or
    /// message has fully arrived ("fail fast", RFC 6455 section 8.1 and Autobahn
    /// 6.4.x); `self.checked` counts the bytes so treated. Streaming mode hands out a
    /// piece once the frame's rest or at least [`Config::min_piece`](super::Config) bytes
    /// of it are in; reassembly mode waits for the whole frame and joins its payload to
    /// the message so far, which it hands out after the last frame.
    pub(super) fn continue_frame(&mut self, buf: &mut [u8]) -> Step {
        let (Some(mut frame), Some(kind)) = (self.open_frame, self.rx_message) else {
            return Ok(Status::Partial { needed: 1 });
        };
        let (retained, start, checked) = (self.retained, self.frame_start(), self.checked);
        let streaming = self.config.streaming;
        let rest = usize::try_from(frame.remaining).unwrap_or(usize::MAX);
        let wanted = if streaming { rest.min(self.config.min_piece.max(1)) } else { rest };
        let input = buf.get_mut(start..).unwrap_or_default();
        let have = input.len().min(rest);
        let Some(fresh) = input.get_mut(checked..have) else {
            return Ok(Status::Partial { needed: 1 });
        };
        if let Some(key) = frame.mask {
            apply_mask(fresh, key, frame.offset.wrapping_add(checked));
        }
        let frame_done = have == rest;
        let last = frame_done && frame.fin;
        // Reassembly mode checks a whole message's text once more in `event`, so its
        // last frame is left to that check.
        if kind == MessageKind::Text && (streaming || !last) {
            self.utf8.feed(fresh).map_err(|_| ProtocolError::InvalidUtf8)?;
            if last && !self.utf8.is_complete() {
                return Err(ProtocolError::InvalidUtf8);
            }
        }
        if have < wanted {
            self.checked = have;
            return Ok(Status::Partial { needed: wanted - have });
        }
        self.checked = 0;
        frame.remaining -= have as u64;
        frame.offset = frame.offset.wrapping_add(have);
        self.open_frame = if frame_done { None } else { Some(frame) };
        let consumed = start + have;
        let (found, at, len) = if streaming {
            let first = core::mem::replace(&mut self.rx_first_piece, false);
            (Found::Piece { kind, first, last }, start, have)
        } else {
            let found = match kind {
                MessageKind::Binary => Found::Binary,
                MessageKind::Text => Found::Text,
            };
            if last && retained == 0 {
                // Nothing to join it to: hand the payload out where it lies.
                (found, start, have)
            } else {
                // Join the payload to the bytes already reassembled.
                move_down(buf, start, have, retained);
                self.retained = retained + have;
                if !last {
                    return Ok(Status::Complete { value: None, consumed: 0 });
                }
                (found, 0, retained + have)
            }
        };
        if last {
            self.end_message();
        }
        Ok(Status::Complete { value: Some(EventSpan::new(found, at, len)), consumed })
    }
}

/// Bytes still missing for a frame of `total` bytes at `start`, as a `Partial` status.
#[inline(always)]
pub(super) fn missing<T>(buf_len: usize, start: usize, total: u64) -> Option<Status<T>> {
    let have = buf_len.saturating_sub(start) as u64;
    (have < total)
        .then(|| Status::Partial { needed: usize::try_from(total - have).unwrap_or(usize::MAX) })
}
