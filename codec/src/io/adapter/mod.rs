//! The one source of both adapters, I/O only: [`blocking`](super::blocking) and
//! [`asynch`](super::asynch) are these files, read twice. `#[bisync]` (the crate
//! `bisync_macros`) leaves them as they are in `asynch` and removes every `async` and
//! `.await` in `blocking`; `tests/twins.rs` checks that both behave alike. What is not
//! I/O lives in the sans-IO core: the receive window ([`Inbox`]), the plan of each
//! write ([`Outbox`]), the negotiation ([`Negotiation`]).
// The halves' types name the stream, the mask keys, the buffer and the lock.
#![allow(clippy::type_complexity)]

#[cfg(feature = "deflate")]
mod deflate;
mod link;
mod open;
mod split;

pub use split::{Lock, Reader, Writer};

use super::{bisync, pause, ErrorType, Read, Write};

use crate::handshake::server::{Decision, Outcome};
use crate::handshake::{client, server, HandshakeError, Header, MAX_HEADERS};
use crate::io::buffer::Fill;
use crate::io::buffer::RxBuffer;
use crate::io::inbox::Inbox;
use crate::io::negotiation::Negotiation;
use crate::io::outbox::{Outbox, Plan};
use crate::io::{Error, MaskKeys, Options, Unmasked};
use crate::{CloseCode, Connection, Event, Message, MessageKind, Piece, Role, State, Status};
use link::write_two_flush;

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
    out: Outbox<'b, M>,
    /// A write that failed while `read` handed out an event; the next call reports it.
    write_error: Option<S::Error>,
}

impl<S: ErrorType + core::fmt::Debug, M, R: RxBuffer> core::fmt::Debug for WebSocket<'_, S, M, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocket")
            .field("stream", &self.link.stream)
            .field("conn", &self.link.out.conn)
            .field("buffered", &self.inbox.buffered())
            .finish_non_exhaustive()
    }
}

impl<S: ErrorType + core::fmt::Debug, M> core::fmt::Debug for Shared<'_, S, M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Shared")
            .field("stream", &self.stream)
            .field("conn", &self.out.conn)
            .finish_non_exhaustive()
    }
}

impl<S: ErrorType + core::fmt::Debug, M> core::fmt::Debug for Sender<'_, '_, S, M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender").field("conn", &self.link.out.conn).finish_non_exhaustive()
    }
}

#[bisync]
impl<'b, S, M, R> WebSocket<'b, S, M, R>
where
    S: Read + Write,
    M: MaskKeys,
    R: RxBuffer,
{
    /// The protocol state machine.
    pub fn connection(&self) -> &Connection {
        &self.link.out.conn
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
    pub async fn read(&mut self) -> Result<Event<'_>, Error<S::Error>> {
        self.read_for_reply().await.map(|(event, _)| event)
    }

    /// Like [`read`](Self::read), with a [`Sender`] beside the event, so that a reply can
    /// be sent straight from the received bytes: the event borrows only the receive
    /// buffer.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub async fn read_for_reply(
        &mut self,
    ) -> Result<(Event<'_>, Sender<'_, 'b, S, M>), Error<S::Error>> {
        let at = self.next_event().await?;
        let Self { link, inbox } = self;
        match inbox.event(&mut link.out.conn, at) {
            Ok(event) => {
                // Send the pong or close reply now. If that fails, the event (e.g. the
                // peer's close code) is still worth handing out; the next call reports
                // the failure.
                link.flush_owed_or_keep().await;
                Ok((event, Sender { link }))
            }
            Err(e) => Err(link.fail(e).await),
        }
    }

    /// Reads until the connection finds an event; returns where it is in the window.
    async fn next_event(&mut self) -> Result<crate::conn::EventSpan, Error<S::Error>> {
        self.link.check_transport()?;
        self.inbox.begin();
        loop {
            self.link.flush_owed().await?;
            if self.link.out.conn.state() == State::Closed {
                return Err(Error::Closed);
            }
            match self.inbox.poll(&mut self.link.out.conn) {
                Ok(Some(at)) => return Ok(at),
                Ok(None) => fill(&mut self.link.stream, &mut self.inbox).await?,
                Err(e) => return Err(self.link.fail(e).await),
            }
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
    pub async fn send(&mut self, message: Message<'_>) -> Result<(), Error<S::Error>> {
        self.link.send(message).await
    }

    /// Sends one piece of a message sent in pieces ([`Piece`]): the first starts it, the
    /// one with `last` ends it; other messages may not go in between, control frames may.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn send_piece(&mut self, piece: Piece<'_>) -> Result<(), Error<S::Error>> {
        self.link.send_piece(piece).await
    }

    /// Starts the closing handshake: sends a close frame with `code` and `reason`
    /// (at most 123 bytes). Keep calling [`read`](Self::read) until it returns the
    /// peer's [`Event::Close`], then drop the stream.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error<S::Error>> {
        self.link.send(Message::Close(Some((code, reason)))).await
    }
}

#[bisync]
impl<S, M> Sender<'_, '_, S, M>
where
    S: Read + Write,
    M: MaskKeys,
{
    /// [`WebSocket::send`], beside the event just read.
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub async fn send(&mut self, message: Message<'_>) -> Result<(), Error<S::Error>> {
        self.link.send(message).await
    }

    /// [`WebSocket::send_piece`], beside the event just read.
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub async fn send_piece(&mut self, piece: Piece<'_>) -> Result<(), Error<S::Error>> {
        self.link.send_piece(piece).await
    }

    /// [`WebSocket::close`], beside the event just read.
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error<S::Error>> {
        self.link.send(Message::Close(Some((code, reason)))).await
    }

    /// The protocol state machine.
    pub fn connection(&self) -> &Connection {
        &self.link.out.conn
    }
}

/// Reads what the stream has into the free room of `into`: the receive window, or the
/// handshake's head.
#[bisync]
async fn fill<Rd: Read, F: Fill>(stream: &mut Rd, into: &mut F) -> Result<(), Error<Rd::Error>> {
    let n = stream.read(into.room()).await.map_err(Error::Read)?;
    if n == 0 {
        return Err(Error::UnexpectedEof);
    }
    into.filled(n);
    Ok(())
}
