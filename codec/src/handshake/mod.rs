//! The opening handshake (RFC 6455 section 4): HTTP/1.1 Upgrade requests and responses.
//!
//! Both sides are sans-IO and allocation-free, like the rest of the crate. Parsing borrows
//! the caller's bytes and an `httparse` header array (size it with [`MAX_HEADERS`]);
//! writing fills the caller's output buffer and reports the exact size needed when it is
//! too small.
//!
//! - A **client** builds a [`client::ClientRequest`], writes it with
//!   [`encode`](client::ClientRequest::encode), parses the reply with
//!   [`client::parse_response`] and checks it with [`client::Response::validate`].
//! - A **server** parses with [`server::parse_request`], checks with
//!   [`server::Request::upgrade`], then answers with [`server::write_accept`], or with
//!   [`server::write_error`] / [`server::write_reject`] on failure.
//!
//! In both directions, bytes after the blank line that ends the HTTP head are not part of
//! the handshake: `consumed` tells where the first WebSocket frame may begin.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use core::fmt;

pub mod accept_key;
pub mod client;
mod fields;
mod request_head;
pub mod server;
mod write;

pub use accept_key::accept_key;

/// The recommended length of the `httparse::Header` array given to
/// [`server::parse_request`] and [`client::parse_response`].
///
/// Browsers send 10 to 15 headers in an upgrade request; 32 leaves room for proxies and
/// cookies. A request with more headers than the array holds fails with
/// [`HandshakeError::TooManyHeaders`] (answered with 431). Each entry costs four words
/// of stack.
pub const MAX_HEADERS: usize = 32;

/// What is malformed in an HTTP head (the kinds of `httparse::Error`, which the client's
/// response parser uses; the server's request parser reports the same kinds).
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

impl HttpErrorKind {
    const fn as_str(self) -> &'static str {
        match self {
            Self::HeaderName => "invalid byte in a header name",
            Self::HeaderValue => "invalid byte in a header value",
            Self::NewLine => "invalid line break",
            Self::Status => "invalid status code",
            Self::Token => "invalid token in the request or status line",
            Self::Version => "invalid HTTP version",
        }
    }
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
/// A server answers most errors with [`server::write_error`], which uses
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
    /// The head has more headers than the header array holds (see [`MAX_HEADERS`]).
    TooManyHeaders,
    /// The head does not fit the receive buffer. Never returned by the parsers (they
    /// only see the buffer); adapters return it when the buffer is full and still
    /// [`Partial`](crate::Status::Partial).
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
    /// The server selected an extension; this crate never offers any.
    UnofferedExtension,
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
    /// | errors found in a response (`UnexpectedStatus`, `InvalidAccept`, `MissingAccept`, `UnofferedProtocol`, `UnofferedExtension`) | 502 Bad Gateway, as a proxy would answer |
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
            Self::NotGet => 405,
            Self::UnsupportedVersion => 426,
            Self::TooManyHeaders | Self::HeadersTooLarge => 431,
            Self::BufferTooSmall { .. } | Self::InvalidHeaderValue => 500,
            Self::UnexpectedStatus(_)
            | Self::InvalidAccept
            | Self::MissingAccept
            | Self::UnofferedProtocol
            | Self::UnofferedExtension => 502,
            Self::HttpVersion => 505,
        }
    }
}

impl From<httparse::Error> for HandshakeError {
    fn from(e: httparse::Error) -> Self {
        match e {
            httparse::Error::TooManyHeaders => Self::TooManyHeaders,
            httparse::Error::HeaderName => Self::Http(HttpErrorKind::HeaderName),
            httparse::Error::HeaderValue => Self::Http(HttpErrorKind::HeaderValue),
            httparse::Error::NewLine => Self::Http(HttpErrorKind::NewLine),
            httparse::Error::Status => Self::Http(HttpErrorKind::Status),
            httparse::Error::Token => Self::Http(HttpErrorKind::Token),
            httparse::Error::Version => Self::Http(HttpErrorKind::Version),
        }
    }
}

/// A piece of an error message: text, or a number to print in decimal.
///
/// Messages are kept as pieces so that [`server::write_error`] can write them without
/// `core::fmt`, whose formatting machinery would add about 2.6 KB to a firmware image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Text(&'a str),
    Number(usize),
}

