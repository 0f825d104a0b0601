//! The server side of the opening handshake (RFC 6455 section 4.2).
//!
//! [`parse_request`] reads the HTTP head, [`Request::upgrade`] checks it is a valid
//! WebSocket upgrade, and [`write_accept`] (or [`write_error`] / [`write_reject`])
//! writes the answer.
//!
//! ```
//! use wscodec::handshake::{server, MAX_HEADERS};
//! use wscodec::Status;
//!
//! let wire = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
//!     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
//!     Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n\x81\x80";
//! let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
//! let Status::Complete { value: request, consumed } = server::parse_request(wire, &mut headers)?
//! else { panic!("read more bytes and call again") };
//! assert_eq!(&wire[consumed..], b"\x81\x80"); // the first frame is left for the connection
//! let mut out = [0u8; 256];
//! let n = match request.upgrade() {
//!     Ok(upgrade) => {
//!         let protocol = upgrade.offers_protocol("chat").then_some("chat");
//!         server::write_accept(&upgrade, protocol, &[], &mut out)?
//!     }
//!     Err(e) => server::write_error(e, &mut out)?, // then close the transport
//! };
//! assert!(out[..n].starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
//! # Ok::<(), wscodec::HandshakeError>(())
//! ```
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::accept_key::{accept_key, is_valid_key, ACCEPT_KEY_LEN};
use super::fields::{Single, UpgradeFields};
use super::request_head;
use super::write::{check_headers, check_token, measured, Cursor};
use super::{find, trim_ows, HandshakeError, HeaderField, HttpErrorKind, Piece};
use crate::Status;

/// How many separate `Sec-WebSocket-Protocol` header lines a request may carry.
///
/// RFC 6455 section 11.3.4 allows the header to repeat in a request; each line may hold a
/// comma-separated list. More lines than this fail with
/// [`HandshakeError::DuplicateHeader`].
pub const MAX_PROTOCOL_LINES: usize = 4;

/// A parsed HTTP request head, not yet checked as a WebSocket upgrade.
#[derive(Clone, Copy)]
pub struct Request<'h, 'b> {
    /// The method, e.g. `GET`.
    pub method: &'b str,
    /// The request target, e.g. `/chat?room=1`.
    pub path: &'b str,
    /// The HTTP minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub version: u8,
    headers: &'h [httparse::Header<'b>],
    /// A prefix of the parsed buffer already known to be UTF-8: header values inside it
    /// are taken as text without checking them again.
    text: &'b str,
}

impl core::fmt::Debug for Request<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .finish()
    }
}

