//! `message_roundtrip`: a client sends one binary message, the server reads it and sends it
//! back, the client reads the echo. Each function is checked once (the echo's checksum
//! equals the payload's) before it is timed.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::BenchmarkGroup;
use wscodec::{Connection, Event, Message, Role, Status};

use crate::decode::{fold, FixedKey, WebsocketzBuffers};
use crate::streams::{block_on, pipe_pair, Pipe};
use crate::KEY;

type Group<'a> = BenchmarkGroup<'a, WallTime>;

/// Checks `roundtrip` once, then times it.
fn bench<T>(g: &mut Group<'_>, name: &str, input: &T, mut roundtrip: impl FnMut(&T) -> u64)
where
    T: AsRef<[u8]> + ?Sized,
{
    assert_eq!(roundtrip(input), fold(0, input.as_ref()), "{name}: the echo differs");
    g.bench_function(name, |b| b.iter(|| roundtrip(black_box(input))));
}

/// wscodec: client `encode` (masks while copying), server `handle_input` (unmasks in
/// place), server `encode` of the borrowed payload, client `handle_input`.
pub(crate) fn wscodec(g: &mut Group<'_>, payload: &[u8]) {
    let (mut client, mut server) = (Connection::new(Role::Client), Connection::new(Role::Server));
    let size = payload.len();
    let (mut wire, mut echo) = (vec![0u8; size + 14], vec![0u8; size + 14]);
    bench(g, "wscodec", payload, |payload: &[u8]| {
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
        fold(0, back)
    });
}

/// tungstenite: `WebSocketContext::{write, flush, read}` (its sans-socket API) over
/// in-memory pipes. Per message: `Bytes` (refcounted clone here), a random mask key
/// drawn from `rand` on the client, a copy into the write buffer, a copy into the
/// read buffer.
pub(crate) fn tungstenite(g: &mut Group<'_>, payload: &[u8]) {
    use tungstenite::protocol::{Role as TRole, WebSocketContext};
    let mut tc = WebSocketContext::new(TRole::Client, None);
    let mut ts = WebSocketContext::new(TRole::Server, None);
    let (mut up, mut down) = (Pipe::default(), Pipe::default());
    let bytes = bytes::Bytes::from(payload.to_vec());
    bench(g, "tungstenite", &bytes, |bytes: &bytes::Bytes| {
        tc.write(&mut up, tungstenite::Message::Binary(bytes.clone())).unwrap();
        tc.flush(&mut up).unwrap();
        let got = ts.read(&mut up).unwrap();
        ts.write(&mut down, got).unwrap();
        ts.flush(&mut down).unwrap();
        match tc.read(&mut down).unwrap() {
            tungstenite::Message::Binary(back) => fold(0, &back),
            other => panic!("tungstenite: {other:?}"),
        }
    });
}

/// fastwebsockets: `WebSocket::{write_frame, read_frame}` (async) over in-memory pipes.
/// Per message: the client's `write_frame` masks a borrowed payload by first copying it
/// into a `Vec` (`Payload::to_mut`), with a key from `rand`.
pub(crate) fn fastwebsockets(g: &mut Group<'_>, payload: &[u8]) {
    use fastwebsockets::{Frame, OpCode, Payload, Role as FRole, WebSocket};
    let (client_end, server_end) = pipe_pair();
    let mut fc = WebSocket::after_handshake(client_end, FRole::Client);
    let mut fs = WebSocket::after_handshake(server_end, FRole::Server);
    bench(g, "fastwebsockets", payload, |payload: &[u8]| {
        block_on(async {
            fc.write_frame(Frame::binary(Payload::Borrowed(payload))).await.unwrap();
            let got = fs.read_frame().await.unwrap();
            assert_eq!(got.opcode, OpCode::Binary);
            fs.write_frame(Frame::binary(got.payload)).await.unwrap();
            fold(0, &fc.read_frame().await.unwrap().payload)
        })
    });
}

/// embedded-websocket: client `write` (masks while copying, key from its RNG; the
/// `EmptyRng` here gives a fixed key), server `read` (copies out while unmasking),
/// server `write`, client `read`. No allocation.
pub(crate) fn embedded(g: &mut Group<'_>, payload: &[u8]) {
    use embedded_websocket::{
        EmptyRng, WebSocketClient, WebSocketSendMessageType, WebSocketServer, WebSocketState,
    };
    let mut ec = WebSocketClient::new_client(EmptyRng::new());
    let mut es = WebSocketServer::new_server();
    ec.state = WebSocketState::Open;
    es.state = WebSocketState::Open;
    let size = payload.len();
    let (mut wire, mut echo) = (vec![0u8; size + 14], vec![0u8; size + 14]);
    let (mut got, mut back) = (vec![0u8; size], vec![0u8; size]);
    bench(g, "embedded-websocket", payload, |payload: &[u8]| {
        let bin = WebSocketSendMessageType::Binary;
        let n = ec.write(bin, true, payload, &mut wire).unwrap();
        let r = es.read(&wire[..n], &mut got).unwrap();
        let m = es.write(bin, true, &got[..r.len_to], &mut echo).unwrap();
        let r = ec.read(&echo[..m], &mut back).unwrap();
        fold(0, &back[..r.len_to])
    });
}

/// tokio-websockets: a client (`ClientBuilder::take_over`) and a server
/// (`ServerBuilder::serve`) over in-memory pipes, `SinkExt::send` and `StreamExt::next`,
/// polled with a no-op waker. Per message: the client copies the payload `Bytes` into a
/// `BytesMut` to mask it (key from `fastrand`); the server hands the received `Message`
/// back to `send` without a copy.
pub(crate) fn tokio_websockets(g: &mut Group<'_>, payload: &[u8]) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_websockets::{ClientBuilder, Message as TMessage, ServerBuilder};
    let (client_end, server_end) = pipe_pair();
    let mut tc = ClientBuilder::new().take_over(client_end);
    let mut ts = ServerBuilder::new().serve(server_end);
    let bytes = bytes::Bytes::from(payload.to_vec());
    bench(g, "tokio-websockets", &bytes, |bytes: &bytes::Bytes| {
        block_on(async {
            tc.send(TMessage::binary(bytes.clone())).await.unwrap();
            let got = ts.next().await.unwrap().unwrap();
            assert!(got.is_binary());
            ts.send(got).await.unwrap();
            fold(0, tc.next().await.unwrap().unwrap().as_payload())
        })
    });
}

/// websocketz: a client (`WebSocket::client`) and a server (`WebSocket::server`) over
/// in-memory pipes, `send` / `send!` and `next!`, polled with a no-op waker. No
/// allocation: each side reads into its lent read buffer (at least 4 KiB, and room for the
/// whole frame) and encodes into its lent write buffer; the client masks with the key
/// from its `Rng` (fixed here); the server echoes the payload it borrows from its read
/// buffer.
pub(crate) fn websocketz(g: &mut Group<'_>, payload: &[u8]) {
    use websocketz::{next, send, Message as ZMessage, WebSocket};
    let (client_end, server_end) = pipe_pair();
    let frame = (payload.len() + 14).max(4096);
    let (mut cb, mut sb) = (WebsocketzBuffers::new(frame), WebsocketzBuffers::new(frame));
    let mut zc =
        WebSocket::client(client_end, FixedKey, &mut cb.read, &mut cb.write, &mut cb.fragments);
    let mut zs =
        WebSocket::server(server_end, FixedKey, &mut sb.read, &mut sb.write, &mut sb.fragments);
    bench(g, "websocketz", payload, |payload: &[u8]| {
        block_on(async {
            zc.send(ZMessage::Binary(payload)).await.unwrap();
            let Some(Ok(ZMessage::Binary(got))) = next!(zs) else { panic!("websocketz server") };
            send!(zs, ZMessage::Binary(got)).unwrap();
            let Some(Ok(ZMessage::Binary(back))) = next!(zc) else { panic!("websocketz client") };
            fold(0, back)
        })
    });
}
