//! The opening handshakes, and the adapters made from [`Options`]: the head is read into
//! `rx` and answered through `tx` ([`Options`] keeps the bookkeeping), then the
//! connection starts on what came after it.

use super::*;

#[bisync]
impl<'b, S, R> WebSocket<'b, S, Unmasked, R>
where
    S: Read + Write,
    R: RxBuffer,
{
    /// A server connection on a stream whose opening handshake was done elsewhere;
    /// [`Options::with_received`] says how many bytes of `rx` were already read from the
    /// stream (frames that came with the handshake).
    ///
    /// # Panics
    /// If `rx` can never hold [`MIN_RX_BUF`](crate::io::MIN_RX_BUF) bytes or `tx` is
    /// shorter than [`MIN_TX_BUF`](crate::io::MIN_TX_BUF) (a caller contract, independent of anything received).
    pub fn server(stream: S, options: Options<'b, R>) -> Self {
        Self::with_parts(stream, Role::Server, options, Unmasked)
    }

    /// Runs the server side of the opening handshake on `stream`, then returns the
    /// connection.
    ///
    /// The request head is read into `rx` and must fit in it (431 otherwise).
    ///
    /// `decide` sees the request and, for a valid upgrade, the upgrade details (a plain
    /// request without `Upgrade` comes with `None`: answer it with
    /// [`Decision::Respond`] or [`Decision::Reject`]). It is called once, but is `FnMut`.
    /// With [`Options::with_deflate`], the client's permessage-deflate offers are answered
    /// with what that memory can take; the connection then runs compressed if one was
    /// accepted.
    ///
    /// # Errors
    /// [`Error::Handshake`] for a bad request (the matching HTTP error response has been
    /// sent; a malformed `Sec-WebSocket-Extensions` is a 400), [`Error::NotUpgraded`] when
    /// `decide` refused or answered with a page, [`Error::Read`], [`Error::Write`] and
    /// [`Error::UnexpectedEof`] from the transport.
    ///
    /// # Panics
    /// As [`server`](Self::server).
    pub async fn accept<F>(
        mut stream: S,
        mut options: Options<'b, R>,
        mut decide: F,
    ) -> Result<Self, Error<S::Error>>
    where
        F: for<'r> FnMut(&server::Request<'_, 'r>, Option<&server::Upgrade<'r>>) -> Decision<'r>,
    {
        let negotiation = Negotiation::of(&options);
        loop {
            // `decide` is called once, for the complete head, which ends the loop.
            let (head, tx) = options.request_head();
            let step = server::handle_request(
                head,
                tx,
                &mut decide,
                |request: &server::Request<'_, '_>| negotiation.answer(request),
            );
            let Status::Complete { value: answer, consumed } = step else {
                fill(&mut stream, &mut options).await?;
                continue;
            };
            write_two_flush(&mut stream, options.tx_head(answer.written), &[])
                .await
                .map_err(Error::Write)?;
            return match answer.outcome {
                Outcome::Upgraded => {
                    options.took(consumed);
                    let mut ws = Self::with_parts(stream, Role::Server, options, Unmasked);
                    ws.agreed(answer.agreed)?;
                    Ok(ws)
                }
                Outcome::NotUpgraded(status) => Err(Error::NotUpgraded(status)),
                Outcome::Failed(e) => Err(Error::Handshake(e)),
            };
        }
    }
}

#[bisync]
impl<'b, S, M, R> WebSocket<'b, S, M, R>
where
    S: Read + Write,
    M: MaskKeys,
    R: RxBuffer,
{
    /// A client connection on a stream whose opening handshake was done elsewhere, masking
    /// what it sends with the keys `mask` makes (see [`server`](WebSocket::server)).
    ///
    /// # Panics
    /// As [`server`](WebSocket::server).
    pub fn client(stream: S, options: Options<'b, R>, mask: M) -> Self {
        Self::with_parts(stream, Role::Client, options, mask)
    }

    /// Runs the client side of the opening handshake on `stream`: sends `request`,
    /// validates the response, and returns the connection with the subprotocol the
    /// server chose among `request.protocols`, if any. With [`Options::with_deflate`], the
    /// request offers permessage-deflate with what that memory can take, and the answer
    /// is checked.
    ///
    /// # Errors
    /// [`Error::Handshake`] when the response is not a valid upgrade (status, headers,
    /// accept key, subprotocol, an extension answer the client must fail);
    /// [`Error::Read`], [`Error::Write`] and [`Error::UnexpectedEof`] from the transport.
    ///
    /// # Panics
    /// As [`server`](WebSocket::server).
    pub async fn connect<'r>(
        mut stream: S,
        mut options: Options<'b, R>,
        request: &client::ClientRequest<'r>,
        mask: M,
    ) -> Result<(Self, Option<&'r str>), Error<S::Error>> {
        let negotiation = Negotiation::of(&options);
        let offer = negotiation.offer();
        let sent = negotiation.request(request, &offer);
        let n = sent.encode(options.tx)?;
        write_two_flush(&mut stream, options.tx_head(n), &[]).await.map_err(Error::Write)?;
        loop {
            let mut headers = [Header::EMPTY; MAX_HEADERS];
            match client::parse_response(options.head(), &mut headers)? {
                Status::Partial { .. } if options.head_full() => {
                    return Err(Error::Handshake(HandshakeError::HeadersTooLarge))
                }
                Status::Partial { .. } => fill(&mut stream, &mut options).await?,
                Status::Complete { value: response, consumed } => {
                    let accepted = response.validate(&sent)?;
                    let protocol = accepted
                        .protocol
                        .and_then(|p| request.protocols.iter().find(|offered| **offered == p))
                        .copied();
                    let agreed = negotiation.check(&response, &offer)?;
                    options.took(consumed);
                    let mut ws = Self::with_parts(stream, Role::Client, options, mask);
                    ws.agreed(agreed)?;
                    return Ok((ws, protocol));
                }
            }
        }
    }

    /// What a handshake of the adapter's own agreed on: nothing, without `deflate`.
    #[cfg(not(feature = "deflate"))]
    #[allow(clippy::unnecessary_wraps)]
    pub(super) fn agreed(
        &mut self,
        agreed: Option<crate::io::negotiation::Agreed>,
    ) -> Result<(), Error<S::Error>> {
        let _ = agreed;
        Ok(())
    }

    /// The adapter over a connection.
    pub(super) fn with_parts(stream: S, role: Role, options: Options<'b, R>, mask: M) -> Self {
        let (inbox, out) = options.into_parts(role, mask);
        Self { link: Shared { stream, out, write_error: None }, inbox }
    }
}
