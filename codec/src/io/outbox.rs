//! The sending side of an adapter without its I/O: the protocol state, the transmit
//! buffer and the mask keys, and the plan of the writes each frame takes (the frames the
//! connection owes, messages, pieces, compressed messages). Both twins and both ways of
//! writing (a whole connection, the halves of a split one) drive it the same way: they
//! get a [`Plan`], then write what [`Outbox::next`] gives until it gives nothing.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::{MaskKeys, MIN_TX_BUF};
use crate::frame::OpCode;
use crate::mask::apply_mask;
use crate::{Connection, Message, Piece, PieceHeader, Role, SendError};

/// The writes that put one frame (or a compressed message's frames) on the wire.
#[derive(Debug)]
pub(crate) struct Plan<'d> {
    /// Bytes at the start of `tx` that go first: a header, or a whole frame.
    head: usize,
    /// The payload still to write.
    data: &'d [u8],
    /// The frame's mask key, and where `data` starts in its payload.
    key: [u8; 4],
    offset: usize,
    /// A message compressed frame by frame (its kind), until the compressor is done.
    #[cfg(feature = "deflate-compress")]
    compressing: Option<crate::MessageKind>,
    /// A piece sent as DEFLATE stored blocks: the data after the current block.
    #[cfg(feature = "deflate")]
    stored: Option<Stored<'d>>,
}

/// What is left of a piece sent as DEFLATE stored blocks ([`Deflate::storing`]).
///
/// [`Deflate::storing`]: super::Deflate::storing
#[cfg(feature = "deflate")]
#[derive(Debug, Clone, Copy)]
struct Stored<'d> {
    /// The blocks after the current one.
    rest: &'d [u8],
    /// The piece ends its message: the first byte of an empty block (`00`) still follows
    /// (the flush's `00 00 ff ff` after it is left off, RFC 7692 section 7.2.1).
    last: bool,
}

impl Plan<'_> {
    /// A frame already whole in `tx[..n]`.
    pub(crate) const fn whole(n: usize) -> Self {
        Self {
            head: n,
            data: &[],
            key: [0; 4],
            offset: 0,
            #[cfg(feature = "deflate-compress")]
            compressing: None,
            #[cfg(feature = "deflate")]
            stored: None,
        }
    }
}

/// One write of a [`Plan`]: bytes of `tx`, then bytes of the payload.
pub(crate) type Write<'t, 'd> = (&'t [u8], &'d [u8]);

/// What an adapter sends with.
pub(crate) struct Outbox<'b, M> {
    pub(crate) conn: Connection,
    tx: &'b mut [u8],
    mask: M,
    /// Set by [`next`](Self::next) for the write it gives, cleared by the adapter once
    /// that write is done. Still set when the next call starts only if that
    /// write never finished (its future was dropped): a frame may be cut short.
    pub(crate) writing: bool,
    /// permessage-deflate's compressor, on a build with one.
    #[cfg(feature = "deflate-compress")]
    pub(crate) compressor: Option<crate::deflate::Compressor>,
    /// Without a compressor, messages go out as stored blocks ([`Deflate::storing`]).
    ///
    /// [`Deflate::storing`]: super::Deflate::storing
    #[cfg(feature = "deflate")]
    pub(crate) storing: bool,
}

impl<'b, M> Outbox<'b, M> {
    /// The transmit buffer, given back.
    pub(crate) fn into_tx(self) -> &'b mut [u8] {
        self.tx
    }
}

impl<'b, M: MaskKeys> Outbox<'b, M> {
    /// Sending with `conn` through `tx`.
    ///
    /// # Panics
    /// If `tx` is shorter than [`MIN_TX_BUF`].
    #[inline(always)]
    pub(crate) fn new(conn: Connection, tx: &'b mut [u8], mask: M) -> Self {
        assert!(tx.len() >= MIN_TX_BUF, "tx buffer shorter than MIN_TX_BUF");
        Self {
            conn,
            tx,
            mask,
            writing: false,
            #[cfg(feature = "deflate-compress")]
            compressor: None,
            #[cfg(feature = "deflate")]
            storing: false,
        }
    }

    /// Whether the last write never finished; it ends the connection.
    pub(crate) fn cut_short(&mut self) -> bool {
        let cut = core::mem::take(&mut self.writing);
        if cut {
            self.conn.abort();
        }
        cut
    }

