//! A WebSocket over an async `embedded_io_async` stream (an `embassy-net` `TcpSocket`
//! plugs straight in).
//!
//! GENERATED from `blocking.rs` by `scripts/gen-asynch.py`: edit that file and rerun
//! the script. The methods are the blocking ones with `.await`.
//!
//! # Cancellation
//! Dropping a `read` future while it waits for input loses nothing: bytes are only
//! taken into the buffer once a read completes. Dropping a future while it writes (a
//! `send`, or a pong or close reply inside `read`) may leave a partial frame on the
//! wire; the connection must then be dropped.

use embedded_io_async::{Read, Write};

use super::buffer::RxBuf;
use super::{Decision, Error, MIN_RX_BUF, MIN_TX_BUF};
use crate::conn::{MessageKind, Step, MAX_CONTROL_FRAME};
use crate::handshake::{client, server, HandshakeError, MAX_HEADERS};
use crate::mask::apply_mask;
use crate::{CloseCode, Config, Connection, Event, Message, Role, State, Status};

/// A WebSocket connection over an async stream, with caller-owned buffers.
///
/// The same methods as [`blocking::WebSocket`](super::blocking::WebSocket), as `async fn`s.
pub struct WebSocket<'b, S, M> {
    stream: S,
    conn: Connection,
    rx: RxBuf<'b>,
    tx: &'b mut [u8],
    mask: M,
    /// Bytes to drain from the window before the next read (the last event borrowed them).
    owed_drain: usize,
}

impl<S: core::fmt::Debug, M> core::fmt::Debug for WebSocket<'_, S, M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocket")
            .field("stream", &self.stream)
            .field("conn", &self.conn)
            .field("buffered", &self.rx.window().len())
            .finish_non_exhaustive()
    }
}

