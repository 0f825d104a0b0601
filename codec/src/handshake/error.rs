//! Why a handshake failed ([`HandshakeError`]), and the HTTP status a server answers with.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use core::fmt;

use super::texts::{total_len, Texts};

#[cfg(feature = "deflate")]
use super::ExtensionError;

/// What is malformed in an HTTP head (the same kinds `httparse` reports, on the same
/// inputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HttpErrorKind {
    /// An invalid byte in a header name.
    HeaderName,
    /// An invalid byte in a header value (or, for the values this module reads as text,
    /// bytes that are not UTF-8).
    HeaderValue,
    /// An invalid byte where a line break was expected.
    NewLine,
    /// An invalid byte in the response status code.
    Status,
    /// An invalid byte where a token (method, for instance) was expected.
    Token,
    /// An invalid HTTP version (only `HTTP/1.0` and `HTTP/1.1` are understood).
    Version,
}

/// A handshake header this module reads, named in [`HandshakeError::DuplicateHeader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HeaderField {
    /// `Host` (RFC 9112 section 3.2: a request with more than one is answered with 400).
    Host,
    /// `Origin`.
    Origin,
    /// `Sec-WebSocket-Key`.
    SecWebSocketKey,
    /// `Sec-WebSocket-Version`.
    SecWebSocketVersion,
    /// `Sec-WebSocket-Accept`.
    SecWebSocketAccept,
    /// `Sec-WebSocket-Protocol`.
    SecWebSocketProtocol,
}

impl HeaderField {
    /// The header name as it is usually spelled (comparisons ignore case).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Host => "Host",
            Self::Origin => "Origin",
            Self::SecWebSocketKey => "Sec-WebSocket-Key",
            Self::SecWebSocketVersion => "Sec-WebSocket-Version",
            Self::SecWebSocketAccept => "Sec-WebSocket-Accept",
            Self::SecWebSocketProtocol => "Sec-WebSocket-Protocol",
        }
    }
}

impl fmt::Display for HeaderField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an opening handshake failed, on either side.
///
/// A server answers most errors with [`server::write_error`](super::server::write_error), which uses
/// [`status`](Self::status) and the [`Display`](fmt::Display) text. A client reports them
/// and closes the transport.
///
/// ```
/// use wscodec::HandshakeError;
/// assert_eq!(HandshakeError::UnsupportedVersion.status(), 426);
/// assert_eq!(HandshakeError::MissingKey.status(), 400);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HandshakeError {
    /// The HTTP head is malformed.
    Http(HttpErrorKind),
    /// The head has more headers than the header array holds (see [`MAX_HEADERS`](super::MAX_HEADERS)).
    TooManyHeaders,
    /// The head does not fit the receive buffer. Never returned by the parsers (they
    /// only see the buffer); [`server::handle_request`](super::server::handle_request)
    /// answers it when told the buffer is full and the head is still incomplete, and the
    /// adapters return it then.
    HeadersTooLarge,
    /// The request method is not `GET` (RFC 6455 section 4.1: "The method of the
    /// request MUST be GET").
    NotGet,
    /// The request is not HTTP/1.1 (RFC 6455 section 4.1: "the HTTP version MUST be
    /// at least 1.1"), or a 101 response is not HTTP/1.1.
    HttpVersion,
    /// The request has no `Host` header.
    MissingHost,
    /// No `Upgrade` header with the token `websocket`.
    MissingUpgrade,
    /// No `Upgrade` header at all, but a `Sec-WebSocket-Key` or `Sec-WebSocket-Version`:
    /// the request was a WebSocket upgrade until a proxy dropped its hop-by-hop `Upgrade`
    /// and `Connection` headers (nginx does unless told to forward them). Answered with
    /// 400 and a message that says so and how to configure nginx.
    UpgradeStripped,
    /// No `Connection` header with the token `Upgrade`.
    MissingConnectionUpgrade,
    /// The request has no `Sec-WebSocket-Key` header.
    MissingKey,
    /// `Sec-WebSocket-Key` is not the base64 encoding of exactly 16 bytes.
    InvalidKey,
    /// A header that must appear at most once appears more often.
    DuplicateHeader(HeaderField),
    /// `Sec-WebSocket-Version` is missing or not `13`.
    UnsupportedVersion,
    /// The server answered with a status other than 101 Switching Protocols.
    UnexpectedStatus(u16),
    /// `Sec-WebSocket-Accept` does not match the key the client sent.
    InvalidAccept,
    /// The 101 response has no `Sec-WebSocket-Accept` header.
    MissingAccept,
    /// The server selected a subprotocol the client did not offer (or more than one).
    UnofferedProtocol,
    /// The server selected an extension the client did not offer (without the `deflate`
    /// feature this crate offers none).
    UnofferedExtension,
    /// A `Sec-WebSocket-Extensions` header that is malformed, or whose permessage-deflate
    /// answer the client cannot accept (see [`ExtensionError`]). Feature `deflate`.
    #[cfg(feature = "deflate")]
    Extension(ExtensionError),
    /// The output buffer is too small; `needed` bytes would fit the whole message.
    BufferTooSmall {
        /// The exact number of bytes the message needs.
        needed: usize,
    },
    /// A value (or name) the caller asked to write contains CR, LF, NUL or another byte
    /// not allowed there, which could inject headers; nothing was written.
    InvalidHeaderValue,
}

