//! A connection split into a reader half and a writer half that two threads or tasks use
//! at once.
//!
//! The halves share the writing side ([`Shared`]: the writing stream, the protocol state,
//! `tx`, the mask keys) inside a lock the caller lends; the reader keeps the reading
//! stream and `rx` to itself and takes the lock only to run what it read through the
//! protocol state and to send what that owes (a pong, a close reply). A frame is written
//! whole under the lock, so the two halves never tear each other's frames.

use super::*;

/// A lock over the state the halves of a [split](WebSocket::split) connection share.
///
/// The caller lends it, holding `None` until the split fills it, so that no allocator is
/// needed and the caller chooses the kind of lock: on a host a `std::sync::Mutex`
/// (feature `std`), in an embassy firmware an `embassy_sync::mutex::Mutex` (feature
/// `embassy-sync`; `NoopRawMutex` for tasks on one executor). A half holds it while it
/// writes a frame, so it must be a lock that can be held across a write.
#[allow(async_fn_in_trait)] // One executor, or a lock whose guard is `Send`: the caller's choice.
#[bisync]
pub trait Lock {
    /// What the lock guards.
    type Target;
    /// The target while the lock is held.
    type Guard<'a>: core::ops::DerefMut<Target = Self::Target>
    where
        Self: 'a;
    /// Waits until the lock is free and takes it.
    async fn lock(&self) -> Self::Guard<'_>;
}

/// The reading half of a [split](WebSocket::split) connection: it reads events, and
/// answers pings and the peer's close through the writing side it shares with the
/// [`Writer`], between that half's frames.
pub struct Reader<'s, 'b, Rd, W, M, R, L> {
    stream: Rd,
    inbox: Inbox<'b, R>,
    shared: &'s L,
    _writer: core::marker::PhantomData<fn() -> (W, M)>,
}

/// The writing half of a [split](WebSocket::split) connection.
pub struct Writer<'s, 'b, W, M, L> {
    shared: &'s L,
    _writer: core::marker::PhantomData<fn() -> (&'b (), W, M)>,
}

impl<Rd: core::fmt::Debug, W, M, R: RxBuffer, L> core::fmt::Debug
    for Reader<'_, '_, Rd, W, M, R, L>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reader")
            .field("stream", &self.stream)
            .field("buffered", &self.inbox.buffered())
            .finish_non_exhaustive()
    }
}

/// Another handle on the same writing half, for a second thread or task that sends (the
/// reader's, to reply to what it reads). Each message goes out whole; a message sent in
/// fragments must come from one handle at a time.
impl<W, M, L> Clone for Writer<'_, '_, W, M, L> {
    fn clone(&self) -> Self {
        Self { shared: self.shared, _writer: core::marker::PhantomData }
    }
}

impl<W, M, L> core::fmt::Debug for Writer<'_, '_, W, M, L> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

#[bisync]
impl<'b, S, M, R> WebSocket<'b, S, M, R>
where
    S: Read + Write,
    M: MaskKeys,
    R: RxBuffer,
{
    /// Splits the connection into a [`Reader`] and a [`Writer`] for two threads or tasks.
    ///
    /// `halves` splits the stream into a reading and a writing part (an embassy-net
    /// `TcpSocket`'s `split`, a `TcpStream` and its `try_clone`). `shared` is the lock the
    /// halves share; it must hold `None`, and holds the writing side from now on.
    ///
    /// The reader answers pings and the peer's close as the whole connection does: through
    /// the shared writing side, between the writer's frames. A close begun by either half
    /// (a half's `close`, or a protocol error the reader found) ends the connection for
    /// both: the other half's calls return [`Error::Closed`] or [`Error::Send`] once the
    /// closing handshake is over. A failed write ends the connection for both halves too;
    /// a reader that is waiting for input learns of it when its read returns (give the
    /// transport a read timeout, or shut it down).
    pub async fn split<'s, Rd, W, L, F>(
        self,
        shared: &'s L,
        halves: F,
    ) -> (Reader<'s, 'b, Rd, W, M, R, L>, Writer<'s, 'b, W, M, L>)
    where
        F: FnOnce(S) -> (Rd, W),
        Rd: Read,
        W: Write<Error = Rd::Error>,
        L: Lock<Target = Option<Shared<'b, W, M>>>,
    {
        let Self { link, inbox } = self;
        let Shared { stream, mut out, .. } = link;
        // A write that never finished ends the connection; one that failed has already
        // closed it: the halves find it closed.
        out.cut_short();
        let (reading, stream) = halves(stream);
        let link = Shared { stream, out, write_error: None };
        *shared.lock().await = Some(link);
        let reader = Reader { stream: reading, inbox, shared, _writer: core::marker::PhantomData };
        let writer = Writer { shared, _writer: core::marker::PhantomData };
        (reader, writer)
    }
}

