//! The twins cannot drift: every conversation here runs through the blocking adapter and
//! through the async one, from one driver (`drive.rs`, made blocking and async by
//! `bisync_macros` as the adapters are), and both must leave the same transcript (each
//! call's result, each event) and write the same bytes. The conversations cover the
//! adapters' surface: both handshakes and their failures, echo, pieces, pings and pongs,
//! close, protocol errors, a failed write at every point, permessage-deflate, and the
//! halves of a split connection. Each is also checked for what it must show, so that two
//! twins broken alike do not pass.

mod asynch;
mod blocking;

use wscodec_test_frames::{masked, unmasked};
use wscodec_tests::{block_on, Script, StopsReading};

/// How a server or client is set up.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// The receive buffer's size.
    pub rx: usize,
    /// Messages handed out in pieces.
    pub streaming: bool,
    /// permessage-deflate's memory lent (and a compressor).
    pub deflate: bool,
    /// With `deflate`, no compressor: messages go out as stored blocks.
    pub storing: bool,
}

const PLAIN: Setup = Setup { rx: 1024, streaming: false, deflate: false, storing: false };

/// Reads of one byte, a few, a frame's worth, and everything at once.
const CHUNKS: [usize; 4] = [1, 5, 64, usize::MAX];

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn upgrade(path: &str, extra: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: device.local\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
    .into_bytes()
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// "Hello" compressed, then again with the first one's context (RFC 7692 section 7.2.3).
const HELLO_DEFLATED: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
const HELLO_AGAIN: &[u8] = &[0xf2, 0x00, 0x11, 0x00, 0x00];

/// Runs a server conversation through both twins over the same script; returns the
/// blocking twin's transcript with the bytes written.
fn both_servers(name: &str, input: &[u8], setup: Setup) -> String {
    let mut last = String::new();
    for chunk in CHUNKS {
        let mut script = Script::new(input, chunk);
        let log = blocking::server(&mut script, setup);
        let mut again = Script::new(input, chunk);
        let async_log = block_on(asynch::server(&mut again, setup));
        assert_eq!(log, async_log, "{name}, reads of {chunk}: the twins' transcripts differ");
        assert_eq!(script.written, again.written, "{name}, reads of {chunk}: different bytes");
        let transcript =
            format!("{}\nwrote {}", log.join("\n"), String::from_utf8_lossy(&script.written));
        // In streaming mode the pieces follow the reads; else nothing may depend on them.
        if !last.is_empty() && !setup.streaming {
            assert_eq!(transcript, last, "{name}: reads of {chunk} changed the conversation");
        }
        last = transcript;
    }
    last
}

#[test]
fn servers_echo_alike() {
    let fragments = concat(&[
        &masked(0x01, b"Hel", KEY),
        &masked(0x89, b"mid", KEY),
        &masked(0x80, b"lo", KEY),
    ]);
    let frames = concat(&[
        &masked(0x81, b"hello", KEY),
        &masked(0x82, &[7u8; 300], KEY),
        &masked(0x89, b"ping", KEY),
        &masked(0x8a, b"pong", KEY),
        &fragments,
        &masked(0x88, b"\x03\xe8ok", KEY),
    ]);
    let input = concat(&[&upgrade("/chat", "Sec-WebSocket-Protocol: chat\r\n"), &frames]);
    let t = both_servers("echo", &input, PLAIN);
    for seen in ["Text(\"hello\")", "Ping([112, 105, 110, 103])", "Text(\"Hello\")"] {
        assert!(t.contains(seen), "echo: {seen} missing from {t}");
    }
    assert!(t.contains("Close(Some(1000), \"ok\")") && t.contains("read: Closed"), "{t}");
    assert!(t.contains("Sec-WebSocket-Protocol: chat"), "{t}");

    let streaming = Setup { rx: 256, streaming: true, ..PLAIN };
    let input = concat(&[&upgrade("/", ""), &masked(0x82, &[9u8; 600], KEY), &fragments]);
    let t = both_servers("streaming", &input, streaming);
    assert!(t.contains("Piece { kind: Binary") && t.contains("last: true"), "{t}");
}

#[test]
fn servers_fail_alike() {
    let up = upgrade("/", "");
    let cases: [(&str, Vec<u8>, Setup, &str); 8] = [
        ("unmasked", concat(&[&up, &unmasked(0x81, b"x")]), PLAIN, "Protocol("),
        ("bad UTF-8", concat(&[&up, &masked(0x81, &[0xff, 0xfe], KEY)]), PLAIN, "Protocol("),
        ("too large", concat(&[&up, &masked(0x81, &[b'a'; 2000], KEY)]), PLAIN, "TooLarge"),
        ("eof", concat(&[&up, &masked(0x81, b"hi", KEY)]), PLAIN, "read: UnexpectedEof"),
        (
            "no key",
            b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                .to_vec(),
            PLAIN,
            "accept: Handshake(",
        ),
        ("page", b"GET /page HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(), PLAIN, "NotUpgraded(200)"),
        ("refused", upgrade("/nope", ""), PLAIN, "NotUpgraded(404)"),
        (
            "head too large",
            upgrade("/", &format!("X-Padding: {}\r\n", "p".repeat(300))),
            Setup { rx: 256, ..PLAIN },
            "HeadersTooLarge",
        ),
    ];
    for (name, input, setup, expected) in cases {
        let t = both_servers(name, &input, setup);
        assert!(t.contains(expected), "{name}: {expected} missing from {t}");
    }
}

#[test]
fn servers_inflate_and_compress_alike() {
    let offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
    let input = concat(&[
        &upgrade("/", offer),
        &masked(0xc1, HELLO_DEFLATED, KEY),
        &masked(0xc1, HELLO_AGAIN, KEY),
        &masked(0x88, b"\x03\xe8", KEY),
    ]);
    let deflate = Setup { deflate: true, ..PLAIN };
    let t = both_servers("deflate", &input, deflate);
    assert!(t.contains("deflate Some(") && t.matches("Text(\"Hello\")").count() == 2, "{t}");
    assert!(t.contains("Sec-WebSocket-Extensions: permessage-deflate"), "{t}");
    // Without a compressor, in stored blocks: RSV1, a block of five bytes, the final 00.
    let storing = Setup { storing: true, ..deflate };
    let t = both_servers("stored blocks", &input, storing);
    // A block header (00, length 5 and its complement), "Hello", the final 00.
    assert!(t.contains("\0\u{5}\0\u{fffd}\u{fffd}Hello\0"), "{t}");
}

#[test]
fn a_failed_write_ends_both_twins_alike() {
    let frames = concat(&[
        &upgrade("/", ""),
        &masked(0x89, b"ping", KEY),
        &masked(0x81, &[b'x'; 700], KEY),
        &masked(0x88, b"\x03\xe8", KEY),
    ]);
    // Every cut: in the 101, after it, in the pong, in the echo, in the close reply.
    for accepts in (0..900).step_by(37) {
        let mut stream = StopsReading::new(&frames, accepts);
        let log = blocking::server(&mut stream, PLAIN);
        let mut again = StopsReading::new(&frames, accepts);
        let async_log = block_on(asynch::server(&mut again, PLAIN));
        assert_eq!(log, async_log, "writes cut after {accepts} bytes: the twins differ");
        assert_eq!(stream.script.written, again.script.written);
        let failed = log.iter().any(|line| line.contains("Write(") || line.contains("Closed"));
        assert!(failed, "cut after {accepts}: the failure shows in {log:?}");
    }
}

fn response(extra: &str, frames: &[u8]) -> Vec<u8> {
    let request = wscodec::handshake::client::ClientRequest::new("device.local", "/chat", [7; 16]);
    let accept = request.expected_accept();
    let accept = std::str::from_utf8(&accept).unwrap();
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: chat\r\n{extra}\r\n"
    );
    concat(&[head.as_bytes(), frames])
}

fn both_clients(name: &str, input: &[u8], setup: Setup) -> String {
    let mut last = String::new();
    for chunk in CHUNKS {
        let mut script = Script::new(input, chunk);
        let log = blocking::client(&mut script, setup);
        let mut again = Script::new(input, chunk);
        let async_log = block_on(asynch::client(&mut again, setup));
        assert_eq!(log, async_log, "{name}, reads of {chunk}: the twins' transcripts differ");
        assert_eq!(script.written, again.written, "{name}, reads of {chunk}: different bytes");
        let transcript = format!("{}\nwrote {:02x?}", log.join("\n"), script.written);
        if !last.is_empty() {
            assert_eq!(transcript, last, "{name}: reads of {chunk} changed the conversation");
        }
        last = transcript;
    }
    last
}

#[test]
fn clients_alike() {
    let frames = concat(&[
        &unmasked(0x81, b"hello"),
        &unmasked(0x8a, b"mid"),
        &unmasked(0x89, b"srv"),
        &unmasked(0x88, b"\x0f\xa0done"),
    ]);
    let t = both_clients("client", &response("", &frames), PLAIN);
    assert!(t.contains("connected, Some(\"chat\")") && t.contains("Pong([109, 105, 100])"), "{t}");
    assert!(t.contains("Close(Some(4000), \"done\")") && t.contains("read: Closed"), "{t}");

    let answer = "Sec-WebSocket-Extensions: permessage-deflate\r\n";
    let deflated = concat(&[&unmasked(0xc1, HELLO_DEFLATED), &unmasked(0x88, b"\x0f\xa0")]);
    let deflate = Setup { deflate: true, ..PLAIN };
    let t = both_clients("client deflate", &response(answer, &deflated), deflate);
    assert!(t.contains("deflate Some(") && t.contains("Text(\"Hello\")"), "{t}");

    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("unoffered extension", response(answer, &deflated), "connect: Handshake("),
        ("masked by the server", response("", &masked(0x81, b"x", KEY)), "Protocol("),
        (
            "wrong accept key",
            b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: x\r\n\r\n"
                .to_vec(),
            "connect: Handshake(",
        ),
    ];
    for (name, input, expected) in cases {
        let t = both_clients(name, &input, PLAIN);
        assert!(t.contains(expected), "{name}: {expected} missing from {t}");
    }
}

#[test]
fn split_halves_alike() {
    let input = concat(&[
        &upgrade("/", ""),
        &masked(0x89, b"ping", KEY),
        &masked(0x01, b"Hel", KEY),
        &masked(0x80, b"lo", KEY),
        &masked(0x88, b"\x03\xe8", KEY),
    ]);
    for chunk in CHUNKS {
        let log = blocking::split(&input, chunk);
        assert_eq!(log, block_on(asynch::split(&input, chunk)), "reads of {chunk}");
        let t = log.join("\n");
        assert!(t.contains("Ping([112, 105, 110, 103])") && t.contains("Text(\"Hello\")"), "{t}");
        assert!(t.contains("Close(Some(1000)") && t.contains("read: Closed"), "{t}");
    }
}
