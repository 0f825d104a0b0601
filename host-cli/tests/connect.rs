//! `wsc connect` against echo servers built in the test from `wscodec`'s blocking adapter.

mod support;

use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::thread::{self, JoinHandle};

use support::{code, wsc, TIMEOUT};
use wscodec::handshake::server::Decision;
use wscodec::io::blocking::WebSocket;
use wscodec::io::Options;
use wscodec::io::StdIo;
use wscodec::MessageKind;
use wscodec::{Event, Message};

/// Accepts one WebSocket connection and echoes until it ends, or (with `drop_after`)
/// drops the TCP connection after that many messages without a close frame.
fn echo_server(drop_after: Option<usize>) -> (SocketAddr, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let (mut rx, mut tx) = (vec![0u8; 64 * 1024], vec![0u8; 16 * 1024]);
        let mut ws = WebSocket::accept(StdIo(stream), Options::new(&mut rx, &mut tx), |_, _| {
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
    assert_eq!(code(out.status), 10, "abnormal close by the peer");
    server.join().unwrap();
}

#[test]
fn an_https_url_names_the_wss_url_meant() {
    let out = wsc(&["connect", "https://example.invalid/chat"], b"");
    assert_eq!(code(out.status), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did you mean wss://example.invalid/chat?"), "{stderr}");
}

/// A port on 127.0.0.1 where nothing listens.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn each_stage_that_fails_has_its_exit_status() {
    let closed = format!("ws://127.0.0.1:{}/", closed_port());
    let proxy = format!("http://127.0.0.1:{}", closed_port());
    let cases: [(&[&str], i32, &str); 4] = [
        (&[&closed], 4, "cannot connect to 127.0.0.1:"),
        (&["--proxy", &proxy, &closed], 6, "through the proxy"),
        (&["--ping-interval", "0", &closed], 2, "is not a positive number of seconds"),
        (&["--cert", "client.pem", &closed], 2, "cannot read the client certificate client.pem"),
    ];
    for (args, status, needle) in cases {
        let out = wsc(&[&["connect"], args].concat(), b"");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(code(out.status), status, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    // DNS, in an empty network namespace: no resolver answers.
    let ok = Command::new("unshare").args(["--net", "true"]).status().is_ok_and(|s| s.success());
    assert!(ok, "`unshare --net` failed: this test needs root and util-linux's unshare");
    let out = Command::new("unshare")
        .args(["--net", env!("CARGO_BIN_EXE_wsc"), "connect", "ws://wsc-connect-test.example/"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(out.status), 3, "{stderr}");
    assert!(stderr.contains("cannot resolve wsc-connect-test.example"), "{stderr}");
}

#[test]
fn help_lists_the_exit_statuses() {
    let out = wsc(&["connect", "--help"], b"");
    let help = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(out.status), 0);
    let table = help.split_once("Exit status:\n").map(|(_, t)| t).unwrap_or_default();
    let codes: Vec<&str> = table.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(codes, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"], "{help}");
    assert!(table.contains("9  dead peer: no answer to a ping within --ping-timeout"), "{help}");
}
