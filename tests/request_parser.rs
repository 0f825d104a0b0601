//! wscodec's own HTTP head parser against httparse, the parser it replaced:
//! `server::parse_request` against `httparse::Request::parse` and `client::parse_response`
//! against `httparse::Response::parse`. On generated heads, valid and broken, both must
//! give the same verdict (complete, partial or the same error), the same `consumed`,
//! request or status line, and headers.
//!
//! The comparisons are `wscodec_fuzz_bodies::compare_request_parsers` and
//! `compare_response_parsers`, which the `request_parser` and `handshake_response` fuzz
//! targets run too.

use proptest::prelude::*;
use wscodec_fuzz_bodies::{
    compare_request_parsers, compare_response_parsers, REQUEST_PARSER_MAX_HEADERS,
};

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

fn status_line() -> impl Strategy<Value = Vec<u8>> {
    let version = prop::sample::select(vec![
        &b"HTTP/1.1"[..],
        b"HTTP/1.1",
        b"HTTP/1.1",
        b"HTTP/1.0",
        b"HTTP/1.2",
        b"http/1.1",
        b"HTTP/1.",
        b"",
    ]);
    let code = prop::sample::select(vec![
        &b"101"[..],
        b"101",
        b"200",
        b"404",
        b"1x1",
        b"10",
        b"1010",
        b"",
    ]);
    let reason = prop::sample::select(vec![
        &b" Switching Protocols"[..],
        b" OK",
        b" ",
        b"",
        b"  Not Found",
        b" Not\tFound ",
        b" caf\xc3\xa9",
        b" \xff",
        b" a\x7fb",
        b" a\x01b",
        b"\tOK",
    ]);
    let sep = prop::sample::select(vec![&b" "[..], b" ", b"  ", b"\t", b""]);
    (
        prop::sample::select(vec![&b""[..], b"\r\n", b"\n", b"\r"]),
        version,
        sep,
        code,
        reason,
        line_end(),
    )
        .prop_map(|(lead, v, s, c, r, end)| [lead, v, s, c, r, end].concat())
}

/// A request from pieces, then perhaps mutated: bytes inserted or replaced, truncated.
fn request() -> impl Strategy<Value = Vec<u8>> {
    head(request_line())
}

/// A response from pieces, mutated as [`request`] is.
fn response() -> impl Strategy<Value = Vec<u8>> {
    head(status_line())
}

/// A head that starts with `first_line`, then header lines, then perhaps mutated.
fn head(first_line: impl Strategy<Value = Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let head = (
        first_line,
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

/// A parser comparison: `__fuzz::compare_request_parsers` or `compare_response_parsers`.
type Compare = fn(&[u8], usize);

/// Compares the parsers on every prefix of `bytes`, the empty one and `bytes` included.
fn on_every_prefix(bytes: &[u8], max_headers: usize, compare: Compare) {
    for end in 0..=bytes.len() {
        compare(&bytes[..end], max_headers);
    }
}

/// Compares the parsers on every prefix of every case, with header arrays of several sizes.
fn on_known_heads(cases: &[&[u8]], compare: Compare) {
    for case in cases {
        for max_headers in [0, 1, 2, 16, 40] {
            on_every_prefix(case, max_headers, compare);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn agrees_with_httparse(bytes in request(), max_headers in 0..=REQUEST_PARSER_MAX_HEADERS) {
        compare_request_parsers(&bytes, max_headers);
    }

    #[test]
    fn agrees_with_httparse_on_every_prefix(bytes in request(), max_headers in 8..=REQUEST_PARSER_MAX_HEADERS) {
        on_every_prefix(&bytes, max_headers, compare_request_parsers);
    }

    #[test]
    fn agrees_with_httparse_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..96)) {
        compare_request_parsers(&bytes, 4);
        compare_response_parsers(&bytes, 4);
    }

    #[test]
    fn responses_agree_with_httparse(bytes in response(), max_headers in 0..=REQUEST_PARSER_MAX_HEADERS) {
        compare_response_parsers(&bytes, max_headers);
    }

    #[test]
    fn responses_agree_with_httparse_on_every_prefix(bytes in response(), max_headers in 8..=REQUEST_PARSER_MAX_HEADERS) {
        on_every_prefix(&bytes, max_headers, compare_response_parsers);
    }
}

#[test]
fn responses_agree_with_httparse_on_known_responses() {
    on_known_heads(
        &[
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02Hi",
            b"\r\nHTTP/1.0 404 Not Found\nContent-Length: 0\n\n",
            b"HTTP/1.1 200\r\n\r\n",
            b"HTTP/1.1 200 \r\n\r\n",
            b"HTTP/1.1 200 caf\xc3\xa9\r\n\r\n",
            b"HTTP/1.1 200 OK\rX",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"SSH-2.0-OpenSSH_9.6\r\n",
            b"HTTP/1.1 101 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
        ],
        compare_response_parsers,
    );
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
    on_known_heads(cases, compare_request_parsers);
}
