//! No heap allocation anywhere in the decode, encode and handshake paths (issue 6).
//!
//! A counting global allocator wraps the system one; every input is built before the
//! measured region, and the region runs only `wscodec` calls on caller-owned buffers:
//! server and client decoding (single frames, fragmented text with control frames between
//! the fragments, streaming mode, close), the owed pong and close reply, encoding of every
//! message kind and of fragments (masked and unmasked), the server handshake (parse,
//! validate, accept, reject, and the one-call step with an upgrade, a page and a refusal),
//! the client handshake (request encode, response parse and validate), and the blocking
//! adapter over an in-memory transport.
//!
//! `harness = false`: the test runs on the main thread alone, so nothing else allocates
//! while the region is open. The allocator comes from `stats_alloc` because the workspace
//! forbids `unsafe_code`, which an `unsafe impl GlobalAlloc` here would need.

use std::alloc::System;
use std::convert::Infallible;

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use wscodec::handshake::client::{self, ClientRequest};
use wscodec::handshake::server::{self, Decision, Outcome};
use wscodec::handshake::{Header, MAX_HEADERS};
use wscodec::io::blocking::WebSocket;
use wscodec::io::Options;
use wscodec::HandshakeError;
use wscodec::MessageKind;
use wscodec::{CloseCode, Config, Connection, Event, Message, Piece, Role, Status};
use wscodec_test_frames::masked;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const NONCE: [u8; 16] = *b"the sample nonce";
const PAGE_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: device\r\n\r\n";
const PAGE: Decision<'static> =
    Decision::Respond { status: 200, content_type: "text/html", body: b"<h1>device</h1>" };

/// Every frame kind a server receives, in one buffer: many single frames, a text message
/// in three fragments with a ping and a pong between them, then a close.
fn server_input() -> Vec<u8> {
    let mut wire = Vec::new();
    for i in 0..200u8 {
        wire.extend(masked(0x82, &[i; 16], KEY));
        wire.extend(masked(0x81, "héllo wörld".as_bytes(), KEY));
    }
    wire.extend(masked(0x82, &vec![7; 70_000], KEY));
    wire.extend(masked(0x01, "frag".as_bytes(), KEY));
    wire.extend(masked(0x89, b"are you there", KEY));
    wire.extend(masked(0x00, "mént".as_bytes(), KEY));
    wire.extend(masked(0x8a, b"", KEY));
    wire.extend(masked(0x80, "ed ✓".as_bytes(), KEY));
    let mut close = 1000u16.to_be_bytes().to_vec();
    close.extend_from_slice(b"bye");
    wire.extend(masked(0x88, &close, KEY));
    wire
}

/// Decodes everything in `buf` (reassembly mode), sending what is owed after each event;
/// returns (events, payload bytes).
fn decode_all(conn: &mut Connection, buf: &mut [u8], out: &mut [u8]) -> (usize, usize) {
    let (mut end, mut events, mut bytes) = (buf.len(), 0, 0);
    while end > 0 {
        let step = conn.handle_input(&mut buf[..end]).expect("valid input");
        let Status::Complete { value, consumed } = step else { panic!("complete input") };
        if let Some(event) = value {
            events += 1;
            bytes += match event {
                Event::Text(t) => t.len(),
                Event::Binary(b) | Event::Ping(b) | Event::Pong(b) => b.len(),
                Event::Close { reason, .. } => reason.len(),
                Event::Piece { data, .. } => data.len(),
            };
            while conn.poll_transmit(KEY, out).expect("room").is_some() {}
        }
        // Remove `consumed` bytes right after the retained ones.
        let at = conn.retained();
        buf.copy_within(at + consumed..end, at);
        end -= consumed;
    }
    (events, bytes)
}