impl HandshakeError {
    /// The HTTP status a server answers this error with.
    ///
    /// | error | status |
    /// |---|---|
    /// | [`UnsupportedVersion`](Self::UnsupportedVersion) | 426 Upgrade Required (with `Sec-WebSocket-Version: 13`) |
    /// | [`TooManyHeaders`](Self::TooManyHeaders), [`HeadersTooLarge`](Self::HeadersTooLarge) | 431 Request Header Fields Too Large |
    /// | [`NotGet`](Self::NotGet) | 405 Method Not Allowed (with `Allow: GET`) |
    /// | [`HttpVersion`](Self::HttpVersion) | 505 HTTP Version Not Supported |
    /// | [`BufferTooSmall`](Self::BufferTooSmall), [`InvalidHeaderValue`](Self::InvalidHeaderValue) | 500: the server's own fault |
    /// | `Extension(ExtensionError::Syntax)` (feature `deflate`) | 400 Bad Request |
    /// | errors found in a response (`UnexpectedStatus`, `InvalidAccept`, `MissingAccept`, `UnofferedProtocol`, `UnofferedExtension`, other `Extension` errors) | 502 Bad Gateway, as a proxy would answer |
    /// | every other request error | 400 Bad Request |
    pub const fn status(self) -> u16 {
        match self {
            Self::Http(_)
            | Self::MissingHost
            | Self::MissingUpgrade
            | Self::UpgradeStripped
            | Self::MissingConnectionUpgrade
            | Self::MissingKey
            | Self::InvalidKey
            | Self::DuplicateHeader(_) => 400,
            #[cfg(feature = "deflate")]
            Self::Extension(ExtensionError::Syntax) => 400,
            Self::NotGet => 405,
            Self::UnsupportedVersion => 426,
            Self::TooManyHeaders | Self::HeadersTooLarge => 431,
            Self::BufferTooSmall { .. } | Self::InvalidHeaderValue => 500,
            Self::UnexpectedStatus(_)
            | Self::InvalidAccept
            | Self::MissingAccept
            | Self::UnofferedProtocol
            | Self::UnofferedExtension => 502,
            #[cfg(feature = "deflate")]
            Self::Extension(_) => 502,
            Self::HttpVersion => 505,
        }
    }
}

/// A piece of an error message: text, or a number to print in decimal.
///
/// Messages are kept as pieces so that [`server::write_error`](super::server::write_error) can write them without
/// `core::fmt`, whose formatting machinery added about 2.6 KB to the minimal firmware server
/// (`scripts/firmware-budget`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Piece<'a> {
    Text(&'a [u8]),
    Number(usize),
}

/// A message text, and after it the advice on what to do that feature `error-advice` adds
/// (a firmware leaves it off: the texts alone are about 1 KB less flash).
#[cfg(feature = "error-advice")]
macro_rules! advised {
    ($text:literal, $advice:literal) => {
        concat!($text, $advice)
    };
}
#[cfg(not(feature = "error-advice"))]
macro_rules! advised {
    ($text:literal, $advice:literal) => {
        $text
    };
}

