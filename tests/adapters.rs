//! The blocking and async adapters: handshake and messages over an in-memory duplex
//! stream and over real loopback TCP, client and server both from this crate.

use std::net::TcpStream;
use std::thread;

use wscodec::conn::MessageKind;
use wscodec::handshake::client::ClientRequest;
use wscodec::io::{asynch, blocking, Decision, Error, StdIo};
use wscodec::{CloseCode, Config, Event, Message, OpCode, Role};
use wscodec_tests::{
    block_on, client_frame, duplex, loopback_listener, AsyncOverBlocking, Owned, Script,
};

const PROTOCOLS: &[&str] = &["chat.v2", "chat.v1"];

/// A server that accepts `chat.v1` when offered, echoes every data message, and
/// returns what it saw until the client closed.
fn echo_server<S: embedded_io::Read + embedded_io::Write>(stream: S) -> Vec<Owned>
where
    S::Error: std::fmt::Debug,
{
    let (mut rx, mut tx) = (vec![0u8; 4 * 1024 * 1024], vec![0u8; 1024]);
    let mut ws = blocking::WebSocket::accept(
        stream,
        Config::default(),
        &mut rx,
        &mut tx,
        || [0; 4],
        |req, up| {
            assert_eq!(req.path, "/echo?room=1");
            assert_eq!(up.origin, Some("http://device.local"));
            if up.offers_protocol("chat.v1") {
                Decision::Accept { protocol: Some("chat.v1") }
            } else {
                Decision::Accept { protocol: None }
            }
        },
    )
    .expect("server handshake");
    let mut seen = Vec::new();
    let mut echo = Vec::new();
    loop {
        let event = match ws.read() {
            Ok(e) => e,
            Err(Error::Closed) => return seen,
            Err(e) => panic!("server read failed: {e:?}"),
        };
        seen.push(Owned::from(event));
        match seen.last().unwrap() {
            Owned::Text(t) => {
                echo = t.as_bytes().to_vec();
                ws.send(Message::Text(std::str::from_utf8(&echo).unwrap())).unwrap();
            }
            Owned::Binary(b) => {
                echo.clone_from(b);
                ws.send(Message::Binary(&echo)).unwrap();
            }
            Owned::Close(..) => {
                assert!(ws.connection().is_closed(), "the close reply was sent during read");
                return seen;
            }
            _ => {}
        }
    }
}

fn request(nonce: [u8; 16]) -> ClientRequest<'static> {
    let mut request = ClientRequest::new("device.local", "/echo?room=1", nonce);
    request.origin = Some("http://device.local");
    request.protocols = PROTOCOLS;
    request
}

/// The client side of the conversation every transport runs.
fn client_conversation<S: embedded_io::Read + embedded_io::Write>(stream: S) -> Vec<Owned>
where
    S::Error: std::fmt::Debug,
{
    let (mut rx, mut tx) = (vec![0u8; 4 * 1024 * 1024], vec![0u8; 300]);
    let req = request([7; 16]);
    let (mut ws, protocol) = blocking::WebSocket::connect(
        stream,
        Config::default(),
        &req,
        &mut rx,
        &mut tx,
        wscodec::random::mask_key,
    )
    .expect("client handshake");
    assert_eq!(protocol.map(|i| PROTOCOLS[i]), Some("chat.v1"));
    let mut got = Vec::new();
    ws.send(Message::Text("hello")).unwrap();
    got.push(Owned::from(ws.read().unwrap()));
    // Larger than tx: goes out in pieces through the 300-byte buffer.
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    ws.send(Message::Binary(&big)).unwrap();
    got.push(Owned::from(ws.read().unwrap()));
    ws.send_fragment(MessageKind::Text, "Hel".as_bytes(), false).unwrap();
    ws.send(Message::Ping(b"mid")).unwrap();
    ws.send_fragment(MessageKind::Text, "lo €".as_bytes(), true).unwrap();
    got.push(Owned::from(ws.read().unwrap()));
    got.push(Owned::from(ws.read().unwrap()));
    ws.close(CloseCode::new(4000), "done").unwrap();
    got.push(Owned::from(ws.read().unwrap()));
    assert!(ws.connection().is_closed());
    assert!(matches!(ws.read(), Err(Error::Closed)));
    got
}

fn expected_client_view() -> Vec<Owned> {
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    vec![
        Owned::Text("hello".into()),
        Owned::Binary(big),
        Owned::Pong(b"mid".to_vec()),
        Owned::Text("Hello €".into()),
        Owned::Close(Some(4000), "done".into()),
    ]
}

