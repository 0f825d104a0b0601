//! A WebSocket over a blocking `embedded_io` stream.
//!
//! `asynch.rs` is this file's twin for `embedded_io_async`: the same methods, with
//! `.await`. Keep them in step; logic that differs belongs in the core.

use embedded_io::{ErrorType, Read, Write};

use super::buffer::{RxBuf, RxBuffer};
use super::{Error, MIN_RX_BUF, MIN_TX_BUF};
use crate::conn::{MessageKind, Step, MAX_CONTROL_FRAME};
use crate::handshake::server::{self, Decision, Outcome};
use crate::handshake::{client, HandshakeError, Header, MAX_HEADERS};
use crate::mask::apply_mask;
use crate::{CloseCode, Config, Connection, Event, Message, Role, State, Status};

/// A WebSocket connection over a blocking stream, with caller-owned buffers.
///
/// `M` makes the 4-byte mask key for each frame a client sends; it must be
/// unpredictable (RFC 6455 section 5.3), e.g. from the device's hardware RNG. Servers do
/// not mask; pass `|| [0; 4]`.
///
/// ```
/// use wscodec::io::blocking::WebSocket;
/// use wscodec::{Event, Message, Role};
/// // An in-memory stream standing in for a socket: a masked "Hi" from a client.
/// # struct Duplex<'a> { input: &'a [u8], output: &'a mut [u8], written: usize }
/// # impl embedded_io::ErrorType for Duplex<'_> { type Error = core::convert::Infallible; }
/// # impl embedded_io::Read for Duplex<'_> {
/// #     fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> { self.input.read(buf).map_err(|e| match e {}) }
/// # }
/// # impl embedded_io::Write for Duplex<'_> {
/// #     fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
/// #         let n = buf.len().min(self.output.len() - self.written);
/// #         self.output[self.written..self.written + n].copy_from_slice(&buf[..n]);
/// #         self.written += n; Ok(n)
/// #     }
/// #     fn flush(&mut self) -> Result<(), Self::Error> { Ok(()) }
/// # }
/// let input = [0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2];
/// let mut output = [0u8; 64];
/// let stream = Duplex { input: &input, output: &mut output, written: 0 };
/// let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
/// let mut ws = WebSocket::new(stream, Role::Server, &mut rx, &mut tx, || [0; 4]);
/// if let Event::Text(text) = ws.read()? {
///     let mut echo = [0u8; 16];
///     let echo = &mut echo[..text.len()];
///     echo.copy_from_slice(text.as_bytes());
///     ws.send(Message::Binary(echo))?;
/// }
/// # Ok::<(), wscodec::io::Error<core::convert::Infallible>>(())
/// ```
pub struct WebSocket<'b, S: ErrorType, M, R = &'b mut [u8]> {
    stream: S,
    conn: Connection,
    rx: RxBuf<R>,
    tx: &'b mut [u8],
    mask: M,
    /// Bytes the last event borrowed from the window: drained at the start of the next read.
    consumed_by_event: usize,
    /// Set while a write is under way. Still set when the next call starts only if that
    /// write never finished (its future was dropped): a frame may be cut short.
    writing: bool,
    /// A write that failed while `read` handed out an event; the next call reports it.
    write_error: Option<S::Error>,
}