impl HandshakeError {
    /// The message that [`Display`](fmt::Display) prints, in pieces.
    pub(crate) fn pieces(&self) -> [Piece<'static>; 3] {
        use Piece::{Number, Text};
        let text = |s| [Text(s), Text(""), Text("")];
        match *self {
            Self::Http(kind) => [Text("malformed HTTP: "), Text(kind.as_str()), Text("")],
            Self::TooManyHeaders => {
                text("too many HTTP headers: send fewer headers or enlarge the header array")
            }
            Self::HeadersTooLarge => text(
                "HTTP head too large: send fewer or shorter headers or enlarge the receive buffer",
            ),
            Self::NotGet => text("WebSocket upgrade requests must use the GET method"),
            Self::HttpVersion => text("WebSocket upgrades need HTTP/1.1"),
            Self::MissingHost => text("missing Host header: send the server's host name"),
            Self::MissingUpgrade => {
                text("missing header `Upgrade: websocket`: this endpoint only speaks WebSocket")
            }
            Self::UpgradeStripped => [
                Text("missing header `Upgrade: websocket`, but the request has Sec-WebSocket-Key \
                      or Sec-WebSocket-Version: "),
                Text("a proxy in between likely stripped the hop-by-hop Upgrade and Connection \
                      headers. "),
                Text("Forward them; in nginx: proxy_http_version 1.1; proxy_set_header Upgrade \
                      $http_upgrade; proxy_set_header Connection \"upgrade\";"),
            ],
            Self::MissingConnectionUpgrade => {
                text("missing header `Connection: Upgrade`: add the Upgrade token")
            }
            Self::MissingKey => text(
                "missing Sec-WebSocket-Key header: send the base64 encoding of 16 random bytes",
            ),
            Self::InvalidKey => text(
                "invalid Sec-WebSocket-Key: it must be the base64 encoding of exactly 16 bytes",
            ),
            Self::DuplicateHeader(h) => {
                [Text("header "), Text(h.name()), Text(" appears more than once: send it once")]
            }
            Self::UnsupportedVersion => text(
                "missing or unsupported Sec-WebSocket-Version: only version 13 is supported",
            ),
            Self::UnexpectedStatus(s) => [
                Text("server answered with status "),
                Number(usize::from(s)),
                Text(
                    " instead of 101 Switching Protocols: check the URL and the server logs",
                ),
            ],
            Self::InvalidAccept => text(
                "Sec-WebSocket-Accept does not match the key sent: the server is not a WebSocket server or a proxy interfered",
            ),
            Self::MissingAccept => text("server response has no Sec-WebSocket-Accept header"),
            Self::UnofferedProtocol => text("server selected a subprotocol that was not offered"),
            Self::UnofferedExtension => {
                text("server selected a WebSocket extension, but none was offered")
            }
            Self::BufferTooSmall { needed } => [
                Text("output buffer too small: "),
                Number(needed),
                Text(" bytes needed"),
            ],
            Self::InvalidHeaderValue => text(
                "a header name or value contains CR, LF, NUL or other forbidden bytes: not written",
            ),
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pieces().iter().try_for_each(|piece| match *piece {
            Piece::Text(text) => f.write_str(text),
            Piece::Number(n) => fmt::Display::fmt(&n, f),
        })
    }
}

impl core::error::Error for HandshakeError {}

/// The first header named `name` (ASCII case-insensitive).
fn find<'b>(headers: &[httparse::Header<'b>], name: &str) -> Option<&'b [u8]> {
    headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value)
}

/// All values of the headers named `name`, trimmed of optional whitespace.
fn all<'h, 'b>(
    headers: &'h [httparse::Header<'b>],
    name: &'h str,
) -> impl Iterator<Item = &'b [u8]> + 'h {
    headers.iter().filter(move |h| h.name.eq_ignore_ascii_case(name)).map(|h| trim_ows(h.value))
}

/// The only value of header `name`: `Ok(None)` if absent, an error if repeated.
fn single<'b>(
    headers: &[httparse::Header<'b>],
    field: HeaderField,
) -> Result<Option<&'b [u8]>, HandshakeError> {
    let mut values = all(headers, field.name());
    let first = values.next();
    match values.next() {
        Some(_) => Err(HandshakeError::DuplicateHeader(field)),
        None => Ok(first),
    }
}