#[test]
fn blocking_client_and_server_over_in_memory_duplex() {
    let (a, b) = duplex();
    let server = thread::spawn(move || echo_server(b));
    let got = client_conversation(a);
    assert_eq!(got, expected_client_view());
    let seen = server.join().unwrap();
    assert_eq!(seen.last(), Some(&Owned::Close(Some(4000), "done".into())));
    assert!(seen.contains(&Owned::Ping(b"mid".to_vec())));
}

#[test]
fn blocking_client_and_server_over_loopback_tcp() {
    let listener = loopback_listener();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || echo_server(StdIo(listener.accept().unwrap().0)));
    let got = client_conversation(StdIo(TcpStream::connect(addr).unwrap()));
    assert_eq!(got, expected_client_view());
    assert_eq!(server.join().unwrap().len(), 5);
}

#[test]
fn async_client_against_blocking_server_over_loopback_tcp() {
    let listener = loopback_listener();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || echo_server(StdIo(listener.accept().unwrap().0)));
    let stream = AsyncOverBlocking(TcpStream::connect(addr).unwrap());
    let got = block_on(async move {
        let (mut rx, mut tx) = (vec![0u8; 64 * 1024], vec![0u8; 256]);
        let req = request([3; 16]);
        let (mut ws, protocol) = asynch::WebSocket::connect(
            stream,
            Config::default(),
            &req,
            &mut rx,
            &mut tx,
            wscodec::random::mask_key,
        )
        .await
        .expect("client handshake");
        assert_eq!(protocol, Some(1));
        let mut got = Vec::new();
        ws.send(Message::Text("async")).await.unwrap();
        got.push(Owned::from(ws.read().await.unwrap()));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        got.push(Owned::from(ws.read().await.unwrap()));
        got
    });
    assert_eq!(got, vec![Owned::Text("async".into()), Owned::Close(Some(1000), String::new())]);
    server.join().unwrap();
}

#[test]
fn async_server_over_a_scripted_stream_byte_by_byte() {
    let mut nonce_req = request([9; 16]);
    nonce_req.protocols = &[];
    let mut input = vec![0u8; 1024];
    let n = nonce_req.encode(&mut input).unwrap();
    input.truncate(n);
    input.extend(client_frame(true, OpCode::Text, b"one", [1, 2, 3, 4]));
    input.extend(client_frame(true, OpCode::Ping, b"p", [5, 6, 7, 8]));
    input.extend(client_frame(true, OpCode::Close, &[0x03, 0xe8], [9, 9, 9, 9]));
    let script = Script::new(&input, 1);
    let (events, written) = block_on(async move {
        let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
        let mut ws = asynch::WebSocket::accept(
            script,
            Config::default(),
            &mut rx,
            &mut tx,
            || [0; 4],
            |_, _| Decision::Accept { protocol: None },
        )
        .await
        .unwrap();
        let mut events = Vec::new();
        for _ in 0..3 {
            events.push(Owned::from(ws.read().await.unwrap()));
        }
        (events, ws.into_inner().written)
    });
    assert_eq!(
        events,
        vec![
            Owned::Text("one".into()),
            Owned::Ping(b"p".to_vec()),
            Owned::Close(Some(1000), String::new())
        ]
    );
    let head_end = written.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(written.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    assert_eq!(&written[head_end..], &[0x8a, 0x01, b'p', 0x88, 0x02, 0x03, 0xe8]);
}

#[test]
fn frames_in_the_same_read_as_the_handshake_are_not_lost() {
    let req = request([1; 16]);
    let mut input = vec![0u8; 1024];
    let n = req.encode(&mut input).unwrap();
    input.truncate(n);
    input.extend(client_frame(true, OpCode::Text, b"early", [1, 2, 3, 4]));
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
    // One read delivers the request and the first frame together.
    let script = Script::new(&input, usize::MAX);
    let mut ws = blocking::WebSocket::accept(
        script,
        Config::default(),
        &mut rx,
        &mut tx,
        || [0; 4],
        |_, _| Decision::Accept { protocol: None },
    )
    .unwrap();
    assert_eq!(Owned::from(ws.read().unwrap()), Owned::Text("early".into()));
}

#[test]
fn rejected_and_malformed_upgrades_get_http_errors() {
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
    let mut input = vec![0u8; 1024];
    let n = request([1; 16]).encode(&mut input).unwrap();
    let script = Script::new(&input[..n], 7);
    let err = blocking::WebSocket::accept(
        script,
        Config::default(),
        &mut rx,
        &mut tx,
        || [0; 4],
        |_, up| {
            assert_eq!(up.origin, Some("http://device.local"));
            Decision::Reject { status: 403, reason: "origin not allowed" }
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::Rejected(403)));

    let bad = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    let mut script = Script::new(bad, 5);
    let mut rx = [0u8; 1024];
    let err = blocking::WebSocket::accept(
        &mut script,
        Config::default(),
        &mut rx,
        &mut tx,
        || [0; 4],
        |_, _| Decision::Accept { protocol: None },
    )
    .unwrap_err();
    assert!(matches!(err, Error::Handshake(e) if e.status() == 426), "{err:?}");
    let response = String::from_utf8_lossy(&script.written);
    assert!(response.starts_with("HTTP/1.1 426 "), "{response}");
    assert!(response.contains("Sec-WebSocket-Version: 13\r\n"), "{response}");

    // A request that does not fit the receive buffer: 431.
    let mut huge = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 2000));
    let mut script = Script::new(&huge, 64);
    let mut rx = [0u8; 512];
    let err = blocking::WebSocket::accept(
        &mut script,
        Config::default(),
        &mut rx,
        &mut tx,
        || [0; 4],
        |_, _| Decision::Accept { protocol: None },
    )
    .unwrap_err();
    assert!(matches!(err, Error::Handshake(e) if e.status() == 431), "{err:?}");
    assert!(script.written.starts_with(b"HTTP/1.1 431 "));
}

