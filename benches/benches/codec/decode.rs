//! Decoders: each reads `frames` final data frames from `input`, all text or all binary
//! ([`Kind`]), and hands every payload to a [`Sink`]: a cheap checksum ([`Fold`]) while
//! timed, a byte-for-byte comparison with the sent payload ([`Compare`]) before.
//!
//! Every decoder makes exactly one pass of the input into the library's own buffer, the
//! stand-in for `recv` into that buffer: `wscodec` copies the input into its receive buffer
//! and unmasks in place; nexus-web copies it into its read buffer (`FrameReader::read`);
//! tungstenite, fastwebsockets, tokio-websockets and websocketz copy it from an in-memory
//! stream into their buffers; embedded-websocket copies while unmasking (its
//! `read(from, to)` API). Text is checked to be UTF-8 by every library but
//! embedded-websocket, whose `read` does not: its function checks with
//! `core::str::from_utf8`, as its own `Framer` does.

use std::hint::black_box;

use criterion::Throughput;
use wscodec::{Connection, Event, Role, Status};

use crate::streams::{block_on, SliceStream};

/// One decode group: the wire bytes of `frames` masked frames, each carrying `payload`.
#[derive(Debug)]
pub(crate) struct Workload {
    /// The criterion group, e.g. `decode_text/128`.
    pub(crate) group: String,
    pub(crate) input: Vec<u8>,
    pub(crate) payload: Vec<u8>,
    pub(crate) frames: usize,
    pub(crate) kind: Kind,
    pub(crate) throughput: Throughput,
}

impl Workload {
    /// `frames` final masked frames of `kind`, each carrying `payload`.
    pub(crate) fn new(
        group: String,
        payload: Vec<u8>,
        frames: usize,
        kind: Kind,
        throughput: Throughput,
    ) -> Self {
        let first = if kind == Kind::Text { 0x81 } else { 0x82 };
        let mut input = Vec::with_capacity(frames * (payload.len() + 14));
        for _ in 0..frames {
            crate::masked_frame_with(&mut input, first, &payload);
        }
        Self { group, input, payload, frames, kind, throughput }
    }
}

/// The buffers each library decodes into, allocated once per workload.
#[derive(Debug)]
pub(crate) struct Buffers {
    rx: Vec<u8>,
    to: Vec<u8>,
    websocketz: WebsocketzBuffers,
    nexus: NexusReader,
}

impl Buffers {
    pub(crate) fn new(w: &Workload) -> Self {
        Self {
            rx: vec![0; w.input.len()],
            to: vec![0; w.payload.len().max(4096)],
            websocketz: WebsocketzBuffers::new(w.input.len()),
            nexus: NexusReader(nexus_reader(w.input.len())),
        }
    }
}

/// nexus-web's reader (it implements no `Debug`).
pub(crate) struct NexusReader(nexus_web::ws::FrameReader);

impl std::fmt::Debug for NexusReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NexusReader")
    }
}

/// One library's decoder of a workload. Called with `true` it checks every payload against
/// the sent one and the number of messages (it panics on a difference) and returns 0; with
/// `false` it returns the checksum, and that is what is timed.
pub(crate) type Decoder<'a> = Box<dyn FnMut(bool) -> u64 + 'a>;