impl<'h, 'b> Request<'h, 'b> {
    /// All headers, in the order received.
    pub fn headers(&self) -> &'h [httparse::Header<'b>] {
        self.headers
    }

    /// The value of the first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        find(self.headers, name)
    }

    /// Whether the request has an `Upgrade` header at all, or a `Sec-WebSocket-Key` or
    /// `Sec-WebSocket-Version` header (what is left of an upgrade request when a proxy
    /// drops the hop-by-hop `Upgrade` header: see [`HandshakeError::UpgradeStripped`]).
    ///
    /// A server that also serves plain HTTP uses this to tell a page request from a
    /// (possibly broken) WebSocket upgrade before calling [`upgrade`](Self::upgrade).
    pub fn is_upgrade(&self) -> bool {
        self.headers.iter().any(|h| {
            ["Upgrade", "Sec-WebSocket-Key", "Sec-WebSocket-Version"]
                .iter()
                .any(|name| h.name.eq_ignore_ascii_case(name))
        })
    }

    /// Checks that the request is a valid WebSocket opening handshake (RFC 6455 section 4.2.1).
    ///
    /// # Errors
    ///
    /// In the order checked:
    /// - [`HandshakeError::NotGet`] — the method is not `GET`;
    /// - [`HandshakeError::UpgradeStripped`] — no `Upgrade` header at all, but a
    ///   `Sec-WebSocket-Key` or `Sec-WebSocket-Version` (a proxy dropped `Upgrade`);
    /// - [`HandshakeError::HttpVersion`] — HTTP/1.0;
    /// - [`HandshakeError::MissingHost`], or [`HandshakeError::DuplicateHeader`] for two `Host` headers;
    /// - [`HandshakeError::MissingUpgrade`] — no `Upgrade` header with the token `websocket`;
    /// - [`HandshakeError::MissingConnectionUpgrade`] — no `Connection` header with the token `Upgrade`;
    /// - [`HandshakeError::UnsupportedVersion`] — `Sec-WebSocket-Version` missing or not `13`;
    /// - [`HandshakeError::MissingKey`] or [`HandshakeError::InvalidKey`] for `Sec-WebSocket-Key`;
    /// - [`HandshakeError::DuplicateHeader`] for a repeated `Sec-WebSocket-Version`,
    ///   `Sec-WebSocket-Key` or `Origin`, or more than [`MAX_PROTOCOL_LINES`]
    ///   `Sec-WebSocket-Protocol` lines;
    /// - [`HandshakeError::Http`] with [`HttpErrorKind::HeaderValue`] when `Host`,
    ///   `Origin` or `Sec-WebSocket-Protocol` is not UTF-8.
    pub fn upgrade(&self) -> Result<Upgrade<'b>, HandshakeError> {
        // 4.1: "The method of the request MUST be GET, and the HTTP version MUST be at least 1.1."
        if self.method != "GET" {
            return Err(HandshakeError::NotGet);
        }
        let f = UpgradeFields::scan(self.headers);
        // Checked before the version: a proxy that drops `Upgrade` (nginx without
        // `proxy_set_header Upgrade`) usually forwards HTTP/1.0 as well.
        if !f.upgrade_present && (f.key.first.is_some() || f.version.first.is_some()) {
            return Err(HandshakeError::UpgradeStripped);
        }
        if self.version != 1 {
            return Err(HandshakeError::HttpVersion);
        }
        let single = |field: Single<'b>, name| {
            if field.repeated {
                Err(HandshakeError::DuplicateHeader(name))
            } else {
                Ok(field.first)
            }
        };
        // 4.1: "The request MUST contain a |Host| header field".
        let host = single(f.host, HeaderField::Host)?.ok_or(HandshakeError::MissingHost)?;
        // 4.1: "The request MUST contain an |Upgrade| header field whose value MUST include
        // the "websocket" keyword."
        if !f.upgrade_websocket {
            return Err(HandshakeError::MissingUpgrade);
        }
        // 4.1: "The request MUST contain a |Connection| header field whose value MUST
        // include the "Upgrade" token."
        if !f.connection_upgrade {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        // 4.1: "The value of this header field MUST be 13." 4.4: otherwise answer with
        // 426 and the versions we support.
        match single(f.version, HeaderField::SecWebSocketVersion)? {
            Some(b"13") => {}
            _ => return Err(HandshakeError::UnsupportedVersion),
        }
        // 4.1: the key "MUST be a nonce consisting of a randomly selected 16-byte value
        // that has been base64-encoded"; 11.3.1: it "MUST NOT appear more than once".
        let key = single(f.key, HeaderField::SecWebSocketKey)?.ok_or(HandshakeError::MissingKey)?;
        if !is_valid_key(key) {
            return Err(HandshakeError::InvalidKey);
        }
        let origin = single(f.origin, HeaderField::Origin)?;
        // Line by line, as received: a line that is not UTF-8 fails before a line too many.
        let mut protocol_lines = [None; MAX_PROTOCOL_LINES];
        for (slot, line) in protocol_lines.iter_mut().zip(f.protocol_lines) {
            *slot = line.map(|line| text(self.text, line)).transpose()?;
        }
        if f.protocol_count > MAX_PROTOCOL_LINES {
            return Err(HandshakeError::DuplicateHeader(HeaderField::SecWebSocketProtocol));
        }
        Ok(Upgrade {
            key: text(self.text, key).map_err(|_| HandshakeError::InvalidKey)?,
            host: text(self.text, host)?,
            origin: origin.map(|origin| text(self.text, origin)).transpose()?,
            protocol_lines,
            extensions_header: f.extensions.map(|v| text(self.text, trim_ows(v))).transpose()?,
        })
    }
}

/// A header value the caller gets as text: taken from `known`, a UTF-8 prefix of the
/// buffer, when `value` lies inside it (found by address: then the bytes are the same
/// memory), else checked.
fn text<'b>(known: &'b str, value: &'b [u8]) -> Result<&'b str, HandshakeError> {
    let offset = (value.as_ptr() as usize).wrapping_sub(known.as_ptr() as usize);
    match known.get(offset..offset.wrapping_add(value.len())) {
        Some(text) if offset <= known.len() => Ok(text),
        _ => core::str::from_utf8(value)
            .map_err(|_| HandshakeError::Http(HttpErrorKind::HeaderValue)),
    }
}

/// A checked WebSocket upgrade request: what the server needs to answer it.
#[derive(Debug, Clone, Copy)]
pub struct Upgrade<'b> {
    /// The `Sec-WebSocket-Key` value (valid base64 of 16 bytes).
    pub key: &'b str,
    /// The `Host` value.
    pub host: &'b str,
    /// The `Origin` value, sent by browsers. A server reachable from browsers should
    /// check it against the origins it trusts (RFC 6455 section 10.2).
    pub origin: Option<&'b str>,
    protocol_lines: [Option<&'b str>; MAX_PROTOCOL_LINES],
    extensions_header: Option<&'b str>,
}

