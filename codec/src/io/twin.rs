//! The one source of both adapters: [`blocking`](super::blocking) and
//! [`asynch`](super::asynch) are this macro, expanded once without `.await` and once
//! with it, so the twins cannot drift apart.
//!
//! `$io` is the I/O crate (`embedded_io` or `embedded_io_async`), `$($async)?` is
//! `async` or nothing, and `$(.$await)?` follows every call that may block.

macro_rules! websocket_adapter {
    ($io:ident, $($async:ident)?, $(.$await:ident)?) => {
use $io::{ErrorType, Read, Write};

use crate::conn::{EventAt, MessageKind};
use crate::conn::close_payload_of;
use crate::frame::OpCode;
use crate::handshake::server::Outcome;
use crate::handshake::{client, server, HandshakeError, Header, MAX_HEADERS};
use crate::io::buffer::RxBuffer;
use crate::io::inbox::{Inbox, Step};
use crate::io::{Decision, Error, MaskKeys, Unmasked, MIN_TX_BUF};
use crate::mask::apply_mask;
use crate::{CloseCode, Config, Connection, Event, Message, Role, State, Status};

/// A WebSocket connection over a byte stream, with caller-owned buffers.
///
/// `M` makes the 4-byte mask key of each frame a client sends ([`MaskKeys`]; a closure
/// over the device's RNG will do): they must be unpredictable (RFC 6455 section 5.3).
/// A server sends unmasked frames: its `M` is [`Unmasked`]. `R` is the receive buffer
/// ([`RxBuffer`]): a lent slice, or storage that grows while a large message arrives.
///
/// To reply to an event without copying it, use
/// [`read_with_sender`](Self::read_with_sender): the event borrows only the receive
/// buffer, and the [`Sender`] everything else.
pub struct WebSocket<'b, S: ErrorType, M = Unmasked, R = &'b mut [u8]> {
    link: Shared<'b, S, M>,
    inbox: Inbox<'b, R>,
}

/// The means to send, borrowed from a [`WebSocket`] next to the event it read (see
/// [`WebSocket::read_with_sender`]): the stream, the transmit buffer, the connection
/// state and the mask keys, none of which the event borrows.
pub struct Sender<'w, 'b, S: ErrorType, M> {
    link: &'w mut Shared<'b, S, M>,
}

/// What the two halves of a [split](WebSocket::split) connection share, inside a lock
/// the caller lends ([`Lock`]): the writing stream, the protocol state, the transmit
/// buffer and the mask keys. Everything but the receive buffer.
pub struct Shared<'b, S: ErrorType, M> {
    stream: S,
    conn: Connection,
    tx: &'b mut [u8],
    mask: M,
    /// Set while a write is under way. Still set when the next call starts only if that
    /// write never finished (its future was dropped): a frame may be cut short.
    writing: bool,
    /// A write that failed while `read` handed out an event; the next call reports it.
    write_error: Option<S::Error>,
    /// permessage-deflate, once agreed, on a build with a compressor.
    #[cfg(feature = "deflate-compress")]
    compressor: Option<crate::deflate::Compressor>,
    /// permessage-deflate agreed and messages sent as stored blocks ([`Deflate::storing`]).
    #[cfg(feature = "deflate")]
    storing: bool,
}

impl<S: ErrorType + core::fmt::Debug, M, R: RxBuffer> core::fmt::Debug for WebSocket<'_, S, M, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocket")
            .field("stream", &self.link.stream)
            .field("conn", &self.link.conn)
            .field("buffered", &self.inbox.buffered())
            .finish_non_exhaustive()
    }
}

impl<S: ErrorType + core::fmt::Debug, M> core::fmt::Debug for Shared<'_, S, M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Shared")
            .field("stream", &self.stream)
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

impl<S: ErrorType + core::fmt::Debug, M> core::fmt::Debug for Sender<'_, '_, S, M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender").field("conn", &self.link.conn).finish_non_exhaustive()
    }
}