/// Every library's decoder of `w`, by criterion function name, in the tables' order.
pub(crate) fn decoders<'a>(
    w: &'a Workload,
    b: &'a mut Buffers,
) -> Vec<(&'static str, Decoder<'a>)> {
    let (input, payload, n, kind) = (&w.input[..], &w.payload[..], w.frames, w.kind);
    let Buffers { rx, to, websocketz: z, nexus: reader } = b;
    macro_rules! decoder {
        ($name:literal, |$sink:ident| $call:expr) => {
            (
                $name,
                Box::new(move |check: bool| {
                    if check {
                        let $sink = Compare::new(payload);
                        let count = $call.count;
                        assert_eq!(count, n, "{}: {count} messages, {n} sent", $name);
                        0
                    } else {
                        let $sink = Fold(0);
                        $call.0
                    }
                }) as Decoder<'a>,
            )
        };
    }
    vec![
        decoder!("wscodec", |sink| wscodec(black_box(input), rx, n, kind, sink)),
        decoder!("nexus-web", |sink| nexus(black_box(input), &mut reader.0, n, kind, sink)),
        decoder!("tungstenite", |sink| tungstenite(black_box(input), n, kind, sink)),
        decoder!("fastwebsockets", |sink| fastwebsockets(black_box(input), n, kind, sink)),
        decoder!("embedded-websocket", |sink| embedded(black_box(input), to, n, kind, sink)),
        decoder!("tokio-websockets", |sink| tokio_websockets(black_box(input), n, kind, sink)),
        decoder!("websocketz", |sink| websocketz(black_box(input), z, n, kind, sink)),
    ]
}

/// Folds a payload into a checksum (cheap, so it does not dominate).
pub(crate) fn fold(sum: u64, payload: &[u8]) -> u64 {
    sum.wrapping_mul(31).wrapping_add(payload.len() as u64).wrapping_add(u64::from(
        payload.first().copied().unwrap_or(0) ^ payload.last().copied().unwrap_or(0),
    ))
}

/// What every message of an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Binary,
    Text,
}

/// Takes each decoded payload.
pub(crate) trait Sink {
    fn take(&mut self, payload: &[u8]);
}

/// The timed sink: a checksum of the payloads, returned so that none of the work is
/// optimised away.
#[derive(Debug, Default)]
pub(crate) struct Fold(pub(crate) u64);

impl Sink for Fold {
    #[inline(always)]
    fn take(&mut self, payload: &[u8]) {
        self.0 = fold(self.0, payload);
    }
}

/// The checking sink: every payload must equal `expected`, and [`Compare::count`] tells how
/// many arrived.
#[derive(Debug)]
pub(crate) struct Compare<'a> {
    expected: &'a [u8],
    pub(crate) count: usize,
}

impl<'a> Compare<'a> {
    pub(crate) fn new(expected: &'a [u8]) -> Self {
        Self { expected, count: 0 }
    }
}

impl Sink for Compare<'_> {
    fn take(&mut self, payload: &[u8]) {
        assert!(payload == self.expected, "payload {} differs from what was sent", self.count);
        self.count += 1;
    }
}

/// wscodec: `Connection::handle_input` (sans-IO, in place, no allocation); one event per
/// call, no per-call overhead beyond the header decode and checks.
pub(crate) fn wscodec<S: Sink>(
    input: &[u8],
    rx: &mut [u8],
    frames: usize,
    kind: Kind,
    mut sink: S,
) -> S {
    let rx = &mut rx[..input.len()];
    rx.copy_from_slice(input);
    let mut conn = Connection::new(Role::Server);
    let mut pos = 0;
    for _ in 0..frames {
        match conn.handle_input(&mut rx[pos..]) {
            Ok(Status::Complete { value: Some(Event::Binary(p)), consumed })
                if kind == Kind::Binary =>
            {
                sink.take(p);
                pos += consumed;
            }
            Ok(Status::Complete { value: Some(Event::Text(t)), consumed })
                if kind == Kind::Text =>
            {
                sink.take(t.as_bytes());
                pos += consumed;
            }
            other => panic!("wscodec: {other:?}"),
        }
    }
    sink
}

