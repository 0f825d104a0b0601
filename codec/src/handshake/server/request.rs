//! The request side of the server handshake: [`parse_request`], and [`Request::validate`],
//! which checks it is a WebSocket upgrade and gives the [`Upgrade`] details.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use crate::handshake::accept_key::{accept_of, valid_key, ACCEPT_KEY_LEN, KEY_LEN};
use crate::handshake::fields::{
    UpgradeFields, CONNECTION_UPGRADE, HOST, KEY, MAX_PROTOCOL_LINES, ORIGIN, PROTOCOL,
    PROTOCOL_SLOTS, UPGRADE, UPGRADE_WEBSOCKET, VERSION,
};
use crate::handshake::head;
use crate::handshake::header::{find, list_items, Header};
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
    /// The fields the upgrade checks, recorded as the headers were parsed.
    fields: UpgradeFields<'b>,
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
        let lines = self.fields.lines;
        lines[UPGRADE] | lines[KEY] | lines[VERSION] != 0
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
        let f = &self.fields;
        // 4.1: "The method of the request MUST be GET, and the HTTP version MUST be at least 1.1."
        if self.method != "GET" {
            return Err(HandshakeError::NotGet);
        }
        // Checked before the version: a proxy that drops `Upgrade` (nginx without
        // `proxy_set_header Upgrade`) usually forwards HTTP/1.0 as well.
        if f.lines[UPGRADE] == 0 && self.is_upgrade() {
            return Err(HandshakeError::UpgradeStripped);
        }
        if self.version != 1 {
            return Err(HandshakeError::HttpVersion);
        }
        let [host, origin, key, version, extensions, protocols @ ..] = f.values;
        // The value of a field that may appear once: `None` if absent. A value that is
        // not UTF-8 is empty here (and flagged in `not_utf8`).
        let single = |i: usize, value: Option<&'b str>, name| match f.lines.get(i) {
            Some(0) => Ok(None),
            Some(1) => Ok(Some(value.unwrap_or_default())),
            _ => Err(HandshakeError::DuplicateHeader(name)),
        };
        // 4.1: "The request MUST contain a |Host| header field".
        let host = single(HOST, host, HeaderField::Host)?.ok_or(HandshakeError::MissingHost)?;
        // 4.1: "The request MUST contain an |Upgrade| header field whose value MUST include
        // the "websocket" keyword."
        if f.tokens & UPGRADE_WEBSOCKET == 0 {
            return Err(HandshakeError::MissingUpgrade);
        }
        // 4.1: "The request MUST contain a |Connection| header field whose value MUST
        // include the "Upgrade" token."
        if f.tokens & CONNECTION_UPGRADE == 0 {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        // 4.1: "The value of this header field MUST be 13." 4.4: otherwise answer with
        // 426 and the versions we support.
        if single(VERSION, version, HeaderField::SecWebSocketVersion)? != Some("13") {
            return Err(HandshakeError::UnsupportedVersion);
        }
        // 4.1: the key "MUST be a nonce consisting of a randomly selected 16-byte value
        // that has been base64-encoded"; 11.3.1: it "MUST NOT appear more than once".
        let key =
            single(KEY, key, HeaderField::SecWebSocketKey)?.ok_or(HandshakeError::MissingKey)?;
        let key_bytes = valid_key(key.as_bytes()).ok_or(HandshakeError::InvalidKey)?;
        let origin = single(ORIGIN, origin, HeaderField::Origin)?;
        // Line by line, as received: a line that is not UTF-8 fails before a line too
        // many. (A `Sec-WebSocket-Version` or `-Key` that is not UTF-8 failed above.)
        let not_utf8 = || Err(HandshakeError::Http(HttpErrorKind::HeaderValue));
        if f.not_utf8 & PROTOCOL_SLOTS != 0 {
            return not_utf8();
        }
        if usize::from(f.lines[PROTOCOL]) > MAX_PROTOCOL_LINES {
            return Err(HandshakeError::DuplicateHeader(HeaderField::SecWebSocketProtocol));
        }
        if f.not_utf8 != 0 {
            return not_utf8();
        }
        Ok(Upgrade {
            key,
            host,
            origin,
            key_bytes,
            protocol_lines: protocols,
            extensions_header: extensions,
        })
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
    /// `key` as checked, which [`accept_key`](Self::accept_key) answers.
    key_bytes: &'b [u8; KEY_LEN],
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

    /// The `Sec-WebSocket-Accept` value that answers this request (its key as it was
    /// checked, whatever `key` is set to since).
    pub fn accept_key(&self) -> [u8; ACCEPT_KEY_LEN] {
        accept_of(self.key_bytes)
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
/// it checks the head's text as UTF-8 once and records the fields of a WebSocket upgrade
/// as it reads the headers, so that [`Request::validate`] makes no second pass over them
/// and no UTF-8 check per value. On its own it is not faster than httparse
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
    let mut fields = UpgradeFields::default();
    let record = |name, value, text| fields.record(name, value, text);
    let Some(head) = head::parse_request(buf, headers, record)? else {
        return Ok(Status::Partial { needed: 1 });
    };
    let headers: &'h [Header<'b>] = headers;
    Ok(Status::Complete {
        value: Request {
            method: head.method,
            path: head.path,
            version: head.version,
            headers: headers.get(..head.headers).unwrap_or_default(),
            fields,
        },
        consumed: head.consumed,
    })
}
