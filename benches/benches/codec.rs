//! `wscodec` side by side with tungstenite, fastwebsockets and embedded-websocket, on
//! identical inputs (issue 6). Group and function names are fixed so that runs can be
//! compared; see `BENCHMARKS.md` for the command, the results and what each peer's API costs.
//!
//! Every decode function does exactly one pass of the input bytes into the library's own
//! buffer, the stand-in for `recv` into that buffer: `wscodec` copies the input into its
//! receive buffer and unmasks in place; tungstenite and fastwebsockets copy it from an
//! in-memory stream into their internal buffers; embedded-websocket copies while unmasking
//! (its `read(from, to)` API). Each function is checked for a correct result before timing.

use std::future::Future;
use std::hint::black_box;
use std::io::{self, Read, Write};
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wscodec::handshake::{server, MAX_HEADERS};
use wscodec::{Connection, Event, Message, Role, Status};

/// The mask key of every client frame (RFC 6455 section 5.7's example key).
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// `decode_small` / `encode_small`: this many frames ...
const SMALL_FRAMES: usize = 10_000;
/// ... of this many payload bytes.
const SMALL_LEN: usize = 16;
/// The payload of every small frame.
static SMALL_PAYLOAD: [u8; SMALL_LEN] = *b"0123456789abcdef";

/// The upgrade request exactly as Chromium sends it (12 headers).
const CHROME_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: 127.0.0.1:9001\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\n\
Origin: http://127.0.0.1:9001\r\n\
Sec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
\r\n";
/// The accept key that answers `CHROME_REQUEST` (RFC 6455 section 1.3).
const CHROME_ACCEPT: &[u8] = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// ---------------------------------------------------------------------------------------
// Inputs, built here (not by any of the libraries under test).

/// A payload of `len` bytes with a recognisable pattern.
fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31).wrapping_add(seed) % 251) as u8).collect()
}

/// One final masked binary frame, as a client sends it.
fn masked_frame(out: &mut Vec<u8>, payload: &[u8]) {
    out.push(0x82);
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&KEY);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
}

fn small_input() -> Vec<u8> {
    let mut wire = Vec::with_capacity(SMALL_FRAMES * (6 + SMALL_LEN));
    for _ in 0..SMALL_FRAMES {
        masked_frame(&mut wire, &SMALL_PAYLOAD);
    }
    wire
}

fn large_input(len: usize) -> (Vec<u8>, Vec<u8>) {
    let payload = pattern(len, 7);
    let mut wire = Vec::with_capacity(len + 14);
    masked_frame(&mut wire, &payload);
    (wire, payload)
}

// ---------------------------------------------------------------------------------------
// In-memory streams for the peers that read from a stream.

/// Reads from a borrowed slice; discards writes (nothing is written in the decode benches).
#[derive(Debug)]
struct SliceStream<'a> {
    input: &'a [u8],
}

impl Read for SliceStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for SliceStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for SliceStream<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = buf.remaining().min(self.input.len());
        let (now, rest) = self.input.split_at(n);
        buf.put_slice(now);
        self.input = rest;
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for SliceStream<'_> {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A byte pipe between two in-memory endpoints: writes append, reads take from the front.
#[derive(Debug, Default)]
struct Pipe {
    data: Vec<u8>,
    pos: usize,
}

