//! Compressed messages (permessage-deflate, RFC 7692): RSV1 in, inflated events out.
//!
//! A compressed message never stays in the input buffer: each frame's payload goes to the
//! [`Inflater`] as it arrives, whatever the mode, and is consumed. In reassembly mode the
//! inflated message builds up in the inflater's output storage and is handed out whole
//! once its last frame is in; in streaming mode each inflated piece is handed out from the
//! inflater's window.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::event::{EventSpan, Found, MessageKind, PieceHeader, Source};
use super::inflate::Inflate;
use super::{Connection, Handout, ProtocolError, Step};
use crate::buffer::RxBuffer;
use crate::deflate::{Inflater, PerMessageDeflate};
use crate::frame::{FrameError, FrameHeader, OpCode};
use crate::mask::apply_mask;
use crate::Status;

impl Connection {
    /// Turns permessage-deflate on (RSV1 marks compressed messages in both directions)
    /// with what was agreed, or off with `None`. Call it before any frame arrives, and
    /// receive with [`handle_input_span`](Self::handle_input_span) and an [`Inflater`]
    /// started for the same agreement.
    pub fn set_deflate(&mut self, agreed: Option<PerMessageDeflate>) {
        self.deflate = agreed;
    }

    /// What permessage-deflate parameters were agreed, if any.
    pub const fn deflate(&self) -> Option<PerMessageDeflate> {
        self.deflate
    }

    /// Sets the largest inflated message accepted (by default the
    /// [`Config::max_message`](crate::Config) the connection was made with). A compressed
    /// message that inflates to more fails with 1009 as soon as the excess is inflated;
    /// its compressed size may be at most this plus an eighth plus 1 KiB (room for the
    /// worst a DEFLATE encoder may do with incompressible data).
    pub fn set_max_inflated(&mut self, max: u64) {
        self.max_inflated = max;
    }

    /// The largest inflated message accepted.
    pub const fn max_inflated(&self) -> u64 {
        self.max_inflated
    }

    /// [`encode_header`](Self::encode_header) for a message whose payload is compressed
    /// (permessage-deflate: the DEFLATE stream of the message, sync flushed, without its
    /// final `00 00 ff ff`): its first frame carries RSV1. The message's later frames are
    /// plain continuations: use this or `encode_header` for them alike.
    ///
    /// # Errors
    /// [`SendError::NotNegotiated`](super::SendError::NotNegotiated) without an agreement
    /// ([`set_deflate`](Self::set_deflate)), otherwise as [`encode`](Self::encode).
    pub fn encode_compressed_header(
        &mut self,
        header: PieceHeader,
        mask_key: [u8; 4],
        out: &mut [u8],
    ) -> Result<usize, super::SendError> {
        if self.deflate.is_none() {
            return Err(super::SendError::NotNegotiated);
        }
        self.encode_data_header(header, 0b100, mask_key, out)
    }

    /// Checks a header with RSV bits set: only RSV1, only once permessage-deflate is
    /// agreed, only on a message's first frame.
    #[inline]
    pub(super) fn check_rsv1(&self, header: &FrameHeader) -> Result<(), ProtocolError> {
        if header.rsv != 0b100 || self.deflate.is_none() {
            return Err(FrameError::ReservedBits(header.rsv).into());
        }
        match header.opcode {
            OpCode::Continuation => Err(ProtocolError::CompressedContinuation),
            op if op.is_control() => Err(ProtocolError::CompressedControl),
            _ => Ok(()),
        }
    }

    /// A frame of a compressed message: its header is taken at once and its payload goes
    /// to the inflater as it arrives ([`continue_compressed`](Self::continue_compressed)).
    pub(super) fn start_compressed_frame(
        &mut self,
        header: FrameHeader,
        header_len: usize,
        kind: MessageKind,
    ) -> Step {
        let max = self.max_inflated;
        let max_wire = max.saturating_add(max / 8).saturating_add(1024);
        let wire_len = self.rx_message_len.saturating_add(header.payload_len);
        if wire_len > max_wire {
            return Err(FrameError::TooLarge { size: wire_len, max: max_wire }.into());
        }
        if self.rx_message.is_none() {
            self.rx_compressed = true;
        }
        Ok(self.start_streamed_frame(header, header_len, kind))
    }