#[bisync]
impl<'s, 'b, Rd, W, M, R, L> Reader<'s, 'b, Rd, W, M, R, L>
where
    Rd: Read,
    W: Write<Error = Rd::Error>,
    M: MaskKeys,
    R: RxBuffer,
    L: Lock<Target = Option<Shared<'b, W, M>>>,
{
    /// Reads until the next event, as [`WebSocket::read`] does: pongs and the close reply
    /// go out through the shared writing side before the event is returned.
    ///
    /// The lock is taken while what was read runs through the protocol state and while
    /// owed frames are written, never while waiting for input.
    ///
    /// # Errors
    /// As [`WebSocket::read`]; [`Error::Closed`] also once the writer's failed write
    /// ended the connection.
    pub async fn read(&mut self) -> Result<Event<'_>, Error<Rd::Error>> {
        let shared = self.shared;
        self.inbox.begin();
        let mut first = true;
        loop {
            let mut guard = shared.lock().await;
            let Some(link) = guard.as_mut() else { return Err(Error::Closed) };
            if core::mem::take(&mut first) {
                link.check_transport()?;
            }
            link.flush_owed().await?;
            if link.out.conn.state() == State::Closed {
                return Err(Error::Closed);
            }
            match self.inbox.poll(&mut link.out.conn) {
                Ok(Some(at)) => {
                    return match self.inbox.event(&mut link.out.conn, at) {
                        Ok(event) => {
                            // As in `WebSocket::read_for_reply`: the event first.
                            link.flush_owed_or_keep().await;
                            Ok(event)
                        }
                        Err(e) => Err(link.fail(e).await),
                    };
                }
                Ok(None) => {}
                Err(e) => return Err(link.fail(e).await),
            }
            // Waiting for input leaves the writer free to write.
            drop(guard);
            fill(&mut self.stream, &mut self.inbox).await?;
        }
    }

    /// Starts the closing handshake from the reading side, as [`Writer::close`] does.
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error<Rd::Error>> {
        with_shared(self.shared, Message::Close(Some((code, reason)))).await
    }

    /// How many received bytes wait to be handled.
    pub fn buffered(&self) -> usize {
        self.inbox.buffered()
    }

    /// The kind of the data message being received, while one is in progress (see
    /// [`Connection::receiving`](crate::Connection::receiving)).
    pub async fn receiving(&self) -> Option<MessageKind> {
        self.shared.lock().await.as_ref().and_then(|link| link.out.conn.receiving())
    }

    /// The reading stream.
    pub fn stream_mut(&mut self) -> &mut Rd {
        &mut self.stream
    }

    /// Gives the reading stream back (the writing one and `tx`: [`Shared::into_parts`]).
    pub fn into_inner(self) -> Rd {
        self.stream
    }
}

impl<'b, S: ErrorType, M> Shared<'b, S, M> {
    /// Gives the writing stream and the transmit buffer back, once the halves are done:
    /// take the `Shared` out of the lock. With `tx` back, memory lent for good (a
    /// firmware's `'static` buffers, which two tasks' halves need) serves the next
    /// connection.
    pub fn into_parts(self) -> (S, &'b mut [u8]) {
        (self.stream, self.out.into_tx())
    }
}

#[bisync]
impl<'s, 'b, W, M, L> Writer<'s, 'b, W, M, L>
where
    W: Write,
    M: MaskKeys,
    L: Lock<Target = Option<Shared<'b, W, M>>>,
{
    /// Sends a whole message, as [`WebSocket::send`] does; waits while the reader sends
    /// a pong or close reply.
    ///
    /// # Errors
    /// As [`WebSocket::send`]; [`Error::Send`] once the connection is closing.
    pub async fn send(&mut self, message: Message<'_>) -> Result<(), Error<W::Error>> {
        with_shared(self.shared, message).await
    }

    /// Sends one piece of a message sent in pieces, as [`WebSocket::send_piece`] does.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn send_piece(&mut self, piece: Piece<'_>) -> Result<(), Error<W::Error>> {
        let sent = match self.shared.lock().await.as_mut() {
            Some(link) => link.send_piece(piece).await,
            None => Err(Error::Closed),
        };
        pause().await;
        sent
    }

    /// Starts the closing handshake, as [`WebSocket::close`] does; the [`Reader`] reads on
    /// until the peer's close arrives.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error<W::Error>> {
        with_shared(self.shared, Message::Close(Some((code, reason)))).await
    }

    /// Where the closing handshake stands.
    pub async fn state(&self) -> State {
        match &*self.shared.lock().await {
            Some(link) => link.out.conn.state(),
            None => State::Closed,
        }
    }
}

/// Sends `message` through the shared writing side.
#[bisync]
async fn with_shared<'b, W, M, L>(shared: &L, message: Message<'_>) -> Result<(), Error<W::Error>>
where
    W: Write,
    M: MaskKeys,
    L: Lock<Target = Option<Shared<'b, W, M>>>,
{
    let sent = match shared.lock().await.as_mut() {
        Some(link) => link.send(message).await,
        None => Err(Error::Closed),
    };
    // The lock is free again: let a reader that waits for it take it before this half
    // sends its next message (locks need not be fair).
    pause().await;
    sent
}