impl HandshakeError {
    /// The message that [`Display`](fmt::Display) prints, in pieces: [`lead`](Self::lead),
    /// then the value some errors carry and the text after it.
    pub(super) fn message(&self) -> (&'static [u8], Piece<'static>, &'static [u8]) {
        // The value: a number, or text `named` of `TEXTS` (none past its end).
        let (number, named, tail): (_, _, &[u8]) = match *self {
            Self::Http(kind) => (None, KIND_TEXTS + kind as usize, b""),
            Self::DuplicateHeader(h) => {
                (None, FIELD_NAMES + h as usize, advised!("", ": send it once").as_bytes())
            }
            Self::UnexpectedStatus(s) => (
                Some(usize::from(s)),
                0,
                advised!(
                    " instead of 101",
                    " Switching Protocols: check the URL and the server logs"
                )
                .as_bytes(),
            ),
            Self::BufferTooSmall { needed } => (Some(needed), 0, b" bytes needed"),
            #[cfg(feature = "deflate")]
            Self::Extension(ExtensionError::WindowUnsupported { bits }) => {
                (Some(usize::from(bits)), 0, b"")
            }
            _ => (None, TEXTS.len(), b""),
        };
        let value = match number {
            Some(n) => Piece::Number(n),
            None => Piece::Text(text(named)),
        };
        (self.lead(), value, tail)
    }

    /// The start of the message: all of it, except for the errors that carry a value.
    ///
    /// A look-up in one table of texts rather than a `match` that returns each text: at
    /// opt-level "z" that is about 350 bytes less code in a firmware image.
    fn lead(self) -> &'static [u8] {
        let index = match self {
            Self::Http(_) => 0,
            Self::TooManyHeaders => 1,
            Self::HeadersTooLarge => 2,
            Self::NotGet => 3,
            Self::HttpVersion => 4,
            Self::MissingHost => 5,
            Self::MissingUpgrade => 6,
            Self::UpgradeStripped => 7,
            Self::MissingConnectionUpgrade => 8,
            Self::MissingKey => 9,
            Self::InvalidKey => 10,
            Self::DuplicateHeader(_) => 11,
            Self::UnsupportedVersion => 12,
            Self::UnexpectedStatus(_) => 13,
            Self::InvalidAccept => 14,
            Self::MissingAccept => 15,
            Self::UnofferedProtocol => 16,
            Self::UnofferedExtension => 17,
            Self::BufferTooSmall { .. } => 18,
            Self::InvalidHeaderValue => 19,
            #[cfg(feature = "deflate")]
            Self::Extension(e) => return e.as_str().as_bytes(),
        };
        text(index)
    }
}

/// Where [`HttpErrorKind`]'s texts start in [`TEXTS`] (in the order of its variants).
const KIND_TEXTS: usize = 20;
/// Where [`HeaderField`]'s names start in [`TEXTS`] (in the order of its variants).
const FIELD_NAMES: usize = 26;