impl<S: ErrorType + core::fmt::Debug, M, R> core::fmt::Debug for WebSocket<'_, S, M, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocket")
            .field("stream", &self.stream)
            .field("conn", &self.conn)
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

    /// Runs the server side of the opening handshake on `stream`, then returns the
    /// connection.
    ///
    /// Reads into `rx` until the request head is complete and answers it with
    /// [`server::handle_request`]: `decide` sees the request and, for a valid upgrade, the
    /// upgrade details (path, Origin, offered subprotocols, any header; `None` for a
    /// request without `Upgrade`), and chooses a [`Decision`]; it is called once. The
    /// answer is written through `tx`, so a page answered with [`Decision::Respond`] must
    /// fit `tx`.
    ///
    /// # Errors
    /// [`Error::Handshake`] for a bad request (the matching HTTP error response has been
    /// sent), [`Error::NotUpgraded`] when `decide` refused or answered with a page (that
    /// response has been sent), [`Error::Read`], [`Error::Write`] and
    /// [`Error::UnexpectedEof`] from the transport. After an error, close the stream.
    pub fn accept<F>(
        mut stream: S,
        config: Config,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        mask: M,
        mut decide: F,
    ) -> Result<Self, Error<S::Error>>
    where
        F: for<'r> FnMut(&server::Request<'_, 'r>, Option<&server::Upgrade<'r>>) -> Decision<'r>,
    {
        let mut filled = 0;
        loop {
            // `decide` is called once, for the complete head, which ends the loop.
            let received = rx.get(..filled).unwrap_or(&[]);
            let step = server::handle_request(received, filled == rx.len(), tx, &mut decide);
            let Status::Complete { value: answer, consumed } = step else {
                let spare = rx.get_mut(filled..).unwrap_or(&mut []);
                let n = stream.read(spare).map_err(Error::Read)?;
                if n == 0 {
                    return Err(Error::UnexpectedEof);
                }
                filled += n;
                continue;
            };
            let response = tx.get(..answer.written).unwrap_or(&[]);
            write_and_flush(&mut stream, response).map_err(Error::Write)?;
            return match answer.outcome {
                Outcome::Upgraded => {
                    rx.copy_within(consumed..filled, 0);
                    let conn = Connection::with_config(Role::Server, config);
                    Ok(Self::with_buffered(stream, conn, rx, filled - consumed, tx, mask))
                }
                Outcome::NotUpgraded(status) => Err(Error::NotUpgraded(status)),
                Outcome::Failed(e) => Err(Error::Handshake(e)),
            };
        }
    }

    /// Runs the client side of the opening handshake on `stream`: sends `request`,
    /// validates the response, and returns the connection with the subprotocol the
    /// server chose, if any (as an index into `request.protocols`).
    ///
    /// # Errors
    /// [`Error::Handshake`] when the response is not a valid upgrade (status, headers,
    /// accept key, subprotocol); [`Error::Read`], [`Error::Write`] and
    /// [`Error::UnexpectedEof`] from the transport.
    pub fn connect(
        mut stream: S,
        config: Config,
        request: &client::ClientRequest<'_>,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        mask: M,
    ) -> Result<(Self, Option<usize>), Error<S::Error>> {
        let n = request.encode(tx)?;
        write_and_flush(&mut stream, tx.get(..n).unwrap_or(&[])).map_err(Error::Write)?;
        let mut filled = 0;
        loop {
            let mut headers = [Header::EMPTY; MAX_HEADERS];
            match client::parse_response(rx.get(..filled).unwrap_or(&[]), &mut headers)? {
                Status::Partial { .. } if filled == rx.len() => {
                    return Err(Error::Handshake(HandshakeError::HeadersTooLarge))
                }
                Status::Partial { .. } => {
                    let spare = rx.get_mut(filled..).unwrap_or(&mut []);
                    let n = stream.read(spare).map_err(Error::Read)?;
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
}

impl<'b, S, M, R> WebSocket<'b, S, M, R>
where
    S: Read + Write,
    M: FnMut() -> [u8; 4],
    R: RxBuffer,
{
    /// Like [`new`](WebSocket::new) with a configured [`Connection`] and any
    /// [`RxBuffer`] (e.g. one that grows while a large message arrives), for a stream
    /// from which `buffered` bytes were already read into the start of `rx` (e.g. frames
    /// that arrived in the same read as the handshake).
    ///
    /// In reassembly mode the connection's largest message is capped at what `rx` can
    /// ever hold ([`RxBuffer::max_len`] minus [`MAX_CONTROL_FRAME`]).
    ///
    /// # Panics
    /// If `rx` can never hold [`MIN_RX_BUF`] bytes or `tx` is shorter than
    /// [`MIN_TX_BUF`] (a caller contract, independent of anything received).
    pub fn with_buffered(
        stream: S,
        mut conn: Connection,
        rx: R,
        buffered: usize,
        tx: &'b mut [u8],
        mask: M,
    ) -> Self {
        assert!(rx.max_len() >= MIN_RX_BUF, "rx buffer shorter than MIN_RX_BUF");
        assert!(tx.len() >= MIN_TX_BUF, "tx buffer shorter than MIN_TX_BUF");
        if !conn.config().streaming {
            let fits = (rx.max_len() - MAX_CONTROL_FRAME) as u64;
            conn.set_max_message(conn.config().max_message.min(fits));
        }
        Self {
            stream,
            conn,
            rx: RxBuf::new(rx, buffered),
            tx,
            mask,
            consumed_by_event: 0,
            writing: false,
            write_error: None,
        }
    }

    /// The protocol state machine.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// How many received bytes wait to be handled: the start of the next frame (or
    /// more) when not zero. A server that times each message from its first byte starts
    /// the clock now if any are waiting.
    pub fn buffered(&self) -> usize {
        self.rx.window().len().saturating_sub(self.consumed_by_event)
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
    /// has been sent), [`Error::Read`] from the transport (a read timeout leaves the
    /// connection usable), [`Error::Write`] when sending a pong or close reply failed (the
    /// connection is then closed; if the write failed while an event was handed out, the
    /// event comes first and the next call reports the failure).
    pub fn read(&mut self) -> Result<Event<'_>, Error<S::Error>> {
        self.check_transport()?;
        let consumed = core::mem::take(&mut self.consumed_by_event);
        self.rx.drain(consumed);
        loop {
            self.flush_owed()?;
            if self.conn.state() == State::Closed {
                return Err(Error::Closed);
            }
            match self.conn.next_step(self.rx.window()) {
                Status::Complete { value: Step::Event, .. } => break,
                Status::Complete { value: Step::Progress, .. } => {
                    match self.conn.handle_input(self.rx.window_mut()) {
                        Ok(Status::Complete { consumed, .. }) => self.rx.drain(consumed),
                        Ok(Status::Partial { needed }) => self.fill(needed)?,
                        Err(e) => return Err(self.fail(e)),
                    }
                }
                Status::Partial { needed } => self.fill(needed)?,
            }
        }
        let Self { stream, conn, rx, tx, mask, consumed_by_event, writing, write_error } = self;
        match conn.handle_input(rx.window_mut()) {
            Ok(Status::Complete { value: Some(event), consumed }) => {
                // The event borrows the window: the drain waits for the next read.
                *consumed_by_event = consumed;
                // Send the pong or close reply now. If that fails, the event (e.g. the
                // peer's close code) is still worth handing out; the next call reports
                // the failure.
                if let Err(e) = flush_owed(conn, stream, tx, mask, writing) {
                    *write_error = Some(e);
                }
                Ok(event)
            }
            // `next_step` promised an event or an error; anything else is treated as closed.
            Ok(_) => Err(Error::Closed),
            Err(e) => {
                // Tell the peer why, with the right close code.
                if let Err(e) = flush_owed(conn, stream, tx, mask, writing) {
                    *write_error = Some(e);
                }
                Err(Error::Protocol(e))
            }
        }
    }

    /// Reports what happened to the transport since the last call: a write that failed
    /// while an event was handed out, or one that never finished.
    fn check_transport(&mut self) -> Result<(), Error<S::Error>> {
        if core::mem::take(&mut self.writing) {
            // A write's future was dropped before it finished: a frame may be cut short.
            self.conn.abort();
        }
        match self.write_error.take() {
            Some(e) => Err(Error::Write(e)),
            None => Ok(()),
        }
    }

    /// Reads more bytes into the window; the connection waits for `needed` more.
    fn fill(&mut self, needed: usize) -> Result<(), Error<S::Error>> {
        if self.rx.is_full() {
            // Reassembling a fragmented message: reclaim the space of joined headers.
            let freed = self.conn.compact(self.rx.window_mut());
            self.rx.truncate(freed);
        }
        let Some(spare) = self.rx.spare(needed) else {
            // Cannot happen with the limits set in `with_buffered`; fail safely anyway.
            let size = self.rx.window().len().saturating_add(needed) as u64;
            let error = crate::FrameError::TooLarge { size, max: self.conn.config().max_message };
            return Err(self.fail(error.into()));
        };
        let n = self.stream.read(spare).map_err(Error::Read)?;
        if n == 0 {
            return Err(Error::UnexpectedEof);
        }
        self.rx.filled(n);
        Ok(())
    }

    fn fail(&mut self, e: crate::ProtocolError) -> Error<S::Error> {
        // The peer broke the protocol: tell it why, with the right close code.
        if let Err(Error::Write(e)) = self.flush_owed() {
            self.write_error = Some(e);
        }
        Error::Protocol(e)
    }

    fn flush_owed(&mut self) -> Result<(), Error<S::Error>> {
        flush_owed(&mut self.conn, &mut self.stream, self.tx, &mut self.mask, &mut self.writing)
            .map_err(Error::Write)
    }

    /// Sends a whole message. Data larger than the transmit buffer goes out through it
    /// in pieces; `tx` bounds each write, not the message.
    ///
    /// # Errors
    /// [`Error::Send`] when the state forbids it (after a close) or a control payload is
    /// too long; [`Error::Write`] when the transport failed (the connection is then
    /// closed: part of the frame may be on the wire).
    pub fn send(&mut self, message: Message<'_>) -> Result<(), Error<S::Error>> {
        self.check_transport()?;
        self.flush_owed()?;
        let data = match message {
            Message::Text(text) => Some((MessageKind::Text, text.as_bytes())),
            Message::Binary(data) => Some((MessageKind::Binary, data)),
            _ => None,
        };
        match data {
            Some((kind, data)) if self.conn.frame_len(data.len()) > self.tx.len() => {
                self.send_fragment(kind, data, true)
            }
            _ => {
                let key = (self.mask)();
                let n = self.conn.encode(message, key, self.tx)?;
                self.write_tx(n)
            }
        }
    }

    /// Sends one fragment of a message sent in pieces (see
    /// [`Connection::encode_fragment`]); `last` ends the message.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        last: bool,
    ) -> Result<(), Error<S::Error>> {
        self.check_transport()?;
        self.flush_owed()?;
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
            self.write_tx(header + chunk.len())?;
            header = 0;
        }
        if data.is_empty() {
            self.write_tx(n)?;
        }
        Ok(())
    }

    /// Starts the closing handshake: sends a close frame with `code` and `reason`
    /// (at most 123 bytes). Keep calling [`read`](Self::read) until it returns the
    /// peer's [`Event::Close`], then drop the stream.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error<S::Error>> {
        let message = Message::Close(Some((code, reason)));
        self.send(message)
    }

    fn write_tx(&mut self, n: usize) -> Result<(), Error<S::Error>> {
        let bytes = self.tx.get(..n).unwrap_or(&[]);
        write_frame(&mut self.stream, &mut self.conn, &mut self.writing, bytes)
            .map_err(Error::Write)
    }
}

