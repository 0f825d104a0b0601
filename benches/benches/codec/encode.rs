//! Encoders: each writes `SMALL_FRAMES` final binary frames of `SMALL_PAYLOAD`, unmasked (a
//! server's frames), and returns how many bytes it wrote, so that every output can be
//! compared byte for byte before it is timed.

use crate::decode::{FixedKey, WebsocketzBuffers};
use crate::streams::{block_on, SliceStream};
use crate::{SMALL_FRAMES, SMALL_LEN, SMALL_PAYLOAD};
use wscodec::{Connection, Message, Role};

/// wscodec: `Connection::encode` into the caller's buffer (no allocation).
pub(crate) fn wscodec(out: &mut [u8]) -> usize {
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
pub(crate) fn tungstenite(out: &mut Vec<u8>) -> usize {
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
pub(crate) fn fastwebsockets(out: &mut [u8]) -> usize {
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
pub(crate) fn embedded(out: &mut [u8]) -> usize {
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

/// tokio-websockets: `SinkExt::feed` of each message (a static payload: no copy), one
/// `flush` at the end, into an in-memory `AsyncWrite` appending to a `Vec` (capacity kept).
/// Its frame encoder is private; `feed` queues the header and the payload `Bytes` and
/// writes them out with vectored writes whenever 8 KiB are pending.
pub(crate) fn tokio_websockets(out: &mut Vec<u8>) -> usize {
    use futures_util::SinkExt;
    out.clear();
    let mut ws = tokio_websockets::ServerBuilder::new().serve(SliceStream::writer(out));
    block_on(async {
        for _ in 0..SMALL_FRAMES {
            ws.feed(tokio_websockets::Message::binary(&SMALL_PAYLOAD[..])).await.unwrap();
        }
        ws.flush().await.unwrap();
    });
    drop(ws);
    out.len()
}

/// websocketz: `WebSocket::send` (its only public writer) into an in-memory
/// `embedded_io_async::Write` appending to a `Vec` (capacity kept): each message is
/// encoded into the lent write buffer, then written out and flushed.
pub(crate) fn websocketz(out: &mut Vec<u8>, bufs: &mut WebsocketzBuffers) -> usize {
    out.clear();
    let mut ws = websocketz::WebSocket::server(
        SliceStream::writer(out),
        FixedKey,
        &mut bufs.read,
        &mut bufs.write,
        &mut bufs.fragments,
    );
    block_on(async {
        for _ in 0..SMALL_FRAMES {
            ws.send(websocketz::Message::Binary(&SMALL_PAYLOAD)).await.unwrap();
        }
    });
    out.len()
}
