//! The blocking and async adapters: handshake and messages over an in-memory duplex
//! stream and over real loopback TCP, client and server both from this crate.

use std::convert::Infallible;
use std::net::TcpStream;
use std::thread;

use wscodec::handshake::client::ClientRequest;
use wscodec::handshake::server::Decision;
use wscodec::handshake::server::{Request, Upgrade};
use wscodec::io::Options;
use wscodec::io::{asynch, blocking, Error, StdIo};
use wscodec::MessageKind;
use wscodec::{CloseCode, Config, Event, HandshakeError, Message, OpCode, Piece};
use wscodec_test_frames::masked;
use wscodec_tests::{
    block_on, duplex, loopback_listener, AsyncOverBlocking, Owned, Script, StopsReading,
};

const PROTOCOLS: &[&str] = &["chat.v2", "chat.v1"];

/// A server that accepts `chat.v1` when offered, echoes every data message, and
/// returns what it saw until the client closed.
fn echo_server<S: embedded_io::Read + embedded_io::Write>(stream: S) -> Vec<Owned>
where
    S::Error: std::fmt::Debug,
{
    let (mut rx, mut tx) = (vec![0u8; 4 * 1024 * 1024], vec![0u8; 1024]);
    let mut ws = blocking::WebSocket::accept(stream, Options::new(&mut rx, &mut tx), |req, up| {
        assert_eq!(req.path, "/echo?room=1");
        let up = up.expect("an upgrade request");
        assert_eq!(up.origin, Some("http://device.local"));
        if up.offers_protocol("chat.v1") {
            Decision::Accept { protocol: Some("chat.v1") }
        } else {
            Decision::Accept { protocol: None }
        }
    })
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
        Options::new(&mut rx, &mut tx),
        &req,
        wscodec::random::mask_key,
    )
    .expect("client handshake");
    assert_eq!(protocol, Some("chat.v1"));
    let mut got = Vec::new();
    ws.send(Message::Text("hello")).unwrap();
    got.push(Owned::from(ws.read().unwrap()));
    // Larger than tx: goes out in pieces through the 300-byte buffer.
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    ws.send(Message::Binary(&big)).unwrap();
    got.push(Owned::from(ws.read().unwrap()));
    ws.send_piece(Piece { kind: MessageKind::Text, data: "Hel".as_bytes(), last: false }).unwrap();
    ws.send(Message::Ping(b"mid")).unwrap();
    ws.send_piece(Piece { kind: MessageKind::Text, data: "lo €".as_bytes(), last: true }).unwrap();
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
            Options::new(&mut rx, &mut tx),
            &req,
            wscodec::random::mask_key,
        )
        .await
        .expect("client handshake");
        assert_eq!(protocol, Some(PROTOCOLS[1]));
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
    input.extend(masked(0x81, b"one", [1, 2, 3, 4]));
    input.extend(masked(0x89, b"p", [5, 6, 7, 8]));
    input.extend(masked(0x88, &[0x03, 0xe8], [9, 9, 9, 9]));
    let script = Script::new(&input, 1);
    let (events, written) = block_on(async move {
        let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
        let mut ws = asynch::WebSocket::accept(script, Options::new(&mut rx, &mut tx), |_, _| {
            Decision::Accept { protocol: None }
        })
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
    input.extend(masked(0x81, b"early", [1, 2, 3, 4]));
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
    // One read delivers the request and the first frame together.
    let script = Script::new(&input, usize::MAX);
    let mut ws = blocking::WebSocket::accept(script, Options::new(&mut rx, &mut tx), |_, _| {
        Decision::Accept { protocol: None }
    })
    .unwrap();
    assert_eq!(Owned::from(ws.read().unwrap()), Owned::Text("early".into()));
}

/// Runs the blocking server's handshake on `request`, read `chunk` bytes at a time into a
/// receive buffer of `rx_len` bytes, where it must end without an upgrade: the error and
/// what was written back.
fn refused<F>(request: &[u8], chunk: usize, rx_len: usize, decide: F) -> (Error<Infallible>, String)
where
    F: for<'r> FnMut(&Request<'_, 'r>, Option<&Upgrade<'r>>) -> Decision<'r>,
{
    let (mut rx, mut tx) = (vec![0u8; rx_len], [0u8; 256]);
    let mut script = Script::new(request, chunk);
    let accepted = blocking::WebSocket::accept(&mut script, Options::new(&mut rx, &mut tx), decide);
    let Err(err) = accepted else { panic!("upgraded: {:?}", String::from_utf8_lossy(request)) };
    (err, String::from_utf8_lossy(&script.written).into_owned())
}