/// nexus-web: `FrameReader` (sans-IO, std): `read` copies the input into its read buffer,
/// `next` parses, unmasks in place and checks text (simdutf8) and hands out a `Message`
/// borrowing the buffer. The reader (its 1 MiB-or-larger buffer) is built once, outside the
/// timing, and `reset` per run, as a connection would keep it.
pub(crate) fn nexus<S: Sink>(
    input: &[u8],
    reader: &mut nexus_web::ws::FrameReader,
    frames: usize,
    kind: Kind,
    mut sink: S,
) -> S {
    use nexus_web::ws::Message;
    reader.reset();
    reader.read(input).expect("nexus-web: the read buffer holds the whole input");
    for _ in 0..frames {
        match reader.next() {
            Ok(Some(Message::Binary(p))) if kind == Kind::Binary => sink.take(p),
            Ok(Some(Message::Text(t))) if kind == Kind::Text => sink.take(t.as_bytes()),
            other => panic!("nexus-web: {other:?}"),
        }
    }
    sink
}

/// A nexus-web server-side reader whose buffer holds `len` bytes of input.
pub(crate) fn nexus_reader(len: usize) -> nexus_web::ws::FrameReader {
    nexus_web::ws::FrameReader::builder()
        .role(nexus_web::ws::Role::Server)
        .buffer_capacity(len.max(1024 * 1024))
        .build()
}

/// tungstenite: `WebSocket::read` over a `Read + Write` stream (its sans-socket
/// `WebSocketContext` has the same cost). `FrameSocket::read` is lower level but does not
/// unmask, so it cannot decode a client's frames. Per call: a `Message` holding `Bytes`
/// split off its read buffer (refcount traffic), `io::Read` into a 128 KiB buffer
/// allocated per socket.
pub(crate) fn tungstenite<S: Sink>(input: &[u8], frames: usize, kind: Kind, mut sink: S) -> S {
    use tungstenite::protocol::{Role as TRole, WebSocket};
    let mut ws = WebSocket::from_raw_socket(SliceStream::reader(input), TRole::Server, None);
    for _ in 0..frames {
        match ws.read() {
            Ok(tungstenite::Message::Binary(p)) if kind == Kind::Binary => sink.take(&p),
            Ok(tungstenite::Message::Text(t)) if kind == Kind::Text => sink.take(t.as_bytes()),
            other => panic!("tungstenite: {other:?}"),
        }
    }
    sink
}

/// fastwebsockets: `WebSocket::read_frame` (async) over an in-memory `AsyncRead + AsyncWrite`,
/// polled with a no-op waker. Per call: an async state machine, a `Frame` whose payload is
/// a `BytesMut` split off its read buffer, `read_buf` into an 8 KiB buffer grown per frame
/// as needed; a final text frame is checked with simdutf8. Frame level: it does not
/// reassemble fragments (that is `FragmentCollector`).
pub(crate) fn fastwebsockets<S: Sink>(input: &[u8], frames: usize, kind: Kind, mut sink: S) -> S {
    use fastwebsockets::{OpCode, Role as FRole, WebSocket};
    let opcode = if kind == Kind::Text { OpCode::Text } else { OpCode::Binary };
    let mut ws = WebSocket::after_handshake(SliceStream::reader(input), FRole::Server);
    block_on(async {
        for _ in 0..frames {
            match ws.read_frame().await {
                Ok(f) if f.opcode == opcode && f.fin => sink.take(&f.payload),
                Ok(f) => panic!("fastwebsockets: opcode {:?}", f.opcode),
                Err(e) => panic!("fastwebsockets: {e}"),
            }
        }
    });
    sink
}

/// embedded-websocket: `WebSocket::read(from, to)` (sans-IO, no allocation): copies each
/// payload out of `from` into `to` while unmasking, byte by byte. It does not check text;
/// `core::str::from_utf8` does here, as in its `Framer`.
pub(crate) fn embedded<S: Sink>(
    input: &[u8],
    to: &mut [u8],
    frames: usize,
    kind: Kind,
    mut sink: S,
) -> S {
    use embedded_websocket::{WebSocketReceiveMessageType as T, WebSocketServer, WebSocketState};
    let want = if kind == Kind::Text { T::Text } else { T::Binary };
    let mut ws = WebSocketServer::new_server();
    ws.state = WebSocketState::Open;
    let mut pos = 0;
    for _ in 0..frames {
        match ws.read(&input[pos..], to) {
            Ok(r) if r.message_type == want && r.end_of_message => {
                let payload = &to[..r.len_to];
                if kind == Kind::Text {
                    let text = core::str::from_utf8(payload).expect("embedded-websocket: UTF-8");
                    sink.take(text.as_bytes());
                } else {
                    sink.take(payload);
                }
                pos += r.len_from;
            }
            other => panic!("embedded-websocket: {other:?}"),
        }
    }
    sink
}