impl<'b, S, M> WebSocket<'b, S, M>
where
    S: Read + Write,
    M: FnMut() -> [u8; 4],
{
    /// Wraps a stream whose opening handshake is already done.
    ///
    /// # Panics
    /// If `rx` is shorter than [`MIN_RX_BUF`] or `tx` shorter than [`MIN_TX_BUF`]
    /// (a caller contract, independent of anything received).
    pub fn new(stream: S, role: Role, rx: &'b mut [u8], tx: &'b mut [u8], mask: M) -> Self {
        Self::with_buffered(stream, Connection::new(role), rx, 0, tx, mask)
    }

    /// Like [`new`](Self::new) with a configured [`Connection`], for a stream from which
    /// `buffered` bytes were already read into the start of `rx` (e.g. frames that arrived
    /// in the same read as the handshake).
    ///
    /// # Panics
    /// As [`new`](Self::new).
    pub fn with_buffered(
        stream: S,
        mut conn: Connection,
        rx: &'b mut [u8],
        buffered: usize,
        tx: &'b mut [u8],
        mask: M,
    ) -> Self {
        assert!(rx.len() >= MIN_RX_BUF, "rx buffer shorter than MIN_RX_BUF");
        assert!(tx.len() >= MIN_TX_BUF, "tx buffer shorter than MIN_TX_BUF");
        if !conn.config().streaming {
            let fits = (rx.len() - MAX_CONTROL_FRAME) as u64;
            conn.set_max_message(conn.config().max_message.min(fits));
        }
        Self { stream, conn, rx: RxBuf::new(rx, buffered), tx, mask, owed_drain: 0 }
    }

    /// Runs the server side of the opening handshake on `stream`, then returns the
    /// connection. `decide` sees the request and the upgrade details (path, Origin,
    /// offered subprotocols, any header) and accepts or rejects it.
    ///
    /// # Errors
    /// [`Error::Handshake`] for a bad request (the matching HTTP error response has been
    /// sent), [`Error::Rejected`] when `decide` refused, [`Error::Io`] and
    /// [`Error::UnexpectedEof`] from the transport.
    pub async fn accept<F>(
        mut stream: S,
        config: Config,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        mask: M,
        decide: F,
    ) -> Result<Self, Error<S::Error>>
    where
        F: for<'r> FnOnce(&server::Request<'_, 'r>, &server::Upgrade<'r>) -> Decision<'r>,
    {
        let mut decide = Some(decide);
        let mut filled = 0;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let parsed = server::parse_request(rx.get(..filled).unwrap_or(&[]), &mut headers);
            let outcome = match parsed {
                Ok(Status::Partial { .. }) if filled == rx.len() => {
                    Err(HandshakeError::HeadersTooLarge)
                }
                Ok(Status::Partial { .. }) => Ok(None),
                Ok(Status::Complete { value: request, consumed }) => Ok(Some((
                    consumed,
                    match request.upgrade() {
                        Ok(upgrade) => match decide.take().map(|decide| decide(&request, &upgrade))
                        {
                            Some(Decision::Accept { protocol }) => {
                                server::write_accept(&upgrade, protocol, &[], tx).map(|n| (n, None))
                            }
                            Some(Decision::Reject { status, reason }) => {
                                server::write_reject(status, reason, tx).map(|n| (n, Some(status)))
                            }
                            // A complete request is seen once: `decide` is always there.
                            None => Err(HandshakeError::BufferTooSmall { needed: 0 }),
                        },
                        Err(e) => Err(e),
                    },
                ))),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(None) => {
                    let spare = rx.get_mut(filled..).unwrap_or(&mut []);
                    let n = stream.read(spare).await.map_err(Error::Io)?;
                    if n == 0 {
                        return Err(Error::UnexpectedEof);
                    }
                    filled += n;
                }
                Ok(Some((consumed, Ok((n, rejected))))) => {
                    stream.write_all(tx.get(..n).unwrap_or(&[])).await.map_err(Error::Io)?;
                    stream.flush().await.map_err(Error::Io)?;
                    if let Some(status) = rejected {
                        return Err(Error::Rejected(status));
                    }
                    rx.copy_within(consumed..filled, 0);
                    let conn = Connection::with_config(Role::Server, config);
                    return Ok(Self::with_buffered(stream, conn, rx, filled - consumed, tx, mask));
                }
                Ok(Some((_, Err(e)))) | Err(e) => {
                    if let Ok(n) = server::write_error(e, tx) {
                        stream.write_all(tx.get(..n).unwrap_or(&[])).await.map_err(Error::Io)?;
                        stream.flush().await.map_err(Error::Io)?;
                    }
                    return Err(Error::Handshake(e));
                }
            }
        }
    }

    /// Runs the client side of the opening handshake on `stream`: sends `request`,
    /// validates the response, and returns the connection with the subprotocol the
    /// server chose, if any (copied into `protocol`, which must be long enough).
    ///
    /// # Errors
    /// [`Error::Handshake`] when the response is not a valid upgrade (status, headers,
    /// accept key, subprotocol); [`Error::Io`] and [`Error::UnexpectedEof`] from the transport.
    pub async fn connect(
        mut stream: S,
        config: Config,
        request: &client::ClientRequest<'_>,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        mask: M,
    ) -> Result<(Self, Option<usize>), Error<S::Error>> {
        let n = request.encode(tx)?;
        stream.write_all(tx.get(..n).unwrap_or(&[])).await.map_err(Error::Io)?;
        stream.flush().await.map_err(Error::Io)?;
        let mut filled = 0;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            match client::parse_response(rx.get(..filled).unwrap_or(&[]), &mut headers)? {
                Status::Partial { .. } if filled == rx.len() => {
                    return Err(Error::Handshake(HandshakeError::HeadersTooLarge))
                }
                Status::Partial { .. } => {
                    let spare = rx.get_mut(filled..).unwrap_or(&mut []);
                    let n = stream.read(spare).await.map_err(Error::Io)?;
                    if n == 0 {
                        return Err(Error::UnexpectedEof);
                    }
                    filled += n;
                }
                Status::Complete { value: response, consumed } => {
                    let accepted = response.validate(request)?;
                    let protocol = accepted
                        .protocol
                        .and_then(|p| request.protocols.iter().position(|offered| *offered == p));
                    rx.copy_within(consumed..filled, 0);
                    let conn = Connection::with_config(Role::Client, config);
                    let ws = Self::with_buffered(stream, conn, rx, filled - consumed, tx, mask);
                    return Ok((ws, protocol));
                }
            }
        }
    }

    /// The protocol state machine.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The underlying stream.
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Gives the stream back.
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// Reads until the next event. Pongs and the close reply are sent automatically
    /// before the event is returned.
    ///
    /// The event borrows the receive buffer until the next call. At EOF without a close
    /// frame this returns [`Error::UnexpectedEof`] (close code 1006); after the closing
    /// handshake, [`Error::Closed`].
    ///
    /// # Errors
    /// [`Error::Protocol`] when the peer broke the protocol (the close frame that says so
    /// has been sent), [`Error::Io`] from the transport.
    pub async fn read(&mut self) -> Result<Event<'_>, Error<S::Error>> {
        let consumed = core::mem::take(&mut self.owed_drain);
        self.rx.drain(consumed);
        loop {
            self.flush_owed().await?;
            if self.conn.state() == State::Closed {
                return Err(Error::Closed);
            }
            match self.conn.next_step(self.rx.window()) {
                Status::Complete { value: Step::Event, .. } => break,
                Status::Complete { value: Step::Progress, .. } => {
                    match self.conn.handle_input(self.rx.window_mut()) {
                        Ok(Status::Complete { consumed, .. }) => self.rx.drain(consumed),
                        Ok(Status::Partial { .. }) => self.fill().await?,
                        Err(e) => return Err(self.fail(e).await),
                    }
                }
                Status::Partial { .. } => self.fill().await?,
            }
        }
        let Self { stream, conn, rx, tx, mask, owed_drain } = self;
        match conn.handle_input(rx.window_mut()) {
            Ok(Status::Complete { value: Some(event), consumed }) => {
                // The event borrows the window: the drain waits for the next read.
                *owed_drain = consumed;
                // Send the pong or close reply now. If the transport already failed, the
                // event (e.g. the peer's close code) is still worth handing out; the next
                // read reports the transport error.
                let _ = flush_owed(conn, stream, tx, mask).await;
                Ok(event)
            }
            // `next_step` promised an event or an error; anything else is treated as closed.
            Ok(_) => Err(Error::Closed),
            Err(e) => {
                // Best effort: tell the peer why, with the right close code.
                let _ = flush_owed(conn, stream, tx, mask).await;
                Err(Error::Protocol(e))
            }
        }
    }

    /// Reads more bytes into the window.
    async fn fill(&mut self) -> Result<(), Error<S::Error>> {
        if self.rx.is_full() {
            // Reassembling a fragmented message: reclaim the space of joined headers.
            let freed = self.conn.compact(self.rx.window_mut());
            self.rx.truncate(freed);
        }
        let Some(spare) = self.rx.spare() else {
            // Cannot happen with the limits set in `with_buffered`; fail safely anyway.
            let size = self.rx.capacity() as u64;
            let error = crate::FrameError::TooLarge { size, max: self.conn.config().max_message };
            return Err(self.fail(error.into()).await);
        };
        let n = self.stream.read(spare).await.map_err(Error::Io)?;
        if n == 0 {
            return Err(Error::UnexpectedEof);
        }
        self.rx.filled(n);
        Ok(())
    }

    async fn fail(&mut self, e: crate::ProtocolError) -> Error<S::Error> {
        // Best effort: the peer broke the protocol, tell it why with the right code.
        let _ = self.flush_owed().await;
        Error::Protocol(e)
    }

    async fn flush_owed(&mut self) -> Result<(), Error<S::Error>> {
        flush_owed(&mut self.conn, &mut self.stream, self.tx, &mut self.mask).await
    }

    /// Sends a whole message. Data larger than the transmit buffer goes out through it
    /// in pieces; `tx` bounds each write, not the message.
    ///
    /// # Errors
    /// [`Error::Send`] when the state forbids it (after a close) or a control payload is
    /// too long; [`Error::Io`] from the transport.
    pub async fn send(&mut self, message: Message<'_>) -> Result<(), Error<S::Error>> {
        self.flush_owed().await?;
        let data = match message {
            Message::Text(text) => Some((MessageKind::Text, text.as_bytes())),
            Message::Binary(data) => Some((MessageKind::Binary, data)),
            _ => None,
        };
        match data {
            Some((kind, data)) if self.conn.frame_len(data.len()) > self.tx.len() => {
                self.send_fragment(kind, data, true).await
            }
            _ => {
                let key = (self.mask)();
                let n = self.conn.encode(message, key, self.tx)?;
                self.write_tx(n).await
            }
        }
    }

    /// Sends one fragment of a message sent in pieces (see
    /// [`Connection::encode_fragment`]); `last` ends the message.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        last: bool,
    ) -> Result<(), Error<S::Error>> {
        self.flush_owed().await?;
        let key = (self.mask)();
        let n = self.conn.encode_fragment_header(kind, data.len() as u64, last, key, self.tx)?;
        let masked = self.conn.role() == Role::Client;
        let mut header = n;
        let mut offset = 0;
        for chunk in data.chunks(self.tx.len() - n) {
            let (_, body) = self.tx.split_at_mut(header);
            let body = body.get_mut(..chunk.len()).unwrap_or(&mut []);
            body.copy_from_slice(chunk);
            if masked {
                apply_mask(body, key, offset);
            }
            offset += chunk.len();
            self.write_tx(header + chunk.len()).await?;
            header = 0;
        }
        if data.is_empty() {
            self.write_tx(n).await?;
        }
        Ok(())
    }

    /// Starts the closing handshake: sends a close frame with `code` and `reason`
    /// (at most 123 bytes). Keep calling [`read`](Self::read) until it returns the
    /// peer's [`Event::Close`], then drop the stream.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error<S::Error>> {
        let message = Message::Close(Some((code, reason)));
        self.send(message).await
    }

    async fn write_tx(&mut self, n: usize) -> Result<(), Error<S::Error>> {
        self.stream.write_all(self.tx.get(..n).unwrap_or(&[])).await.map_err(Error::Io)?;
        self.stream.flush().await.map_err(Error::Io)
    }
}

/// Sends whatever the connection owes the peer (pong, close reply, failure close).
async fn flush_owed<S: Write, M: FnMut() -> [u8; 4]>(
    conn: &mut Connection,
    stream: &mut S,
    tx: &mut [u8],
    mask: &mut M,
) -> Result<(), Error<S::Error>> {
    while conn.wants_transmit() {
        match conn.poll_transmit(mask(), tx)? {
            Some(n) => {
                stream.write_all(tx.get(..n).unwrap_or(&[])).await.map_err(Error::Io)?;
                stream.flush().await.map_err(Error::Io)?;
            }
            None => break,
        }
    }
    Ok(())
}