/// The texts of the messages: [`HandshakeError::lead`]'s in the order of its variants,
/// then [`HttpErrorKind`]'s and [`HeaderField`]'s, joined in [`MESSAGES`]. Each says what
/// is wrong and where (the status line carries the status); feature `error-advice` adds
/// what to do.
const TEXTS: [&str; 32] = [
    // Http(_)
    "malformed HTTP: ",
    // TooManyHeaders
    advised!("too many HTTP headers", ": send fewer headers or enlarge the header array"),
    // HeadersTooLarge
    advised!(
        "HTTP head too large",
        ": send fewer or shorter headers or enlarge the receive buffer"
    ),
    // NotGet
    advised!("method is not GET", ": WebSocket upgrade requests must use GET"),
    // HttpVersion
    "WebSocket needs HTTP/1.1",
    // MissingHost
    advised!("missing Host header", ": send the server's host name"),
    // MissingUpgrade
    advised!("missing header `Upgrade: websocket`", ": this endpoint only speaks WebSocket"),
    // UpgradeStripped
    advised!(
        "missing header `Upgrade: websocket` but Sec-WebSocket-* present: a proxy likely \
         stripped the hop-by-hop Upgrade",
        " and Connection headers. Forward them; in nginx: proxy_http_version 1.1; \
         proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\";"
    ),
    // MissingConnectionUpgrade
    advised!("missing header `Connection: Upgrade`", ": add the Upgrade token"),
    // MissingKey
    advised!("missing Sec-WebSocket-Key header", ": send the base64 encoding of 16 random bytes"),
    // InvalidKey
    advised!("invalid Sec-WebSocket-Key", ": it must be the base64 encoding of exactly 16 bytes"),
    // DuplicateHeader(_)
    "duplicate header ",
    // UnsupportedVersion
    advised!("missing or unsupported Sec-WebSocket-Version", ": only version 13 is supported"),
    // UnexpectedStatus(_)
    "server answered ",
    // InvalidAccept
    advised!(
        "Sec-WebSocket-Accept does not match the key",
        ": the server is not a WebSocket server or a proxy interfered"
    ),
    // MissingAccept
    "missing Sec-WebSocket-Accept header",
    // UnofferedProtocol
    "selected subprotocol was not offered",
    // UnofferedExtension
    "selected extension was not offered",
    // BufferTooSmall { .. }
    "output buffer too small: ",
    // InvalidHeaderValue
    advised!(
        "forbidden byte in a header name or value",
        ": CR, LF, NUL and other controls could inject headers; nothing was written"
    ),
    // HttpErrorKind
    "invalid byte in header name",
    "invalid byte in header value",
    "invalid line break",
    "invalid status code",
    "invalid token in request line",
    "invalid HTTP version",
    // HeaderField
    "Host",
    "Origin",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Protocol",
];

/// [`TEXTS`], joined.
static MESSAGES: Texts<{ TEXTS.len() + 1 }, { total_len(&TEXTS) }> = Texts::new(&TEXTS);

/// Text `i` of [`TEXTS`]; empty past the last.
fn text(i: usize) -> &'static [u8] {
    MESSAGES.get(i)
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (lead, value, tail) = self.message();
        let text = |bytes| core::str::from_utf8(bytes).unwrap_or_default();
        f.write_str(text(lead))?;
        match value {
            Piece::Text(value) => f.write_str(text(value))?,
            Piece::Number(n) => fmt::Display::fmt(&n, f)?,
        }
        f.write_str(text(tail))
    }
}

impl core::error::Error for HandshakeError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::write;

    #[test]
    fn every_error_has_a_status_and_text() {
        let all = [
            (HandshakeError::Http(HttpErrorKind::Token), 400),
            (HandshakeError::TooManyHeaders, 431),
            (HandshakeError::HeadersTooLarge, 431),
            (HandshakeError::NotGet, 405),
            (HandshakeError::HttpVersion, 505),
            (HandshakeError::MissingHost, 400),
            (HandshakeError::MissingUpgrade, 400),
            (HandshakeError::UpgradeStripped, 400),
            (HandshakeError::MissingConnectionUpgrade, 400),
            (HandshakeError::MissingKey, 400),
            (HandshakeError::InvalidKey, 400),
            (HandshakeError::DuplicateHeader(HeaderField::SecWebSocketKey), 400),
            (HandshakeError::UnsupportedVersion, 426),
            (HandshakeError::UnexpectedStatus(404), 502),
            (HandshakeError::InvalidAccept, 502),
            (HandshakeError::MissingAccept, 502),
            (HandshakeError::UnofferedProtocol, 502),
            (HandshakeError::UnofferedExtension, 502),
            (HandshakeError::BufferTooSmall { needed: 9 }, 500),
            (HandshakeError::InvalidHeaderValue, 500),
        ];
        for (e, status) in all {
            assert_eq!(e.status(), status, "{e:?}");
            let mut buf = [0u8; 256];
            let mut c = write::Cursor::new(&mut buf);
            core::fmt::Write::write_fmt(&mut c, format_args!("{e}")).unwrap();
            assert!(c.len() > 10, "{e:?}");
        }
    }

    #[test]
    fn error_is_small() {
        assert!(core::mem::size_of::<HandshakeError>() <= 16);
    }
}
