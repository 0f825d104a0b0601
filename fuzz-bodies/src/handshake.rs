//! The handshake's fuzz bodies: the server handshake (its pieces and the one-call step),
//! the client's response checks, and the HTTP head parser against httparse.

use crate::assert_status;
use wscodec::handshake::client::{self, ClientRequest};
use wscodec::handshake::server::{self, Outcome};
use wscodec::handshake::{Header, HttpErrorKind, MAX_HEADERS};
use wscodec::{HandshakeError, Status};

/// The server handshake on arbitrary bytes: its pieces (`server::parse_request`,
/// `Request::validate`, `write_accept`, `write_error`) and `server::handle_request`,
/// which must agree with them.
///
/// Checks: `consumed` is within the input and the head parses to the same length on its
/// own; a partial head needs 1 more byte; a valid upgrade can be answered, and every
/// error has a 4xx/5xx status and an error response that fits a small buffer; the step
/// gives the outcome the pieces imply, and writes a response that parses as HTTP with
/// the status of that outcome.
pub fn handshake_request(data: &[u8]) {
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    let mut out = [0u8; 1024];
    match server::parse_request(data, &mut headers) {
        Ok(Status::Complete { value, consumed }) => {
            assert!(consumed <= data.len());
            let mut again = [Header::EMPTY; MAX_HEADERS];
            let head = data.get(..consumed).unwrap();
            assert!(matches!(
                server::parse_request(head, &mut again),
                Ok(Status::Complete { consumed: c, .. }) if c == consumed
            ));
            match value.validate() {
                Ok(up) => {
                    assert_eq!(up.key.len(), 24);
                    let protocol = up.protocols().next();
                    match server::write_accept(&up, protocol, &[], &mut out) {
                        Ok(n) => {
                            let response = out.get(..n).unwrap();
                            assert!(response.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
                            assert!(response.ends_with(b"\r\n\r\n"));
                        }
                        // A subprotocol that is not a token is not echoed; a very long
                        // one does not fit the 1 KiB buffer.
                        Err(e) => assert!(matches!(
                            e,
                            HandshakeError::InvalidHeaderValue
                                | HandshakeError::BufferTooSmall { .. }
                        )),
                    }
                    let n = server::write_accept(&up, None, &[], &mut out).unwrap();
                    assert!(n <= out.len());
                }
                Err(e) => error_response(e, &mut out),
            }
        }
        Ok(Status::Partial { needed }) => assert_eq!(needed, 1),
        Err(e) => error_response(e, &mut out),
    }
    handle_request(data, false);
    handle_request(data, true);
}

/// The decision [`handle_request`] makes: accept with the first offered subprotocol,
/// answer a page request with its path as the body (even length) or refuse it with 404.
fn decide<'b>(
    request: &server::Request<'_, 'b>,
    upgrade: Option<&server::Upgrade<'b>>,
) -> server::Decision<'b> {
    match upgrade {
        Some(up) => server::Decision::Accept { protocol: up.protocols().next() },
        None if request.path.len().is_multiple_of(2) => server::Decision::Respond {
            status: 200,
            content_type: "text/plain",
            body: request.path.as_bytes(),
        },
        None => server::Decision::Reject { status: 404, reason: request.path },
    }
}

/// `server::handle_request` on `data` against the pieces it is made of.
fn handle_request(data: &[u8], full: bool) {
    let mut out = [0u8; 1024];
    let mut called = false;
    // A buffer with room after the bytes, or the bytes alone (a full buffer).
    let mut room = [0u8; 16 * 1024];
    let full = full || data.len() >= room.len();
    let head = if full {
        server::Head::new(data, data.len())
    } else {
        room[..data.len()].copy_from_slice(data);
        server::Head::new(&room, data.len())
    };
    let step = server::handle_request(
        head,
        &mut out,
        |request, upgrade| {
            called = true;
            decide(request, upgrade)
        },
        server::no_extensions,
    );
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    let (answer, consumed) = match (server::parse_request(data, &mut headers), step) {
        (Ok(Status::Partial { .. }), Status::Partial { needed }) => {
            assert!(!full && !called && needed == 1);
            return;
        }
        (Ok(Status::Partial { .. }), Status::Complete { value, consumed }) => {
            assert!(full && !called);
            assert_eq!(value.outcome, Outcome::Failed(HandshakeError::HeadersTooLarge));
            (value, consumed)
        }
        (Err(e), Status::Complete { value, consumed }) => {
            assert!(!called);
            assert_eq!(value.outcome, Outcome::Failed(e));
            (value, consumed)
        }
        (
            Ok(Status::Complete { value: request, consumed: c }),
            Status::Complete { value, consumed },
        ) => {
            assert_eq!(consumed, c);
            match (request.is_upgrade(), request.validate(), value.outcome) {
                (true, Err(e), Outcome::Failed(f)) => assert!(e == f && !called),
                (true, Ok(_), Outcome::Upgraded) => assert!(called),
                (false, _, Outcome::NotUpgraded(status)) => {
                    assert!(called);
                    assert_eq!(
                        status,
                        if request.path.len().is_multiple_of(2) { 200 } else { 404 }
                    );
                }
                // A subprotocol that is not a token, a path too long for the buffer.
                (
                    _,
                    _,
                    Outcome::Failed(
                        HandshakeError::InvalidHeaderValue | HandshakeError::BufferTooSmall { .. },
                    ),
                ) => assert!(called),
                (upgrade, valid, outcome) => {
                    panic!("{outcome:?} for upgrade {upgrade}, validation {valid:?}")
                }
            }
            return check_answer(value, &out);
        }
        (parsed, Status::Partial { .. }) => panic!("partial step, parsed {parsed:?}"),
    };
    assert_eq!(consumed, data.len());
    check_answer(answer, &out);
}