/// Streaming mode: the same input handed over in pieces of at most 1000 bytes; returns
/// the number of events up to and including the close.
fn decode_streaming(input: &[u8], buf: &mut [u8], out: &mut [u8]) -> usize {
    let config = Config { streaming: true, ..Config::default() };
    let mut conn = Connection::with_config(Role::Server, config);
    let (mut filled, mut fed, mut events) = (0, 0, 0);
    loop {
        match conn.handle_input(&mut buf[..filled]).expect("valid input") {
            Status::Complete { value, consumed } => {
                let close = matches!(value, Some(Event::Close { .. }));
                events += usize::from(value.is_some());
                while conn.poll_transmit(KEY, out).expect("room").is_some() {}
                buf.copy_within(consumed..filled, 0);
                filled -= consumed;
                if close {
                    return events;
                }
            }
            Status::Partial { .. } => {
                assert!(fed < input.len(), "input ended before the close");
                let n = (input.len() - fed).min(1000).min(buf.len() - filled);
                buf[filled..filled + n].copy_from_slice(&input[fed..fed + n]);
                filled += n;
                fed += n;
            }
        }
    }
}

/// Encodes every message kind from both roles.
fn encode_all(out: &mut [u8]) -> usize {
    let mut total = 0;
    for role in [Role::Server, Role::Client] {
        let mut conn = Connection::new(role);
        for msg in [
            Message::Text("hello ✓"),
            Message::Binary(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]),
            Message::Ping(b"p"),
            Message::Pong(b""),
        ] {
            total += conn.encode(msg, KEY, out).expect("room");
        }
        total += conn
            .encode_piece(Piece { kind: MessageKind::Text, data: b"Hel", last: false }, KEY, out)
            .expect("room");
        total += conn.encode(Message::Ping(b"between"), KEY, out).expect("room");
        total += conn
            .encode_piece(Piece { kind: MessageKind::Text, data: b"lo", last: true }, KEY, out)
            .expect("room");
        total +=
            conn.encode(Message::Close(Some((CloseCode::NORMAL, "done"))), KEY, out).expect("room");
    }
    total
}

/// Server handshake: the one-call step (upgrade, page, refusal), then its pieces: parse,
/// validate, accept; and the refusals.
fn server_handshake(request: &[u8], out: &mut [u8]) -> usize {
    let mut n = 0;
    for (wire, decision, expected) in [
        (request, Decision::Accept { protocol: Some("chat") }, Outcome::Upgraded),
        (PAGE_REQUEST, PAGE, Outcome::NotUpgraded(200)),
        (PAGE_REQUEST, Decision::Reject { status: 404, reason: "none" }, Outcome::NotUpgraded(404)),
    ] {
        let head = server::Head::new(wire, wire.len());
        let Status::Complete { value, .. } =
            server::handle_request(head, out, |_, _| decision, server::no_extensions)
        else {
            panic!("complete request")
        };
        assert_eq!(value.outcome, expected);
        n += value.written;
    }
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    let Status::Complete { value: req, .. } =
        server::parse_request(request, &mut headers).expect("valid")
    else {
        panic!("complete request")
    };
    let upgrade = req.validate().expect("an upgrade");
    assert!(upgrade.offers_protocol("chat"));
    n += server::write_accept(&upgrade, Some("chat"), &[("X-Served-By", "wscodec")], out)
        .expect("room");
    n += server::write_reject(403, "origin not allowed", out).expect("room");
    n += server::write_error(HandshakeError::UnsupportedVersion, out).expect("room");
    n
}

/// Client handshake: encode the request, parse and validate the response.
fn client_handshake(request: &ClientRequest<'_>, response: &[u8], out: &mut [u8]) -> usize {
    let n = request.encode(out).expect("room");
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    let Status::Complete { value: resp, .. } =
        client::parse_response(response, &mut headers).expect("valid")
    else {
        panic!("complete response")
    };
    let accepted = resp.validate(request).expect("accepted");
    assert_eq!(accepted.protocol, Some("chat"));
    n
}

/// An in-memory transport without allocation: reads from a slice, writes into an array.
struct Wire<'a> {
    input: &'a [u8],
    written: &'a mut [u8],
    len: usize,
}

impl embedded_io::ErrorType for Wire<'_> {
    type Error = Infallible;
}

