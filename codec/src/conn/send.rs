//! The sending side: messages and fragments out, as frames, with the closing rules.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::control::ControlPayload;
use super::event::{Message, MessageKind, Piece, PieceHeader};
use super::{Connection, Role, SendError, State};
use crate::close::MAX_REASON_LEN;
use crate::frame::{FrameHeader, OpCode};
use crate::mask::mask_into;
use crate::CloseCode;

impl Connection {
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
        let close_payload;
        let (opcode, payload): (OpCode, &[u8]) = match message {
            Message::Text(text) => (OpCode::Text, text.as_bytes()),
            Message::Binary(data) => (OpCode::Binary, data),
            Message::Ping(data) => (OpCode::Ping, data),
            Message::Pong(data) => (OpCode::Pong, data),
            Message::Close(close) => {
                close_payload = close_payload_of(close)?;
                (OpCode::Close, close_payload.as_slice())
            }
        };
        // One call for every kind: `write_frame` is inlined, and at opt-level "z" each
        // call is a copy.
        self.write_frame(opcode, true, payload, mask_key, out)
    }

    /// Encodes one piece of a message sent in pieces as one frame into `out` and returns
    /// its length (see [`Piece`]).
    ///
    /// # Errors
    /// As [`encode`](Self::encode), and [`SendError::MessageInProgress`] while a message of
    /// the other kind is.
    ///
    /// ```
    /// use wscodec::{Connection, MessageKind, Piece, Role};
    /// let mut c = Connection::new(Role::Server);
    /// let mut out = [0u8; 16];
    /// let piece = Piece { kind: MessageKind::Text, data: b"Hel", last: false };
    /// let n = c.encode_piece(piece, [0; 4], &mut out).unwrap();
    /// assert_eq!(&out[..n], &[0x01, 0x03, b'H', b'e', b'l']); // RFC 6455 section 5.7
    /// let n = c.encode_piece(Piece { data: b"lo", last: true, ..piece }, [0; 4], &mut out).unwrap();
    /// assert_eq!(&out[..n], &[0x80, 0x02, b'l', b'o']);
    /// ```
    pub fn encode_piece(
        &mut self,
        piece: Piece<'_>,
        mask_key: [u8; 4],
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        let Piece { kind, data, last } = piece;
        let needed = self.frame_len(data.len());
        if out.len() < needed {
            return Err(SendError::BufferTooSmall { needed });
        }
        let header = PieceHeader { kind, len: data.len() as u64, last };
        let header_len = self.encode_header(header, mask_key, out)?;
        self.write_payload(header_len, data, mask_key, out)
    }

    /// Writes only the header of a data frame, for a payload of `header.len` bytes the
    /// caller sends itself (masked with [`mask::apply_mask`](crate::mask::apply_mask) and
    /// `mask_key` when this is a client): how an adapter streams a payload larger than its
    /// output buffer. The frame is a piece of a message as a [`Piece`] is.
    ///
    /// # Errors
    /// As [`encode`](Self::encode).
    ///
    /// ```
    /// use wscodec::{Connection, MessageKind, PieceHeader, Role};
    /// let mut c = Connection::new(Role::Server);
    /// let mut out = [0u8; 16];
    /// let header = PieceHeader { kind: MessageKind::Text, len: 3, last: false };
    /// let n = c.encode_header(header, [0; 4], &mut out).unwrap();
    /// assert_eq!(&out[..n], &[0x01, 0x03]); // RFC 6455 section 5.7; then "Hel"
    /// let n = c.encode_header(PieceHeader { len: 2, last: true, ..header }, [0; 4], &mut out).unwrap();
    /// assert_eq!(&out[..n], &[0x80, 0x02]); // then "lo"
    /// ```
    pub fn encode_header(
        &mut self,
        header: PieceHeader,
        mask_key: [u8; 4],
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        self.encode_data_header(header, 0, mask_key, out)
    }

    /// The header of a whole message in one frame (as [`encode`](Self::encode) would
    /// write it), for an adapter that writes the payload itself.
    #[cfg(any(feature = "blocking", feature = "async"))]
    pub(crate) fn encode_message_header(
        &mut self,
        opcode: OpCode,
        len: usize,
        mask_key: [u8; 4],
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        self.write_header(opcode, true, 0, len as u64, mask_key, out)
    }

    /// The opcode of the next piece of a message of `kind`: the first starts it, later
    /// ones continue it.
    ///
    /// # Errors
    /// [`SendError::MessageInProgress`] while a message of the other kind is.
    pub(crate) fn piece_opcode(&self, kind: MessageKind) -> Result<OpCode, SendError> {
        match (self.tx_message, kind) {
            (Some(open), _) if open != kind => Err(SendError::MessageInProgress),
            (Some(_), _) => Ok(OpCode::Continuation),
            (None, MessageKind::Text) => Ok(OpCode::Text),
            (None, MessageKind::Binary) => Ok(OpCode::Binary),
        }
    }

    /// A piece's header was written: `last` ends its message.
    pub(crate) fn piece_sent(&mut self, kind: MessageKind, last: bool) {
        self.tx_message = if last { None } else { Some(kind) };
    }

    /// The header of a data frame; `rsv` goes on a message's first frame only.
    #[inline(always)]
    pub(super) fn encode_data_header(
        &mut self,
        header: PieceHeader,
        rsv: u8,
        mask_key: [u8; 4],
        out: &mut [u8],
    ) -> Result<usize, SendError> {
        let PieceHeader { kind, len, last } = header;
        let opcode = self.piece_opcode(kind)?;
        let rsv = if opcode == OpCode::Continuation { 0 } else { rsv };
        let n = self.write_header(opcode, last, rsv, len, mask_key, out)?;
        self.piece_sent(kind, last);
        Ok(n)
    }

    /// Checks state and sizes, writes a header and updates the state for control frames.
    // `#[inline]`, not `always`: at opt-level "z" one copy serves `write_frame`'s callers and
    // `encode_header` (112 bytes less in the minimal firmware server); at opt-level 3
    // `encode` still inlines it (same instructions per frame in `encode_small`).
    #[inline]
    fn write_header(
        &mut self,
        opcode: OpCode,
        fin: bool,
        rsv: u8,
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
        let header = FrameHeader { fin, rsv, opcode, mask, payload_len: len };
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
    pub(super) fn write_frame(
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
        let header_len = self.write_header(opcode, fin, 0, payload.len() as u64, mask_key, out)?;
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
        // A zero key masks nothing: with a constant one (a server adapter's `Unmasked`)
        // the masking code drops out of the build.
        if self.role == Role::Client && mask_key != [0; 4] {
            mask_into(dst, payload, mask_key);
        } else {
            dst.copy_from_slice(payload);
        }
        Ok(end)
    }
}

/// The payload of a close frame the application sends, checked.
pub(crate) fn close_payload_of(
    close: Option<(CloseCode, &str)>,
) -> Result<ControlPayload, SendError> {
    if let Some((code, reason)) = close {
        if !code.is_sendable() {
            return Err(SendError::InvalidCloseCode(code.as_u16()));
        }
        if reason.len() > MAX_REASON_LEN {
            return Err(SendError::ControlTooLong(reason.len() + 2));
        }
    }
    let mut payload = None;
    Ok(*ControlPayload::put_close(&mut payload, close.map(|c| c.0), close.map_or("", |c| c.1)))
}