/// Sends whatever the connection owes the peer (pong, close reply, failure close).
fn flush_owed<S: Write, M: FnMut() -> [u8; 4]>(
    conn: &mut Connection,
    stream: &mut S,
    tx: &mut [u8],
    mask: &mut M,
    writing: &mut bool,
) -> Result<(), S::Error> {
    while conn.wants_transmit() {
        // `tx` holds at least MIN_TX_BUF bytes, more than any control frame.
        let Ok(Some(n)) = conn.poll_transmit(mask(), tx) else { break };
        write_frame(stream, conn, writing, tx.get(..n).unwrap_or(&[]))?;
    }
    Ok(())
}

/// Writes and flushes frame bytes. A write that fails or times out may leave part of a
/// frame on the wire, so it ends the connection.
fn write_frame<S: Write>(
    stream: &mut S,
    conn: &mut Connection,
    writing: &mut bool,
    bytes: &[u8],
) -> Result<(), S::Error> {
    *writing = true;
    let result = write_and_flush(stream, bytes);
    *writing = false;
    if result.is_err() {
        conn.abort();
    }
    result
}

/// Writes and flushes `bytes`.
fn write_and_flush<S: Write>(stream: &mut S, bytes: &[u8]) -> Result<(), S::Error> {
    stream.write_all(bytes)?;
    stream.flush()
}