impl<'b> Upgrade<'b> {
    /// The subprotocols the client offers, in order, across all
    /// `Sec-WebSocket-Protocol` lines and their comma-separated lists.
    ///
    /// ```
    /// # use wscodec::{handshake::server, Status};
    /// # let wire = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    /// #   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
    /// #   Sec-WebSocket-Protocol: chat , superchat\r\nSec-WebSocket-Protocol: v2\r\n\r\n";
    /// # let mut headers = [httparse::EMPTY_HEADER; 16];
    /// # let Status::Complete { value: request, .. } = server::parse_request(wire, &mut headers)? else { panic!() };
    /// let upgrade = request.upgrade()?;
    /// assert!(upgrade.protocols().eq(["chat", "superchat", "v2"]));
    /// # Ok::<(), wscodec::HandshakeError>(())
    /// ```
    pub fn protocols(&self) -> impl Iterator<Item = &'b str> {
        let lines = self.protocol_lines;
        lines
            .into_iter()
            .flatten()
            .flat_map(|line| line.split(','))
            .map(super::trim_ows_str)
            .filter(|p| !p.is_empty())
    }

    /// Whether the client offers subprotocol `name` (compared exactly, as RFC 6455
    /// subprotocol names are case-sensitive).
    pub fn offers_protocol(&self, name: &str) -> bool {
        self.protocols().any(|p| p == name)
    }

    /// The first `Sec-WebSocket-Extensions` value the client sent, e.g.
    /// `permessage-deflate; client_max_window_bits`, for logging.
    ///
    /// This crate implements no extensions: [`write_accept`] never accepts any, which
    /// RFC 6455 section 9.1 allows, and the client then runs without them.
    pub fn extensions_header(&self) -> Option<&'b str> {
        self.extensions_header
    }

    /// The `Sec-WebSocket-Accept` value that answers this request.
    pub fn accept_key(&self) -> [u8; ACCEPT_KEY_LEN] {
        accept_key(self.key.as_bytes())
    }
}

/// Parses an HTTP request head from the start of `buf`.
///
/// Only HTTP syntax is checked; call [`Request::upgrade`] for the WebSocket rules. On
/// success, `consumed` is the length of the head including the final blank line: any
/// bytes after it already belong to the WebSocket connection.
///
/// The parser is this crate's own (faster for upgrade requests, and free of panic paths),
/// and accepts and rejects exactly what `httparse::Request::parse` 1.10 does, with the same
/// `consumed`, request line and headers (trailing spaces and tabs trimmed from values), and
/// the same error kinds; a test and a fuzz target compare the two.
///
/// # Errors
///
/// [`HandshakeError::Http`] for malformed HTTP, [`HandshakeError::TooManyHeaders`] when
/// `headers` is too short (see [`MAX_HEADERS`](super::MAX_HEADERS)).
///
/// An incomplete head is `Ok(Status::Partial { needed: 1 })`: read more and call again
/// with the longer buffer. When the buffer is full and still partial, answer
/// [`HandshakeError::HeadersTooLarge`].
///
/// # Examples
///
/// ```
/// use wscodec::{handshake::server, Status};
/// let mut headers = [httparse::EMPTY_HEADER; 4];
/// let partial = server::parse_request(b"GET / HTTP/1.1\r\nHost: a\r\n", &mut headers)?;
/// assert_eq!(partial.is_complete(), false);
/// # Ok::<(), wscodec::HandshakeError>(())
/// ```
pub fn parse_request<'h, 'b>(
    buf: &'b [u8],
    headers: &'h mut [httparse::Header<'b>],
) -> Result<Status<Request<'h, 'b>>, HandshakeError> {
    let Some(head) = request_head::parse(buf, headers)? else {
        return Ok(Status::Partial { needed: 1 });
    };
    let headers: &'h [httparse::Header<'b>] = headers;
    Ok(Status::Complete {
        value: Request {
            method: head.method,
            path: head.path,
            version: head.version,
            headers: headers.get(..head.headers).unwrap_or_default(),
            text: head.text,
        },
        consumed: head.consumed,
    })
}

/// Writes the `101 Switching Protocols` response that accepts `upgrade`.
///
/// `protocol` is the subprotocol the server selects, which must be one the client
/// offered ([`Upgrade::offers_protocol`]). `extra_headers` are written as given (e.g.
/// `Set-Cookie`). No `Sec-WebSocket-Extensions` is sent: offered extensions such as
/// `permessage-deflate` are declined by omission.
///
/// # Errors
///
/// - [`HandshakeError::UnofferedProtocol`] — `protocol` was not offered;
/// - [`HandshakeError::InvalidHeaderValue`] — `protocol` is not a token, or an extra
///   header name is not a token or its value holds CR, LF or other control bytes;
/// - [`HandshakeError::BufferTooSmall`] — `out` is too short; nothing was written.
///
/// # Examples
///
/// See the [module documentation](self).
pub fn write_accept(
    upgrade: &Upgrade<'_>,
    protocol: Option<&str>,
    extra_headers: &[(&str, &str)],
    out: &mut [u8],
) -> Result<usize, HandshakeError> {
    if let Some(p) = protocol {
        check_token(p)?;
        // 4.2.2: the selected subprotocol must be one of the client's values.
        if !upgrade.offers_protocol(p) {
            return Err(HandshakeError::UnofferedProtocol);
        }
    }
    check_headers(extra_headers)?;
    if protocol.is_none() && extra_headers.is_empty() {
        return write_plain_accept(upgrade, out);
    }
    let accept = upgrade.accept_key();
    measured(out, |c| {
        c.put(ACCEPT_HEAD);
        c.put(&accept);
        c.put(b"\r\n");
        if let Some(p) = protocol {
            c.header("Sec-WebSocket-Protocol", p.as_bytes());
        }
        for (name, value) in extra_headers {
            c.header(name, value.as_bytes());
        }
        c.put(b"\r\n");
    })
}