    /// The next frame the connection owes the peer (a failure's close, the close reply, a
    /// pong), whole in `tx`.
    pub(crate) fn owed(&mut self) -> Option<Plan<'static>> {
        let (opcode, payload) = self.conn.owed()?;
        let payload = payload.as_slice();
        let key = self.mask.next_key();
        // `tx` holds at least MIN_TX_BUF bytes, more than any control frame.
        let n = self.conn.encode_message_header(opcode, payload.len(), key, self.tx).ok()?;
        self.conn.sent_owed(opcode);
        let mut plan = Plan { key, ..Plan::whole(n) };
        let n = self.copy(&mut plan, payload);
        Some(Plan::whole(n))
    }

    /// The frame of a whole message, or the frames of a compressed one.
    ///
    /// # Errors
    /// What the connection's state or the message forbids.
    pub(crate) fn message<'d>(&mut self, message: Message<'d>) -> Result<Plan<'d>, SendError> {
        let (opcode, data) = match message {
            Message::Text(text) => (OpCode::Text, text.as_bytes()),
            Message::Binary(data) => (OpCode::Binary, data),
            Message::Ping(data) => (OpCode::Ping, data),
            Message::Pong(data) => (OpCode::Pong, data),
            Message::Close(close) => {
                // Checked, and copied into `tx` at once: it fits.
                let payload = crate::conn::close_payload_of(close)?;
                let payload = payload.as_slice();
                let key = self.mask.next_key();
                let n =
                    self.conn.encode_message_header(OpCode::Close, payload.len(), key, self.tx)?;
                let mut plan = Plan { key, ..Plan::whole(n) };
                return Ok(Plan::whole(self.copy(&mut plan, payload)));
            }
        };
        #[cfg(feature = "deflate-compress")]
        if !opcode.is_control() && self.compresses() {
            let kind = if opcode == OpCode::Text {
                crate::MessageKind::Text
            } else {
                crate::MessageKind::Binary
            };
            return Ok(Plan { data, compressing: Some(kind), ..Plan::whole(0) });
        }
        #[cfg(feature = "deflate")]
        if !opcode.is_control() && self.stores() {
            let kind = if opcode == OpCode::Text {
                crate::MessageKind::Text
            } else {
                crate::MessageKind::Binary
            };
            return self.stored(Piece { kind, data, last: true });
        }
        let key = self.mask.next_key();
        let head = self.conn.encode_message_header(opcode, data.len(), key, self.tx)?;
        Ok(Plan { head, data, key, ..Plan::whole(0) })
    }

    /// The frame of one piece of a message sent in pieces.
    ///
    /// # Errors
    /// What the connection's state forbids, or a message of the other kind in progress.
    pub(crate) fn piece<'d>(&mut self, piece: Piece<'d>) -> Result<Plan<'d>, SendError> {
        #[cfg(feature = "deflate")]
        if self.stores() {
            return self.stored(piece);
        }
        let Piece { kind, data, last } = piece;
        let key = self.mask.next_key();
        let header = PieceHeader { kind, len: data.len() as u64, last };
        let head = self.conn.encode_header(header, key, self.tx)?;
        Ok(Plan { head, data, key, ..Plan::whole(0) })
    }

    /// The next write of `plan`: bytes of `tx`, then bytes of the payload (written as they
    /// are, without a copy). `None` once the plan is done.
    ///
    /// The frame goes out in one write when it fits `tx`; else a payload that needs no
    /// mask follows its header as it is, and a masked one is masked through `tx` in pieces.
    ///
    /// # Errors
    /// A compressed message's next frame is refused by the connection's state.
    pub(crate) fn next<'d>(
        &mut self,
        plan: &mut Plan<'d>,
    ) -> Result<Option<Write<'_, 'd>>, SendError> {
        #[cfg(feature = "deflate-compress")]
        if let Some(kind) = plan.compressing {
            return self.next_compressed(plan, kind);
        }
        #[cfg(feature = "deflate")]
        if plan.data.is_empty() {
            self.next_block(plan);
        }
        if plan.head == 0 && plan.data.is_empty() {
            return Ok(None);
        }
        self.writing = true;
        let room = self.tx.len().saturating_sub(plan.head);
        if !self.masks() && plan.data.len() > room {
            let head = core::mem::take(&mut plan.head);
            let data = core::mem::take(&mut plan.data);
            return Ok(Some((self.tx.get(..head).unwrap_or_default(), data)));
        }
        let (chunk, rest) = plan.data.split_at(plan.data.len().min(room));
        plan.data = rest;
        let n = self.copy(plan, chunk);
        plan.head = 0;
        Ok(Some((self.tx.get(..n).unwrap_or_default(), &[])))
    }

    /// Whether frames are masked: a client's, with keys that are not all zero.
    fn masks(&self) -> bool {
        !M::ALL_ZERO && self.conn.role() == Role::Client
    }

    /// Copies `chunk` behind `plan.head` bytes of `tx`, masked as the plan's frame is;
    /// returns the bytes of `tx` in use.
    fn copy(&mut self, plan: &mut Plan<'_>, chunk: &[u8]) -> usize {
        let end = plan.head + chunk.len();
        let masks = self.masks();
        if let Some(body) = self.tx.get_mut(plan.head..end) {
            body.copy_from_slice(chunk);
            if masks {
                apply_mask(body, plan.key, plan.offset);
            }
        }
        plan.offset += chunk.len();
        end
    }
}

