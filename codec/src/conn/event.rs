//! What the connection hands to the application, and what the application sends.

use crate::CloseCode;

/// The kind of a data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

/// Something the peer sent, borrowed from the input buffer (payloads are unmasked in place).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A complete text message (already checked to be UTF-8).
    Text(&'a str),
    /// A complete binary message.
    Binary(&'a [u8]),
    /// In streaming mode ([`Config::streaming`](crate::Config)): a piece of a message.
    ///
    /// A piece is any run of a message's bytes, not an RFC 6455 fragment: one frame may
    /// arrive as several pieces, and each frame gives at least one. Pieces arrive in
    /// order; `first` marks the first piece and `last` the final one. Text pieces are
    /// checked incrementally, so a piece may end inside a code point, but the message as
    /// a whole is valid UTF-8 once `last` arrives.
    Piece {
        /// Text or binary.
        kind: MessageKind,
        /// The unmasked bytes of this piece (may be empty).
        data: &'a [u8],
        /// This is the first piece of the message.
        first: bool,
        /// This is the last piece of the message.
        last: bool,
    },
    /// A ping; the connection has already queued the pong (see `poll_transmit`).
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// The peer's close frame. If the peer started the closing handshake, the reply
    /// is queued; if it answered ours, the connection is now closed.
    Close {
        /// The code, or `None` when the frame had none (reported locally as 1005).
        code: Option<CloseCode>,
        /// The reason, possibly empty.
        reason: &'a str,
    },
}

/// Something to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// A text message in one frame.
    Text(&'a str),
    /// A binary message in one frame.
    Binary(&'a [u8]),
    /// A ping (at most 125 bytes).
    Ping(&'a [u8]),
    /// An unsolicited pong (at most 125 bytes).
    Pong(&'a [u8]),
    /// A close frame: `None` for an empty payload, or a code and a reason of at most 123 bytes.
    Close(Option<(CloseCode, &'a str)>),
}

/// One frame of a data message sent in pieces
/// ([`Connection::encode_piece`](crate::Connection::encode_piece), the adapters'
/// `send_piece`): the first starts a message of `kind`, later ones continue it, the one
/// with `last` ends it (control messages may go in between). An [`Event::Piece`] echoed
/// this way goes back as it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Piece<'a> {
    /// Text or binary (the same for every piece of a message).
    pub kind: MessageKind,
    /// The piece's bytes (text may be cut anywhere; the whole must be UTF-8).
    pub data: &'a [u8],
    /// This piece ends the message.
    pub last: bool,
}

/// The header of one frame of a data message whose payload the caller writes itself
/// (see [`Connection::encode_header`](crate::Connection::encode_header)): how an adapter
/// streams a payload larger than its output buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PieceHeader {
    /// Text or binary (the same for every piece of a message).
    pub kind: MessageKind,
    /// The payload's length.
    pub len: u64,
    /// This piece ends the message.
    pub last: bool,
}

/// What [`Connection::handle_input_span`](crate::Connection::handle_input_span) found: an
/// event by its place in the input buffer (or the inflater), without borrowing it. Turn it
/// into the [`Event`] with [`Connection::event`](crate::Connection::event), on the same
/// buffer, before the buffer changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EventSpan {
    pub(super) found: Found,
    pub(super) at: usize,
    pub(super) len: usize,
    /// Where the bytes are: the input buffer, or the inflater's memory.
    #[cfg(feature = "deflate")]
    pub(super) src: Source,
}

/// Which memory an event's bytes are in.
#[cfg(feature = "deflate")]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// The input buffer.
    Input,
    /// The inflater's window (a piece of a compressed message, streaming mode).
    Window,
    /// The inflater's output storage (a whole compressed message, reassembly mode).
    Output,
}

/// The kind of event found, and what is not in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(super) enum Found {
    Text,
    Binary,
    Piece {
        kind: MessageKind,
        first: bool,
        last: bool,
    },
    Ping,
    Pong,
    /// The bytes are the reason.
    Close(Option<CloseCode>),
}

impl EventSpan {
    pub(super) const fn new(found: Found, at: usize, len: usize) -> Self {
        Self {
            found,
            at,
            len,
            #[cfg(feature = "deflate")]
            src: Source::Input,
        }
    }

    /// An event whose bytes the inflater holds.
    #[cfg(feature = "deflate")]
    pub(super) const fn inflated(found: Found, at: usize, len: usize, src: Source) -> Self {
        Self { found, at, len, src }
    }

    /// Whether the event's bytes are in the input buffer (always, unless inflated).
    #[inline(always)]
    pub(super) const fn in_input(&self) -> bool {
        #[cfg(feature = "deflate")]
        return matches!(self.src, Source::Input);
        #[cfg(not(feature = "deflate"))]
        true
    }

    /// Whether the event's bytes were inflated, so that they are in the inflater's memory
    /// rather than in the input buffer
    /// ([`Connection::event`](crate::Connection::event) finds them there).
    pub const fn is_inflated(&self) -> bool {
        !self.in_input()
    }

    /// Where the event's bytes start in the input buffer (or, for an
    /// [inflated](Self::is_inflated) message, in the inflater's memory).
    pub const fn start(&self) -> usize {
        self.at
    }

    /// How many bytes the event's data (or close reason) has.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether the event carries no data.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}
