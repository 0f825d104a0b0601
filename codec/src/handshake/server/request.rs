//! The request side of the server handshake: [`parse_request`], and [`Request::validate`],
//! which checks it is a WebSocket upgrade and gives the [`Upgrade`] details.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use crate::handshake::accept_key::{accept_key, is_valid_key, ACCEPT_KEY_LEN};
use crate::handshake::fields::{Single, UpgradeFields, MAX_PROTOCOL_LINES};
use crate::handshake::head;
use crate::handshake::header::{find, list_items, trim_ows, Header};
use crate::handshake::{HandshakeError, HeaderField, HttpErrorKind};
use crate::Status;

/// A parsed HTTP request head, not yet checked as a WebSocket upgrade.
#[derive(Clone, Copy)]
pub struct Request<'h, 'b> {
    /// The method, e.g. `GET`.
    pub method: &'b str,
    /// The request target, e.g. `/chat?room=1`.
    pub path: &'b str,
    /// The HTTP minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub version: u8,
    headers: &'h [Header<'b>],
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
    pub fn headers(&self) -> &'h [Header<'b>] {
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
    /// (possibly broken) WebSocket upgrade before calling [`validate`](Self::validate);
    /// [`handle_request`](super::handle_request) does so.
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
    pub fn validate(&self) -> Result<Upgrade<'b>, HandshakeError> {
        self.validate_fields(UpgradeFields::scan(self.headers))
    }

    /// [`validate`](Self::validate) on the fields of this request's headers, scanned.
    pub(super) fn validate_fields(
        &self,
        f: UpgradeFields<'b>,
    ) -> Result<Upgrade<'b>, HandshakeError> {
        // 4.1: "The method of the request MUST be GET, and the HTTP version MUST be at least 1.1."
        if self.method != "GET" {
            return Err(HandshakeError::NotGet);
        }
        // Checked before the version: a proxy that drops `Upgrade` (nginx without
        // `proxy_set_header Upgrade`) usually forwards HTTP/1.0 as well.
        if !f.upgrade && (f.key.first.is_some() || f.version.first.is_some()) {
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
    /// # let mut headers = [wscodec::handshake::Header::EMPTY; 16];
    /// # let Status::Complete { value: request, .. } = server::parse_request(wire, &mut headers)? else { panic!() };
    /// let upgrade = request.validate()?;
    /// assert!(upgrade.protocols().eq(["chat", "superchat", "v2"]));
    /// # Ok::<(), wscodec::HandshakeError>(())
    /// ```
    pub fn protocols(&self) -> impl Iterator<Item = &'b str> {
        let lines = self.protocol_lines;
        lines.into_iter().flatten().flat_map(list_items)
    }

    /// Whether the client offers subprotocol `name` (compared exactly, as RFC 6455
    /// subprotocol names are case-sensitive).
    pub fn offers_protocol(&self, name: &str) -> bool {
        self.protocols().any(|p| p == name)
    }

    /// The first `Sec-WebSocket-Extensions` value the client sent, e.g.
    /// `permessage-deflate; client_max_window_bits`, for logging.
    ///
    /// This crate implements no extensions: [`write_accept`](super::write_accept) never
    /// accepts any, which RFC 6455 section 9.1 allows, and the client then runs without
    /// them.
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
/// Only HTTP syntax is checked; call [`Request::validate`] for the WebSocket rules, or
/// use [`handle_request`](super::handle_request), which does all of it. On
/// success, `consumed` is the length of the head including the final blank line: any
/// bytes after it already belong to the WebSocket connection.
///
/// The parser is this crate's own. It accepts and rejects exactly what
/// `httparse::Request::parse` 1.10 does, with the same `consumed`, request line and headers
/// (trailing spaces and tabs trimmed from values), and the same error kinds; a test and a
/// fuzz target compare the two. It is free of panic paths (`tests/panic_never.rs`), and
/// it checks the head's text as UTF-8 once, so that [`Request::validate`] takes header
/// values as `str` without a check each. On its own it is not faster than httparse
/// (`BENCHMARKS.md`); parsing and validating together are.
///
/// # Errors
///
/// [`HandshakeError::Http`] for malformed HTTP, [`HandshakeError::TooManyHeaders`] when
/// `headers` is too short (see [`MAX_HEADERS`](crate::handshake::MAX_HEADERS)).
///
/// An incomplete head is `Ok(Status::Partial { needed: 1 })`: read more and call again
/// with the longer buffer. When the buffer is full and still partial, answer
/// [`HandshakeError::HeadersTooLarge`].
///
/// # Examples
///
/// ```
/// use wscodec::{handshake::server, Status};
/// use wscodec::handshake::Header;
/// let mut headers = [Header::EMPTY; 4];
/// let partial = server::parse_request(b"GET / HTTP/1.1\r\nHost: a\r\n", &mut headers)?;
/// assert_eq!(partial.is_complete(), false);
/// # Ok::<(), wscodec::HandshakeError>(())
/// ```
pub fn parse_request<'h, 'b>(
    buf: &'b [u8],
    headers: &'h mut [Header<'b>],
) -> Result<Status<Request<'h, 'b>>, HandshakeError> {
    let Some(head) = head::parse_request(buf, headers)? else {
        return Ok(Status::Partial { needed: 1 });
    };
    let headers: &'h [Header<'b>] = headers;
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