impl embedded_io::Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = buf.len().min(self.input.len()).min(700);
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl embedded_io::Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        let n = buf.len().min(self.written.len() - self.len);
        self.written[self.len..self.len + n].copy_from_slice(&buf[..n]);
        self.len += n;
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// The blocking adapter: accept an upgrade, then echo every data message until the close.
fn adapter_echo(input: &[u8], written: &mut [u8], rx: &mut [u8], tx: &mut [u8]) -> usize {
    let wire = Wire { input, written, len: 0 };
    let options = Options::new(rx, tx);
    let mut ws = WebSocket::accept(wire, options, |_, _| Decision::Accept { protocol: None })
        .expect("accepted");
    // The echo goes out straight from the received bytes.
    let mut messages = 0;
    loop {
        let (event, mut sender) = ws.read_for_reply().expect("valid input");
        match event {
            Event::Binary(b) => sender.send(Message::Binary(b)).expect("sent"),
            Event::Close { .. } => break,
            _ => continue,
        }
        messages += 1;
    }
    messages
}

fn main() {
    // Everything that allocates happens here, before the region.
    let input = server_input();
    let mut buf = input.clone();
    let mut stream_buf = vec![0u8; 4096];
    let mut out = vec![0u8; 256 * 1024];
    let request = ClientRequest {
        origin: Some("http://example.com"),
        protocols: &["chat", "superchat"],
        ..ClientRequest::new("server.example.com", "/chat", NONCE)
    };
    let mut req_wire = [0u8; 512];
    let n = request.encode(&mut req_wire).unwrap();
    let req_wire = &req_wire[..n];
    let accept = request.expected_accept();
    let response = [
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Accept: "
            .as_slice(),
        &accept,
        b"\r\n\r\n",
    ]
    .concat();
    // The server side of a whole session: the upgrade, 20 binary messages, a ping, a close.
    let mut session = req_wire.to_vec();
    for i in 0..20u8 {
        session.extend(masked(0x82, &[i; 100], KEY));
    }
    session.extend(masked(0x89, b"hi", KEY));
    session.extend(masked(0x88, &1000u16.to_be_bytes(), KEY));
    let mut written = vec![0u8; 64 * 1024];
    let (mut rx, mut tx) = (vec![0u8; 2048], vec![0u8; 512]);
    // Client-side decoding input: unmasked server frames.
    let mut server_frames = vec![0u8; 1024];
    let mut server = Connection::new(Role::Server);
    let mut len = 0;
    for msg in [Message::Text("hi"), Message::Binary(&[9; 200]), Message::Ping(b"x")] {
        len += server.encode(msg, [0; 4], &mut server_frames[len..]).unwrap();
    }
    server_frames.truncate(len);

    let region = Region::new(GLOBAL);

    let mut conn = Connection::new(Role::Server);
    let (events, bytes) = decode_all(&mut conn, &mut buf, &mut out);
    assert_eq!(
        events,
        200 * 2 + 1 + 1 + 1 + 1 + 1,
        "single frames, big frame, ping, pong, text, close"
    );
    assert!(bytes > 70_000);
    assert!(conn.is_closed(), "the close reply was sent");
    let streamed = decode_streaming(&input, &mut stream_buf, &mut out);
    assert!(streamed > 400, "streaming events: {streamed}");
    let mut client = Connection::new(Role::Client);
    let (events, _) = decode_all(&mut client, &mut server_frames, &mut out);
    assert_eq!(events, 3);
    assert!(encode_all(&mut out) > 0);
    assert!(server_handshake(req_wire, &mut out) > 0);
    assert!(client_handshake(&request, &response, &mut out) > 0);
    assert_eq!(adapter_echo(&session, &mut written, &mut rx, &mut tx), 20);

    let stats = region.change();
    assert_eq!(
        (stats.allocations, stats.reallocations),
        (0, 0),
        "heap allocations in decode / encode / handshake paths: {stats:?}"
    );
    println!("no_alloc: decode, encode, handshake and blocking adapter paths made 0 allocations");
}