/// The `decide` of a server that upgrades every valid request.
fn accept_all<'r>(_: &Request<'_, 'r>, _: Option<&Upgrade<'r>>) -> Decision<'r> {
    Decision::Accept { protocol: None }
}

#[test]
fn rejected_and_malformed_upgrades_get_http_errors() {
    let mut input = vec![0u8; 1024];
    let n = request([1; 16]).encode(&mut input).unwrap();
    let (err, _) = refused(&input[..n], 7, 1024, |_, up| {
        assert_eq!(up.expect("an upgrade request").origin, Some("http://device.local"));
        Decision::Reject { status: 403, reason: "origin not allowed" }
    });
    assert!(matches!(err, Error::NotUpgraded(403)));

    let bad = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    let (err, response) = refused(bad, 5, 1024, accept_all);
    assert!(matches!(err, Error::Handshake(e) if e.status() == 426), "{err:?}");
    assert!(response.starts_with("HTTP/1.1 426 "), "{response}");
    assert!(response.contains("Sec-WebSocket-Version: 13\r\n"), "{response}");

    // A request that does not fit the receive buffer: 431.
    let mut huge = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 2000));
    let (err, response) = refused(&huge, 64, 512, accept_all);
    assert!(matches!(err, Error::Handshake(e) if e.status() == 431), "{err:?}");
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
}

/// What `decide` answers a plain HTTP request with: a page at `/`, 404 elsewhere.
fn page_or_404<'r>(request: &Request<'_, 'r>, upgrade: Option<&Upgrade<'r>>) -> Decision<'r> {
    match (request.path, upgrade) {
        (_, Some(_)) => Decision::Accept { protocol: None },
        ("/", None) => {
            Decision::Respond { status: 200, content_type: "text/plain", body: b"status: ok\n" }
        }
        _ => Decision::Reject { status: 404, reason: "no page here" },
    }
}

#[test]
fn both_twins_answer_plain_requests_without_upgrading() {
    let page = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\
                Connection: close\r\n\r\nstatus: ok\n";
    for (request, status, starts) in [
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, page),
        ("GET /x HTTP/1.1\r\nHost: x\r\n\r\n", 404, "HTTP/1.1 404 Not Found\r\n"),
    ] {
        let (err, written) = refused(request.as_bytes(), 3, 512, page_or_404);
        assert!(matches!(err, Error::NotUpgraded(s) if s == status), "{err:?}");
        assert!(written.starts_with(starts), "{written}");

        let script = Script::new(request.as_bytes(), 3);
        let (err, written) = block_on(async move {
            let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
            let mut script = script;
            let err =
                asynch::WebSocket::accept(&mut script, Options::new(&mut rx, &mut tx), page_or_404)
                    .await
                    .unwrap_err();
            (err, script.written)
        });
        assert!(matches!(err, Error::NotUpgraded(s) if s == status), "{err:?}");
        assert!(String::from_utf8(written).unwrap().starts_with(starts));
    }
    // A server that only upgrades answers a page request with 400.
    let (err, written) = refused(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 64, 512, accept_all);
    assert!(matches!(err, Error::Handshake(HandshakeError::MissingUpgrade)), "{err:?}");
    assert!(written.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{written}");
}

