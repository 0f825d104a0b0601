//! The one source of both adapters: [`blocking`](super::blocking) and
//! [`asynch`](super::asynch) are this macro, expanded once without `.await` and once
//! with it, so the twins cannot drift apart.
//!
//! `$io` is the I/O crate (`embedded_io` or `embedded_io_async`), `$($async)?` is
//! `async` or nothing, and `$(.$await)?` follows every call that may block.

macro_rules! websocket_adapter {
    ($io:ident, $($async:ident)?, $(.$await:ident)?) => {
use $io::{ErrorType, Read, Write};

use crate::conn::{EventSpan, MessageKind};
use crate::conn::close_payload_of;
use crate::frame::OpCode;
use crate::handshake::server::Outcome;
use crate::handshake::{client, server, HandshakeError, Header, MAX_HEADERS};
use crate::io::buffer::RxBuffer;
use crate::io::inbox::{Inbox, Step};
use crate::handshake::server::Decision;
use crate::io::negotiation::Negotiation;
use crate::io::{Error, MaskKeys, Options, Unmasked, MIN_TX_BUF};
use crate::mask::apply_mask;
use crate::{CloseCode, Connection, Event, Message, Piece, Role, State, Status};

/// A WebSocket connection over a byte stream, with caller-owned buffers.
///
/// `M` makes the 4-byte mask key of each frame a client sends ([`MaskKeys`]; a closure
/// over the device's RNG will do): they must be unpredictable (RFC 6455 section 5.3).
/// A server sends unmasked frames: its `M` is [`Unmasked`]. `R` is the receive buffer
/// ([`RxBuffer`]): a lent slice, or storage that grows while a large message arrives.
///
/// To reply to an event without copying it, use
/// [`read_for_reply`](Self::read_for_reply): the event borrows only the receive
/// buffer, and the [`Sender`] everything else.
pub struct WebSocket<'b, S: ErrorType, M = Unmasked, R = &'b mut [u8]> {
    link: Shared<'b, S, M>,
    inbox: Inbox<'b, R>,
}

/// The means to send, borrowed from a [`WebSocket`] next to the event it read (see
/// [`WebSocket::read_for_reply`]): the stream, the transmit buffer, the connection
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
    /// A server connection on a stream whose opening handshake was done elsewhere;
    /// [`Options::with_received`] says how many bytes of `rx` were already read from the
    /// stream (frames that came with the handshake).
    ///
    /// # Panics
    /// If `rx` can never hold [`MIN_RX_BUF`](crate::io::MIN_RX_BUF) bytes or `tx` is
    /// shorter than [`MIN_TX_BUF`] (a caller contract, independent of anything received).
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
    pub $($async)? fn accept<F>(
        mut stream: S,
        mut options: Options<'b, R>,
        mut decide: F,
    ) -> Result<Self, Error<S::Error>>
    where
        F: for<'r> FnMut(&server::Request<'_, 'r>, Option<&server::Upgrade<'r>>) -> Decision<'r>,
    {
        let negotiation = Negotiation::of(&options);
        let mut filled = 0;
        loop {
            // `decide` is called once, for the complete head, which ends the loop.
            let head = options.rx.bytes_mut();
            let step = server::handle_request(
                server::Head::new(head, filled),
                options.tx,
                &mut decide,
                |request: &server::Request<'_, '_>| negotiation.answer(request),
            );
            let Status::Complete { value: answer, consumed } = step else {
                let spare = head.get_mut(filled..).unwrap_or(&mut []);
                let n = stream.read(spare)$(.$await)?.map_err(Error::Read)?;
                if n == 0 {
                    return Err(Error::UnexpectedEof);
                }
                filled += n;
                continue;
            };
            let response = options.tx.get(..answer.written).unwrap_or(&[]);
            write_two_flush(&mut stream, response, &[])$(.$await)?.map_err(Error::Write)?;
            return match answer.outcome {
                Outcome::Upgraded => {
                    crate::buffer::move_down(head, consumed, filled - consumed, 0);
                    options.received = filled - consumed;
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
    pub $($async)? fn connect<'r>(
        mut stream: S,
        mut options: Options<'b, R>,
        request: &client::ClientRequest<'r>,
        mask: M,
    ) -> Result<(Self, Option<&'r str>), Error<S::Error>> {
        let negotiation = Negotiation::of(&options);
        let offer = negotiation.offer();
        let sent = negotiation.request(request, &offer);
        let n = sent.encode(options.tx)?;
        let request_head = options.tx.get(..n).unwrap_or(&[]);
        write_two_flush(&mut stream, request_head, &[])$(.$await)?.map_err(Error::Write)?;
        let mut filled = 0;
        loop {
            let head = options.rx.bytes_mut();
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
                    let accepted = response.validate(&sent)?;
                    let protocol = accepted
                        .protocol
                        .and_then(|p| request.protocols.iter().find(|offered| **offered == p))
                        .copied();
                    let agreed = negotiation.check(&response, &offer)?;
                    crate::buffer::move_down(head, consumed, filled - consumed, 0);
                    options.received = filled - consumed;
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
    fn agreed(
        &mut self,
        agreed: Option<crate::io::negotiation::Agreed>,
    ) -> Result<(), Error<S::Error>> {
        let _ = agreed;
        Ok(())
    }

    /// The adapter over a connection.
    fn with_parts(stream: S, role: Role, options: Options<'b, R>, mask: M) -> Self {
        assert!(options.tx.len() >= MIN_TX_BUF, "tx buffer shorter than MIN_TX_BUF");
        let mut conn = Connection::with_config(role, options.config);
        #[cfg_attr(not(feature = "deflate"), allow(unused_mut))]
        let mut inbox = Inbox::new(options.rx, options.received, &mut conn);
        // permessage-deflate's memory, kept for `with_deflate`.
        #[cfg(feature = "deflate")]
        let storing = options.deflate.as_ref().is_some_and(|deflate| deflate.storing);
        #[cfg(feature = "deflate-compress")]
        let compressor = options.deflate.and_then(|deflate| {
            inbox.inflater = Some(deflate.inflater);
            deflate.compressor
        });
        #[cfg(all(feature = "deflate", not(feature = "deflate-compress")))]
        if let Some(deflate) = options.deflate {
            inbox.inflater = Some(deflate.inflater);
        }
        let link = Shared {
            stream,
            conn,
            tx: options.tx,
            mask,
            writing: false,
            write_error: None,
            #[cfg(feature = "deflate-compress")]
            compressor,
            #[cfg(feature = "deflate")]
            storing,
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
        self.read_for_reply()$(.$await)?.map(|(event, _)| event)
    }

    /// Like [`read`](Self::read), with a [`Sender`] beside the event, so that a reply can
    /// be sent straight from the received bytes: the event borrows only the receive
    /// buffer.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub $($async)? fn read_for_reply(
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
    $($async)? fn next_event(&mut self) -> Result<EventSpan, Error<S::Error>> {
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

    /// Sends one piece of a message sent in pieces ([`Piece`]): the first starts it, the
    /// one with `last` ends it; other messages may not go in between, control frames may.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub $($async)? fn send_piece(&mut self, piece: Piece<'_>) -> Result<(), Error<S::Error>> {
        self.link.send_piece(piece)$(.$await)?
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

    /// [`WebSocket::send_piece`], beside the event just read.
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub $($async)? fn send_piece(&mut self, piece: Piece<'_>) -> Result<(), Error<S::Error>> {
        self.link.send_piece(piece)$(.$await)?
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
