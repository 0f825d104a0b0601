//! Tests of the server handshake's pieces: parsing, validation and the responses (those of
//! [`handle_request`] are beside it).
extern crate std;

use std::{format, vec::Vec};

use super::*;
use crate::handshake::client::parse_response;
use crate::handshake::{HandshakeError, Header, HeaderField, HttpErrorKind, MAX_HEADERS};
use crate::Status;

pub(super) const CHROMIUM: &[u8] = b"GET /chat HTTP/1.1\r\n\
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

pub(super) const PYTHON_WEBSOCKETS: &[u8] = b"GET /ws HTTP/1.1\r\n\
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
    headers: &'h mut [Header<'b>],
) -> Result<(Request<'h, 'b>, usize), HandshakeError> {
    match parse_request(buf, headers)? {
        Status::Complete { value, consumed } => Ok((value, consumed)),
        Status::Partial { .. } => panic!("partial: {:?}", core::str::from_utf8(buf)),
    }
}

fn validate_of(buf: &[u8]) -> Result<(), HandshakeError> {
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    parse(buf, &mut headers)?.0.validate().map(|_| ())
}

#[test]
fn chromium_request_upgrades() {
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    let (req, consumed) = parse(CHROMIUM, &mut headers).unwrap();
    assert_eq!(consumed, CHROMIUM.len());
    assert_eq!((req.method, req.path, req.version), ("GET", "/chat", 1));
    assert_eq!(req.headers().len(), 12);
    assert_eq!(req.header("pragma"), Some(&b"no-cache"[..]));
    assert!(req.is_upgrade());
    let up = req.validate().unwrap();
    assert_eq!(up.host, "server.example.com");
    assert_eq!(up.origin, Some("http://example.com"));
    assert_eq!(up.key, "dGhlIHNhbXBsZSBub25jZQ==");
    assert_eq!(&up.accept_key(), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_eq!(up.protocols().count(), 0);
    assert_eq!(up.extensions_header(), Some("permessage-deflate; client_max_window_bits"));
}

#[test]
fn python_websockets_request_upgrades() {
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    let (req, _) = parse(PYTHON_WEBSOCKETS, &mut headers).unwrap();
    let up = req.validate().unwrap();
    assert_eq!((up.host, up.origin, req.path), ("localhost:8765", None, "/ws"));
    // RFC 6455 section 4.2.2's second example key.
    assert_eq!(&up.accept_key(), b"HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

#[test]
fn connection_and_upgrade_tokens_are_lenient() {
    let wire = b"GET / HTTP/1.1\r\nHost: h\r\nupgrade: WebSocket\r\n\
        Connection: keep-alive, Upgrade\r\nsec-websocket-key:  dGhlIHNhbXBsZSBub25jZQ== \r\n\
        SEC-WEBSOCKET-VERSION: 13\r\n\r\n";
    assert_eq!(validate_of(wire), Ok(()));
}

#[test]
fn bad_requests_fail_with_their_error_and_status() {
    const KEY: &str = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    macro_rules! case {
        ($name:literal, $wire:expr, $err:expr, $status:literal) => {{
            let wire: &str = $wire;
            let err: HandshakeError = $err;
            assert_eq!(validate_of(wire.as_bytes()), Err(err), "{}", $name);
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
        &format!(
            "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{KEY}\r\n"
        ),
        HandshakeError::UnsupportedVersion,
        426
    );
    case!(
        "two versions",
        &format!("GET / HTTP/1.1\r\nHost: h\r\n{ok_tail}Sec-WebSocket-Version: 13\r\n{KEY}\r\n"),
        HandshakeError::DuplicateHeader(HeaderField::SecWebSocketVersion),
        400
    );
    case!(
        "key of 15 bytes",
        &format!(
            "GET / HTTP/1.1\r\nHost: h\r\n{ok_tail}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\r\n\r\n"
        ),
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
    case!("HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", HandshakeError::Http(HttpErrorKind::Version), 400);
}

#[test]
fn non_utf8_host_is_a_header_value_error() {
    let wire = b"GET / HTTP/1.1\r\nHost: \xff\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    assert_eq!(validate_of(wire), Err(HandshakeError::Http(HttpErrorKind::HeaderValue)));
}

#[test]
fn a_head_that_is_not_all_utf8_or_over_1_kib_still_gives_its_fields_as_text() {
    // Obs-text in an unrelated header, or a head longer than the part checked as UTF-8
    // up front: names and values are then checked one by one.
    let padding = format!("X-Pad: {}\r\n", "p".repeat(1100));
    for unrelated in [&b"User-Agent: caf\xe9\r\n"[..], padding.as_bytes()] {
        let mut wire = b"GET /a HTTP/1.1\r\n".to_vec();
        wire.extend_from_slice(unrelated);
        wire.extend_from_slice(&CHROMIUM[b"GET /chat HTTP/1.1\r\n".len()..]);
        let mut headers = [Header::EMPTY; MAX_HEADERS];
        let (req, _) = parse(&wire, &mut headers).unwrap();
        assert_eq!((req.method, req.path, req.headers()[1].name), ("GET", "/a", "Host"));
        let up = req.validate().unwrap();
        assert_eq!((up.host, up.key), ("server.example.com", "dGhlIHNhbXBsZSBub25jZQ=="));
        assert_eq!(up.origin, Some("http://example.com"));
    }
}

#[test]
fn a_protocol_line_that_is_not_utf8_fails_before_a_line_too_many_and_a_bad_host_after() {
    let head = |host: &str, protocols: &str| {
        format!(
            "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
            Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
            {protocols}\r\n"
        )
        .into_bytes()
    };
    let line = "Sec-WebSocket-Protocol: p\r\n";
    let too_many = line.repeat(MAX_PROTOCOL_LINES + 1);
    let not_utf8 = |wire: Vec<u8>, marker: &[u8]| {
        let at = wire.windows(marker.len()).position(|w| w == marker).unwrap();
        let mut wire = wire;
        wire[at] = 0xff;
        wire
    };
    let header_value = Err(HandshakeError::Http(HttpErrorKind::HeaderValue));
    let duplicate = Err(HandshakeError::DuplicateHeader(HeaderField::SecWebSocketProtocol));
    // The last kept protocol line is not UTF-8: that, before the line too many.
    let last_kept = format!("{}Sec-WebSocket-Protocol: !\r\n{line}", line.repeat(3));
    assert_eq!(validate_of(&not_utf8(head("h", &last_kept), b"!")), header_value);
    // A line too many (not UTF-8 itself, so not kept), before a Host that is not UTF-8.
    let past_kept = format!("{}Sec-WebSocket-Protocol: !\r\n", line.repeat(4));
    assert_eq!(validate_of(&not_utf8(head("h", &past_kept), b"!")), duplicate);
    assert_eq!(validate_of(&not_utf8(head("!", &too_many), b"!")), duplicate);
    assert_eq!(validate_of(&not_utf8(head("!", line), b"!")), header_value);
    // Origin and Sec-WebSocket-Extensions are checked as text too; a second
    // Sec-WebSocket-Extensions is neither kept nor checked.
    for extra in ["Origin: !\r\n", "Sec-WebSocket-Extensions: !\r\n"] {
        assert_eq!(validate_of(&not_utf8(head("h", extra), b"!")), header_value, "{extra}");
    }
    let second = "Sec-WebSocket-Extensions: x\r\nSec-WebSocket-Extensions: !\r\n";
    assert_eq!(validate_of(&not_utf8(head("h", second), b"!")), Ok(()));
}

#[test]
fn plain_get_is_not_an_upgrade() {
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    let (req, _) = parse(b"GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n", &mut headers).unwrap();
    assert!(!req.is_upgrade());
    assert_eq!(req.validate().unwrap_err(), HandshakeError::MissingUpgrade);
}

#[test]
fn every_truncation_of_a_request_is_partial() {
    for wire in [CHROMIUM, PYTHON_WEBSOCKETS] {
        for end in 0..wire.len() {
            let mut headers = [Header::EMPTY; MAX_HEADERS];
            assert_eq!(
                parse_request(&wire[..end], &mut headers).map(|s| s.is_complete()),
                Ok(false),
                "cut at {end}"
            );
            let mut headers = [Header::EMPTY; MAX_HEADERS];
            if let Status::Partial { needed } = parse_request(&wire[..end], &mut headers).unwrap() {
                assert_eq!(needed, 1);
            }
        }
    }
}

#[test]
fn bytes_after_the_head_are_not_consumed() {
    let mut wire = PYTHON_WEBSOCKETS.to_vec();
    wire.extend_from_slice(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    let (_, consumed) = parse(&wire, &mut headers).unwrap();
    assert_eq!(consumed, PYTHON_WEBSOCKETS.len());
}

fn chromium_upgrade_with_protocols<R>(f: impl FnOnce(Upgrade<'_>) -> R) -> R {
    let wire = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Protocol: chat,  superchat ,\r\nSec-WebSocket-Protocol: v2.json\r\n\
        Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    let (req, _) = parse(wire, &mut headers).unwrap();
    f(req.validate().unwrap())
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
        (502, "Bad Gateway"),
        (200, "OK"),
        (204, "Success"),
        (301, "Redirection"),
        (418, "Client Error"),
        (401, "Client Error"),
        (599, "Server Error"),
        (999, "Server Error"),
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
        let mut headers = [Header::EMPTY; 8];
        let Ok(Status::Complete { value, consumed }) = parse_response(&out[..n], &mut headers)
        else {
            panic!("{text}")
        };
        assert_eq!((value.status, consumed), (status, n - 5));
    }
}

#[test]
fn reject_rejects_bad_status_and_short_buffers() {
    let mut out = [0u8; 16];
    assert_eq!(write_reject(99, "x", &mut out), Err(HandshakeError::InvalidHeaderValue));
    // A 1xx answer has no body and does not end the exchange.
    assert_eq!(write_reject(101, "x", &mut out), Err(HandshakeError::InvalidHeaderValue));
    assert_eq!(write_reject(1000, "x", &mut out), Err(HandshakeError::InvalidHeaderValue));
    let mut big = [0u8; 256];
    let n = write_reject(400, "x", &mut big).unwrap();
    assert_eq!(write_reject(400, "x", &mut out), Err(HandshakeError::BufferTooSmall { needed: n }));
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
    let unexpected = format!("{}", HandshakeError::UnexpectedStatus(404));
    #[cfg(not(feature = "error-advice"))]
    assert_eq!(unexpected, "server answered 404 instead of 101");
    #[cfg(feature = "error-advice")]
    assert_eq!(
        unexpected,
        "server answered 404 instead of 101 Switching Protocols: check the URL and the server logs"
    );
}

#[test]
fn a_stripped_upgrade_is_answered_with_400_without_asking_the_application() {
    let wire = b"GET / HTTP/1.0\r\nHost: h\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    assert_eq!(validate_of(wire), Err(HandshakeError::UpgradeStripped));
    let mut out = [0u8; 1024];
    let decide =
        |_: &super::Request<'_, '_>, _: Option<&super::Upgrade<'_>>| -> super::Decision<'_> {
            panic!("decide is not called for a broken upgrade")
        };
    let head = super::Head::new(wire, wire.len());
    let step = super::handle_request(head, &mut out, decide, super::no_extensions);
    let Status::Complete { value: super::Answer { written, outcome, .. }, .. } = step else {
        panic!("{step:?}")
    };
    assert_eq!(outcome, super::Outcome::Failed(HandshakeError::UpgradeStripped));
    let response = core::str::from_utf8(&out[..written]).unwrap();
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    assert!(response.contains("a proxy likely stripped the hop-by-hop Upgrade"), "{response}");
    // What to do, with feature `error-advice`.
    let advice = response.contains("proxy_set_header Upgrade $http_upgrade");
    assert_eq!(advice, cfg!(feature = "error-advice"), "{response}");
}
