//! The offline commands: `accept`, `key` and `decode`.

mod support;

use support::{code, wsc};

fn stdout(args: &[&str], stdin: &[u8]) -> (String, i32) {
    let out = wsc(args, stdin);
    (String::from_utf8_lossy(&out.stdout).into_owned(), code(out.status))
}

#[test]
fn accept_computes_the_rfc6455_example() {
    let (out, status) = stdout(&["accept", "dGhlIHNhbXBsZSBub25jZQ=="], b"");
    assert_eq!((out.as_str(), status), ("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n", 0));
}

#[test]
fn key_prints_fresh_16_byte_nonces() {
    let (a, _) = stdout(&["key"], b"");
    let (b, _) = stdout(&["key"], b"");
    assert_eq!(a.trim().len(), 24, "{a}");
    assert!(a.trim().ends_with("=="), "{a}");
    assert_ne!(a, b);
}

#[test]
fn decode_shows_the_rfc6455_masked_hello() {
    let (out, status) = stdout(&["decode", "81 85 37 fa 21 3d 7f 9f 4d 51 58"], b"");
    assert!(out.contains("\"Hello\""), "{out}");
    assert!(out.contains("MASK=1 key=37fa213d"), "{out}");
    assert_eq!(status, 0);
    // The same bytes as separate arguments, with colons, and on stdin.
    let (out, _) = stdout(&["decode", "81:85:37:fa", "21", "3d7f9f4d5158"], b"");
    assert!(out.contains("\"Hello\""), "{out}");
    let (out, _) = stdout(&["decode", "-"], b"81 85 37 fa 21 3d 7f 9f 4d 51 58\n");
    assert!(out.contains("\"Hello\""), "{out}");
    let (out, _) =
        stdout(&["decode"], &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    assert!(out.contains("\"Hello\""), "{out}");
}

#[test]
fn decode_reports_an_unmasked_client_frame_as_1002() {
    let (out, status) = stdout(&["decode", "--role", "client", "81 05 48 65 6c 6c 6f"], b"");
    assert!(out.contains("1002"), "{out}");
    assert!(out.contains("not masked"), "{out}");
    assert_eq!(status, 1);
    // The same frame from a server is fine; without --role, MASK=0 says it is a server's.
    let (out, status) = stdout(&["decode", "--role", "server", "81 05 48 65 6c 6c 6f"], b"");
    assert!(out.contains("\"Hello\""), "{out}");
    assert_eq!(status, 0);
    let (out, status) = stdout(&["decode", "81 05 48 65 6c 6c 6f"], b"");
    assert!(out.starts_with("sender: server, inferred from frame 1's MASK=0"), "{out}");
    assert_eq!(status, 0);
}

#[test]
fn decode_shows_the_close_code_of_a_frame_that_breaks_the_rules() {
    // A server's close frame with 1006, which is never sent on the wire.
    let (out, status) = stdout(&["decode", "88 02 03 ee"], b"");
    assert!(out.contains("close: code 1006 (abnormal closure"), "{out}");
    assert!(out.contains("violation by the server"), "{out}");
    assert_eq!(status, 1);
}

#[test]
fn decode_explains_close_codes() {
    let (out, status) = stdout(&["decode", "--role", "server", "88 02 03 e8"], b"");
    assert!(out.contains("normal closure"), "{out}");
    assert_eq!(status, 0);
}

#[test]
fn decode_says_how_many_bytes_are_missing() {
    let (out, status) = stdout(&["decode", "--role", "server", "81 05 48"], b"");
    assert!(out.contains("4 more byte(s) needed"), "{out}");
    assert_eq!(status, 0);
}

#[test]
fn decode_refuses_bad_hex() {
    let out = wsc(&["decode", "8"], b"");
    assert_eq!(code(out.status), 2);
}