/// The constant start of every `101` response, up to the accept value.
const ACCEPT_HEAD: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Accept: ";

/// [`write_accept`] without a subprotocol or extra headers: three copies into `out`.
fn write_plain_accept(upgrade: &Upgrade<'_>, out: &mut [u8]) -> Result<usize, HandshakeError> {
    const LEN: usize = ACCEPT_HEAD.len() + ACCEPT_KEY_LEN + 4;
    let Some((response, _)) = out.split_first_chunk_mut::<LEN>() else {
        return Err(HandshakeError::BufferTooSmall { needed: LEN });
    };
    let (head, rest) = response.split_at_mut(ACCEPT_HEAD.len());
    head.copy_from_slice(ACCEPT_HEAD);
    let (accept, end) = rest.split_at_mut(ACCEPT_KEY_LEN);
    accept.copy_from_slice(&upgrade.accept_key());
    end.copy_from_slice(b"\r\n\r\n");
    Ok(LEN)
}

/// The standard reason phrase for `status`.
const fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        100..=199 => "Informational",
        200..=299 => "OK",
        300..=399 => "Redirection",
        401..=499 => "Client Error",
        _ => "Server Error",
    }
}

/// Writes a complete HTTP/1.1 error response that refuses the upgrade.
///
/// The status line carries the standard reason phrase for 400, 403, 404, 405, 426,
/// 431, 500, 502, 503 and 505 (a generic one otherwise). The body is `reason` and a
/// newline, as `text/plain; charset=utf-8`, with `Content-Length` and
/// `Connection: close`: close the transport after sending it. A 426 also carries
/// `Upgrade: websocket` and `Sec-WebSocket-Version: 13` (RFC 6455 section 4.4), a 405
/// carries `Allow: GET`.
///
/// # Errors
///
/// - [`HandshakeError::InvalidHeaderValue`] — `status` is not three digits (100–999);
/// - [`HandshakeError::BufferTooSmall`] — `out` is too short; nothing was written.
///
/// # Examples
///
/// ```
/// let mut out = [0u8; 256];
/// let n = wscodec::handshake::server::write_reject(403, "origin not allowed", &mut out)?;
/// assert_eq!(
///     &out[..n],
///     b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n\
///       Content-Length: 19\r\nConnection: close\r\n\r\norigin not allowed\n"
/// );
/// # Ok::<(), wscodec::HandshakeError>(())
/// ```
pub fn write_reject(status: u16, reason: &str, out: &mut [u8]) -> Result<usize, HandshakeError> {
    write_response(status, &[Piece::Text(reason)], status == 426, out)
}

/// Like [`write_reject`], and always adds `Sec-WebSocket-Version: 13`.
///
/// For servers that answer a version mismatch with 400, as the example in RFC 6455
/// section 4.4 does, rather than with 426.
///
/// # Errors
///
/// As [`write_reject`].
pub fn write_version_reject(
    status: u16,
    reason: &str,
    out: &mut [u8],
) -> Result<usize, HandshakeError> {
    write_response(status, &[Piece::Text(reason)], true, out)
}

/// Writes the response that refuses a request failing with `error`.
///
/// Equivalent to [`write_reject`]`(error.status(), <error text>, out)`; version errors get
/// 426 with `Sec-WebSocket-Version: 13`, header overflows 431.
///
/// # Errors
///
/// [`HandshakeError::BufferTooSmall`] if `out` is too short; nothing was written.
///
/// # Examples
///
/// ```
/// use wscodec::{handshake::server, HandshakeError};
/// let mut out = [0u8; 256];
/// let n = server::write_error(HandshakeError::UnsupportedVersion, &mut out)?;
/// let response = core::str::from_utf8(&out[..n]).unwrap();
/// assert!(response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
/// assert!(response.contains("\r\nSec-WebSocket-Version: 13\r\n"));
/// # Ok::<(), wscodec::HandshakeError>(())
/// ```
pub fn write_error(error: HandshakeError, out: &mut [u8]) -> Result<usize, HandshakeError> {
    let version = matches!(error, HandshakeError::UnsupportedVersion);
    write_response(error.status(), &error.pieces(), version, out)
}