#[cfg(feature = "deflate-compress")]
impl<M: MaskKeys> Outbox<'_, M> {
    /// Whether messages go compressed: permessage-deflate was agreed and there is a
    /// compressor.
    fn compresses(&self) -> bool {
        self.conn.deflate().is_some() && self.compressor.is_some()
    }

    /// The next frame of a compressed message: its compressed bytes are made in `tx`
    /// behind room for its header, which then goes in front of them.
    fn next_compressed<'d>(
        &mut self,
        plan: &mut Plan<'d>,
        kind: crate::MessageKind,
    ) -> Result<Option<Write<'_, 'd>>, SendError> {
        const ROOM: usize = crate::frame::FrameHeader::MAX_LEN;
        let (Some(compressor), Some(body)) = (self.compressor.as_mut(), self.tx.get_mut(ROOM..))
        else {
            return Err(SendError::BufferTooSmall { needed: MIN_TX_BUF });
        };
        let step = compressor.compress(plan.data, body);
        plan.data = plan.data.get(step.consumed..).unwrap_or_default();
        let key = self.mask.next_key();
        let mut header = [0u8; ROOM];
        let piece = PieceHeader { kind, len: step.written as u64, last: step.done };
        let h = match self.conn.encode_compressed_header(piece, key, &mut header) {
            Ok(h) => h,
            Err(e) => {
                // The message was cut short: the next one starts from a fresh state.
                compressor.reset();
                return Err(e);
            }
        };
        let start = ROOM - h;
        let end = ROOM + step.written;
        if let (Some(dst), Some(src)) = (self.tx.get_mut(start..ROOM), header.get(..h)) {
            dst.copy_from_slice(src);
        }
        if self.masks() {
            apply_mask(self.tx.get_mut(ROOM..end).unwrap_or_default(), key, 0);
        }
        self.writing = true;
        if step.done {
            // The next call ends the plan.
            plan.compressing = None;
            plan.data = &[];
        }
        Ok(Some((self.tx.get(start..end).unwrap_or_default(), &[])))
    }
}

#[cfg(feature = "deflate")]
impl<M: MaskKeys> Outbox<'_, M> {
    /// Whether messages go as stored blocks: permessage-deflate was agreed, storing was
    /// asked for, and there is no compressor.
    fn stores(&self) -> bool {
        #[cfg(feature = "deflate-compress")]
        let compresses = self.compressor.is_some();
        #[cfg(not(feature = "deflate-compress"))]
        let compresses = false;
        self.storing && !compresses && self.conn.deflate().is_some()
    }

    /// The frame of a piece sent as DEFLATE stored blocks: each block's 5-byte header is
    /// placed in `tx` behind what goes before it, so that a block goes out in one write.
    fn stored<'d>(&mut self, piece: Piece<'d>) -> Result<Plan<'d>, SendError> {
        let Piece { kind, data, last } = piece;
        let len = data.len() + 5 * data.len().div_ceil(BLOCK) + usize::from(last);
        let key = self.mask.next_key();
        let header = PieceHeader { kind, len: len as u64, last };
        let head = self.conn.encode_compressed_header(header, key, self.tx)?;
        let stored = Some(Stored { rest: data, last });
        let mut plan = Plan { head, key, stored, ..Plan::whole(0) };
        self.next_block(&mut plan);
        Ok(plan)
    }

    /// Places the next stored block's header (or the last piece's final `00`) in `tx`
    /// behind `plan.head`, the block becoming the plan's data.
    fn next_block(&mut self, plan: &mut Plan<'_>) {
        let Some(Stored { rest, last }) = plan.stored else { return };
        if !rest.is_empty() {
            let (block, rest) = rest.split_at(rest.len().min(BLOCK));
            let size = block.len() as u16;
            let ([a, b], [c, d]) = (size.to_le_bytes(), (!size).to_le_bytes());
            plan.head = self.copy(plan, &[0, a, b, c, d]);
            plan.data = block;
            plan.stored = Some(Stored { rest, last });
        } else if last {
            plan.head = self.copy(plan, &[0]);
            plan.stored = None;
        }
    }
}

/// The most data a DEFLATE stored block holds.
#[cfg(feature = "deflate")]
const BLOCK: usize = u16::MAX as usize;
