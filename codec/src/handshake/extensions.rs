//! What can be wrong with the `Sec-WebSocket-Extensions` header (RFC 6455 section 9.1) and
//! with the permessage-deflate parameters it carries (RFC 7692 section 7.1).
//!
//! The header is only read with the `deflate` feature (see [`crate::deflate`]); without it
//! every offered extension is declined by omission.

use core::fmt;

/// A `Sec-WebSocket-Extensions` header that cannot be used, in a request or a response.
///
/// A server answers [`Syntax`](Self::Syntax) with 400; a permessage-deflate offer whose
/// parameters are wrong is declined instead (RFC 7692 section 5: "a server MUST decline
/// an extension negotiation offer" it cannot accept), so the other variants only come from
/// a response, which the client must then fail (section 5 and 7.1: "the client MUST _Fail
/// the WebSocket Connection_").
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtensionError {
    /// Not a list of `name; param=value` items: an empty or non-token name, a `;`
    /// without a parameter, `=` without a value, an unterminated quoted string.
    Syntax,
    /// The response selects permessage-deflate more than once.
    Repeated,
    /// A parameter permessage-deflate does not define for a response.
    UnknownParameter,
    /// A parameter given twice in one item.
    DuplicateParameter,
    /// A window size that is not a whole number from 8 to 15 without leading zeros, or a
    /// value on a parameter that takes none, or none on one that needs it.
    InvalidValue,
    /// `client_max_window_bits` in a response although the offer did not include it.
    UnofferedParameter,
    /// `server_max_window_bits` larger than the client asked for.
    WindowTooLarge,
    /// The server's choice needs an LZ77 window of `2^bits` bytes kept for this end's
    /// inflater, and it lent less (or none, in streaming mode).
    WindowUnsupported {
        /// The window the server's messages may use, as a base-2 logarithm.
        bits: u8,
    },
}

impl ExtensionError {
    /// The message [`HandshakeError`](super::HandshakeError)'s text uses.
    pub(super) const fn as_str(self) -> &'static str {
        match self {
            Self::Syntax => {
                "malformed Sec-WebSocket-Extensions header: expected `name; param=value, ...`"
            }
            Self::Repeated => "the server selected permessage-deflate more than once",
            Self::UnknownParameter => {
                "the server answered permessage-deflate with a parameter RFC 7692 does not define"
            }
            Self::DuplicateParameter => {
                "a permessage-deflate parameter appears twice in the server's answer"
            }
            Self::InvalidValue => {
                "a permessage-deflate window size is not a whole number from 8 to 15"
            }
            Self::UnofferedParameter => {
                "the server sent client_max_window_bits, which the client did not offer"
            }
            Self::WindowTooLarge => {
                "the server chose a larger server_max_window_bits than the client asked for"
            }
            Self::WindowUnsupported { .. } => {
                "the server's permessage-deflate window is larger than the window lent to the \
                 inflater; window bits needed: "
            }
        }
    }
}

impl fmt::Display for ExtensionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if let Self::WindowUnsupported { bits } = *self {
            write!(f, "{bits}")?;
        }
        Ok(())
    }
}