/// tokio-websockets: `ServerBuilder::new().serve(stream)` (no handshake) over an in-memory
/// `AsyncRead + AsyncWrite`, messages taken with `StreamExt::next`, polled with a no-op
/// waker. Its frame decoder and masking are private, so this is the lowest public level.
/// Per message: a `tokio_util` `FramedRead` decode into a `BytesMut` read buffer, a
/// `Message` whose `Payload` is `Bytes` split off it; masking picks AVX-512, AVX2 or SSE2
/// at run time; text is checked with simdutf8.
pub(crate) fn tokio_websockets<S: Sink>(input: &[u8], frames: usize, kind: Kind, mut sink: S) -> S {
    use futures_util::StreamExt;
    let mut ws = tokio_websockets::ServerBuilder::new().serve(SliceStream::reader(input));
    block_on(async {
        for _ in 0..frames {
            match ws.next().await {
                Some(Ok(m)) if kind == Kind::Binary && m.is_binary() => sink.take(m.as_payload()),
                Some(Ok(m)) if kind == Kind::Text && m.is_text() => {
                    sink.take(m.as_text().expect("tokio-websockets: text").as_bytes())
                }
                other => panic!("tokio-websockets: {other:?}"),
            }
        }
    });
    sink
}

/// Buffers lent to a websocketz connection (it allocates nothing).
#[derive(Debug)]
pub(crate) struct WebsocketzBuffers {
    pub(crate) read: Vec<u8>,
    pub(crate) write: Vec<u8>,
    pub(crate) fragments: Vec<u8>,
}

impl WebsocketzBuffers {
    /// Room for a frame of `frame` bytes in each direction.
    pub(crate) fn new(frame: usize) -> Self {
        Self { read: vec![0; frame], write: vec![0; frame], fragments: vec![0; 1024] }
    }
}

/// websocketz: `WebSocket::server(...)` (no handshake) over an in-memory
/// `embedded_io_async::Read + Write`, messages taken with its `next!` macro, polled with a
/// no-op waker. no_std, no allocation: it reads into the caller's read buffer (as large as
/// the input here, so it is filled in one read), decodes frames in place, unmasks `u32` at
/// a time and checks text with `core::str::from_utf8`.
pub(crate) fn websocketz<S: Sink>(
    input: &[u8],
    bufs: &mut WebsocketzBuffers,
    frames: usize,
    kind: Kind,
    mut sink: S,
) -> S {
    let mut ws = websocketz::WebSocket::server(
        SliceStream::reader(input),
        FixedKey,
        &mut bufs.read,
        &mut bufs.write,
        &mut bufs.fragments,
    );
    block_on(async {
        for _ in 0..frames {
            match websocketz::next!(ws) {
                Some(Ok(websocketz::Message::Binary(p))) if kind == Kind::Binary => sink.take(p),
                Some(Ok(websocketz::Message::Text(t))) if kind == Kind::Text => {
                    sink.take(t.as_bytes())
                }
                other => panic!("websocketz: {other:?}"),
            }
        }
    });
    sink
}

/// The mask-key source websocketz asks for (`rand_core::Rng`): always the benches' key.
#[derive(Debug)]
pub(crate) struct FixedKey;

impl rand_core::TryRng for FixedKey {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from_le_bytes(crate::KEY))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from(u32::from_le_bytes(crate::KEY)) * 0x1_0000_0001)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for (d, k) in dst.iter_mut().zip(crate::KEY.iter().cycle()) {
            *d = *k;
        }
        Ok(())
    }
}