#[test]
fn protocol_errors_send_the_right_close_code() {
    // Unmasked frame from a client → 1002; invalid UTF-8 → 1007; too big for rx → 1009.
    let cases: [(Vec<u8>, u16); 3] = [
        (vec![0x81, 0x01, b'x'], 1002),
        (client_frame(true, OpCode::Text, &[0xff], [1, 1, 1, 1]), 1007),
        (client_frame(true, OpCode::Binary, &[0; 2000], [1, 1, 1, 1]), 1009),
    ];
    for (wire, code) in cases {
        let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
        let mut script = Script::new(&wire, 3);
        let mut ws =
            blocking::WebSocket::new(&mut script, Role::Server, &mut rx, &mut tx, || [0; 4]);
        let err = ws.read().unwrap_err();
        assert!(matches!(err, Error::Protocol(e) if e.close_code().as_u16() == code), "{err:?}");
        assert!(ws.connection().is_closed());
        let [b0, b1, hi, lo, ref reason @ ..] = script.written[..] else {
            panic!("{:x?}", script.written)
        };
        assert_eq!(
            (b0, usize::from(b1), u16::from_be_bytes([hi, lo])),
            (0x88, 2 + reason.len(), code)
        );
        assert!(!reason.is_empty());
    }
}

#[test]
fn eof_without_close_is_abnormal() {
    let wire = client_frame(true, OpCode::Text, b"x", [1, 2, 3, 4]);
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
    let mut ws = blocking::WebSocket::new(
        Script::new(&wire[..3], 1),
        Role::Server,
        &mut rx,
        &mut tx,
        || [0; 4],
    );
    assert!(matches!(ws.read(), Err(Error::UnexpectedEof)));
}

#[test]
fn streaming_mode_reads_a_message_larger_than_rx() {
    let payload: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    let wire = client_frame(true, OpCode::Binary, &payload, [4, 3, 2, 1]);
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
    let conn = wscodec::Connection::with_config(
        Role::Server,
        Config { max_message: u64::MAX, streaming: true },
    );
    let mut ws = blocking::WebSocket::with_buffered(
        Script::new(&wire, 700),
        conn,
        &mut rx,
        0,
        &mut tx,
        || [0; 4],
    );
    let mut got = Vec::new();
    loop {
        match ws.read().unwrap() {
            Event::Fragment { data, last, .. } => {
                got.extend_from_slice(data);
                if last {
                    break;
                }
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, payload);
}

#[test]
fn many_small_fragments_fit_because_joined_headers_are_compacted() {
    // 800 bytes in 100 fragments: 1400 bytes on the wire, more than rx holds (1024).
    let payload: Vec<u8> = (0..800u32).map(|i| (i * 7) as u8).collect();
    let mut wire = Vec::new();
    for (i, part) in payload.chunks(8).enumerate() {
        let opcode = if i == 0 { OpCode::Binary } else { OpCode::Continuation };
        wire.extend(client_frame(i == 99, opcode, part, [1, 2, 3, (i % 7) as u8]));
        if i % 10 == 5 {
            wire.extend(client_frame(true, OpCode::Ping, b"between", [8, 8, 8, 8]));
        }
    }
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
    let mut ws =
        blocking::WebSocket::new(Script::new(&wire, 97), Role::Server, &mut rx, &mut tx, || [0; 4]);
    let mut pings = 0;
    loop {
        match ws.read().unwrap() {
            Event::Ping(p) => {
                assert_eq!(p, b"between");
                pings += 1;
            }
            Event::Binary(data) => {
                assert_eq!(data, &payload[..]);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(pings, 10);
}
