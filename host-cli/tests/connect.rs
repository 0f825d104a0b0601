//! `wsc connect` against echo servers built in the test from `wscodec`'s blocking adapter.

mod support;

use std::net::{SocketAddr, TcpListener};
use std::thread::{self, JoinHandle};

use support::{code, wsc, TIMEOUT};
use wscodec::conn::MessageKind;
use wscodec::io::blocking::WebSocket;
use wscodec::io::{Decision, StdIo};
use wscodec::{Config, Event, Message};

/// Accepts one WebSocket connection and echoes until it ends, or (with `drop_after`)
/// drops the TCP connection after that many messages without a close frame.
fn echo_server(drop_after: Option<usize>) -> (SocketAddr, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let (mut rx, mut tx) = (vec![0u8; 64 * 1024], vec![0u8; 16 * 1024]);
        let mut ws =
            WebSocket::accept(StdIo(stream), Config::default(), &mut rx, &mut tx, |_, _| {
                Decision::Accept { protocol: None }
            })
            .unwrap();
        let mut seen = Vec::new();
        loop {
            let (kind, data) = match ws.read() {
                Ok(Event::Text(t)) => (MessageKind::Text, t.as_bytes().to_vec()),
                Ok(Event::Binary(b)) => (MessageKind::Binary, b.to_vec()),
                Ok(_) => continue,
                Err(_) => return seen,
            };
            seen.push(format!("{kind:?} {}", String::from_utf8_lossy(&data)));
            if drop_after == Some(seen.len()) {
                return seen;
            }
            match kind {
                MessageKind::Text => ws.send(Message::Text(std::str::from_utf8(&data).unwrap())),
                MessageKind::Binary => ws.send(Message::Binary(&data)),
            }
            .unwrap();
        }
    });
    (addr, handle)
}

#[test]
fn stdin_lines_are_sent_and_echoes_printed() {
    let (addr, server) = echo_server(None);
    let out = wsc(&["connect", &format!("ws://{addr}/")], b"a\nb\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, "a\nb\nclosed: 1000 (normal closure) reason=\"\"\n");
    assert_eq!(code(out.status), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(server.join().unwrap(), ["Text a", "Text b"]);
}

#[test]
fn binary_mode_sends_binary_and_prints_hex() {
    let (addr, server) = echo_server(None);
    let out = wsc(&["connect", "--binary", &format!("ws://{addr}")], b"hi\r\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("<binary 2 bytes: 68 69>\n"), "{stdout}");
    assert_eq!(code(out.status), 0);
    assert_eq!(server.join().unwrap(), ["Binary hi"]);
}

#[test]
fn a_dropped_connection_is_an_abnormal_close() {
    let (addr, server) = echo_server(Some(1));
    let out = wsc(&["connect", &format!("ws://{addr}/")], b"a\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("closed: 1006 (abnormal closure"), "{stdout}");
    assert_eq!(code(out.status), 1);
    server.join().unwrap();
}

#[test]
fn an_https_url_names_the_wss_url_meant() {
    let out = wsc(&["connect", "https://example.invalid/chat"], b"");
    assert_eq!(code(out.status), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did you mean wss://example.invalid/chat?"), "{stderr}");
}
