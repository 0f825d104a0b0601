//! The receiving side of an adapter without its I/O: the window over the receive buffer,
//! what the last event still borrows of it, and the inflater of permessage-deflate. Both
//! twins and both ways of reading (a whole connection, a reader half) drive it the same
//! way: [`Inbox::begin`], then [`Inbox::poll`] until it finds an event, reading into its
//! [`Fill::room`] whenever it asks for more bytes.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::buffer::{Fill, RxBuf, RxBuffer};
use crate::conn::{EventSpan, MAX_CONTROL_FRAME};
use crate::frame::FrameHeader;
use crate::{Connection, Event, FrameError, ProtocolError, Status};

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

    /// Runs `conn` over the window until it finds an event, by its place in the window
    /// (or the inflater); `None` when it needs more bytes, for which it made room
    /// ([`Fill::room`]).
    ///
    /// # Errors
    /// The peer broke the protocol, or the message has no room (the limits set in
    /// [`new`](Self::new) prevent it; it fails safely anyway): `conn` owes the close frame
    /// that says so.
    pub(crate) fn poll(
        &mut self,
        conn: &mut Connection,
    ) -> Result<Option<EventSpan>, ProtocolError> {
        let needed = loop {
            match conn.handle_input_span(self.rx.window_mut(), &mut self.inflater)? {
                Status::Complete { value: Some(at), consumed } => {
                    // The event borrows the window: the drain waits for the next `begin`.
                    self.consumed_by_event = consumed;
                    return Ok(Some(at));
                }
                Status::Complete { value: None, consumed } => self.rx.drain(consumed),
                Status::Partial { needed } => break needed,
            }
        };
        if self.rx.is_full() {
            // Reassembling a fragmented message: reclaim the space of joined headers.
            let freed = conn.compact(self.rx.window_mut());
            self.rx.truncate(freed);
        }
        if self.rx.spare(needed).is_some() {
            return Ok(None);
        }
        let size = self.rx.window().len().saturating_add(needed) as u64;
        let error = FrameError::TooLarge { size, max: conn.config().max_message }.into();
        conn.fail(error);
        Err(error)
    }

    /// The event [`poll`](Self::poll) found at `at`.
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
}

impl<R: RxBuffer> Fill for Inbox<'_, R> {
    /// The room [`poll`](Inbox::poll) made.
    fn room(&mut self) -> &mut [u8] {
        self.rx.free()
    }

    fn filled(&mut self, n: usize) {
        self.rx.filled(n);
    }
}
