//! Errors of the connection layer: what the peer did wrong, and what the caller did wrong.

use core::fmt;

use crate::close::CloseFrameError;
use crate::{CloseCode, FrameError};

/// The peer broke RFC 6455. Each error maps to the close code the connection sends.
///
/// After such an error the [`Connection`](crate::Connection) is failing: call
/// [`poll_transmit`](crate::Connection::poll_transmit) once to get the close frame that
/// tells the peer why, send it, then drop the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ProtocolError {
    /// A malformed or forbidden frame header.
    Frame(FrameError),
    /// A continuation frame arrived with no fragmented message in progress.
    UnexpectedContinuation,
    /// A new text or binary frame arrived while a fragmented message was still open.
    ExpectedContinuation,
    /// A text message that is not valid UTF-8 (checked fragment by fragment).
    InvalidUtf8,
    /// A close frame whose reason is not valid UTF-8.
    InvalidCloseReason,
    /// A close frame with a code that may not be sent (e.g. 1005, 1006, 999, 5000).
    BadCloseCode(u16),
    /// A close frame with a 1-byte payload.
    BadClosePayload,
    /// Input was handed over after the peer's close frame or after the connection failed.
    AfterClose,
    /// RSV1 (permessage-deflate's "compressed" bit) on a control frame (RFC 7692 section
    /// 6.1: control frames are never compressed).
    #[cfg(feature = "deflate")]
    CompressedControl,
    /// RSV1 on a continuation frame: only a message's first frame says it is compressed
    /// (RFC 7692 section 6.1).
    #[cfg(feature = "deflate")]
    CompressedContinuation,
    /// A compressed message could not be inflated, or inflates to more than the limit.
    #[cfg(feature = "deflate")]
    Inflate(InflateError),
    /// A compressed message arrived through `handle_input`, or with [`NoInflater`](crate::NoInflater),
    /// although permessage-deflate was agreed: the application's mistake, reported to the
    /// peer as 1011.
    #[cfg(feature = "deflate")]
    NoInflater,
}

impl ProtocolError {
    /// The close code this error earns (RFC 6455 section 7.4.1).
    pub const fn close_code(self) -> CloseCode {
        match self {
            Self::Frame(e) => e.close_code(),
            Self::InvalidUtf8 | Self::InvalidCloseReason => CloseCode::INVALID_PAYLOAD,
            Self::UnexpectedContinuation
            | Self::ExpectedContinuation
            | Self::BadCloseCode(_)
            | Self::BadClosePayload
            | Self::AfterClose => CloseCode::PROTOCOL_ERROR,
            #[cfg(feature = "deflate")]
            Self::CompressedControl | Self::CompressedContinuation => CloseCode::PROTOCOL_ERROR,
            #[cfg(feature = "deflate")]
            Self::Inflate(InflateError::TooLarge { .. }) => CloseCode::MESSAGE_TOO_BIG,
            #[cfg(feature = "deflate")]
            Self::Inflate(_) => CloseCode::INVALID_PAYLOAD,
            #[cfg(feature = "deflate")]
            Self::NoInflater => CloseCode::INTERNAL_ERROR,
        }
    }
}

impl ProtocolError {
    /// A short reason for the close frame that reports this error (fits in 123 bytes).
    pub const fn close_reason(self) -> &'static str {
        match self {
            Self::Frame(FrameError::TooLarge { .. }) => "message too big",
            Self::Frame(FrameError::ReservedBits(_)) => "reserved bits set",
            Self::Frame(FrameError::ReservedOpcode(_)) => "reserved opcode",
            Self::Frame(FrameError::ControlTooLong(_)) => "control frame over 125 bytes",
            Self::Frame(FrameError::FragmentedControl) => "fragmented control frame",
            Self::Frame(FrameError::LengthOverflow) => "invalid 64-bit length",
            Self::Frame(FrameError::UnmaskedClientFrame) => "client frame not masked",
            Self::Frame(FrameError::MaskedServerFrame) => "server frame masked",
            Self::UnexpectedContinuation => "continuation without a message",
            Self::ExpectedContinuation => "expected a continuation frame",
            Self::InvalidUtf8 => "invalid UTF-8 in text message",
            Self::InvalidCloseReason => "invalid UTF-8 in close reason",
            Self::BadCloseCode(_) => "invalid close code",
            Self::BadClosePayload => "close frame of 1 byte",
            Self::AfterClose => "data after close",
            #[cfg(feature = "deflate")]
            Self::CompressedControl => "compressed control frame",
            #[cfg(feature = "deflate")]
            Self::CompressedContinuation => "RSV1 on a continuation frame",
            #[cfg(feature = "deflate")]
            Self::Inflate(InflateError::TooLarge { .. }) => "message too big once inflated",
            #[cfg(feature = "deflate")]
            Self::Inflate(_) => "invalid compressed data",
            #[cfg(feature = "deflate")]
            Self::NoInflater => "compressed message without an inflater",
        }
    }
}