impl<'b, S, R> WebSocket<'b, S, Unmasked, R>
where
    S: Read + Write,
    R: RxBuffer,
{
    /// A server connection on a stream whose opening handshake is done; the first
    /// `received` bytes of `rx` were already read from the stream (frames that came with
    /// the handshake).
    ///
    /// # Panics
    /// If `rx` can never hold [`MIN_RX_BUF`] bytes or `tx` is shorter than [`MIN_TX_BUF`]
    /// (a caller contract, independent of anything received).
    pub fn server(stream: S, config: Config, rx: R, received: usize, tx: &'b mut [u8]) -> Self {
        let conn = Connection::with_config(Role::Server, config);
        Self::with_parts(stream, conn, rx, received, tx, Unmasked)
    }

    /// Runs the server side of the opening handshake on `stream`, then returns the
    /// connection.
    ///
    /// The request head is read into `rx` and must fit in it (431 otherwise).
    ///
    /// `decide` sees the request and, for a valid upgrade, the upgrade details (a plain
    /// request without `Upgrade` comes with `None`: answer it with
    /// [`Decision::Respond`] or [`Decision::Reject`]). It is called once, but is `FnMut`.
    ///
    /// # Errors
    /// [`Error::Handshake`] for a bad request (the matching HTTP error response has been
    /// sent), [`Error::NotUpgraded`] when `decide` refused or answered with a page,
    /// [`Error::Read`], [`Error::Write`] and [`Error::UnexpectedEof`] from the transport.
    pub $($async)? fn accept<F>(
        mut stream: S,
        config: Config,
        mut rx: R,
        tx: &'b mut [u8],
        mut decide: F,
    ) -> Result<Self, Error<S::Error>>
    where
        F: for<'r> FnMut(&server::Request<'_, 'r>, Option<&server::Upgrade<'r>>) -> Decision<'r>,
    {
        let mut filled = 0;
        loop {
            // `decide` is called once, for the complete head, which ends the loop.
            let head = rx.bytes_mut();
            let received = head.get(..filled).unwrap_or(&[]);
            let step = server::handle_request(received, filled == head.len(), tx, &mut decide);
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
                    Ok(Self::server(stream, config, rx, filled - consumed, tx))
                }
                Outcome::NotUpgraded(status) => Err(Error::NotUpgraded(status)),
                Outcome::Failed(e) => Err(Error::Handshake(e)),
            };
        }
    }
}