impl Pipe {
    fn pending(&self) -> &[u8] {
        &self.data[self.pos..]
    }
    fn clear(&mut self) {
        self.data.clear();
        self.pos = 0;
    }
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (&self.data[self.pos..]).read(buf)?;
        self.pos += n;
        if self.pos == self.data.len() {
            self.clear();
        }
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.data.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An async stream whose reads come from `rx` and whose writes go to `tx` (shared pipes).
#[derive(Debug)]
struct AsyncPipe {
    rx: std::rc::Rc<std::cell::RefCell<Pipe>>,
    tx: std::rc::Rc<std::cell::RefCell<Pipe>>,
}

impl tokio::io::AsyncRead for AsyncPipe {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut rx = self.rx.borrow_mut();
        let n = buf.remaining().min(rx.pending().len());
        buf.put_slice(&rx.pending()[..n]);
        rx.pos += n;
        if rx.pos == rx.data.len() {
            rx.clear();
        }
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for AsyncPipe {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        self.tx.borrow_mut().data.extend_from_slice(b);
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Polls a future whose I/O is always ready (in-memory streams) to completion.
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Decoders: each returns (frames, payload bytes, checksum) so results can be checked.

/// Folds a payload into a checksum (cheap, so it does not dominate).
fn fold(sum: u64, payload: &[u8]) -> u64 {
    sum.wrapping_mul(31).wrapping_add(payload.len() as u64).wrapping_add(u64::from(
        payload.first().copied().unwrap_or(0) ^ payload.last().copied().unwrap_or(0),
    ))
}

/// wscodec: `Connection::handle_input` (sans-IO, in place, no allocation); one event per
/// call, no per-call overhead beyond the header decode and checks.
fn decode_wscodec(input: &[u8], rx: &mut [u8], frames: usize) -> u64 {
    let rx = &mut rx[..input.len()];
    rx.copy_from_slice(input);
    let mut conn = Connection::new(Role::Server);
    let (mut pos, mut sum) = (0, 0);
    for _ in 0..frames {
        match conn.handle_input(&mut rx[pos..]) {
            Ok(Status::Complete { value: Some(Event::Binary(p)), consumed }) => {
                sum = fold(sum, p);
                pos += consumed;
            }
            other => panic!("wscodec: {other:?}"),
        }
    }
    sum
}

/// tungstenite: `WebSocket::read` over a `Read + Write` stream (its sans-socket
/// `WebSocketContext` has the same cost). `FrameSocket::read` is lower level but does not
/// unmask, so it cannot decode a client's frames. Per call: a `Message` holding `Bytes`
/// split off its read buffer (refcount traffic), `io::Read` into a 128 KiB buffer
/// allocated per socket.
fn decode_tungstenite(input: &[u8], frames: usize) -> u64 {
    use tungstenite::protocol::{Role as TRole, WebSocket};
    let mut ws = WebSocket::from_raw_socket(SliceStream { input }, TRole::Server, None);
    let mut sum = 0;
    for _ in 0..frames {
        match ws.read() {
            Ok(tungstenite::Message::Binary(p)) => sum = fold(sum, &p),
            other => panic!("tungstenite: {other:?}"),
        }
    }
    sum
}

/// fastwebsockets: `WebSocket::read_frame` (async) over an in-memory `AsyncRead + AsyncWrite`,
/// polled with a no-op waker. Per call: an async state machine, a `Frame` whose payload is
/// a `BytesMut` split off its read buffer, `read_buf` into an 8 KiB buffer grown per frame
/// as needed. Frame level: it does not reassemble fragments (that is `FragmentCollector`).
fn decode_fastwebsockets(input: &[u8], frames: usize) -> u64 {
    use fastwebsockets::{OpCode, Role as FRole, WebSocket};
    let mut ws = WebSocket::after_handshake(SliceStream { input }, FRole::Server);
    block_on(async {
        let mut sum = 0;
        for _ in 0..frames {
            match ws.read_frame().await {
                Ok(f) if f.opcode == OpCode::Binary && f.fin => sum = fold(sum, &f.payload),
                Ok(f) => panic!("fastwebsockets: opcode {:?}", f.opcode),
                Err(e) => panic!("fastwebsockets: {e}"),
            }
        }
        sum
    })
}

/// embedded-websocket: `WebSocket::read(from, to)` (sans-IO, no allocation): copies each
/// payload out of `from` into `to` while unmasking, byte by byte.
fn decode_embedded(input: &[u8], to: &mut [u8], frames: usize) -> u64 {
    use embedded_websocket::{WebSocketReceiveMessageType, WebSocketServer, WebSocketState};
    let mut ws = WebSocketServer::new_server();
    ws.state = WebSocketState::Open;
    let (mut pos, mut sum) = (0, 0);
    for _ in 0..frames {
        match ws.read(&input[pos..], to) {
            Ok(r) if r.message_type == WebSocketReceiveMessageType::Binary && r.end_of_message => {
                sum = fold(sum, &to[..r.len_to]);
                pos += r.len_from;
            }
            other => panic!("embedded-websocket: {other:?}"),
        }
    }
    sum
}

// ---------------------------------------------------------------------------------------

fn naive_mask(buf: &mut [u8], key: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

fn unmask(c: &mut Criterion) {
    for size in [16usize, 125, 1024, 65536, 1_048_576] {
        let mut g = c.benchmark_group(format!("unmask/{size}"));
        g.throughput(Throughput::Bytes(size as u64));
        let src = pattern(size, 1);
        let mut buf = src.clone();
        // Check every routine against the naive one once.
        let mut expect = src.clone();
        naive_mask(&mut expect, KEY);
        let mut check = src.clone();
        wscodec::mask::apply_mask(&mut check, KEY, 0);
        assert_eq!(check, expect);
        let mut check = src.clone();
        fastwebsockets::unmask(&mut check, KEY);
        assert_eq!(check, expect);

        // wscodec: `mask::apply_mask`, in place, u64 words (vectorised), safe Rust.
        g.bench_function("wscodec", |b| {
            b.iter(|| wscodec::mask::apply_mask(black_box(&mut buf), black_box(KEY), 0))
        });
        // The physical limit: one copy of the same number of bytes.
        let mut dst = vec![0u8; size];
        g.bench_function("memcpy", |b| {
            b.iter(|| black_box(&mut dst[..]).copy_from_slice(black_box(&src)))
        });
        g.bench_function("naive", |b| b.iter(|| naive_mask(black_box(&mut buf), black_box(KEY))));
        // tungstenite 0.28: `protocol::frame::mask` is a private module; no public routine.
        // fastwebsockets: `fastwebsockets::unmask`, in place, u32 at a time (align_to_mut).
        g.bench_function("fastwebsockets", |b| {
            b.iter(|| fastwebsockets::unmask(black_box(&mut buf), black_box(KEY)))
        });
        // embedded-websocket 0.9: masking happens inside `read`/`write`; no public routine.
        g.finish();
    }
}

fn decode_small(c: &mut Criterion) {
    let input = small_input();
    let mut rx = vec![0u8; input.len()];
    let mut to = vec![0u8; 4096];
    let expect = (0..SMALL_FRAMES).fold(0, |s, _| fold(s, &SMALL_PAYLOAD));
    assert_eq!(decode_wscodec(&input, &mut rx, SMALL_FRAMES), expect);
    assert_eq!(decode_tungstenite(&input, SMALL_FRAMES), expect);
    assert_eq!(decode_fastwebsockets(&input, SMALL_FRAMES), expect);
    assert_eq!(decode_embedded(&input, &mut to, SMALL_FRAMES), expect);

    let mut g = c.benchmark_group(format!("decode_small/{SMALL_FRAMES}x{SMALL_LEN}"));
    g.throughput(Throughput::Elements(SMALL_FRAMES as u64));
    g.bench_function("wscodec", |b| {
        b.iter(|| decode_wscodec(black_box(&input), &mut rx, SMALL_FRAMES))
    });
    g.bench_function("tungstenite", |b| {
        b.iter(|| decode_tungstenite(black_box(&input), SMALL_FRAMES))
    });
    g.bench_function("fastwebsockets", |b| {
        b.iter(|| decode_fastwebsockets(black_box(&input), SMALL_FRAMES))
    });
    g.bench_function("embedded-websocket", |b| {
        b.iter(|| decode_embedded(black_box(&input), &mut to, SMALL_FRAMES))
    });
    g.finish();
}

fn decode_large(c: &mut Criterion) {
    for size in [65536usize, 1_048_576] {
        let (input, payload) = large_input(size);
        let mut rx = vec![0u8; input.len()];
        let mut to = vec![0u8; size];
        let expect = fold(0, &payload);
        assert_eq!(decode_wscodec(&input, &mut rx, 1), expect);
        assert_eq!(decode_tungstenite(&input, 1), expect);
        assert_eq!(decode_fastwebsockets(&input, 1), expect);
        assert_eq!(decode_embedded(&input, &mut to, 1), expect);

        let mut g = c.benchmark_group(format!("decode_large/{size}"));
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function("wscodec", |b| b.iter(|| decode_wscodec(black_box(&input), &mut rx, 1)));
        g.bench_function("tungstenite", |b| b.iter(|| decode_tungstenite(black_box(&input), 1)));
        g.bench_function("fastwebsockets", |b| {
            b.iter(|| decode_fastwebsockets(black_box(&input), 1))
        });
        g.bench_function("embedded-websocket", |b| {
            b.iter(|| decode_embedded(black_box(&input), &mut to, 1))
        });
        g.finish();
    }
}

/// wscodec: `Connection::encode` into the caller's buffer (no allocation).
fn encode_wscodec(out: &mut [u8]) -> usize {
    let mut conn = Connection::new(Role::Server);
    let mut pos = 0;
    for _ in 0..SMALL_FRAMES {
        pos += conn.encode(Message::Binary(&SMALL_PAYLOAD), [0; 4], &mut out[pos..]).unwrap();
    }
    pos
}

/// tungstenite: `Frame::message(..).format(&mut Vec)`, the frame-level writer (the message
/// level `WebSocket::write` adds a write buffer on top). Per call: a `Frame` holding
/// `Bytes` (static here, so no copy) and `io::Write` into a `Vec` (capacity kept).
fn encode_tungstenite(out: &mut Vec<u8>) -> usize {
    use tungstenite::protocol::frame::{coding::Data, coding::OpCode, Frame};
    out.clear();
    for _ in 0..SMALL_FRAMES {
        let payload = tungstenite::Bytes::from_static(&SMALL_PAYLOAD);
        Frame::message(payload, OpCode::Data(Data::Binary), true).format(out).unwrap();
    }
    out.len()
}

/// fastwebsockets: `Frame::fmt_head` plus a payload copy, which is what its
/// `Frame::write(&mut Vec)` does minus the `Vec` resize (`write` always writes at the start
/// of the `Vec`, so it cannot append). Synchronous, no allocation with a borrowed payload.
fn encode_fastwebsockets(out: &mut [u8]) -> usize {
    use fastwebsockets::{Frame, Payload};
    let mut pos = 0;
    for _ in 0..SMALL_FRAMES {
        let mut frame = Frame::binary(Payload::Borrowed(&SMALL_PAYLOAD));
        let head = frame.fmt_head(&mut out[pos..]);
        out[pos + head..pos + head + SMALL_LEN].copy_from_slice(&frame.payload);
        pos += head + SMALL_LEN;
    }
    pos
}

/// embedded-websocket: `WebSocket::write(type, end_of_message, from, to)` (no allocation).
fn encode_embedded(out: &mut [u8]) -> usize {
    use embedded_websocket::{WebSocketSendMessageType, WebSocketServer, WebSocketState};
    let mut ws = WebSocketServer::new_server();
    ws.state = WebSocketState::Open;
    let mut pos = 0;
    for _ in 0..SMALL_FRAMES {
        pos += ws
            .write(WebSocketSendMessageType::Binary, true, &SMALL_PAYLOAD, &mut out[pos..])
            .unwrap();
    }
    pos
}

fn encode_small(c: &mut Criterion) {
    let len = SMALL_FRAMES * (2 + SMALL_LEN);
    let mut out = vec![0u8; len + 64];
    let mut vec_out = Vec::with_capacity(len);
    let mut expect = Vec::with_capacity(len);
    for _ in 0..SMALL_FRAMES {
        expect.extend_from_slice(&[0x82, SMALL_LEN as u8]);
        expect.extend_from_slice(&SMALL_PAYLOAD);
    }
    let n = encode_wscodec(&mut out);
    assert_eq!(out[..n], expect[..]);
    assert_eq!(encode_tungstenite(&mut vec_out), len);
    assert_eq!(vec_out, expect);
    let n = encode_fastwebsockets(&mut out);
    assert_eq!(out[..n], expect[..]);
    let n = encode_embedded(&mut out);
    assert_eq!(out[..n], expect[..]);

    let mut g = c.benchmark_group(format!("encode_small/{SMALL_FRAMES}x{SMALL_LEN}"));
    g.throughput(Throughput::Elements(SMALL_FRAMES as u64));
    g.bench_function("wscodec", |b| b.iter(|| encode_wscodec(black_box(&mut out))));
    g.bench_function("tungstenite", |b| b.iter(|| encode_tungstenite(black_box(&mut vec_out))));
    g.bench_function("fastwebsockets", |b| b.iter(|| encode_fastwebsockets(black_box(&mut out))));
    g.bench_function("embedded-websocket", |b| b.iter(|| encode_embedded(black_box(&mut out))));
    g.finish();
}

/// wscodec: `server::parse_request` (its own parser into a caller-owned header array),
/// `Request::upgrade` (all RFC 6455 4.2.1 checks), `server::write_accept` (SHA-1 + base64
/// into the caller's buffer). No allocation.
fn handshake_wscodec(request: &[u8], out: &mut [u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let Ok(Status::Complete { value: req, .. }) = server::parse_request(request, &mut headers)
    else {
        panic!("wscodec: request")
    };
    let upgrade = req.upgrade().unwrap();
    server::write_accept(&upgrade, None, &[], out).unwrap()
}

/// tungstenite: `<Request as TryParse>::try_parse` (httparse, then an `http::Request` with
/// a `HeaderMap`: allocations per header), `handshake::server::create_response` (checks
/// method, version, Connection, Upgrade, Sec-WebSocket-Version, key), and
/// `handshake::server::write_response` into a `Vec` (capacity kept).
fn handshake_tungstenite(request: &[u8], out: &mut Vec<u8>) -> usize {
    use tungstenite::handshake::machine::TryParse;
    use tungstenite::handshake::server::{create_response, write_response, Request};
    let (_, req) = Request::try_parse(request).unwrap().expect("complete request");
    let response = create_response(&req).unwrap();
    out.clear();
    write_response(&mut *out, &response).unwrap();
    out.len()
}

/// embedded-websocket: `httparse::Request::parse` (as its docs show), `read_http_header`
/// (extracts the key and subprotocols into `heapless` strings; checks only `Upgrade`),
/// `WebSocketServer::server_accept` (SHA-1 + base64; builds the response in a 1 KiB
/// `heapless::String` and copies it out). No allocation.
fn handshake_embedded(request: &[u8], out: &mut [u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    assert!(req.parse(request).unwrap().is_complete());
    let ctx = embedded_websocket::read_http_header(req.headers.iter().map(|h| (h.name, h.value)))
        .unwrap()
        .expect("an upgrade request");
    let mut ws = embedded_websocket::WebSocketServer::new_server();
    ws.server_accept(&ctx.sec_websocket_key, None, out).unwrap()
}

fn handshake_server(c: &mut Criterion) {
    let mut out = [0u8; 1024];
    let mut vec_out = Vec::with_capacity(1024);
    let has_accept = |r: &[u8]| r.windows(CHROME_ACCEPT.len()).any(|w| w == CHROME_ACCEPT);
    let n = handshake_wscodec(CHROME_REQUEST, &mut out);
    assert!(out[..n].starts_with(b"HTTP/1.1 101 ") && has_accept(&out[..n]));
    handshake_tungstenite(CHROME_REQUEST, &mut vec_out);
    assert!(vec_out.starts_with(b"HTTP/1.1 101 ") && has_accept(&vec_out));
    let n = handshake_embedded(CHROME_REQUEST, &mut out);
    assert!(out[..n].starts_with(b"HTTP/1.1 101 ") && has_accept(&out[..n]));

    let mut g = c.benchmark_group("handshake_server/chrome");
    g.throughput(Throughput::Elements(1));
    g.bench_function("wscodec", |b| {
        b.iter(|| handshake_wscodec(black_box(CHROME_REQUEST), &mut out))
    });
    g.bench_function("tungstenite", |b| {
        b.iter(|| handshake_tungstenite(black_box(CHROME_REQUEST), &mut vec_out))
    });
    // fastwebsockets: none. It parses no HTTP itself; `upgrade::upgrade` (feature
    // `upgrade`) takes a request hyper has already parsed and needs hyper's connection to
    // complete the upgrade, so the comparable work is hyper's, not fastwebsockets'.
    g.bench_function("embedded-websocket", |b| {
        b.iter(|| handshake_embedded(black_box(CHROME_REQUEST), &mut out))
    });
    g.finish();
}

fn message_roundtrip(c: &mut Criterion) {
    for size in [16usize, 65536] {
        let payload = pattern(size, 3);
        let mut g = c.benchmark_group(format!("message_roundtrip/{size}"));
        g.throughput(Throughput::Bytes(size as u64));

        // wscodec: client `encode` (masks while copying), server `handle_input` (unmasks in
        // place), server `encode` of the borrowed payload, client `handle_input`.
        let (mut client, mut server) =
            (Connection::new(Role::Client), Connection::new(Role::Server));
        let (mut wire, mut echo) = (vec![0u8; size + 14], vec![0u8; size + 14]);
        let mut roundtrip = |payload: &[u8]| -> usize {
            let n = client.encode(Message::Binary(payload), KEY, &mut wire).unwrap();
            let Ok(Status::Complete { value: Some(Event::Binary(got)), .. }) =
                server.handle_input(&mut wire[..n])
            else {
                panic!("wscodec server")
            };
            let m = server.encode(Message::Binary(got), [0; 4], &mut echo).unwrap();
            let Ok(Status::Complete { value: Some(Event::Binary(back)), .. }) =
                client.handle_input(&mut echo[..m])
            else {
                panic!("wscodec client")
            };
            back.len()
        };
        assert_eq!(roundtrip(&payload), size);
        g.bench_function("wscodec", |b| b.iter(|| roundtrip(black_box(&payload))));

        // tungstenite: `WebSocketContext::{write, flush, read}` (its sans-socket API) over
        // in-memory pipes. Per message: `Bytes` (refcounted clone here), a random mask key
        // drawn from `rand` on the client, a copy into the write buffer, a copy into the
        // read buffer.
        {
            use tungstenite::protocol::{Role as TRole, WebSocketContext};
            let mut tc = WebSocketContext::new(TRole::Client, None);
            let mut ts = WebSocketContext::new(TRole::Server, None);
            let (mut up, mut down) = (Pipe::default(), Pipe::default());
            let bytes = tungstenite::Bytes::from(payload.clone());
            let mut roundtrip = |bytes: &tungstenite::Bytes| -> usize {
                tc.write(&mut up, tungstenite::Message::Binary(bytes.clone())).unwrap();
                tc.flush(&mut up).unwrap();
                let got = ts.read(&mut up).unwrap();
                ts.write(&mut down, got).unwrap();
                ts.flush(&mut down).unwrap();
                match tc.read(&mut down).unwrap() {
                    tungstenite::Message::Binary(back) => back.len(),
                    other => panic!("tungstenite: {other:?}"),
                }
            };
            assert_eq!(roundtrip(&bytes), size);
            g.bench_function("tungstenite", |b| b.iter(|| roundtrip(black_box(&bytes))));
        }

        // fastwebsockets: `WebSocket::{write_frame, read_frame}` (async) over in-memory
        // pipes. Per message: the client's `write_frame` masks a borrowed payload by first
        // copying it into a `Vec` (`Payload::to_mut`), with a key from `rand`.
        {
            use fastwebsockets::{Frame, OpCode, Payload, Role as FRole, WebSocket};
            use std::{cell::RefCell, rc::Rc};
            let up = Rc::new(RefCell::new(Pipe::default()));
            let down = Rc::new(RefCell::new(Pipe::default()));
            let mut fc = WebSocket::after_handshake(
                AsyncPipe { rx: down.clone(), tx: up.clone() },
                FRole::Client,
            );
            let mut fs = WebSocket::after_handshake(AsyncPipe { rx: up, tx: down }, FRole::Server);
            let mut roundtrip = |payload: &[u8]| -> usize {
                block_on(async {
                    fc.write_frame(Frame::binary(Payload::Borrowed(payload))).await.unwrap();
                    let got = fs.read_frame().await.unwrap();
                    assert_eq!(got.opcode, OpCode::Binary);
                    fs.write_frame(Frame::binary(got.payload)).await.unwrap();
                    fc.read_frame().await.unwrap().payload.len()
                })
            };
            assert_eq!(roundtrip(&payload), size);
            g.bench_function("fastwebsockets", |b| b.iter(|| roundtrip(black_box(&payload))));
        }

        // embedded-websocket: client `write` (masks while copying, key from its RNG; the
        // `EmptyRng` here gives a fixed key), server `read` (copies out while unmasking),
        // server `write`, client `read`. No allocation.
        {
            use embedded_websocket::{
                EmptyRng, WebSocketClient, WebSocketSendMessageType, WebSocketServer,
                WebSocketState,
            };
            let mut ec = WebSocketClient::new_client(EmptyRng::new());
            let mut es = WebSocketServer::new_server();
            ec.state = WebSocketState::Open;
            es.state = WebSocketState::Open;
            let (mut wire, mut echo) = (vec![0u8; size + 14], vec![0u8; size + 14]);
            let (mut got, mut back) = (vec![0u8; size], vec![0u8; size]);
            let mut roundtrip = |payload: &[u8]| -> usize {
                let bin = WebSocketSendMessageType::Binary;
                let n = ec.write(bin, true, payload, &mut wire).unwrap();
                let r = es.read(&wire[..n], &mut got).unwrap();
                let m = es.write(bin, true, &got[..r.len_to], &mut echo).unwrap();
                ec.read(&echo[..m], &mut back).unwrap().len_to
            };
            assert_eq!(roundtrip(&payload), size);
            g.bench_function("embedded-websocket", |b| b.iter(|| roundtrip(black_box(&payload))));
        }
        g.finish();
    }
}

fn config() -> Criterion {
    // Keeps a full run to a few minutes on a 2-core machine; command-line flags override.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        // Fewer bootstrap resamples: the analysis otherwise takes longer than the measurement
        // on two cores without rayon. Medians are unaffected.
        .nresamples(10_000)
}

criterion_group! {
    name = benches;
    config = config();
    targets = unmask, decode_small, decode_large, encode_small, handshake_server, message_roundtrip
}
criterion_main!(benches);