    /// Feeds the payload at the front of `buf` to the inflater and hands out what it
    /// gives: a piece in streaming mode, the whole message in reassembly mode once done.
    fn continue_compressed<O: RxBuffer>(
        &mut self,
        buf: &mut [u8],
        inflater: &mut Inflater<'_, O>,
    ) -> Step {
        let (Some(mut frame), Some(kind)) = (self.open_frame, self.rx_message) else {
            return Ok(Status::Partial { needed: 1 });
        };
        if !inflater.is_started() {
            return Err(ProtocolError::NoInflater);
        }
        let rest = usize::try_from(frame.remaining).unwrap_or(usize::MAX);
        let avail = rest.min(buf.len());
        let end = frame.fin && avail == rest;
        if avail == 0 && !end {
            if rest == 0 {
                // An empty frame that does not end the message: nothing to inflate.
                self.open_frame = None;
                self.checked = 0;
                return Ok(Status::Complete { value: None, consumed: 0 });
            }
            return Ok(Status::Partial { needed: 1 });
        }
        let Some(input) = buf.get_mut(..avail) else {
            return Ok(Status::Partial { needed: 1 });
        };
        // Unmask what was not unmasked before (bytes the inflater left last time are).
        let unmasked = self.checked.min(avail);
        if let (Some(key), Some(fresh)) = (frame.mask, input.get_mut(unmasked..)) {
            apply_mask(fresh, key, frame.offset.wrapping_add(unmasked));
        }
        let streaming = self.config.streaming;
        let step = inflater.inflate(input, end, self.max_inflated, streaming)?;
        self.checked = avail - step.consumed;
        frame.remaining -= step.consumed as u64;
        frame.offset = frame.offset.wrapping_add(step.consumed);
        let frame_over = frame.remaining == 0 && (!frame.fin || step.done);
        self.open_frame = if frame_over { None } else { Some(frame) };
        if frame_over {
            self.checked = 0;
        }
        let consumed = step.consumed;
        if streaming {
            if step.len == 0 && !step.done {
                return Ok(Status::Complete { value: None, consumed });
            }
            let piece = inflater.window().get(step.at..step.at + step.len).unwrap_or_default();
            if kind == MessageKind::Text {
                self.utf8.feed(piece).map_err(|_| ProtocolError::InvalidUtf8)?;
                if step.done && !self.utf8.is_complete() {
                    return Err(ProtocolError::InvalidUtf8);
                }
            }
            let first = core::mem::replace(&mut self.rx_first_piece, false);
            if step.done {
                self.end_message();
            }
            let found = Found::Piece { kind, first, last: step.done };
            let at = EventSpan::inflated(found, step.at, step.len, Source::Window);
            return Ok(Status::Complete { value: Some(at), consumed });
        }
        if !step.done {
            return Ok(Status::Complete { value: None, consumed });
        }
        self.end_message();
        let found = match kind {
            MessageKind::Binary => Found::Binary,
            MessageKind::Text => Found::Text,
        };
        let at = EventSpan::inflated(found, 0, step.len, Source::Output);
        Ok(Status::Complete { value: Some(at), consumed })
    }
}

impl<O: RxBuffer> Inflate for Inflater<'_, O> {
    fn input_step(&mut self, conn: &mut Connection, buf: &mut [u8]) -> Step {
        // The message handed out last is no longer borrowed.
        self.release();
        conn.input_step(buf, |conn, buf| conn.continue_compressed(buf, self))
    }

    fn event<'a>(&'a self, conn: &mut Connection, span: EventSpan, buf: &'a [u8]) -> Handout<'a> {
        let bytes = match span.src {
            Source::Input => buf,
            Source::Window => self.window(),
            Source::Output => self.output(),
        };
        conn.materialize(span, bytes)
    }
}

#[cfg(test)]
mod tests;