#[cfg(feature = "deflate")]
/// A compressed message's payload could not be inflated.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InflateError {
    /// Not a valid DEFLATE stream: a bad block type, Huffman table or code, or a distance
    /// that reaches before the start of the stream (of the connection with context
    /// takeover, of the message without) or further back than the window.
    Corrupt,
    /// The message ends inside a DEFLATE block: its payload with the four bytes RFC 7692
    /// section 7.2.2 appends does not end on a block boundary.
    Truncated,
    /// The message inflates to more than `max` bytes (found as soon as one byte more was
    /// inflated).
    TooLarge {
        /// The limit.
        max: u64,
    },
}

#[cfg(feature = "deflate")]
impl fmt::Display for InflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Corrupt => f.write_str("compressed message is not valid DEFLATE data"),
            Self::Truncated => {
                f.write_str("compressed message does not end on a DEFLATE block boundary")
            }
            Self::TooLarge { max } => {
                write!(f, "compressed message inflates to more than the limit of {max} bytes")
            }
        }
    }
}

#[cfg(feature = "deflate")]
impl core::error::Error for InflateError {}

#[cfg(feature = "deflate")]
impl From<InflateError> for ProtocolError {
    fn from(e: InflateError) -> Self {
        #[cfg(feature = "deflate")]
        Self::Inflate(e)
    }
}

impl From<CloseFrameError> for ProtocolError {
    fn from(e: CloseFrameError) -> Self {
        match e {
            CloseFrameError::OneByte => Self::BadClosePayload,
            CloseFrameError::BadCode(code) => Self::BadCloseCode(code),
            CloseFrameError::InvalidReason => Self::InvalidCloseReason,
        }
    }
}

impl From<FrameError> for ProtocolError {
    fn from(e: FrameError) -> Self {
        Self::Frame(e)
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Frame(e) => e.fmt(f),
            Self::UnexpectedContinuation => {
                f.write_str("continuation frame without a fragmented message in progress")
            }
            Self::ExpectedContinuation => {
                f.write_str("new data frame while a fragmented message was still in progress")
            }
            Self::InvalidUtf8 => f.write_str("text message is not valid UTF-8"),
            Self::InvalidCloseReason => f.write_str("close reason is not valid UTF-8"),
            Self::BadCloseCode(c) => write!(f, "close code {c} may not be sent on the wire"),
            Self::BadClosePayload => f.write_str("close frame with a 1-byte payload"),
            Self::AfterClose => f.write_str("data received after the connection was closed"),
            #[cfg(feature = "deflate")]
            Self::CompressedControl => {
                f.write_str("control frame with RSV1 set (control frames are never compressed)")
            }
            #[cfg(feature = "deflate")]
            Self::CompressedContinuation => {
                f.write_str("continuation frame with RSV1 set (only a message's first frame may)")
            }
            #[cfg(feature = "deflate")]
            Self::Inflate(e) => e.fmt(f),
            #[cfg(feature = "deflate")]
            Self::NoInflater => f.write_str(
                "compressed message received through a method without an inflater \
                 (use the `_with` methods once permessage-deflate is agreed)",
            ),
        }
    }
}

impl core::error::Error for ProtocolError {}

/// A send the caller asked for that the connection state or the buffer does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SendError {
    /// A close frame was already sent or received: no more data may be sent.
    Closed,
    /// The output buffer is too small; `needed` bytes are required.
    BufferTooSmall {
        /// Bytes required for this frame.
        needed: usize,
    },
    /// A ping, pong or close payload longer than 125 bytes.
    ControlTooLong(usize),
    /// A close code that may not be sent (1005, 1006, 1015, reserved ranges).
    InvalidCloseCode(u16),
    /// A new message was started while a fragmented send is still open.
    MessageInProgress,
    /// A compressed message, but permessage-deflate was not agreed.
    #[cfg(feature = "deflate")]
    NotNegotiated,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Closed => {
                f.write_str("the connection is closing or closed; nothing more may be sent")
            }
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::ControlTooLong(n) => {
                write!(
                    f,
                    "control frame payload of {n} bytes (at most 125; a close reason at most 123)"
                )
            }
            Self::InvalidCloseCode(c) => write!(f, "close code {c} may not be sent"),
            Self::MessageInProgress => {
                f.write_str("a fragmented message is in progress: finish it before sending another")
            }
            #[cfg(feature = "deflate")]
            Self::NotNegotiated => {
                f.write_str("cannot send a compressed message: permessage-deflate was not agreed")
            }
        }
    }
}

impl core::error::Error for SendError {}
