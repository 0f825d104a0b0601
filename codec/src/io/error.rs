use core::fmt;

use crate::{HandshakeError, ProtocolError, SendError};

/// An adapter error, generic over the transport's error type `E`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error<E> {
    /// Reading from the transport failed. Nothing was lost: if the error is transient
    /// (a read timeout), reading again goes on where it stopped.
    Read(E),
    /// Writing to the transport failed or timed out. A frame may have been cut short on
    /// the wire, so the connection is over: it is [`State::Closed`](crate::State::Closed)
    /// and every later call returns [`Error::Closed`].
    Write(E),
    /// The peer broke the protocol. The adapter already sent the close frame that
    /// says so (close code [`ProtocolError::close_code`]).
    Protocol(ProtocolError),
    /// The opening handshake failed (on a server the error response was already sent).
    Handshake(HandshakeError),
    /// The server answered the request with this HTTP status and did not upgrade: the
    /// application refused it or answered it with a page (the response has been sent).
    NotUpgraded(u16),
    /// The application asked for a send the connection does not allow.
    Send(SendError),
    /// The transport ended without a close frame: the connection closed abnormally
    /// (reported to applications as close code 1006).
    UnexpectedEof,
    /// The closing handshake is over; nothing more can be read or sent.
    Closed,
}

impl<E> From<ProtocolError> for Error<E> {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl<E> From<HandshakeError> for Error<E> {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

impl<E> From<SendError> for Error<E> {
    fn from(e: SendError) -> Self {
        Self::Send(e)
    }
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(e) => write!(f, "reading from the transport failed: {e:?}"),
            Self::Write(e) => {
                write!(f, "writing to the transport failed, so the connection is closed: {e:?}")
            }
            Self::Protocol(e) => {
                write!(f, "peer broke the protocol: {e} (closed with {})", e.close_code())
            }
            Self::Handshake(e) => write!(f, "handshake failed: {e}"),
            Self::NotUpgraded(status) => write!(f, "answered with HTTP {status}, not upgraded"),
            Self::Send(e) => write!(f, "cannot send: {e}"),
            Self::UnexpectedEof => {
                f.write_str("connection dropped without a close frame (abnormal closure, 1006)")
            }
            Self::Closed => f.write_str("the connection is closed"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

#[cfg(any(feature = "blocking", feature = "async"))]
impl<E: embedded_io::Error> embedded_io::Error for Error<E> {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self {
            Self::Read(e) | Self::Write(e) => e.kind(),
            Self::Protocol(_) | Self::Handshake(_) => embedded_io::ErrorKind::InvalidData,
            Self::NotUpgraded(_) => embedded_io::ErrorKind::ConnectionRefused,
            Self::Send(_) => embedded_io::ErrorKind::InvalidInput,
            Self::UnexpectedEof | Self::Closed => embedded_io::ErrorKind::NotConnected,
        }
    }
}