fn write_response(
    status: u16,
    body: &[Piece<'_>],
    version: bool,
    out: &mut [u8],
) -> Result<usize, HandshakeError> {
    if !(100..=999).contains(&status) {
        return Err(HandshakeError::InvalidHeaderValue);
    }
    // The body is the message and a line end, written piece by piece (no `core::fmt`).
    let write_body = |c: &mut Cursor<'_>| {
        for piece in body {
            match *piece {
                Piece::Text(text) => c.put(text.as_bytes()),
                Piece::Number(n) => c.put_usize(n),
            }
        }
        c.put(b"\n");
    };
    let mut probe = Cursor::new(&mut []);
    write_body(&mut probe);
    let body_len = probe.len();
    measured(out, |c| {
        c.put(b"HTTP/1.1 ");
        c.put_usize(usize::from(status));
        c.put(b" ");
        c.put(reason_phrase(status).as_bytes());
        c.put(b"\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ");
        c.put_usize(body_len);
        c.put(b"\r\nConnection: close\r\n");
        if status == 405 {
            c.put(b"Allow: GET\r\n");
        }
        if status == 426 {
            c.put(b"Upgrade: websocket\r\n");
        }
        if version {
            c.put(b"Sec-WebSocket-Version: 13\r\n");
        }
        c.put(b"\r\n");
        write_body(c);
    })
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::format;

    use super::*;
    use crate::handshake::MAX_HEADERS;

    const CHROMIUM: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
\r\n";

    const PYTHON_WEBSOCKETS: &[u8] = b"GET /ws HTTP/1.1\r\n\
Host: localhost:8765\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n\
Sec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
User-Agent: Python/3.12 websockets/12.0\r\n\
\r\n";

    fn parse<'h, 'b>(
        buf: &'b [u8],
        headers: &'h mut [httparse::Header<'b>],
    ) -> Result<(Request<'h, 'b>, usize), HandshakeError> {
        match parse_request(buf, headers)? {
            Status::Complete { value, consumed } => Ok((value, consumed)),
            Status::Partial { .. } => panic!("partial: {:?}", core::str::from_utf8(buf)),
        }
    }

    fn upgrade_of(buf: &[u8]) -> Result<(), HandshakeError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        parse(buf, &mut headers)?.0.upgrade().map(|_| ())
    }

    #[test]
    fn chromium_request_upgrades() {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let (req, consumed) = parse(CHROMIUM, &mut headers).unwrap();
        assert_eq!(consumed, CHROMIUM.len());
        assert_eq!((req.method, req.path, req.version), ("GET", "/chat", 1));
        assert_eq!(req.headers().len(), 12);
        assert_eq!(req.header("pragma"), Some(&b"no-cache"[..]));
        assert!(req.is_upgrade());
        let up = req.upgrade().unwrap();
        assert_eq!(up.host, "server.example.com");
        assert_eq!(up.origin, Some("http://example.com"));
        assert_eq!(up.key, "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(&up.accept_key(), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(up.protocols().count(), 0);
        assert_eq!(up.extensions_header(), Some("permessage-deflate; client_max_window_bits"));
    }

    #[test]
    fn python_websockets_request_upgrades() {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let (req, _) = parse(PYTHON_WEBSOCKETS, &mut headers).unwrap();
        let up = req.upgrade().unwrap();
        assert_eq!((up.host, up.origin, req.path), ("localhost:8765", None, "/ws"));
        // RFC 6455 section 4.2.2's second example key.
        assert_eq!(&up.accept_key(), b"HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
    }

    #[test]
    fn connection_and_upgrade_tokens_are_lenient() {
        let wire = b"GET / HTTP/1.1\r\nHost: h\r\nupgrade: WebSocket\r\n\
            Connection: keep-alive, Upgrade\r\nsec-websocket-key:  dGhlIHNhbXBsZSBub25jZQ== \r\n\
            SEC-WEBSOCKET-VERSION: 13\r\n\r\n";
        assert_eq!(upgrade_of(wire), Ok(()));
    }

    #[test]
    fn bad_requests_fail_with_their_error_and_status() {
        const KEY: &str = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        macro_rules! case {
            ($name:literal, $wire:expr, $err:expr, $status:literal) => {{
                let wire: &str = $wire;
                let err: HandshakeError = $err;
                assert_eq!(upgrade_of(wire.as_bytes()), Err(err), "{}", $name);
                assert_eq!(err.status(), $status, "{}", $name);
            }};
        }
        let ok_tail = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
        case!(
            "no host",
            &format!("GET / HTTP/1.1\r\n{ok_tail}{KEY}\r\n"),
            HandshakeError::MissingHost,
            400
        );
        case!(
            "two hosts",
            &format!("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n{ok_tail}{KEY}\r\n"),
            HandshakeError::DuplicateHeader(HeaderField::Host),
            400
        );
        case!(
            "post",
            &format!("POST / HTTP/1.1\r\nHost: h\r\n{ok_tail}{KEY}\r\n"),
            HandshakeError::NotGet,
            405
        );
        case!(
            "http/1.0",
            &format!("GET / HTTP/1.0\r\nHost: h\r\n{ok_tail}{KEY}\r\n"),
            HandshakeError::HttpVersion,
            505
        );
        case!(
            "no upgrade header, but the key and version",
            &format!("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n{KEY}\r\n"),
            HandshakeError::UpgradeStripped,
            400
        );
        case!(
            "as nginx forwards it without proxy_set_header Upgrade",
            &format!("GET /chat HTTP/1.0\r\nHost: h\r\nConnection: close\r\n{KEY}Sec-WebSocket-Version: 13\r\n\r\n"),
            HandshakeError::UpgradeStripped,
            400
        );
        case!(
            "only a version header left",
            "GET / HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Version: 13\r\n\r\n",
            HandshakeError::UpgradeStripped,
            400
        );
        case!(
            "upgrade to h2c",
            &format!("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n{KEY}\r\n"),
            HandshakeError::MissingUpgrade,
            400
        );
        case!(
            "connection keep-alive only",
            &format!("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Version: 13\r\n{KEY}\r\n"),
            HandshakeError::MissingConnectionUpgrade,
            400
        );
        case!(
            "version 8",
            &format!("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n{KEY}\r\n"),
            HandshakeError::UnsupportedVersion,
            426
        );
        case!(
            "no version",
            &format!("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{KEY}\r\n"),
            HandshakeError::UnsupportedVersion,
            426
        );
        case!(
            "two versions",
            &format!(
                "GET / HTTP/1.1\r\nHost: h\r\n{ok_tail}Sec-WebSocket-Version: 13\r\n{KEY}\r\n"
            ),
            HandshakeError::DuplicateHeader(HeaderField::SecWebSocketVersion),
            400
        );
        case!(
            "key of 15 bytes",
            &format!("GET / HTTP/1.1\r\nHost: h\r\n{ok_tail}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\r\n\r\n"),
            HandshakeError::InvalidKey,
            400
        );
        case!(
            "key not base64",
            &format!("GET / HTTP/1.1\r\nHost: h\r\n{ok_tail}Sec-WebSocket-Key: not a key at all!!!!!!!\r\n\r\n"),
            HandshakeError::InvalidKey,
            400
        );
        case!(
            "missing key",
            &format!("GET / HTTP/1.1\r\nHost: h\r\n{ok_tail}\r\n"),
            HandshakeError::MissingKey,
            400
        );
        case!(
            "duplicate key",
            &format!("GET / HTTP/1.1\r\nHost: h\r\n{ok_tail}{KEY}{KEY}\r\n"),
            HandshakeError::DuplicateHeader(HeaderField::SecWebSocketKey),
            400
        );
        case!(
            "duplicate origin",
            &format!("GET / HTTP/1.1\r\nHost: h\r\n{ok_tail}{KEY}Origin: a\r\nOrigin: b\r\n\r\n"),
            HandshakeError::DuplicateHeader(HeaderField::Origin),
            400
        );
        case!(
            "too many protocol lines",
            &format!(
                "GET / HTTP/1.1\r\nHost: h\r\n{ok_tail}{KEY}{}\r\n",
                "Sec-WebSocket-Protocol: p\r\n".repeat(MAX_PROTOCOL_LINES + 1)
            ),
            HandshakeError::DuplicateHeader(HeaderField::SecWebSocketProtocol),
            400
        );
        case!(
            "too many headers",
            &format!(
                "GET / HTTP/1.1\r\nHost: h\r\n{ok_tail}{KEY}{}\r\n",
                "X-Filler: 1\r\n".repeat(MAX_HEADERS)
            ),
            HandshakeError::TooManyHeaders,
            431
        );
        case!(
            "garbage",
            "\x16\x03\x01\x02\x00\x01\x00\x01\x7f\x03\x03\r\n\r\n",
            HandshakeError::Http(HttpErrorKind::Token),
            400
        );
        case!(
            "bad header name",
            "GET / HTTP/1.1\r\nHo st: h\r\n\r\n",
            HandshakeError::Http(HttpErrorKind::HeaderName),
            400
        );
        case!(
            "HTTP/2.0",
            "GET / HTTP/2.0\r\n\r\n",
            HandshakeError::Http(HttpErrorKind::Version),
            400
        );
    }

    #[test]
    fn non_utf8_host_is_a_header_value_error() {
        let wire = b"GET / HTTP/1.1\r\nHost: \xff\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
            Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        assert_eq!(upgrade_of(wire), Err(HandshakeError::Http(HttpErrorKind::HeaderValue)));
    }

    #[test]
    fn plain_get_is_not_an_upgrade() {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let (req, _) = parse(b"GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n", &mut headers).unwrap();
        assert!(!req.is_upgrade());
        assert_eq!(req.upgrade().unwrap_err(), HandshakeError::MissingUpgrade);
    }

    #[test]
    fn a_stripped_upgrade_is_still_an_upgrade() {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let wire =
            b"GET / HTTP/1.0\r\nHost: h\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        let (req, _) = parse(wire, &mut headers).unwrap();
        assert!(req.is_upgrade());
        assert_eq!(req.upgrade().unwrap_err(), HandshakeError::UpgradeStripped);
    }

    #[test]
    fn every_truncation_of_a_request_is_partial() {
        for wire in [CHROMIUM, PYTHON_WEBSOCKETS] {
            for end in 0..wire.len() {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                assert_eq!(
                    parse_request(&wire[..end], &mut headers).map(|s| s.is_complete()),
                    Ok(false),
                    "cut at {end}"
                );
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                if let Status::Partial { needed } =
                    parse_request(&wire[..end], &mut headers).unwrap()
                {
                    assert_eq!(needed, 1);
                }
            }
        }
    }

    #[test]
    fn bytes_after_the_head_are_not_consumed() {
        let mut wire = PYTHON_WEBSOCKETS.to_vec();
        wire.extend_from_slice(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let (_, consumed) = parse(&wire, &mut headers).unwrap();
        assert_eq!(consumed, PYTHON_WEBSOCKETS.len());
    }

    fn chromium_upgrade_with_protocols<R>(f: impl FnOnce(Upgrade<'_>) -> R) -> R {
        let wire = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
            Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
            Sec-WebSocket-Protocol: chat,  superchat ,\r\nSec-WebSocket-Protocol: v2.json\r\n\
            Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let (req, _) = parse(wire, &mut headers).unwrap();
        f(req.upgrade().unwrap())
    }

    #[test]
    fn protocols_span_lines_and_lists() {
        chromium_upgrade_with_protocols(|up| {
            assert!(up.protocols().eq(["chat", "superchat", "v2.json"]));
            assert!(up.offers_protocol("superchat"));
            assert!(!up.offers_protocol("Chat"));
            assert!(!up.offers_protocol(""));
        });
    }

    #[test]
    fn accept_response_is_exact_and_declines_extensions() {
        chromium_upgrade_with_protocols(|up| {
            let mut out = [0u8; 256];
            let n = write_accept(&up, Some("chat"), &[("Set-Cookie", "a=b")], &mut out).unwrap();
            assert_eq!(
                core::str::from_utf8(&out[..n]).unwrap(),
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
                 Sec-WebSocket-Protocol: chat\r\nSet-Cookie: a=b\r\n\r\n"
            );
        });
    }

    #[test]
    fn plain_accept_response_is_exact() {
        chromium_upgrade_with_protocols(|up| {
            let mut out = [0xAAu8; 256];
            let n = write_accept(&up, None, &[], &mut out).unwrap();
            assert_eq!(
                core::str::from_utf8(&out[..n]).unwrap(),
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
            );
            assert!(out[n..].iter().all(|&b| b == 0xAA));
        });
    }

    #[test]
    fn accept_rejects_unoffered_protocol_and_injection() {
        chromium_upgrade_with_protocols(|up| {
            let mut out = [0u8; 256];
            assert_eq!(
                write_accept(&up, Some("mqtt"), &[], &mut out),
                Err(HandshakeError::UnofferedProtocol)
            );
            assert_eq!(
                write_accept(&up, Some("chat\r\nX: y"), &[], &mut out),
                Err(HandshakeError::InvalidHeaderValue)
            );
            assert_eq!(
                write_accept(&up, None, &[("X-Ok", "v\r\nSet-Cookie: evil")], &mut out),
                Err(HandshakeError::InvalidHeaderValue)
            );
            assert_eq!(
                write_accept(&up, None, &[("X-Bad:", "v")], &mut out),
                Err(HandshakeError::InvalidHeaderValue)
            );
            assert_eq!(out, [0u8; 256]);
        });
    }

    #[test]
    fn accept_into_a_short_buffer_reports_the_exact_size() {
        chromium_upgrade_with_protocols(|up| {
            let mut big = [0u8; 256];
            let n = write_accept(&up, None, &[], &mut big).unwrap();
            let mut small = [0xAAu8; 300];
            assert_eq!(
                write_accept(&up, None, &[], &mut small[..n - 1]),
                Err(HandshakeError::BufferTooSmall { needed: n })
            );
            assert!(small.iter().all(|&b| b == 0xAA));
            assert_eq!(write_accept(&up, None, &[], &mut small[..n]), Ok(n));
        });
    }

    #[test]
    fn reject_responses_table() {
        for (status, phrase) in [
            (400, "Bad Request"),
            (403, "Forbidden"),
            (404, "Not Found"),
            (405, "Method Not Allowed"),
            (426, "Upgrade Required"),
            (431, "Request Header Fields Too Large"),
            (500, "Internal Server Error"),
            (503, "Service Unavailable"),
            (505, "HTTP Version Not Supported"),
            (418, "Client Error"),
            (599, "Server Error"),
        ] {
            let mut out = [0u8; 512];
            let n = write_reject(status, "nope", &mut out).unwrap();
            let text = core::str::from_utf8(&out[..n]).unwrap();
            assert!(text.starts_with(&format!("HTTP/1.1 {status} {phrase}\r\n")), "{text}");
            assert!(text.contains("\r\nContent-Length: 5\r\n"), "{text}");
            assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
            assert!(text.ends_with("\r\n\r\nnope\n"), "{text}");
            assert_eq!(text.contains("Sec-WebSocket-Version: 13\r\n"), status == 426, "{text}");
            assert_eq!(text.contains("Allow: GET\r\n"), status == 405, "{text}");
            // The response parses as HTTP.
            let mut headers = [httparse::EMPTY_HEADER; 8];
            let mut resp = httparse::Response::new(&mut headers);
            assert_eq!(resp.parse(&out[..n]), Ok(httparse::Status::Complete(n - 5)));
            assert_eq!(resp.code, Some(status));
        }
    }

    #[test]
    fn reject_rejects_bad_status_and_short_buffers() {
        let mut out = [0u8; 16];
        assert_eq!(write_reject(99, "x", &mut out), Err(HandshakeError::InvalidHeaderValue));
        assert_eq!(write_reject(1000, "x", &mut out), Err(HandshakeError::InvalidHeaderValue));
        let mut big = [0u8; 256];
        let n = write_reject(400, "x", &mut big).unwrap();
        assert_eq!(
            write_reject(400, "x", &mut out),
            Err(HandshakeError::BufferTooSmall { needed: n })
        );
    }

    #[test]
    fn version_reject_offers_version_13_with_400() {
        let mut out = [0u8; 256];
        let n = write_version_reject(400, "bad version", &mut out).unwrap();
        let text = core::str::from_utf8(&out[..n]).unwrap();
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"));
    }

    #[test]
    fn error_response_uses_status_and_display_text() {
        let mut out = [0u8; 512];
        let err = HandshakeError::DuplicateHeader(HeaderField::SecWebSocketKey);
        let n = write_error(err, &mut out).unwrap();
        let text = core::str::from_utf8(&out[..n]).unwrap();
        let body = format!("{err}\n");
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(text.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
        assert!(text.ends_with(&format!("\r\n\r\n{body}")));
        assert!(!text.contains("Sec-WebSocket-Version"));

        let n = write_error(HandshakeError::TooManyHeaders, &mut out).unwrap();
        assert!(out[..n].starts_with(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    }

    /// The body is written without `core::fmt`, from the same pieces `Display` prints:
    /// they must agree for every error, numbers included.
    #[test]
    fn error_body_is_the_display_text_for_every_error() {
        use crate::handshake::HttpErrorKind as K;
        let errors = [
            HandshakeError::Http(K::Token),
            HandshakeError::Http(K::NewLine),
            HandshakeError::Http(K::HeaderValue),
            HandshakeError::TooManyHeaders,
            HandshakeError::HeadersTooLarge,
            HandshakeError::NotGet,
            HandshakeError::HttpVersion,
            HandshakeError::MissingHost,
            HandshakeError::MissingUpgrade,
            HandshakeError::UpgradeStripped,
            HandshakeError::MissingConnectionUpgrade,
            HandshakeError::MissingKey,
            HandshakeError::InvalidKey,
            HandshakeError::DuplicateHeader(HeaderField::Origin),
            HandshakeError::UnsupportedVersion,
            HandshakeError::UnexpectedStatus(0),
            HandshakeError::UnexpectedStatus(404),
            HandshakeError::UnexpectedStatus(u16::MAX),
            HandshakeError::InvalidAccept,
            HandshakeError::MissingAccept,
            HandshakeError::UnofferedProtocol,
            HandshakeError::UnofferedExtension,
            HandshakeError::BufferTooSmall { needed: 1234 },
            HandshakeError::BufferTooSmall { needed: usize::MAX },
            HandshakeError::InvalidHeaderValue,
        ];
        let mut out = [0u8; 512];
        for err in errors {
            let n = write_error(err, &mut out).unwrap();
            let text = core::str::from_utf8(&out[..n]).unwrap();
            let body = format!("{err}\n");
            assert!(text.ends_with(&format!("\r\n\r\n{body}")), "{err:?}: {text}");
            assert!(text.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
        }
        assert_eq!(
            format!("{}", HandshakeError::UnexpectedStatus(404)),
            "server answered with status 404 instead of 101 Switching Protocols: \
             check the URL and the server logs"
        );
    }
}