#[test]
fn protocol_errors_send_the_right_close_code() {
    // Unmasked frame from a client → 1002; invalid UTF-8 → 1007; too big for rx → 1009.
    let cases: [(Vec<u8>, u16); 3] = [
        (vec![0x81, 0x01, b'x'], 1002),
        (masked(0x81, &[0xff], [1, 1, 1, 1]), 1007),
        (masked(0x82, &[0; 2000], [1, 1, 1, 1]), 1009),
    ];
    for (wire, code) in cases {
        let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
        let mut script = Script::new(&wire, 3);
        let mut ws = blocking::WebSocket::server(&mut script, Options::new(&mut rx, &mut tx));
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
    let wire = masked(0x81, b"x", [1, 2, 3, 4]);
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
    let mut ws =
        blocking::WebSocket::server(Script::new(&wire[..3], 1), Options::new(&mut rx, &mut tx));
    assert!(matches!(ws.read(), Err(Error::UnexpectedEof)));
}

#[test]
fn streaming_mode_reads_a_message_larger_than_rx() {
    let payload: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    let wire = masked(0x82, &payload, [4, 3, 2, 1]);
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
    let config = Config { max_message: u64::MAX, streaming: true, ..Config::default() };
    let mut ws = blocking::WebSocket::server(
        Script::new(&wire, 700),
        Options::new(&mut rx, &mut tx).with_config(config),
    );
    let mut got = Vec::new();
    loop {
        match ws.read().unwrap() {
            Event::Piece { data, last, .. } => {
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
        let fin = if i == 99 { 0x80 } else { 0 };
        wire.extend(masked(fin | opcode.as_u8(), part, [1, 2, 3, (i % 7) as u8]));
        if i % 10 == 5 {
            wire.extend(masked(0x89, b"between", [8, 8, 8, 8]));
        }
    }
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
    let mut ws =
        blocking::WebSocket::server(Script::new(&wire, 97), Options::new(&mut rx, &mut tx));
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

/// Pings, then a text message, from a client whose side stops reading at once.
fn pings_then_text() -> Vec<u8> {
    let mut wire = Vec::new();
    for i in 0..3u8 {
        wire.extend(masked(0x89, &[i; 10], [1, 2, 3, i]));
    }
    wire.extend(masked(0x81, b"after", [4, 3, 2, 1]));
    wire
}

#[test]
fn a_failed_pong_write_ends_the_connection_and_is_reported() {
    let wire = pings_then_text();
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
    // The peer takes the first pong (12 bytes) and nothing more.
    let stream = StopsReading::new(&wire, 12);
    let mut ws = blocking::WebSocket::server(stream, Options::new(&mut rx, &mut tx));
    assert_eq!(ws.read().unwrap(), Event::Ping(&[0; 10]));
    // The second pong's write fails: the ping is still handed out...
    assert_eq!(ws.read().unwrap(), Event::Ping(&[1; 10]));
    // ...and the failure comes next, not another frame.
    let err = ws.read().unwrap_err();
    assert!(matches!(&err, Error::Write(e) if e.kind() == std::io::ErrorKind::TimedOut), "{err:?}");
    assert!(ws.connection().is_closed());
    assert!(matches!(ws.read(), Err(Error::Closed)), "nothing more is read");
    assert!(matches!(ws.send(Message::Text("x")), Err(Error::Send(_))), "nothing more is sent");
    assert_eq!(ws.into_inner().script.written, [0x8a, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn a_failed_send_ends_the_connection() {
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
    let stream = StopsReading::new(&[], 100);
    let mut ws = blocking::WebSocket::server(stream, Options::new(&mut rx, &mut tx));
    // 1000 bytes go out through the 256-byte tx in pieces; the peer takes 100.
    let err = ws.send(Message::Binary(&[7; 1000])).unwrap_err();
    assert!(matches!(err, Error::Write(_)), "{err:?}");
    assert!(ws.connection().is_closed(), "a frame cut short ends the connection");
    assert!(matches!(ws.send(Message::Binary(b"again")), Err(Error::Send(_))));
}

#[test]
fn async_twin_reports_a_failed_pong_write_too() {
    let wire = pings_then_text();
    let stream = StopsReading::new(&wire, 12);
    block_on(async move {
        let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
        let mut ws = asynch::WebSocket::server(stream, Options::new(&mut rx, &mut tx));
        assert_eq!(ws.read().await.unwrap(), Event::Ping(&[0; 10]));
        assert_eq!(ws.read().await.unwrap(), Event::Ping(&[1; 10]));
        assert!(matches!(ws.read().await, Err(Error::Write(_))));
        assert!(matches!(ws.read().await, Err(Error::Closed)));
    });
}

#[test]
fn an_async_write_dropped_midway_closes_the_connection() {
    use std::future::Future as _;
    let wire = pings_then_text();
    // The peer takes 5 bytes of the first pong, then the write waits forever.
    let mut stream = StopsReading::new(&wire, 5);
    stream.stall = true;
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
    let mut ws = asynch::WebSocket::server(stream, Options::new(&mut rx, &mut tx));
    {
        // A timeout around `read` gives up on it while the pong is half written.
        let mut read = std::pin::pin!(ws.read());
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(read.as_mut().poll(&mut cx).is_pending());
    }
    // Half a pong is on the wire: nothing more may follow it.
    assert!(matches!(block_on(ws.read()), Err(Error::Closed)));
    assert!(ws.connection().is_closed());
    assert!(matches!(block_on(ws.send(Message::Text("x"))), Err(Error::Send(_))));
    assert_eq!(ws.into_inner().script.written.len(), 5);
}

/// Grows to what is asked; records its largest size and how often it shrank back.
struct Growing {
    bytes: Vec<u8>,
    /// (largest size, times shrunk from above 512 bytes)
    seen: std::rc::Rc<std::cell::Cell<(usize, usize)>>,
}

impl wscodec::RxBuffer for Growing {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
    fn max_len(&self) -> usize {
        1 << 20
    }
    fn grow(&mut self, min_len: usize) -> bool {
        self.bytes.resize(min_len, 0);
        let (largest, shrinks) = self.seen.get();
        self.seen.set((largest.max(min_len), shrinks));
        true
    }
    fn shrink(&mut self) {
        if self.bytes.len() > 512 {
            let (largest, shrinks) = self.seen.get();
            self.seen.set((largest, shrinks + 1));
            self.bytes.truncate(512);
        }
    }
}

#[test]
fn a_growing_buffer_takes_a_large_message_and_shrinks_when_idle() {
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let mut wire = masked(0x82, b"small", [1, 2, 3, 4]);
    wire.extend(masked(0x82, &big, [5, 6, 7, 8]));
    wire.extend(masked(0x81, b"small again", [1, 2, 3, 4]));
    let seen = std::rc::Rc::new(std::cell::Cell::new((512, 0)));
    let rx = Growing { bytes: vec![0; 512], seen: std::rc::Rc::clone(&seen) };
    let mut tx = [0u8; 256];
    let script = Script::new(&wire, 4096);
    let mut ws = blocking::WebSocket::server(script, Options::new(rx, &mut tx));
    // 1 MiB (the buffer's ceiling) less a control frame: what reassembly can hold.
    assert_eq!(ws.connection().config().max_message, (1 << 20) - 131);
    assert_eq!(ws.read().unwrap(), Event::Binary(b"small"));
    assert_eq!(seen.get(), (512, 0), "a small message needs no growth");
    assert_eq!(ws.read().unwrap(), Event::Binary(&big[..]));
    let (largest, shrinks) = seen.get();
    assert!((big.len()..big.len() + 4096).contains(&largest), "grew to {largest}");
    assert_eq!(shrinks, 0, "not while the message is lent out");
    assert_eq!(ws.read().unwrap(), Event::Text("small again"));
    assert!(matches!(ws.read(), Err(Error::UnexpectedEof)));
    assert_eq!(seen.get().1, 1, "back to 512 bytes once it held nothing");
}
