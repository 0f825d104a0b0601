//! permessage-deflate in the adapters: the part of [`twin`](super::twin) that only the
//! `deflate` feature compiles, expanded the same way into both twins.

macro_rules! deflate_adapter {
    ($io:ident, $($async:ident)?, $(.$await:ident)?) => {
use crate::deflate::PerMessageDeflate;
use crate::handshake::ExtensionError;

impl<'b, S, M, R> WebSocket<'b, S, M, R>
where
    S: Read + Write,
    M: MaskKeys,
    R: RxBuffer,
{
    /// Turns permessage-deflate on with what was `agreed` (`None`: it stays off), for a
    /// connection whose handshake was done elsewhere (see
    /// [`accept_offers`](crate::deflate::accept_offers) and
    /// [`check_response`](crate::deflate::check_response)), with the memory lent by
    /// [`Options::with_deflate`]. Call it before the first read.
    ///
    /// # Errors
    /// [`ExtensionError::WindowUnsupported`] when the agreement needs a larger window
    /// than the inflater lent has (or none was lent).
    pub fn with_deflate(mut self, agreed: Option<PerMessageDeflate>) -> Result<Self, ExtensionError> {
        self.start_deflate(agreed)?;
        Ok(self)
    }

    /// [`with_deflate`](Self::with_deflate) in place.
    fn start_deflate(&mut self, agreed: Option<PerMessageDeflate>) -> Result<(), ExtensionError> {
        let Some(agreed) = agreed else { return Ok(()) };
        let role = self.link.conn.role();
        let config = self.link.conn.config();
        let incoming = agreed.receive(role);
        let Some(inflater) = self.inbox.inflater.as_mut() else {
            return Err(ExtensionError::WindowUnsupported { bits: incoming.max_window_bits });
        };
        inflater.start(incoming, &config)?;
        self.link.conn.set_deflate(Some(agreed));
        #[cfg(feature = "deflate-compress")]
        if let Some(compressor) = self.link.compressor.as_mut() {
            compressor.start(agreed.send(role));
        }
        Ok(())
    }

    /// What a handshake of the adapter's own agreed on, in force.
    fn agreed(&mut self, agreed: Option<PerMessageDeflate>) -> Result<(), Error<S::Error>> {
        // The inflater fits what was agreed: the negotiation made sure of it.
        self.start_deflate(agreed).map_err(|e| Error::Handshake(e.into()))
    }

    /// What permessage-deflate parameters were agreed, if any.
    pub fn deflate(&self) -> Option<PerMessageDeflate> {
        self.link.conn.deflate()
    }
}

impl<S, M> Shared<'_, S, M>
where
    S: Write,
    M: MaskKeys,
{
    /// Whether messages go as stored blocks: permessage-deflate was agreed, storing was
    /// asked for, and there is no compressor.
    fn stores(&self) -> bool {
        #[cfg(feature = "deflate-compress")]
        let compresses = self.compressor.is_some();
        #[cfg(not(feature = "deflate-compress"))]
        let compresses = false;
        self.storing && !compresses && self.conn.deflate().is_some()
    }

    /// Sends `data` as a fragment of a message of DEFLATE stored blocks (see
    /// [`Deflate::storing`]): each block's 5-byte header is built in `tx` behind the
    /// frame's, so a block goes out in one write. The message's last fragment ends with
    /// the first byte of the empty block that ends a flush (`00`; the `00 00 ff ff` after
    /// it is left off, RFC 7692 section 7.2.1).
    $($async)? fn send_stored(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        last: bool,
    ) -> Result<(), Error<S::Error>> {
        const BLOCK: usize = u16::MAX as usize;
        let len = data.len() + 5 * data.len().div_ceil(BLOCK) + usize::from(last);
        let key = self.mask.next_key();
        let header = crate::PieceHeader { kind, len: len as u64, last };
        let mut head = self.conn.encode_compressed_header(header, key, self.tx)?;
        let mut offset = 0;
        for block in data.chunks(BLOCK) {
            let size = block.len() as u16;
            let [a, b] = size.to_le_bytes();
            let [c, d] = (!size).to_le_bytes();
            self.write_payload(head, &[0, a, b, c, d], key, offset, false)$(.$await)??;
            self.write_payload(head + 5, block, key, offset + 5, true)$(.$await)??;
            offset += 5 + block.len();
            head = 0;
        }
        if last {
            self.write_payload(head, &[0], key, offset, false)$(.$await)??;
            self.write_tx(head + 1, &[])$(.$await)??;
        } else if head > 0 {
            self.write_tx(head, &[])$(.$await)??;
        }
        Ok(())
    }
}

#[cfg(feature = "deflate-compress")]
impl<S, M> Shared<'_, S, M>
where
    S: Write,
    M: MaskKeys,
{
    /// Whether messages go compressed: permessage-deflate was agreed and there is a
    /// compressor.
    fn compresses(&self) -> bool {
        self.conn.deflate().is_some() && self.compressor.is_some()
    }

    /// Sends a whole message compressed, in as many frames as `tx` needs: each frame's
    /// compressed bytes are made in `tx` behind room for its header.
    $($async)? fn send_compressed(
        &mut self,
        kind: MessageKind,
        data: &[u8],
    ) -> Result<(), Error<S::Error>> {
        let Some(mut compressor) = self.compressor.take() else { return Ok(()) };
        let result = self.send_compressed_with(&mut compressor, kind, data)$(.$await)?;
        if result.is_err() {
            // The message was cut short: start the next one from a fresh state.
            compressor.reset();
        }
        self.compressor = Some(compressor);
        result
    }

    $($async)? fn send_compressed_with(
        &mut self,
        compressor: &mut crate::deflate::Compressor,
        kind: MessageKind,
        data: &[u8],
    ) -> Result<(), Error<S::Error>> {
        const ROOM: usize = crate::frame::FrameHeader::MAX_LEN;
        let mut rest = data;
        loop {
            let Some(body) = self.tx.get_mut(ROOM..) else {
                return Err(Error::Send(crate::SendError::BufferTooSmall { needed: MIN_TX_BUF }));
            };
            let step = compressor.compress(rest, body);
            rest = rest.get(step.consumed..).unwrap_or_default();
            let key = self.mask.next_key();
            let mut header = [0u8; ROOM];
            let len = step.written as u64;
            let piece = crate::PieceHeader { kind, len, last: step.done };
            let h = self.conn.encode_compressed_header(piece, key, &mut header)?;
            let start = ROOM - h;
            let end = ROOM + step.written;
            if let (Some(dst), Some(src)) = (self.tx.get_mut(start..ROOM), header.get(..h)) {
                dst.copy_from_slice(src);
            }
            if self.conn.role() == Role::Client {
                apply_mask(self.tx.get_mut(ROOM..end).unwrap_or_default(), key, 0);
            }
            self.write_span(start, end, &[])$(.$await)??;
            if step.done {
                return Ok(());
            }
        }
    }
}
    };
}

pub(super) use deflate_adapter;
