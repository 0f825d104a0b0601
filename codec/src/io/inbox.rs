//! The receiving side of an adapter without its I/O: the window over the receive buffer,
//! what the last event still borrows of it, and the inflater of permessage-deflate. Both
//! twins and both ways of reading (a whole connection, a reader half) drive it the same
//! way: [`Inbox::begin`], then [`Inbox::step`] until it finds an event, reading into
//! [`Inbox::spare`] after [`Inbox::make_room`] whenever it asks for more bytes.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::buffer::{RxBuf, RxBuffer};
use crate::conn::{EventSpan, MAX_CONTROL_FRAME};
use crate::frame::FrameHeader;
use crate::{Connection, Event, FrameError, ProtocolError, Status};

/// What [`Inbox::step`] found.
pub(crate) enum Step {
    /// An event, by its place in the window (or the inflater).
    Event(EventSpan),
    /// The connection waits for this many more bytes: make room and read.
    Read(usize),
}

/// The receive buffer's window, and permessage-deflate's inflater once agreed.
pub(crate) struct Inbox<'b, R> {
    rx: RxBuf<R>,
    /// Bytes the last event borrowed from the window: drained at the next [`Inbox::begin`].
    consumed_by_event: usize,
    /// permessage-deflate's inflater, once agreed.
    #[cfg(feature = "deflate")]
    pub(crate) inflater: Option<crate::deflate::Inflater<'b, R>>,
    /// Without the feature nothing arrives compressed.
    #[cfg(not(feature = "deflate"))]
    inflater: crate::NoInflater,
    #[cfg(not(feature = "deflate"))]
    _lent: core::marker::PhantomData<&'b mut [u8]>,
}

impl<'b, R: RxBuffer> Inbox<'b, R> {
    /// A window over `rx` whose first `received` bytes were already read, for `conn`: caps
    /// what `rx` must hold (the largest message in reassembly mode, the largest piece in
    /// streaming mode).
    ///
    /// # Panics
    /// If `rx` can never hold [`MIN_RX_BUF`](super::MIN_RX_BUF) bytes.
    pub(crate) fn new(rx: R, received: usize, conn: &mut Connection) -> Self {
        assert!(rx.max_len() >= super::MIN_RX_BUF, "rx buffer shorter than MIN_RX_BUF");
        let config = conn.config();
        if config.streaming {
            // A piece and the header of its frame fit in `rx`.
            let fits = rx.max_len() - FrameHeader::MAX_LEN;
            let min = if config.min_piece == 0 { fits } else { config.min_piece.min(fits) };
            conn.set_min_piece(min);
        } else {
            let fits = (rx.max_len() - MAX_CONTROL_FRAME) as u64;
            conn.set_max_message(config.max_message.min(fits));
        }
        Self {
            rx: RxBuf::new(rx, received),
            consumed_by_event: 0,
            #[cfg(feature = "deflate")]
            inflater: None,
            #[cfg(not(feature = "deflate"))]
            inflater: crate::NoInflater,
            #[cfg(not(feature = "deflate"))]
            _lent: core::marker::PhantomData,
        }
    }

    /// How many received bytes wait to be handled.
    pub(crate) fn buffered(&self) -> usize {
        self.rx.window().len().saturating_sub(self.consumed_by_event)
    }

    /// Starts looking for the next event: the last one is no longer borrowed.
    pub(crate) fn begin(&mut self) {
        let consumed = core::mem::take(&mut self.consumed_by_event);
        self.rx.drain(consumed);
    }

    /// Runs `conn` over the window until it finds an event or needs more bytes.
    ///
    /// # Errors
    /// The peer broke the protocol: `conn` owes the close frame that says so.
    pub(crate) fn step(&mut self, conn: &mut Connection) -> Result<Step, ProtocolError> {
        loop {
            match conn.handle_input_span(self.rx.window_mut(), &mut self.inflater)? {
                Status::Complete { value: Some(at), consumed } => {
                    // The event borrows the window: the drain waits for the next `begin`.
                    self.consumed_by_event = consumed;
                    return Ok(Step::Event(at));
                }
                Status::Complete { value: None, consumed } => self.rx.drain(consumed),
                Status::Partial { needed } => return Ok(Step::Read(needed)),
            }
        }
    }

    /// The event [`step`](Self::step) found at `at`.
    ///
    /// # Errors
    /// Text that is not UTF-8: `conn` owes the close frame that says so.
    pub(crate) fn event(
        &self,
        conn: &mut Connection,
        at: EventSpan,
    ) -> Result<Event<'_>, ProtocolError> {
        conn.event(at, self.rx.window(), &self.inflater)
    }

    /// Makes room after the window for the `needed` more bytes `conn` waits for: frees
    /// the space of joined fragment headers when the buffer is full, or grows it.
    ///
    /// # Errors
    /// [`FrameError::TooLarge`] when there is no room (the limits set in
    /// [`new`](Self::new) prevent it; it fails safely anyway).
    pub(crate) fn make_room(
        &mut self,
        conn: &mut Connection,
        needed: usize,
    ) -> Result<(), ProtocolError> {
        if self.rx.is_full() {
            // Reassembling a fragmented message: reclaim the space of joined headers.
            let freed = conn.compact(self.rx.window_mut());
            self.rx.truncate(freed);
        }
        if self.rx.spare(needed).is_some() {
            return Ok(());
        }
        let size = self.rx.window().len().saturating_add(needed) as u64;
        let error = FrameError::TooLarge { size, max: conn.config().max_message }.into();
        conn.fail(error);
        Err(error)
    }

    /// Where the next read goes, once [`make_room`](Self::make_room) made room.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        self.rx.free()
    }

    /// Marks `n` bytes read into [`spare`](Self::spare) as received.
    pub(crate) fn filled(&mut self, n: usize) {
        self.rx.filled(n);
    }
}
