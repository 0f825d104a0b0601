//! `server::parse_request` (wscodec's own request-head parser) against
//! `httparse::Request::parse`, the parser it replaced: on generated requests, valid and
//! broken, both must give the same verdict (complete, partial or the same error), the
//! same `consumed`, method, path, version and headers.
//!
//! The comparison is `wscodec_fuzz_bodies::compare_request_parsers`, which the
//! `request_parser` fuzz target runs too.

use proptest::prelude::*;
use wscodec_fuzz_bodies::{compare_request_parsers, REQUEST_PARSER_MAX_HEADERS};

fn request_line() -> impl Strategy<Value = Vec<u8>> {
    let method = prop::sample::select(vec![
        &b"GET"[..],
        b"POST",
        b"M-SEARCH",
        b"G\xffT",
        b"GE T",
        b"",
        b"get",
        b"PATCH!",
        b"a(b",
    ]);
    let target = prop::sample::select(vec![
        &b"/"[..],
        b"/chat?room=1",
        b"*",
        b"/\xc3\xa9t\xc3\xa9",
        b"/\xff",
        b"/a\x7fb",
        b"",
        b"/a b",
        b"/\x01",
        b"http://h:1/x",
    ]);
    let version = prop::sample::select(vec![
        &b"HTTP/1.1"[..],
        b"HTTP/1.0",
        b"HTTP/1.2",
        b"HTTP/2.0",
        b"http/1.1",
        b"HTTP/1.",
        b"HTTP/1.1 ",
        b"",
    ]);
    let sep = prop::sample::select(vec![&b" "[..], b"  ", b"\t", b""]);
    (
        prop::sample::select(vec![&b""[..], b"\r\n", b"\n", b"\r\n\n", b"\r"]),
        method,
        sep.clone(),
        target,
        sep,
        version,
        line_end(),
    )
        .prop_map(|(lead, m, s1, t, s2, v, end)| [lead, m, s1, t, s2, v, end].concat())
}

fn line_end() -> impl Strategy<Value = &'static [u8]> {
    prop::sample::select(vec![&b"\r\n"[..], b"\r\n", b"\r\n", b"\n", b"\r", b"\rx", b""])
}

fn header_line() -> impl Strategy<Value = Vec<u8>> {
    let name = prop::sample::select(vec![
        &b"Host"[..],
        b"Upgrade",
        b"Connection",
        b"Sec-WebSocket-Key",
        b"sec-websocket-version",
        b"Sec-WebSocket-Extensions",
        b"X_Y",
        b"x.y~1",
        b"A1",
        b"Ho st",
        b"Host ",
        b" Host",
        b"",
        b"\xff",
        b"a(b",
        b"Content-Type-Options-And-A-Very-Long-Name-Indeed",
        b"X-Forwarded-For",
    ]);
    let colon = prop::sample::select(vec![&b":"[..], b":", b":", b"", b"::"]);
    let ows = prop::sample::select(vec![&b" "[..], b"", b"\t", b"  \t ", b" "]);
    let value = prop::sample::select(vec![
        &b"websocket"[..],
        b"keep-alive, Upgrade",
        b"dGhlIHNhbXBsZSBub25jZQ==",
        b"a\tb",
        b"\xc3\xa9",
        b"\xff\xfe",
        b"",
        b" ",
        b"x\x7f",
        b"x\x01y",
        b"\t",
        b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0",
        b"13  ",
        b"a\x00b",
    ]);
    (name, colon, ows.clone(), value, ows, line_end())
        .prop_map(|(n, c, o1, v, o2, end)| [n, c, o1, v, o2, end].concat())
}

/// A request from pieces, then perhaps mutated: bytes inserted or replaced, truncated.
fn request() -> impl Strategy<Value = Vec<u8>> {
    let head = (
        request_line(),
        prop::collection::vec(header_line(), 0..14),
        prop::sample::select(vec![&b"\r\n"[..], b"\r\n", b"\n", b"", b"\r", b"\r\n\x81\x80"]),
    )
        .prop_map(|(line, headers, end)| [line, headers.concat(), end.to_vec()].concat());
    let special = prop::sample::select(vec![
        b'\r', b'\n', b' ', b'\t', b':', 0, 0x7f, 0x80, 0xff, b'(', b'a', b'/',
    ]);
    let edit = prop_oneof![
        (any::<prop::sample::Index>(), special.clone()).prop_map(|(i, b)| (0u8, i, b)),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| (1u8, i, b)),
        (any::<prop::sample::Index>(), special).prop_map(|(i, b)| (2u8, i, b)),
        any::<prop::sample::Index>().prop_map(|i| (3u8, i, 0)),
    ];
    (head, prop::collection::vec(edit, 0..3)).prop_map(|(mut bytes, edits)| {
        for (kind, at, b) in edits {
            let i = at.index(bytes.len() + 1);
            match kind {
                0 | 1 => bytes.insert(i, b),
                2 if i < bytes.len() => bytes[i] = b,
                3 => bytes.truncate(i),
                _ => {}
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn agrees_with_httparse(bytes in request(), max_headers in 0..=REQUEST_PARSER_MAX_HEADERS) {
        compare_request_parsers(&bytes, max_headers);
    }

    #[test]
    fn agrees_with_httparse_on_every_prefix(bytes in request(), max_headers in 8..=REQUEST_PARSER_MAX_HEADERS) {
        for end in 0..=bytes.len() {
            compare_request_parsers(&bytes[..end], max_headers);
        }
    }

    #[test]
    fn agrees_with_httparse_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..96)) {
        compare_request_parsers(&bytes, 4);
    }
}

#[test]
fn agrees_with_httparse_on_known_requests() {
    let chrome = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nConnection: Upgrade\r\n\
        Pragma: no-cache\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 \
        (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\nUpgrade: websocket\r\n\
        Origin: http://example.com\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n\x81\x80";
    let cases: &[&[u8]] = &[
        chrome,
        b"\r\n\nGET / HTTP/1.1\nHost: h\n\n",
        b"GET / HTTP/1.1\r\nHost:\r\nX:  \t \r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\tb \t\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\r",
        b"GET / HTTP/1.1\r\n\r",
        b"GET / HTTP/1.1\r\n\rx",
        b"GET / HTTP/1.1\rx",
        b"GET / HTTP/1.",
        b"GET / HTTX",
        b"GET /\xe2\x82 HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: \x80\xff\r\n\r\n",
        b"GET / HTTP/1.1\r\n: v\r\n\r\n",
        b"GET / HTTP/1.1\r\n X: v\r\n\r\n",
    ];
    for case in cases {
        for max_headers in [0, 1, 2, 16, 40] {
            for end in 0..=case.len() {
                compare_request_parsers(&case[..end], max_headers);
            }
        }
    }
}