/// Whether any header `name` has `token` in its comma-separated list (case-insensitive).
fn has_token(headers: &[httparse::Header<'_>], name: &str, token: &str) -> bool {
    all(headers, name).any(|v| value_has_token(v, token))
}

/// Whether the comma-separated list `value` has the item `token` (ASCII case-insensitive,
/// items trimmed of optional whitespace).
fn value_has_token(value: &[u8], token: &str) -> bool {
    value.split(|&b| b == b',').any(|t| trim_ows(t).eq_ignore_ascii_case(token.as_bytes()))
}

/// Strips spaces and horizontal tabs (HTTP "optional whitespace") from both ends.
#[inline]
fn trim_ows(v: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = v.iter().position(|b| !is_ows(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    v.get(start..end).unwrap_or_default()
}

/// Strips HTTP optional whitespace from a `str`.
fn trim_ows_str(v: &str) -> &str {
    v.trim_matches([' ', '\t'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use httparse::Header;

    fn h<'a>(name: &'a str, value: &'a str) -> Header<'a> {
        Header { name, value: value.as_bytes() }
    }

    #[test]
    fn token_lists_are_case_and_whitespace_tolerant() {
        let headers = [h("connection", "keep-alive,\tUpgrade "), h("Upgrade", "WebSocket")];
        assert!(has_token(&headers, "Connection", "upgrade"));
        assert!(has_token(&headers, "UPGRADE", "websocket"));
        assert!(!has_token(&headers, "Connection", "close"));
        assert!(!has_token(&headers, "Missing", "x"));
        // A token is a whole list item, not a substring.
        assert!(!has_token(&[h("Connection", "upgraded")], "Connection", "upgrade"));
    }

    #[test]
    fn token_may_be_in_a_later_header_line() {
        let headers = [h("Connection", "keep-alive"), h("Connection", "upgrade")];
        assert!(has_token(&headers, "connection", "Upgrade"));
    }

    #[test]
    fn trim_ows_table() {
        for (input, expected) in
            [("", ""), (" ", ""), ("\t a \t", "a"), ("a b", "a b"), ("  x", "x"), ("x  ", "x")]
        {
            assert_eq!(trim_ows(input.as_bytes()), expected.as_bytes(), "{input:?}");
            assert_eq!(trim_ows_str(input), expected, "{input:?}");
        }
    }

    #[test]
    fn single_rejects_repeats_and_finds_first() {
        let headers = [h("Host", "a"), h("host", "b"), h("Origin", " o ")];
        assert_eq!(
            single(&headers, HeaderField::Host),
            Err(HandshakeError::DuplicateHeader(HeaderField::Host))
        );
        assert_eq!(single(&headers, HeaderField::Origin), Ok(Some(&b"o"[..])));
        assert_eq!(single(&headers, HeaderField::SecWebSocketKey), Ok(None));
        assert_eq!(find(&headers, "HOST"), Some(&b"a"[..]));
    }

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

#[cfg(test)]
mod proptests {
    extern crate std;

    use proptest::prelude::*;
    use std::{vec, vec::Vec};

    use super::{client, server, MAX_HEADERS};
    use crate::Status;

    /// Bytes that look like an upgrade head often enough to reach the deeper checks.
    fn head() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(&b"GET / HTTP/1.1\r\n"[..]),
            Just(&b"HTTP/1.1 101 Switching Protocols\r\n"[..]),
            Just(&b"Host: h\r\n"[..]),
            Just(&b"Upgrade: websocket\r\n"[..]),
            Just(&b"Connection: Upgrade\r\n"[..]),
            Just(&b"Sec-WebSocket-Version: 13\r\n"[..]),
            Just(&b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"[..]),
            Just(&b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"[..]),
            Just(&b"Sec-WebSocket-Protocol: chat, \xff\r\n"[..]),
            Just(&b"\r\n"[..]),
            Just(&b"\xff\x00 :,"[..]),
        ];
        prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn request_parsing_never_panics(bytes in prop_oneof![head(), any::<Vec<u8>>()]) {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            match server::parse_request(&bytes, &mut headers) {
                Ok(Status::Complete { value, consumed }) => {
                    prop_assert!(consumed <= bytes.len());
                    let mut out = [0u8; 512];
                    match value.upgrade() {
                        Ok(up) => {
                            let p = up.protocols().next();
                            prop_assert!(server::write_accept(&up, p, &[], &mut out).is_ok());
                        }
                        Err(e) => prop_assert!(server::write_error(e, &mut out).is_ok()),
                    }
                }
                Ok(Status::Partial { needed }) => prop_assert_eq!(needed, 1),
                Err(e) => prop_assert!(e.status() >= 400),
            }
        }

        #[test]
        fn response_parsing_never_panics(bytes in prop_oneof![head(), any::<Vec<u8>>()]) {
            let request = client::ClientRequest {
                protocols: &["chat"],
                ..client::ClientRequest::new("h", "/", *b"the sample nonce")
            };
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            if let Ok(Status::Complete { value, consumed }) = client::parse_response(&bytes, &mut headers) {
                prop_assert!(consumed <= bytes.len());
                let _ = value.validate(&request);
            }
        }
    }
}