/// The response an [`Answer`](server::Answer) reports is in `out` and has its status.
fn check_answer(answer: server::Answer, out: &[u8]) {
    let response = out.get(..answer.written).unwrap();
    let status = match answer.outcome {
        Outcome::Upgraded => 101,
        Outcome::NotUpgraded(status) => status,
        Outcome::Failed(e) => {
            assert_status(e);
            e.status()
        }
    };
    let mut headers = [httparse::EMPTY_HEADER; 8];
    let mut parsed = httparse::Response::new(&mut headers);
    assert!(matches!(parsed.parse(response), Ok(httparse::Status::Complete(_))), "{response:?}");
    assert_eq!(parsed.code, Some(status));
}

/// The largest header array [`request_parser`] lends the parsers.
pub const REQUEST_PARSER_MAX_HEADERS: usize = 40;

/// `request_parser`: `server::parse_request` against `httparse::Request::parse`, on the
/// same bytes and the same size of header array.
///
/// Input: byte 0 sets the header array size (modulo 41, so `TooManyHeaders` is reached),
/// byte 1 a cut point (the prefix `data[2..2 + len * byte1 / 255]` is compared too, for
/// partial heads), the rest is the request. See [`compare_request_parsers`].
pub fn request_parser(data: &[u8]) {
    let [size, cut, request @ ..] = data else { return };
    let max_headers = usize::from(*size) % (REQUEST_PARSER_MAX_HEADERS + 1);
    compare_request_parsers(request, max_headers);
    let cut = request.len() * usize::from(*cut) / 255;
    compare_request_parsers(request.get(..cut).unwrap(), max_headers);
}

/// The error `httparse` reports, as wscodec names it.
fn from_httparse(e: httparse::Error) -> HandshakeError {
    match e {
        httparse::Error::TooManyHeaders => HandshakeError::TooManyHeaders,
        httparse::Error::HeaderName => HandshakeError::Http(HttpErrorKind::HeaderName),
        httparse::Error::HeaderValue => HandshakeError::Http(HttpErrorKind::HeaderValue),
        httparse::Error::NewLine => HandshakeError::Http(HttpErrorKind::NewLine),
        httparse::Error::Status => HandshakeError::Http(HttpErrorKind::Status),
        httparse::Error::Token => HandshakeError::Http(HttpErrorKind::Token),
        httparse::Error::Version => HandshakeError::Http(HttpErrorKind::Version),
    }
}

/// Asserts that both parsers filled the same headers.
fn same_headers(ours: &[Header<'_>], theirs: &[httparse::Header<'_>], buf: &[u8]) {
    assert_eq!(ours.len(), theirs.len(), "header count on {buf:?}");
    for (a, b) in ours.iter().zip(theirs) {
        assert_eq!((a.name, a.value), (b.name, b.value), "header differs on {buf:?}");
    }
}

/// Asserts that `server::parse_request` and `httparse::Request::parse` (default
/// `ParserConfig`) agree on `buf` with `max_headers` header slots: both complete with the
/// same `consumed`, method, path, version and headers (names and values); both partial;
/// or both fail with the same error.
pub fn compare_request_parsers(buf: &[u8], max_headers: usize) {
    let mut ours = [Header::EMPTY; REQUEST_PARSER_MAX_HEADERS];
    let mut theirs = [httparse::EMPTY_HEADER; REQUEST_PARSER_MAX_HEADERS];
    let ours = ours.get_mut(..max_headers).unwrap();
    let theirs = theirs.get_mut(..max_headers).unwrap();
    let got = server::parse_request(buf, ours);
    let mut request = httparse::Request::new(theirs);
    let expected = request.parse(buf);
    match (got, expected) {
        (Ok(Status::Complete { value, consumed }), Ok(httparse::Status::Complete(n))) => {
            assert_eq!(consumed, n, "consumed differs on {buf:?}");
            assert_eq!(Some(value.method), request.method, "method differs on {buf:?}");
            assert_eq!(Some(value.path), request.path, "path differs on {buf:?}");
            assert_eq!(Some(value.version), request.version, "version differs on {buf:?}");
            same_headers(value.headers(), request.headers, buf);
        }
        (Ok(Status::Partial { needed }), Ok(httparse::Status::Partial)) => assert_eq!(needed, 1),
        (Err(e), Err(h)) => assert_eq!(e, from_httparse(h), "error differs on {buf:?}"),
        (got, expected) => panic!("wscodec gave {got:?}, httparse {expected:?} on {buf:?}"),
    }
}

