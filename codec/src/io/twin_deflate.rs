//! permessage-deflate in the adapters: the part of [`twin`](super::twin) that only the
//! `deflate` feature compiles, expanded the same way into both twins.

macro_rules! deflate_adapter {
    ($io:ident, $($async:ident)?, $(.$await:ident)?) => {
use crate::deflate::{accept_offers, accept_response, Offer, PerMessageDeflate};
use crate::handshake::ExtensionError;
use crate::io::Deflate;

impl<'b, S, R> WebSocket<'b, S, Unmasked, R>
where
    S: Read + Write,
    R: RxBuffer,
{
    /// [`accept`](Self::accept), with `negotiate` choosing the extensions to answer with
    /// (the `Sec-WebSocket-Extensions` value and what it agreed) once `decide` accepted.
    /// `accept`'s loop again: `accept` as this with a negotiation that agrees nothing was
    /// measured 64 bytes larger in the minimal firmware server (`scripts/firmware-budget`).
    $($async)? fn accept_with<F, N, H, T>(
        mut stream: S,
        config: Config,
        mut rx: R,
        tx: &'b mut [u8],
        mut decide: F,
        mut negotiate: N,
    ) -> Result<(Self, Option<T>), Error<S::Error>>
    where
        F: for<'r> FnMut(&server::Request<'_, 'r>, Option<&server::Upgrade<'r>>) -> Decision<'r>,
        N: FnMut(&server::Request<'_, '_>) -> Result<Option<(H, T)>, HandshakeError>,
        H: AsRef<str>,
    {
        let mut filled = 0;
        loop {
            // `decide` is called once, for the complete head, which ends the loop.
            let head = rx.bytes_mut();
            let received = head.get(..filled).unwrap_or(&[]);
            let full = filled == head.len();
            let (step, agreed) =
                server::handle_request_with(received, full, tx, &mut decide, &mut negotiate);
            let Status::Complete { value: answer, consumed } = step else {
                let spare = head.get_mut(filled..).unwrap_or(&mut []);
                let n = stream.read(spare)$(.$await)?.map_err(Error::Read)?;
                if n == 0 {
                    return Err(Error::UnexpectedEof);
                }
                filled += n;
                continue;
            };
            let response = tx.get(..answer.written).unwrap_or(&[]);
            write_two_flush(&mut stream, response, &[])$(.$await)?.map_err(Error::Write)?;
            return match answer.outcome {
                Outcome::Upgraded => {
                    crate::buffer::move_down(head, consumed, filled - consumed, 0);
                    Ok((Self::server(stream, config, rx, filled - consumed, tx), agreed))
                }
                Outcome::NotUpgraded(status) => Err(Error::NotUpgraded(status)),
                Outcome::Failed(e) => Err(Error::Handshake(e)),
            };
        }
    }

    /// [`accept`](Self::accept) with permessage-deflate: the client's offers are answered
    /// with what `deflate`'s memory can take ([`accept_offers`]); the connection then runs
    /// compressed if one was accepted, uncompressed otherwise (see
    /// [`deflate`](Self::deflate)).
    ///
    /// # Errors
    /// As [`accept`](Self::accept); a malformed `Sec-WebSocket-Extensions` header is
    /// answered with 400 ([`HandshakeError::Extension`]).
    pub $($async)? fn accept_deflate<F>(
        stream: S,
        config: Config,
        rx: R,
        tx: &'b mut [u8],
        deflate: Deflate<'b, R>,
        decide: F,
    ) -> Result<Self, Error<S::Error>>
    where
        F: for<'r> FnMut(&server::Request<'_, 'r>, Option<&server::Upgrade<'r>>) -> Decision<'r>,
    {
        let setup = deflate.setup(config.streaming);
        let negotiate = |request: &server::Request<'_, '_>| {
            let lines = request
                .headers()
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("Sec-WebSocket-Extensions"))
                .map(|h| h.value);
            let agreed = accept_offers(lines, &setup)?;
            Ok(agreed.map(|agreed| (agreed.header_value(), agreed)))
        };
        let (ws, agreed) =
            Self::accept_with(stream, config, rx, tx, decide, negotiate)$(.$await)??;
        // The inflater fits what was agreed: the negotiation made sure of it.
        ws.with_deflate(deflate, agreed).map_err(|e| Error::Handshake(e.into()))
    }
}

impl<'b, S, M, R> WebSocket<'b, S, M, R>
where
    S: Read + Write,
    M: MaskKeys,
    R: RxBuffer,
{
    /// [`connect`](Self::connect) with permessage-deflate: offers what `deflate`'s memory
    /// can take ([`Offer::for_setup`]) and checks the answer ([`accept_response`]).
    ///
    /// # Errors
    /// As [`connect`](Self::connect), and [`HandshakeError::Extension`] or
    /// [`HandshakeError::UnofferedExtension`] for an answer the client must fail.
    pub $($async)? fn connect_deflate(
        stream: S,
        config: Config,
        request: &client::ClientRequest<'_>,
        rx: R,
        tx: &'b mut [u8],
        mask: M,
        deflate: Deflate<'b, R>,
    ) -> Result<(Self, Option<usize>), Error<S::Error>> {
        let setup = deflate.setup(config.streaming);
        let offer = Offer::for_setup(&setup);
        let value = offer.map(|offer| offer.header_value());
        let request = client::ClientRequest {
            extensions: value.as_ref().map(|v| v.as_str()),
            ..*request
        };
        let check = |response: &client::Response<'_, '_>| {
            let lines = response
                .headers()
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("Sec-WebSocket-Extensions"))
                .map(|h| h.value);
            match offer {
                Some(offer) => accept_response(lines, &offer, &setup),
                None if lines.count() > 0 => Err(HandshakeError::UnofferedExtension),
                None => Ok(None),
            }
        };
        let (ws, protocol, agreed) =
            Self::connect_with(stream, config, &request, rx, tx, mask, check)$(.$await)??;
        let ws = ws.with_deflate(deflate, agreed).map_err(|e| Error::Handshake(e.into()))?;
        Ok((ws, protocol))
    }

    /// Turns permessage-deflate on with what was `agreed` (`None`: it stays off), for a
    /// connection whose handshake was done elsewhere (see
    /// [`accept_offers`] and [`accept_response`]). Call it before the first read.
    ///
    /// # Errors
    /// [`ExtensionError::WindowUnsupported`] when the agreement needs a larger window
    /// than `deflate`'s inflater has.
    pub fn with_deflate(
        mut self,
        deflate: Deflate<'b, R>,
        agreed: Option<PerMessageDeflate>,
    ) -> Result<Self, ExtensionError> {
        let Some(agreed) = agreed else { return Ok(self) };
        let role = self.link.conn.role();
        self.link.storing = deflate.storing;
        let Deflate { mut inflater, .. } = deflate;
        inflater.start(agreed.receive(role), self.link.conn.config().streaming)?;
        self.link.conn.set_deflate(Some(agreed));
        self.inbox.inflater = Some(inflater);
        #[cfg(feature = "deflate-compress")]
        {
            self.link.compressor = deflate.compressor.map(|mut compressor| {
                compressor.start(agreed.send(role));
                compressor
            });
        }
        Ok(self)
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
        let mut head = self.conn.encode_compressed_fragment_header(kind, len as u64, last, key, self.tx)?;
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
            let h = self.conn.encode_compressed_fragment_header(kind, len, step.done, key, &mut header)?;
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
