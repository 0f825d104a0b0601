//! The client side of the opening handshake (RFC 6455 sections 4.1 and 4.2.2).
//!
//! Build a [`ClientRequest`] with a fresh random nonce, send what
//! [`encode`](ClientRequest::encode) writes, read the reply into a buffer until
//! [`parse_response`] is complete, then [`validate`](Response::validate) it against the
//! same request.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::accept_key::{accept_of, encode_key, ACCEPT_KEY_LEN, KEY_LEN};
use super::head;
use super::header::{find, has_token, single, Header};
use super::write::{check_headers, check_token, check_value, check_visible, measured};
use super::{HandshakeError, HeaderField, HttpErrorKind};
use crate::Status;

/// The opening handshake request a client sends.
///
/// # Examples
///
/// ```
/// use wscodec::handshake::client::ClientRequest;
/// let nonce = *b"the sample nonce"; // use 16 fresh random bytes for each connection
/// let request = ClientRequest {
///     protocols: &["chat", "superchat"],
///     origin: Some("http://example.com"),
///     ..ClientRequest::new("server.example.com", "/chat", nonce)
/// };
/// let mut out = [0u8; 512];
/// let n = request.encode(&mut out)?;
/// assert_eq!(
///     core::str::from_utf8(&out[..n]).unwrap(),
///     "GET /chat HTTP/1.1\r\n\
///      Host: server.example.com\r\n\
///      Upgrade: websocket\r\n\
///      Connection: Upgrade\r\n\
///      Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///      Sec-WebSocket-Version: 13\r\n\
///      Origin: http://example.com\r\n\
///      Sec-WebSocket-Protocol: chat, superchat\r\n\
///      \r\n"
/// );
/// assert_eq!(&request.expected_accept(), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// # Ok::<(), wscodec::HandshakeError>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClientRequest<'a> {
    /// The `Host` value: the server's host name, with `:port` if not the default.
    pub host: &'a str,
    /// The request target, e.g. `/chat?room=1`; empty means `/`.
    pub path: &'a str,
    /// 16 random bytes, fresh for each connection, encoded as `Sec-WebSocket-Key`.
    pub nonce: [u8; 16],
    /// An `Origin` to send, as browsers do.
    pub origin: Option<&'a str>,
    /// Subprotocols to offer in `Sec-WebSocket-Protocol`, in order of preference.
    pub protocols: &'a [&'a str],
    /// Extra headers (name, value), e.g. `Authorization`.
    pub headers: &'a [(&'a str, &'a str)],
    /// A `Sec-WebSocket-Extensions` offer, e.g. permessage-deflate's
    /// ([`deflate::Offer::header_value`](crate::deflate) with the `deflate` feature). Whoever
    /// sets it checks the server's answer: [`Response::validate`] then lets a
    /// `Sec-WebSocket-Extensions` response header through.
    pub extensions: Option<&'a str>,
}

impl<'a> ClientRequest<'a> {
    /// A request for `path` on `host` with no origin, subprotocols or extra headers.
    pub const fn new(host: &'a str, path: &'a str, nonce: [u8; 16]) -> Self {
        Self { host, path, nonce, origin: None, protocols: &[], headers: &[], extensions: None }
    }

    /// The `Sec-WebSocket-Key` value: base64 of the nonce.
    pub fn key(&self) -> [u8; KEY_LEN] {
        encode_key(self.nonce)
    }

    /// The `Sec-WebSocket-Accept` value a genuine server answers with.
    pub fn expected_accept(&self) -> [u8; ACCEPT_KEY_LEN] {
        accept_of(&self.key())
    }

