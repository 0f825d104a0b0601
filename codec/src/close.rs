//! Close codes (RFC 6455 section 7.4) and the close frame payload (section 5.5.1).
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use core::fmt;

/// A WebSocket close status code.
///
/// A `u16` newtype with named constants for the registered codes, so that application
/// (3000–3999) and private (4000–4999) codes are just as easy to carry.
///
/// ```
/// use wscodec::CloseCode;
/// assert_eq!(CloseCode::from_wire(1000), Some(CloseCode::NORMAL));
/// assert_eq!(CloseCode::from_wire(1006), None); // local-only: never on the wire
/// assert!(CloseCode::new(4000).is_sendable());
/// assert_eq!(CloseCode::INTERNAL_ERROR.meaning(), "internal server error");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CloseCode(u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigated away).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: the endpoint cannot accept this kind of data (e.g. binary when it only takes text).
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: local only — the close frame carried no status code.
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: local only — the connection dropped without a close frame.
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: message data was not consistent with its type (text that is not UTF-8).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: the message violates the endpoint's policy.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: the message is too big to process.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: the client expected the server to negotiate an extension it did not.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server hit an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1012: the service is restarting.
    pub const SERVICE_RESTART: Self = Self(1012);
    /// 1013: try again later (overload).
    pub const TRY_AGAIN_LATER: Self = Self(1013);
    /// 1014: a gateway or proxy got an invalid response from upstream.
    pub const BAD_GATEWAY: Self = Self(1014);
    /// 1015: local only — the TLS handshake failed.
    pub const TLS_HANDSHAKE: Self = Self(1015);

    /// Wraps any number; use [`is_sendable`](Self::is_sendable) or
    /// [`from_wire`](Self::from_wire) to check it.
    pub const fn new(code: u16) -> Self {
        Self(code)
    }

    /// The numeric value.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// Accepts a code received in a close frame, or `None` if RFC 6455 forbids it on the wire.
    ///
    /// Allowed: 1000–1003, 1007–1014 and 3000–4999. Rejected: below 1000, 1004 (reserved),
    /// 1005, 1006 and 1015 (local-only), 1016–2999 (reserved for future RFCs), 5000 and above.
    pub const fn from_wire(code: u16) -> Option<Self> {
        if Self(code).is_sendable() {
            Some(Self(code))
        } else {
            None
        }
    }

    /// Whether this code may be sent in a close frame.
    pub const fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// Whether the code reports a failure rather than a normal end (1000, 1001 are normal).
    pub const fn is_error(self) -> bool {
        !matches!(self.0, 1000 | 1001)
    }

    /// A short English description of what the code means.
    pub const fn meaning(self) -> &'static str {
        match self.0 {
            1000 => "normal closure",
            1001 => "going away",
            1002 => "protocol error",
            1003 => "unsupported data",
            1004 => "reserved",
            1005 => "no status code received",
            1006 => "abnormal closure: connection dropped without a close frame",
            1007 => "invalid payload data (e.g. text that is not UTF-8)",
            1008 => "policy violation",
            1009 => "message too big",
            1010 => "mandatory extension missing",
            1011 => "internal server error",
            1012 => "service restart",
            1013 => "try again later",
            1014 => "bad gateway",
            1015 => "TLS handshake failure",
            3000..=3999 => "registered application code",
            4000..=4999 => "private application code",
            _ => "not a valid close code",
        }
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloseCode({})", self.0)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.0, self.meaning())
    }
}

/// The longest close reason that fits a control frame: 125 bytes minus the 2-byte code.
pub const MAX_REASON_LEN: usize = 123;

/// A parsed close frame payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CloseFrame<'a> {
    /// The status code, or `None` if the payload was empty (reported locally as 1005).
    pub code: Option<CloseCode>,
    /// The UTF-8 reason (empty if none).
    pub reason: &'a str,
}

/// Why a received close frame payload is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CloseFrameError {
    /// A 1-byte payload: too short for a code, too long for none (close code 1002).
    OneByte,
    /// A code that may not be sent, e.g. 1005, 1006, 999 or 5000 (close code 1002).
    BadCode(u16),
    /// A reason that is not UTF-8 (close code 1007).
    InvalidReason,
}

impl fmt::Display for CloseFrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::OneByte => f.write_str("close frame with a 1-byte payload"),
            Self::BadCode(c) => write!(f, "close code {c} may not be sent on the wire"),
            Self::InvalidReason => f.write_str("close reason is not valid UTF-8"),
        }
    }
}

impl core::error::Error for CloseFrameError {}

impl<'a> CloseFrame<'a> {
    /// Parses and validates the payload of a received close frame.
    ///
    /// # Errors
    /// A [`CloseFrameError`]: a 1-byte payload, a code that may not be sent, or a reason
    /// that is not UTF-8.
    ///
    /// ```
    /// use wscodec::CloseFrame;
    /// let f = CloseFrame::decode(&[0x03, 0xe8, b'b', b'y', b'e']).unwrap();
    /// assert_eq!((f.code.unwrap().as_u16(), f.reason), (1000, "bye"));
    /// ```
    pub fn decode(payload: &'a [u8]) -> Result<Self, CloseFrameError> {
        match payload {
            [] => Ok(Self { code: None, reason: "" }),
            [_] => Err(CloseFrameError::OneByte),
            [hi, lo, reason @ ..] => {
                let raw = u16::from_be_bytes([*hi, *lo]);
                let code = CloseCode::from_wire(raw).ok_or(CloseFrameError::BadCode(raw))?;
                let reason =
                    core::str::from_utf8(reason).map_err(|_| CloseFrameError::InvalidReason)?;
                Ok(Self { code: Some(code), reason })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_code_table() {
        for code in 0..=u16::MAX {
            let ok = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            assert_eq!(CloseCode::from_wire(code).is_some(), ok, "{code}");
        }
    }

    #[test]
    fn close_payload_rules() {
        assert_eq!(CloseFrame::decode(&[]).unwrap().code, None);
        assert_eq!(CloseFrame::decode(&[3]), Err(CloseFrameError::OneByte));
        assert_eq!(CloseFrame::decode(&[0x03, 0xed]), Err(CloseFrameError::BadCode(1005)));
        assert_eq!(CloseFrame::decode(&[0x03, 0xe7]), Err(CloseFrameError::BadCode(999)));
        assert_eq!(CloseFrame::decode(&[0x0f, 0xa0, 0xff]), Err(CloseFrameError::InvalidReason));
        let f = CloseFrame::decode(&[0x0f, 0xa0, b'o', b'k']).unwrap();
        assert_eq!(f.code, Some(CloseCode::new(4000)));
        assert_eq!(f.reason, "ok");
    }
}
