//! `wsc serve` over real loopback sockets, with `wscodec`'s blocking client.

mod support;

use std::io::{Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use support::{http, tcp, ws, Server, TIMEOUT};
use wscodec::io::Error;
use wscodec::io::Options;
use wscodec::{CloseCode, Connection, Event, HandshakeError, Message, Role, Status};

fn buffers() -> (Vec<u8>, Vec<u8>) {
    (vec![0u8; 256 * 1024], vec![0u8; 16 * 1024])
}

#[test]
fn echoes_text_and_binary_then_closes_normally() {
    let server = Server::start(&[]);
    let (mut rx, mut tx) = buffers();
    let mut client = ws(server.addr, "/echo", None, &mut rx, &mut tx).unwrap();
    let local = client.stream_mut().0.local_addr().unwrap();
    client.send(Message::Text("hello")).unwrap();
    assert_eq!(client.read().unwrap(), Event::Text("hello"));
    let blob: Vec<u8> = (0..=255).cycle().take(100_000).collect();
    client.send(Message::Binary(&blob)).unwrap();
    assert_eq!(client.read().unwrap(), Event::Binary(&blob[..]));
    client.close(CloseCode::NORMAL, "bye").unwrap();
    // The server echoes the close code and reason.
    assert_eq!(
        client.read().unwrap(),
        Event::Close { code: Some(CloseCode::NORMAL), reason: "bye" }
    );
    let log = server.wait_for_log(&format!("close {local}"));
    assert!(log.contains(&format!("open  {local} path=/echo protocol=-")), "{log}");
    assert!(
        log.contains(&format!("close {local} code=1000 (normal closure) reason=\"bye\" msgs=2")),
        "{log}"
    );
}

#[test]
fn get_root_serves_the_test_page() {
    let server = Server::start(&[]);
    let response = http(server.addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains("Content-Type: text/html"), "{response}");
    assert!(response.contains("new WebSocket"), "{response}");
    assert!(response.contains("which echoes every message back unchanged"), "{response}");
    let response = http(server.addr, "GET /index.html?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
}

#[test]
fn unknown_paths_get_404_and_bad_upgrades_their_status() {
    let server = Server::start(&[]);
    let response = http(server.addr, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 404 Not Found\r\n"), "{response}");
    assert!(response.contains("/nope"), "{response}");
    // An upgrade with the wrong version gets 426 from `write_error`.
    let response = http(
        server.addr,
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
    );
    assert!(response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"), "{response}");
    assert!(response.contains("Sec-WebSocket-Version: 13\r\n"), "{response}");
}

#[test]
fn an_upgrade_stripped_by_a_proxy_gets_400_saying_so_not_the_page() {
    let server = Server::start(&[]);
    // What nginx forwards when it is not told to pass Upgrade and Connection.
    let response = http(
        server.addr,
        "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    assert!(response.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{response}");
    assert!(!response.contains("new WebSocket"), "not the test page: {response}");
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    assert_eq!(body.trim_end(), wscodec::HandshakeError::UpgradeStripped.to_string());
    for needle in ["missing header `Upgrade: websocket`", "a proxy", "proxy_set_header Upgrade"] {
        assert!(body.contains(needle), "{needle:?} in {body}");
    }
    server.wait_for_log("status=400");
}

#[test]
fn page_requests_are_logged_and_other_methods_get_405() {
    let server = Server::start(&[]);
    http(server.addr, "GET /index.html?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    server.wait_for_log("GET /index.html?x=1 200");
    let response = http(server.addr, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"), "{response}");
    assert!(response.contains("\r\nAllow: GET\r\n"), "{response}");
    let log = server.wait_for_log("status=405");
    assert!(log.contains("method POST not allowed"), "{log}");
}

#[test]
fn oversized_request_heads_get_431() {
    let server = Server::start(&[]);
    let request = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(10_000));
    let response = http(server.addr, &request);
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
}

#[test]
fn refused_origin_gets_403_naming_it() {
    let server = Server::start(&["--allow-origin", "http://good.example"]);
    let (mut rx, mut tx) = buffers();
    let refused = ws(server.addr, "/", Some("http://evil.example"), &mut rx, &mut tx);
    assert!(
        matches!(refused, Err(Error::Handshake(HandshakeError::UnexpectedStatus(403)))),
        "{refused:?}"
    );
    let log = server.wait_for_log("status=403");
    assert!(log.contains("http://evil.example"), "{log}");
    let (mut rx, mut tx) = buffers();
    let mut ok = ws(server.addr, "/", Some("http://good.example"), &mut rx, &mut tx).unwrap();
    ok.send(Message::Text("in")).unwrap();
    assert_eq!(ok.read().unwrap(), Event::Text("in"));
    // Clients without Origin (not browsers) are accepted.
    let (mut rx, mut tx) = buffers();
    assert!(ws(server.addr, "/", None, &mut rx, &mut tx).is_ok());
}

#[test]
fn connections_over_the_limit_get_503_and_the_others_keep_working() {
    let server = Server::start(&["--max-connections", "2"]);
    let (mut rx1, mut tx1) = buffers();
    let (mut rx2, mut tx2) = buffers();
    let mut first = ws(server.addr, "/", None, &mut rx1, &mut tx1).unwrap();
    let mut second = ws(server.addr, "/", None, &mut rx2, &mut tx2).unwrap();
    let response = http(
        server.addr,
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    assert!(response.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{response}");
    assert!(response.contains("server at capacity: 2 connections; try again later"), "{response}");
    for (client, text) in [(&mut first, "one"), (&mut second, "two")] {
        client.send(Message::Text(text)).unwrap();
        assert_eq!(client.read().unwrap(), Event::Text(text));
    }
    // A closed connection frees its slot.
    first.close(CloseCode::NORMAL, "").unwrap();
    assert!(matches!(first.read(), Ok(Event::Close { .. })));
    drop(first);
    let start = Instant::now();
    let mut third = loop {
        // Leaked so that the connection that gets through can keep its buffers.
        let rx = Vec::leak(vec![0u8; 64 * 1024]);
        let tx = Vec::leak(vec![0u8; 16 * 1024]);
        match ws(server.addr, "/", None, rx, tx) {
            Ok(ws) => break ws,
            Err(e) => assert!(start.elapsed() < TIMEOUT, "slot never freed: {e:?}"),
        }
        thread::sleep(Duration::from_millis(50));
    };
    third.send(Message::Text("three")).unwrap();
    assert_eq!(third.read().unwrap(), Event::Text("three"));
}

#[test]
fn half_a_request_is_dropped_after_the_handshake_timeout() {
    let server = Server::start(&["--handshake-timeout", "1"]);
    let mut stream = tcp(server.addr);
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgr").unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf).expect("EOF, not a timeout");
    assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(&buf[..n]));
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(800) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    server.wait_for_log("handshake timeout");
}

/// Reads raw bytes from `stream` and decodes server frames until `want` events arrived
/// or the stream ends; returns the events as (opcode-ish label, payload or code, reason).
fn raw_events(stream: &mut std::net::TcpStream, want: usize) -> Vec<String> {
    let mut conn = Connection::new(Role::Client);
    let mut buf = Vec::new();
    let mut events = Vec::new();
    let mut chunk = [0u8; 1024];
    while events.len() < want {
        let mut consumed_total = 0;
        loop {
            match conn.handle_input(&mut buf[consumed_total..]) {
                Ok(Status::Complete { value, consumed }) => {
                    if let Some(event) = value {
                        events.push(match event {
                            Event::Ping(p) => format!("ping {}", String::from_utf8_lossy(p)),
                            Event::Close { code, reason } => {
                                format!("close {} {reason}", code.map_or(0, CloseCode::as_u16))
                            }
                            other => format!("{other:?}"),
                        });
                    }
                    consumed_total += consumed;
                }
                Ok(Status::Partial { .. }) => break,
                Err(e) => panic!("bad frame from the server: {e}"),
            }
            if events.len() >= want {
                break;
            }
        }
        buf.drain(..consumed_total);
        if events.len() >= want {
            break;
        }
        let n = stream.read(&mut chunk).expect("read");
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    events
}

#[test]
fn a_silent_client_gets_a_ping_then_close_1001() {
    let server = Server::start(&["--idle-timeout", "1"]);
    let (mut rx, mut tx) = buffers();
    let client = ws(server.addr, "/", None, &mut rx, &mut tx).unwrap();
    let mut stream = client.into_inner().0; // from now on, never answer anything
    let start = Instant::now();
    let events = raw_events(&mut stream, 2);
    assert_eq!(events, ["ping idle", "close 1001 idle timeout"]);
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    let mut rest = [0u8; 16];
    assert_eq!(stream.read(&mut rest).unwrap(), 0, "the server drops the connection");
    let log = server.wait_for_log("idle timeout");
    assert!(log.contains("code=1001 (going away)"), "{log}");
}

#[test]
fn a_client_that_answers_pings_stays_connected() {
    let server = Server::start(&["--idle-timeout", "1"]);
    let (mut rx, mut tx) = buffers();
    let mut client = ws(server.addr, "/", None, &mut rx, &mut tx).unwrap();
    // Each read answers the ping with a pong, which counts as activity.
    for _ in 0..2 {
        assert_eq!(client.read().unwrap(), Event::Ping(b"idle"));
    }
    client.send(Message::Text("still here")).unwrap();
    assert_eq!(client.read().unwrap(), Event::Text("still here"));
}

#[test]
fn a_message_over_max_message_gets_1009() {
    let server = Server::start(&["--max-message", "1000"]);
    let (mut rx, mut tx) = buffers();
    let mut client = ws(server.addr, "/", None, &mut rx, &mut tx).unwrap();
    let local = client.stream_mut().0.local_addr().unwrap();
    client.send(Message::Binary(&[7; 1000])).unwrap();
    assert_eq!(client.read().unwrap(), Event::Binary(&[7; 1000]));
    client.send(Message::Binary(&[7; 2000])).unwrap();
    match client.read() {
        Ok(Event::Close { code, .. }) => assert_eq!(code, Some(CloseCode::MESSAGE_TOO_BIG)),
        other => panic!("expected close 1009, got {other:?}"),
    }
    let log = server.wait_for_log(&format!("close {local}"));
    assert!(log.contains(&format!("close {local} code=1009 (message too big)")), "{log}");
    assert!(log.contains("msgs=1"), "{log}");
}

#[test]
fn a_client_that_drops_is_logged_as_1006() {
    let server = Server::start(&[]);
    let (mut rx, mut tx) = buffers();
    let client = ws(server.addr, "/", None, &mut rx, &mut tx).unwrap();
    let local = client.into_inner().0.local_addr().unwrap(); // dropped here
    let log = server.wait_for_log(&format!("close {local}"));
    assert!(log.contains(&format!("close {local} code=1006 (abnormal closure")), "{log}");
}

#[test]
fn subprotocol_is_the_first_offered_one_the_server_speaks() {
    let server = Server::start(&["--protocol", "b", "--protocol", "c"]);
    let host = server.addr.to_string();
    let request = wscodec::handshake::client::ClientRequest {
        protocols: &["a", "c", "b"],
        ..wscodec::handshake::client::ClientRequest::new(&host, "/", wscodec::random::nonce())
    };
    let (mut rx, mut tx) = buffers();
    let mask: fn() -> [u8; 4] = wscodec::random::mask_key;
    let (_ws, chosen) = wscodec::io::blocking::WebSocket::connect(
        wscodec::io::StdIo(tcp(server.addr)),
        Options::new(&mut rx, &mut tx),
        &request,
        mask,
    )
    .unwrap();
    assert_eq!(chosen, Some("c"));
    server.wait_for_log("protocol=c");
}
