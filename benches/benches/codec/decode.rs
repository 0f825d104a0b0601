//! Decoders: each reads `frames` final binary frames from `input` and returns a checksum
//! of the payloads, so that every result can be checked before it is timed.
//!
//! Every decoder makes exactly one pass of the input into the library's own buffer, the
//! stand-in for `recv` into that buffer: `wscodec` copies the input into its receive buffer
//! and unmasks in place; tungstenite, fastwebsockets, tokio-websockets and websocketz copy
//! it from an in-memory stream into their buffers; embedded-websocket copies while
//! unmasking (its `read(from, to)` API).

use wscodec::{Connection, Event, Role, Status};

use crate::streams::{block_on, SliceStream};

/// Folds a payload into a checksum (cheap, so it does not dominate).
pub(crate) fn fold(sum: u64, payload: &[u8]) -> u64 {
    sum.wrapping_mul(31).wrapping_add(payload.len() as u64).wrapping_add(u64::from(
        payload.first().copied().unwrap_or(0) ^ payload.last().copied().unwrap_or(0),
    ))
}

/// wscodec: `Connection::handle_input` (sans-IO, in place, no allocation); one event per
/// call, no per-call overhead beyond the header decode and checks.
pub(crate) fn wscodec(input: &[u8], rx: &mut [u8], frames: usize) -> u64 {
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
pub(crate) fn tungstenite(input: &[u8], frames: usize) -> u64 {
    use tungstenite::protocol::{Role as TRole, WebSocket};
    let mut ws = WebSocket::from_raw_socket(SliceStream::reader(input), TRole::Server, None);
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
pub(crate) fn fastwebsockets(input: &[u8], frames: usize) -> u64 {
    use fastwebsockets::{OpCode, Role as FRole, WebSocket};
    let mut ws = WebSocket::after_handshake(SliceStream::reader(input), FRole::Server);
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
pub(crate) fn embedded(input: &[u8], to: &mut [u8], frames: usize) -> u64 {
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

/// tokio-websockets: `ServerBuilder::new().serve(stream)` (no handshake) over an in-memory
/// `AsyncRead + AsyncWrite`, messages taken with `StreamExt::next`, polled with a no-op
/// waker. Its frame decoder and masking are private, so this is the lowest public level.
/// Per message: a `tokio_util` `FramedRead` decode into a `BytesMut` read buffer, a
/// `Message` whose `Payload` is `Bytes` split off it; masking picks AVX-512, AVX2 or SSE2
/// at run time.
pub(crate) fn tokio_websockets(input: &[u8], frames: usize) -> u64 {
    use futures_util::StreamExt;
    let mut ws = tokio_websockets::ServerBuilder::new().serve(SliceStream::reader(input));
    block_on(async {
        let mut sum = 0;
        for _ in 0..frames {
            match ws.next().await {
                Some(Ok(m)) if m.is_binary() => sum = fold(sum, m.as_payload()),
                other => panic!("tokio-websockets: {other:?}"),
            }
        }
        sum
    })
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
/// the input here, so it is filled in one read), decodes frames in place and unmasks
/// `u32` at a time.
pub(crate) fn websocketz(input: &[u8], bufs: &mut WebsocketzBuffers, frames: usize) -> u64 {
    let mut ws = websocketz::WebSocket::server(
        SliceStream::reader(input),
        FixedKey,
        &mut bufs.read,
        &mut bufs.write,
        &mut bufs.fragments,
    );
    block_on(async {
        let mut sum = 0;
        for _ in 0..frames {
            match websocketz::next!(ws) {
                Some(Ok(websocketz::Message::Binary(p))) => sum = fold(sum, p),
                other => panic!("websocketz: {other:?}"),
            }
        }
        sum
    })
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
