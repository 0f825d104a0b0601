//! Control frames: pings, pongs and close frames received, and the replies owed for them.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::event::{EventSpan, Found};
use super::receive::missing;
use super::{Connection, SendError, State, Step};
use crate::close::CloseFrame;
use crate::frame::{FrameHeader, OpCode};
use crate::mask::apply_mask;
use crate::{CloseCode, Status};

/// A control frame payload we owe the peer (a pong or a close reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ControlPayload {
    bytes: [u8; 125],
    len: u8,
}

impl ControlPayload {
    /// Makes `slot` hold `head` then `tail`, cut at 125 bytes: one loop, in place, for
    /// pongs, close replies and the close frames of failures. Every byte is written once
    /// (the rest with zeros), not zeroed first: zeroing 125 bytes at an odd address
    /// brought the runtime's unaligned `memclr` into a firmware image.
    #[inline(never)]
    pub(super) fn put<'a>(slot: &'a mut Option<Self>, head: &[u8], tail: &[u8]) -> &'a Self {
        let bytes = core::array::from_fn(|i| match head.get(i) {
            Some(&byte) => byte,
            None => tail.get(i.wrapping_sub(head.len())).copied().unwrap_or(0),
        });
        let len = head.len().saturating_add(tail.len()).min(125) as u8;
        slot.insert(Self { bytes, len })
    }

    /// Makes `slot` hold a close frame's payload: `code` and `reason` (cut at
    /// [`MAX_REASON_LEN`](crate::close::MAX_REASON_LEN) bytes), or nothing without a code.
    pub(super) fn put_close<'a>(
        slot: &'a mut Option<Self>,
        code: Option<CloseCode>,
        reason: &str,
    ) -> &'a Self {
        match code {
            Some(code) => Self::put(slot, &code.as_u16().to_be_bytes(), reason.as_bytes()),
            None => Self::put(slot, &[], &[]),
        }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl Connection {
    /// A ping, pong or close frame whose header is at `start` in `buf`.
    #[inline]
    pub(super) fn control_frame(
        &mut self,
        buf: &mut [u8],
        header: FrameHeader,
        header_len: usize,
    ) -> Step {
        let start = self.frame_start();
        // Control payloads are at most 125 bytes (checked by the header decoder).
        let len = header.payload_len as usize;
        let at = start + header_len;
        if let Some(partial) = missing(buf.len(), start, (header_len + len) as u64) {
            return Ok(partial);
        }
        let Some(payload) = buf.get_mut(at..at + len) else {
            return Ok(Status::Partial { needed: 1 });
        };
        if let Some(key) = header.mask {
            apply_mask(payload, key, 0);
        }
        let consumed = if self.reassembling_in_place() {
            // Between fragments being reassembled: the message so far stays at the front
            // of the buffer. (Streaming mode keeps nothing, so the frame is consumed.)
            self.gap += header_len + len;
            0
        } else {
            header_len + len
        };
        let found = match header.opcode {
            OpCode::Ping => {
                if self.state == State::Open {
                    // "MAY elect to send a Pong frame for only the most recently processed
                    // Ping frame" (5.5.3): one pending pong, the newest, bounds memory.
                    ControlPayload::put(&mut self.pending_pong, payload, &[]);
                }
                EventSpan::new(Found::Ping, at, len)
            }
            OpCode::Pong => EventSpan::new(Found::Pong, at, len),
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
                    ControlPayload::put_close(&mut self.pending_close, close.code, close.reason);
                }
                let reason_len = close.reason.len();
                EventSpan::new(Found::Close(close.code), at + len - reason_len, reason_len)
            }
        };
        Ok(Status::Complete { value: Some(found), consumed })
    }

    /// Whether output is owed: call [`poll_transmit`](Self::poll_transmit).
    pub const fn wants_transmit(&self) -> bool {
        self.pending_close.is_some() || self.pending_pong.is_some()
    }

    /// Writes the control frame the connection owes the peer, if any: the close frame of a
    /// failure, the reply to the peer's close, or the pong for the latest ping.
    ///
    /// Returns the number of bytes written into `out`, or `None` if nothing is owed.
    /// `mask_key` is used by clients only; pass fresh random bytes for each call.
    ///
    /// # Errors
    /// [`SendError::BufferTooSmall`] if `out` is shorter than the frame (at most
    /// [`MAX_CONTROL_FRAME`](super::MAX_CONTROL_FRAME) bytes); the frame stays owed.
    #[inline]
    pub fn poll_transmit(
        &mut self,
        mask_key: [u8; 4],
        out: &mut [u8],
    ) -> Result<Option<usize>, SendError> {
        let Some((opcode, payload)) = self.owed() else {
            return Ok(None);
        };
        let n = self.write_frame(opcode, true, payload.as_slice(), mask_key, out)?;
        self.sent_owed(opcode);
        Ok(Some(n))
    }

    /// The control frame owed, if any: the close first, else the pong.
    #[inline(always)]
    pub(crate) fn owed(&self) -> Option<(OpCode, ControlPayload)> {
        match (self.pending_close, self.pending_pong) {
            (Some(close), _) => Some((OpCode::Close, close)),
            (None, Some(pong)) => Some((OpCode::Pong, pong)),
            (None, None) => None,
        }
    }

    /// The owed frame of `opcode` is encoded: it is no longer owed, and a close that
    /// answers the peer's (or reports a failure) ends the connection.
    #[inline(always)]
    pub(crate) fn sent_owed(&mut self, opcode: OpCode) {
        if opcode == OpCode::Close {
            self.pending_close = None;
            self.state = match self.state {
                State::CloseReceived | State::Failing => State::Closed,
                other => other,
            };
        } else {
            self.pending_pong = None;
        }
    }
}