/// Asserts that `client::parse_response` and `httparse::Response::parse` (default
/// `ParserConfig`) agree on `buf` with `max_headers` header slots, as
/// [`compare_request_parsers`] does for requests (status, reason and version instead of
/// the request line).
pub fn compare_response_parsers(buf: &[u8], max_headers: usize) {
    let mut ours = [Header::EMPTY; REQUEST_PARSER_MAX_HEADERS];
    let mut theirs = [httparse::EMPTY_HEADER; REQUEST_PARSER_MAX_HEADERS];
    let ours = ours.get_mut(..max_headers).unwrap();
    let theirs = theirs.get_mut(..max_headers).unwrap();
    let got = client::parse_response(buf, ours);
    let mut response = httparse::Response::new(theirs);
    let expected = response.parse(buf);
    match (got, expected) {
        (Ok(Status::Complete { value, consumed }), Ok(httparse::Status::Complete(n))) => {
            assert_eq!(consumed, n, "consumed differs on {buf:?}");
            assert_eq!(Some(value.status), response.code, "status differs on {buf:?}");
            assert_eq!(Some(value.reason), response.reason, "reason differs on {buf:?}");
            assert_eq!(Some(value.version), response.version, "version differs on {buf:?}");
            same_headers(value.headers(), response.headers, buf);
        }
        (Ok(Status::Partial { needed }), Ok(httparse::Status::Partial)) => assert_eq!(needed, 1),
        (Err(e), Err(h)) => assert_eq!(e, from_httparse(h), "error differs on {buf:?}"),
        (got, expected) => panic!("wscodec gave {got:?}, httparse {expected:?} on {buf:?}"),
    }
}

fn error_response(e: HandshakeError, out: &mut [u8]) {
    assert_status(e);
    let n = server::write_error(e, out).unwrap();
    let mut headers = [httparse::EMPTY_HEADER; 8];
    let mut response = httparse::Response::new(&mut headers);
    assert!(matches!(response.parse(out.get(..n).unwrap()), Ok(httparse::Status::Complete(_))));
    assert_eq!(response.code, Some(e.status()));
}

/// `client::parse_response` and `Response::validate` against a request with an arbitrary
/// key; the parse is also compared with `httparse` ([`compare_response_parsers`]).
///
/// Input: a flags byte (bit 0: use the RFC's sample nonce, so the seeds' accept value
/// matches; bits 1-2: which subprotocols were offered), then 16 nonce bytes unless bit 0
/// is set, then the response. Checks: an accepted response carries the right accept
/// value exactly once and a subprotocol that was offered; errors have a status.
pub fn handshake_response(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else { return };
    let (nonce, response) = if flags & 1 == 1 {
        (*b"the sample nonce", rest)
    } else {
        let Some((nonce, response)) = rest.split_first_chunk::<16>() else { return };
        (*nonce, response)
    };
    let protocols: &[&str] = match (flags >> 1) & 3 {
        0 => &[],
        1 => &["chat"],
        2 => &["chat", "superchat"],
        _ => &["v2.json", "chat"],
    };
    let request = ClientRequest { protocols, ..ClientRequest::new("h", "/", nonce) };
    compare_response_parsers(response, MAX_HEADERS);
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    match client::parse_response(response, &mut headers) {
        Ok(Status::Complete { value, consumed }) => {
            assert!(consumed <= response.len());
            match value.validate(&request) {
                Ok(accepted) => {
                    assert_eq!(value.status, 101);
                    let accept = value.header("Sec-WebSocket-Accept").unwrap();
                    assert_eq!(trim(accept), &request.expected_accept()[..]);
                    if let Some(p) = accepted.protocol {
                        assert!(protocols.contains(&p));
                    }
                }
                Err(e) => assert_status(e),
            }
        }
        Ok(Status::Partial { needed }) => assert_eq!(needed, 1),
        Err(e) => assert_status(e),
    }
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| !matches!(b, b' ' | b'\t')).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !matches!(b, b' ' | b'\t')).map_or(start, |i| i + 1);
    v.get(start..end).unwrap_or_default()
}