    /// Writes the request head into `out` and returns its length.
    ///
    /// The head ends with the blank line; nothing follows it.
    /// `Sec-WebSocket-Extensions` is sent only with [`extensions`](Self::extensions).
    ///
    /// # Errors
    ///
    /// - [`HandshakeError::InvalidHeaderValue`] — `host` is empty or not visible ASCII;
    ///   `path` does not start with `/` or is not visible ASCII; `origin` or an extra
    ///   header value holds CR, LF, NUL or other control bytes; a subprotocol or extra
    ///   header name is not an HTTP token. This rules out header injection.
    /// - [`HandshakeError::BufferTooSmall`] — `out` is shorter than `needed`; nothing was
    ///   written.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, HandshakeError> {
        let path = if self.path.is_empty() { "/" } else { self.path };
        if !path.starts_with('/') {
            return Err(HandshakeError::InvalidHeaderValue);
        }
        check_visible(path)?;
        check_visible(self.host)?;
        if let Some(origin) = self.origin {
            check_value(origin)?;
        }
        self.protocols.iter().try_for_each(|p| check_token(p))?;
        check_headers(self.headers)?;
        if let Some(extensions) = self.extensions {
            check_value(extensions)?;
        }
        let key = self.key();
        measured(out, |c| {
            c.put(b"GET ");
            c.put(path.as_bytes());
            c.put(b" HTTP/1.1\r\n");
            c.header("Host", self.host.as_bytes());
            c.put(b"Upgrade: websocket\r\nConnection: Upgrade\r\n");
            c.header("Sec-WebSocket-Key", &key);
            c.put(b"Sec-WebSocket-Version: 13\r\n");
            if let Some(origin) = self.origin {
                c.header("Origin", origin.as_bytes());
            }
            if let Some((first, rest)) = self.protocols.split_first() {
                c.put(b"Sec-WebSocket-Protocol: ");
                c.put(first.as_bytes());
                for p in rest {
                    c.put(b", ");
                    c.put(p.as_bytes());
                }
                c.put(b"\r\n");
            }
            if let Some(extensions) = self.extensions {
                c.header("Sec-WebSocket-Extensions", extensions.as_bytes());
            }
            for (name, value) in self.headers {
                c.header(name, value.as_bytes());
            }
            c.put(b"\r\n");
        })
    }
}

/// A parsed HTTP response head, not yet checked as a WebSocket handshake answer.
#[derive(Debug, Clone, Copy)]
pub struct Response<'h, 'b> {
    /// The status code, e.g. 101, or 404 when the path is wrong.
    pub status: u16,
    /// The reason phrase, e.g. `Switching Protocols` (empty if there is none, or if it
    /// holds bytes beyond ASCII).
    pub reason: &'b str,
    /// The HTTP minor version: 1 for HTTP/1.1.
    pub version: u8,
    headers: &'h [Header<'b>],
}

/// What the server agreed to in a valid handshake response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Accepted<'b> {
    /// The subprotocol the server selected, one of those offered; `None` if it selected
    /// none (the application decides whether to go on without one).
    pub protocol: Option<&'b str>,
}