impl<'b, S, M, R> WebSocket<'b, S, M, R>
where
    S: Read + Write,
    M: MaskKeys,
    R: RxBuffer,
{
    /// A client connection on a stream whose opening handshake is done; the first
    /// `received` bytes of `rx` were already read from the stream.
    ///
    /// # Panics
    /// As [`server`](WebSocket::server).
    pub fn client(
        stream: S,
        config: Config,
        rx: R,
        received: usize,
        tx: &'b mut [u8],
        mask: M,
    ) -> Self {
        let conn = Connection::with_config(Role::Client, config);
        Self::with_parts(stream, conn, rx, received, tx, mask)
    }

    /// Runs the client side of the opening handshake on `stream`: sends `request`,
    /// validates the response, and returns the connection with the subprotocol the
    /// server chose, if any (as an index into `request.protocols`).
    ///
    /// # Errors
    /// [`Error::Handshake`] when the response is not a valid upgrade (status, headers,
    /// accept key, subprotocol); [`Error::Read`], [`Error::Write`] and
    /// [`Error::UnexpectedEof`] from the transport.
    pub $($async)? fn connect(
        stream: S,
        config: Config,
        request: &client::ClientRequest<'_>,
        rx: R,
        tx: &'b mut [u8],
        mask: M,
    ) -> Result<(Self, Option<usize>), Error<S::Error>> {
        let no_extensions = |_: &client::Response<'_, '_>| Ok(());
        let (ws, protocol, ()) =
            Self::connect_with(stream, config, request, rx, tx, mask, no_extensions)$(.$await)??;
        Ok((ws, protocol))
    }

    /// [`connect`](Self::connect), with `check` reading the server's answer to the
    /// extensions `request` offered (nothing for `connect`, permessage-deflate for
    /// `connect_deflate`).
    #[allow(clippy::too_many_arguments)]
    $($async)? fn connect_with<C, T>(
        mut stream: S,
        config: Config,
        request: &client::ClientRequest<'_>,
        mut rx: R,
        tx: &'b mut [u8],
        mask: M,
        check: C,
    ) -> Result<(Self, Option<usize>, T), Error<S::Error>>
    where
        C: FnOnce(&client::Response<'_, '_>) -> Result<T, HandshakeError>,
    {
        let n = request.encode(tx)?;
        let request_head = tx.get(..n).unwrap_or(&[]);
        write_two_flush(&mut stream, request_head, &[])$(.$await)?.map_err(Error::Write)?;
        let mut filled = 0;
        loop {
            let head = rx.bytes_mut();
            let mut headers = [Header::EMPTY; MAX_HEADERS];
            match client::parse_response(head.get(..filled).unwrap_or(&[]), &mut headers)? {
                Status::Partial { .. } if filled == head.len() => {
                    return Err(Error::Handshake(HandshakeError::HeadersTooLarge))
                }
                Status::Partial { .. } => {
                    let spare = head.get_mut(filled..).unwrap_or(&mut []);
                    let n = stream.read(spare)$(.$await)?.map_err(Error::Read)?;
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
                    let agreed = check(&response)?;
                    crate::buffer::move_down(head, consumed, filled - consumed, 0);
                    let ws = Self::client(stream, config, rx, filled - consumed, tx, mask);
                    return Ok((ws, protocol, agreed));
                }
            }
        }
    }

    /// The adapter over a connection.
    fn with_parts(
        stream: S,
        mut conn: Connection,
        rx: R,
        received: usize,
        tx: &'b mut [u8],
        mask: M,
    ) -> Self {
        assert!(tx.len() >= MIN_TX_BUF, "tx buffer shorter than MIN_TX_BUF");
        let inbox = Inbox::new(rx, received, &mut conn);
        let link = Shared {
            stream,
            conn,
            tx,
            mask,
            writing: false,
            write_error: None,
            #[cfg(feature = "deflate-compress")]
            compressor: None,
            #[cfg(feature = "deflate")]
            storing: false,
        };
        Self { link, inbox }
    }

    /// The protocol state machine.
    pub fn connection(&self) -> &Connection {
        &self.link.conn
    }

    /// How many received bytes wait to be handled: the start of the next frame (or
    /// more) when not zero. A server that times each message from its first byte starts
    /// the clock now if any are waiting.
    pub fn buffered(&self) -> usize {
        self.inbox.buffered()
    }

    /// The underlying stream.
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.link.stream
    }

    /// Gives the stream back.
    pub fn into_inner(self) -> S {
        self.link.stream
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
    pub $($async)? fn read(&mut self) -> Result<Event<'_>, Error<S::Error>> {
        self.read_with_sender()$(.$await)?.map(|(event, _)| event)
    }

    /// Like [`read`](Self::read), with a [`Sender`] beside the event, so that a reply can
    /// be sent straight from the received bytes: the event borrows only the receive
    /// buffer.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub $($async)? fn read_with_sender(
        &mut self,
    ) -> Result<(Event<'_>, Sender<'_, 'b, S, M>), Error<S::Error>> {
        let at = self.next_event()$(.$await)??;
        let Self { link, inbox } = self;
        match inbox.event(&mut link.conn, at) {
            Ok(event) => {
                // Send the pong or close reply now. If that fails, the event (e.g. the
                // peer's close code) is still worth handing out; the next call reports
                // the failure.
                if let Err(Error::Write(e)) = link.flush_owed()$(.$await)? {
                    link.write_error = Some(e);
                }
                Ok((event, Sender { link }))
            }
            Err(e) => Err(link.fail(e)$(.$await)?),
        }
    }

    /// Reads until the connection finds an event; returns where it is in the window.
    $($async)? fn next_event(&mut self) -> Result<EventAt, Error<S::Error>> {
        self.link.check_transport()?;
        self.inbox.begin();
        loop {
            self.link.flush_owed()$(.$await)??;
            if self.link.conn.state() == State::Closed {
                return Err(Error::Closed);
            }
            let needed = match self.inbox.step(&mut self.link.conn) {
                Ok(Step::Event(at)) => return Ok(at),
                Ok(Step::Read(needed)) => needed,
                Err(e) => return Err(self.link.fail(e)$(.$await)?),
            };
            if let Err(e) = self.inbox.make_room(&mut self.link.conn, needed) {
                return Err(self.link.fail(e)$(.$await)?);
            }
            let n = self.link.stream.read(self.inbox.spare())$(.$await)?.map_err(Error::Read)?;
            if n == 0 {
                return Err(Error::UnexpectedEof);
            }
            self.inbox.filled(n);
        }
    }

    /// Sends a whole message. Data larger than the transmit buffer goes out without
    /// being copied through it on a server, and through it in pieces on a client (which
    /// must mask it); `tx` bounds each write, not the message.
    ///
    /// # Errors
    /// [`Error::Send`] when the state forbids it (after a close) or a control payload is
    /// too long; [`Error::Write`] when the transport failed (the connection is then
    /// closed: part of the frame may be on the wire).
    pub $($async)? fn send(&mut self, message: Message<'_>) -> Result<(), Error<S::Error>> {
        self.link.send(message)$(.$await)?
    }

    /// Sends one fragment of a message sent in pieces (see
    /// [`Connection::encode_fragment`]); `last` ends the message.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub $($async)? fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        last: bool,
    ) -> Result<(), Error<S::Error>> {
        self.link.send_fragment(kind, data, last)$(.$await)?
    }

    /// Starts the closing handshake: sends a close frame with `code` and `reason`
    /// (at most 123 bytes). Keep calling [`read`](Self::read) until it returns the
    /// peer's [`Event::Close`], then drop the stream.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub $($async)? fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error<S::Error>> {
        self.link.send(Message::Close(Some((code, reason))))$(.$await)?
    }
}

impl<S, M> Sender<'_, '_, S, M>
where
    S: Read + Write,
    M: MaskKeys,
{
    /// [`WebSocket::send`], beside the event just read.
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub $($async)? fn send(&mut self, message: Message<'_>) -> Result<(), Error<S::Error>> {
        self.link.send(message)$(.$await)?
    }

    /// [`WebSocket::send_fragment`], beside the event just read.
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub $($async)? fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        last: bool,
    ) -> Result<(), Error<S::Error>> {
        self.link.send_fragment(kind, data, last)$(.$await)?
    }

    /// [`WebSocket::close`], beside the event just read.
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub $($async)? fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error<S::Error>> {
        self.link.send(Message::Close(Some((code, reason))))$(.$await)?
    }

    /// The protocol state machine.
    pub fn connection(&self) -> &Connection {
        &self.link.conn
    }
}
    };
}

pub(super) use websocket_adapter;