impl<'h, 'b> Response<'h, 'b> {
    /// All headers, in the order received.
    pub fn headers(&self) -> &'h [Header<'b>] {
        self.headers
    }

    /// The value of the first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        find(self.headers, name)
    }

    /// Checks that the response accepts `request` (RFC 6455 section 4.2.2, client side
    /// in section 4.1).
    ///
    /// # Errors
    ///
    /// In the order checked:
    /// - [`HandshakeError::UnexpectedStatus`] — the status is not 101;
    /// - [`HandshakeError::HttpVersion`] — the response is not HTTP/1.1;
    /// - [`HandshakeError::MissingUpgrade`] / [`HandshakeError::MissingConnectionUpgrade`] —
    ///   no `Upgrade: websocket` / `Connection: Upgrade` token;
    /// - [`HandshakeError::MissingAccept`], [`HandshakeError::InvalidAccept`] or
    ///   [`HandshakeError::DuplicateHeader`] for `Sec-WebSocket-Accept`;
    /// - [`HandshakeError::UnofferedExtension`] — a `Sec-WebSocket-Extensions` header when
    ///   the request offered none (an offer's answer is checked by whoever made it);
    /// - [`HandshakeError::UnofferedProtocol`] — a `Sec-WebSocket-Protocol` that is not
    ///   exactly one of `request.protocols`, or [`HandshakeError::DuplicateHeader`] for
    ///   two of them.
    ///
    /// After any error the client must fail the connection (close the transport).
    pub fn validate(&self, request: &ClientRequest<'_>) -> Result<Accepted<'b>, HandshakeError> {
        // 4.1: "If the status code received from the server is not 101, the client
        // handles the response per HTTP [RFC2616] procedures."
        if self.status != 101 {
            return Err(HandshakeError::UnexpectedStatus(self.status));
        }
        if self.version != 1 {
            return Err(HandshakeError::HttpVersion);
        }
        // 4.1: "If the response lacks an |Upgrade| header field or the |Upgrade| header
        // field contains a value that is not an ASCII case-insensitive match for the
        // value "websocket", the client MUST _Fail the WebSocket Connection_."
        if !has_token(self.headers, "Upgrade", "websocket") {
            return Err(HandshakeError::MissingUpgrade);
        }
        // 4.1: the same for a |Connection| header without the "Upgrade" token.
        if !has_token(self.headers, "Connection", "upgrade") {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        // 4.1: "If the response lacks a |Sec-WebSocket-Accept| header field or the
        // |Sec-WebSocket-Accept| contains a value other than the base64-encoded SHA-1 of
        // the concatenation of the |Sec-WebSocket-Key| ... the client MUST _Fail_".
        let accept = single(self.headers, HeaderField::SecWebSocketAccept)?
            .ok_or(HandshakeError::MissingAccept)?;
        if accept != request.expected_accept() {
            return Err(HandshakeError::InvalidAccept);
        }
        // 4.1: "If the response includes a |Sec-WebSocket-Extensions| header field and
        // this header field indicates the use of an extension that was not present in
        // the client's handshake ... the client MUST _Fail_". Offers are checked by whoever
        // made them; without one, any extension is one we did not offer.
        if request.extensions.is_none() && self.header("Sec-WebSocket-Extensions").is_some() {
            return Err(HandshakeError::UnofferedExtension);
        }
        // 4.1: "If the response includes a |Sec-WebSocket-Protocol| header field and this
        // header field indicates the use of a subprotocol that was not present in the
        // client's handshake ... the client MUST _Fail_".
        let protocol = match single(self.headers, HeaderField::SecWebSocketProtocol)? {
            None => None,
            Some(value) => {
                let chosen = core::str::from_utf8(value)
                    .map_err(|_| HandshakeError::Http(HttpErrorKind::HeaderValue))?;
                if !request.protocols.contains(&chosen) {
                    return Err(HandshakeError::UnofferedProtocol);
                }
                Some(chosen)
            }
        };
        Ok(Accepted { protocol })
    }
}

/// Parses an HTTP response head from the start of `buf`.
///
/// Only HTTP syntax is checked, so a tool can show any response (a 404, a redirect);
/// call [`Response::validate`] to check it accepts the handshake. On success,
/// `consumed` is the length of the head including the final blank line: bytes after it
/// are the server's first WebSocket frames and must be handed to the connection.
///
/// The parser is this crate's own, shared with
/// [`server::parse_request`](super::server::parse_request): it accepts and rejects exactly
/// what `httparse::Response::parse` 1.10 does, with the same `consumed`, status line and
/// headers, and has no panic path (`tests/panic_never.rs`).
///
/// # Errors
///
/// [`HandshakeError::Http`] for malformed HTTP, [`HandshakeError::TooManyHeaders`] when
/// `headers` is too short (see [`MAX_HEADERS`](super::MAX_HEADERS)). An incomplete head
/// is `Ok(Status::Partial { needed: 1 })`: read more and call again with the longer
/// buffer.
///
/// # Examples
///
/// ```
/// use wscodec::handshake::{client::{self, ClientRequest}, Header, MAX_HEADERS};
/// use wscodec::{HandshakeError, Status};
///
/// let request = ClientRequest::new("server.example.com", "/chat", *b"the sample nonce");
/// // What the server sent, followed by its first frame (text "Hi").
/// let rx = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02Hi";
///
/// let mut headers = [Header::EMPTY; MAX_HEADERS];
/// let Status::Complete { value: response, consumed } = client::parse_response(rx, &mut headers)?
/// else { panic!("read more bytes and call again") };
/// let accepted = response.validate(&request)?;
/// assert_eq!(accepted.protocol, None);
/// assert_eq!(&rx[consumed..], b"\x81\x02Hi"); // keep these for the connection
///
/// // A refusal still parses, so its status and headers can be shown.
/// let rx = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
/// let mut headers = [Header::EMPTY; MAX_HEADERS];
/// let Status::Complete { value: response, .. } = client::parse_response(rx, &mut headers)?
/// else { panic!() };
/// assert_eq!((response.status, response.reason), (404, "Not Found"));
/// assert_eq!(response.validate(&request), Err(HandshakeError::UnexpectedStatus(404)));
/// # Ok::<(), HandshakeError>(())
/// ```
pub fn parse_response<'h, 'b>(
    buf: &'b [u8],
    headers: &'h mut [Header<'b>],
) -> Result<Status<Response<'h, 'b>>, HandshakeError> {
    let Some(head) = head::parse_response(buf, headers)? else {
        return Ok(Status::Partial { needed: 1 });
    };
    let headers: &'h [Header<'b>] = headers;
    Ok(Status::Complete {
        value: Response {
            status: head.status,
            reason: head.reason,
            version: head.version,
            headers: headers.get(..head.headers).unwrap_or_default(),
        },
        consumed: head.consumed,
    })
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::{
        format,
        string::{String, ToString},
        vec,
    };

    use super::*;
    use crate::handshake::{server, MAX_HEADERS};

    const NONCE: [u8; 16] = *b"the sample nonce";
    const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn request() -> ClientRequest<'static> {
        ClientRequest {
            protocols: &["chat", "superchat"],
            ..ClientRequest::new("server.example.com", "/chat", NONCE)
        }
    }

    fn validate(wire: &str, request: &ClientRequest<'_>) -> Result<Option<String>, HandshakeError> {
        let mut headers = [Header::EMPTY; MAX_HEADERS];
        match parse_response(wire.as_bytes(), &mut headers)? {
            Status::Complete { value, consumed } => {
                assert_eq!(consumed, wire.len());
                value.validate(request).map(|a| a.protocol.map(ToString::to_string))
            }
            Status::Partial { .. } => panic!("partial: {wire:?}"),
        }
    }

    #[test]
    fn encode_minimal_request() {
        let mut out = [0u8; 256];
        let n = ClientRequest::new("h:8080", "", NONCE).encode(&mut out).unwrap();
        assert_eq!(
            core::str::from_utf8(&out[..n]).unwrap(),
            "GET / HTTP/1.1\r\nHost: h:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
    }

    #[test]
    fn encode_extra_headers_after_protocols() {
        let req = ClientRequest {
            headers: &[("Authorization", "Bearer abc"), ("X-Empty", "")],
            ..request()
        };
        let mut out = [0u8; 512];
        let n = req.encode(&mut out).unwrap();
        let text = core::str::from_utf8(&out[..n]).unwrap();
        assert!(text.ends_with(
            "Sec-WebSocket-Protocol: chat, superchat\r\nAuthorization: Bearer abc\r\nX-Empty: \r\n\r\n"
        ));
    }

    #[test]
    fn encode_into_a_short_buffer_writes_nothing() {
        let req = request();
        let mut big = [0u8; 512];
        let n = req.encode(&mut big).unwrap();
        for len in [0, 1, n / 2, n - 1] {
            let mut out = [0x55u8; 512];
            assert_eq!(
                req.encode(&mut out[..len]),
                Err(HandshakeError::BufferTooSmall { needed: n })
            );
            assert!(out.iter().all(|&b| b == 0x55), "len {len}");
        }
        let mut exact = [0u8; 512];
        assert_eq!(req.encode(&mut exact[..n]), Ok(n));
        assert_eq!(exact[..n], big[..n]);
    }

    #[test]
    fn encode_rejects_header_injection() {
        let base = request();
        let cases: [ClientRequest<'_>; 12] = [
            ClientRequest { host: "h\r\nX-Evil: 1", ..base },
            ClientRequest { host: "", ..base },
            ClientRequest { host: "a b", ..base },
            ClientRequest { path: "/a b", ..base },
            ClientRequest { path: "/\r\n", ..base },
            ClientRequest { path: "chat", ..base },
            ClientRequest { origin: Some("http://a\r\nX: y"), ..base },
            ClientRequest { origin: Some("http://a\0"), ..base },
            ClientRequest { protocols: &["chat\r\nX: y"], ..base },
            ClientRequest { protocols: &["a,b"], ..base },
            ClientRequest { headers: &[("X-A", "1\n2")], ..base },
            ClientRequest { headers: &[("X A", "1")], ..base },
        ];
        for (i, req) in cases.iter().enumerate() {
            let mut out = [0u8; 512];
            assert_eq!(req.encode(&mut out), Err(HandshakeError::InvalidHeaderValue), "case {i}");
            assert!(out.iter().all(|&b| b == 0), "case {i}");
        }
    }

    #[test]
    fn round_trip_through_the_server() {
        let req = ClientRequest {
            origin: Some("https://example.com"),
            headers: &[("User-Agent", "wscodec-test")],
            ..request()
        };
        let mut wire = [0u8; 512];
        let n = req.encode(&mut wire).unwrap();

        let mut headers = [Header::EMPTY; MAX_HEADERS];
        let Status::Complete { value: sreq, consumed } =
            server::parse_request(&wire[..n], &mut headers).unwrap()
        else {
            panic!("partial")
        };
        assert_eq!(consumed, n);
        let up = sreq.validate().unwrap();
        assert_eq!(up.host, "server.example.com");
        assert_eq!(up.origin, Some("https://example.com"));
        assert!(up.protocols().eq(["chat", "superchat"]));
        assert_eq!(up.extensions_header(), None);
        let chosen = up.protocols().find(|p| *p == "superchat");

        let mut answer = vec![0; 256];
        let m = server::write_accept(&up, chosen, &[], &mut answer).unwrap();
        answer.truncate(m);
        answer.extend_from_slice(b"\x81\x02Hi"); // the server's first frame, same read

        let mut headers = [Header::EMPTY; MAX_HEADERS];
        let Status::Complete { value: resp, consumed } =
            parse_response(&answer, &mut headers).unwrap()
        else {
            panic!("partial")
        };
        assert_eq!(consumed, m);
        assert_eq!(&answer[consumed..], b"\x81\x02Hi");
        assert_eq!((resp.status, resp.reason), (101, "Switching Protocols"));
        assert_eq!(resp.header("sec-websocket-accept"), Some(ACCEPT.as_bytes()));
        assert_eq!(resp.validate(&req), Ok(Accepted { protocol: Some("superchat") }));
    }

    #[test]
    fn every_truncation_of_a_response_is_partial() {
        let wire = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
        );
        for end in 0..wire.len() {
            let mut headers = [Header::EMPTY; MAX_HEADERS];
            assert_eq!(
                parse_response(&wire.as_bytes()[..end], &mut headers)
                    .map(|s| matches!(s, Status::Partial { needed: 1 })),
                Ok(true),
                "cut at {end}"
            );
        }
    }

    #[test]
    fn lenient_tokens_and_whitespace_are_accepted() {
        let wire = format!(
            "HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n\
             sec-websocket-accept:  {ACCEPT} \r\nSec-WebSocket-Protocol: chat\r\n\r\n"
        );
        assert_eq!(validate(&wire, &request()), Ok(Some("chat".into())));
    }

    #[test]
    fn bad_responses_fail_with_their_error() {
        macro_rules! case {
            ($name:literal, $headers:expr, $err:expr) => {{
                let wire = format!("HTTP/1.1 101 Switching Protocols\r\n{}\r\n", $headers);
                assert_eq!(validate(&wire, &request()), Err($err), "{}", $name);
            }};
            ($name:literal, raw $wire:expr, $err:expr) => {{
                let wire: &str = &$wire;
                assert_eq!(validate(wire, &request()), Err($err), "{}", $name);
            }};
        }
        let ok = format!(
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n"
        );
        case!("status 200", raw format!("HTTP/1.1 200 OK\r\n{ok}\r\n"), HandshakeError::UnexpectedStatus(200));
        case!(
            "status 404",
            raw "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            HandshakeError::UnexpectedStatus(404)
        );
        case!("http/1.0", raw format!("HTTP/1.0 101 Switching Protocols\r\n{ok}\r\n"), HandshakeError::HttpVersion);
        case!(
            "missing upgrade",
            format!("Connection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n"),
            HandshakeError::MissingUpgrade
        );
        case!(
            "upgrade to something else",
            format!("Upgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n"),
            HandshakeError::MissingUpgrade
        );
        case!(
            "missing connection",
            format!("Upgrade: websocket\r\nSec-WebSocket-Accept: {ACCEPT}\r\n"),
            HandshakeError::MissingConnectionUpgrade
        );
        case!(
            "missing accept",
            "Upgrade: websocket\r\nConnection: Upgrade\r\n",
            HandshakeError::MissingAccept
        );
        case!(
            "wrong accept",
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n",
            HandshakeError::InvalidAccept
        );
        case!(
            "accept of another case",
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: S3PPLMBITXAQ9KYGZZHZRBK+XOO=\r\n",
            HandshakeError::InvalidAccept
        );
        case!(
            "two accepts",
            format!("{ok}Sec-WebSocket-Accept: {ACCEPT}\r\n"),
            HandshakeError::DuplicateHeader(HeaderField::SecWebSocketAccept)
        );
        case!(
            "unoffered protocol",
            format!("{ok}Sec-WebSocket-Protocol: mqtt\r\n"),
            HandshakeError::UnofferedProtocol
        );
        case!(
            "two protocols in one value",
            format!("{ok}Sec-WebSocket-Protocol: chat, superchat\r\n"),
            HandshakeError::UnofferedProtocol
        );
        case!(
            "protocol case differs",
            format!("{ok}Sec-WebSocket-Protocol: Chat\r\n"),
            HandshakeError::UnofferedProtocol
        );
        case!(
            "two protocol headers",
            format!("{ok}Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n"),
            HandshakeError::DuplicateHeader(HeaderField::SecWebSocketProtocol)
        );
        case!(
            "extension present",
            format!("{ok}Sec-WebSocket-Extensions: permessage-deflate\r\n"),
            HandshakeError::UnofferedExtension
        );
        case!(
            "empty extension header",
            format!("{ok}Sec-WebSocket-Extensions: \r\n"),
            HandshakeError::UnofferedExtension
        );
    }

    #[test]
    fn protocol_selected_when_none_offered_is_rejected() {
        let wire = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {ACCEPT}\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
        );
        let req = ClientRequest::new("h", "/", NONCE);
        assert_eq!(validate(&wire, &req), Err(HandshakeError::UnofferedProtocol));
    }

    #[test]
    fn malformed_and_oversized_responses() {
        let mut headers = [Header::EMPTY; 2];
        assert_eq!(
            parse_response(b"HTTP/1.1 101 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &mut headers)
                .map(|s| s.is_complete()),
            Err(HandshakeError::TooManyHeaders)
        );
        let mut headers = [Header::EMPTY; 2];
        assert_eq!(
            parse_response(b"HTTP/1.1 1x1 OK\r\n\r\n", &mut headers).map(|s| s.is_complete()),
            Err(HandshakeError::Http(HttpErrorKind::Status))
        );
        let mut headers = [Header::EMPTY; 2];
        assert_eq!(
            parse_response(b"SSH-2.0-OpenSSH_9.6\r\n", &mut headers).map(|s| s.is_complete()),
            Err(HandshakeError::Http(HttpErrorKind::Version))
        );
    }
}
