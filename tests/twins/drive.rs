//! One driver for both twins, made blocking and async as the adapters are: each function
//! runs a conversation through the adapter's whole surface and returns its transcript,
//! every call's result and every event, in order.

use std::fmt::Debug;

use super::{bisync, io, twin, Lock};
use wscodec::deflate::{Compressor, InflateState, Inflater};
use wscodec::handshake::client::ClientRequest;
use wscodec::handshake::server::{Decision, Request, Upgrade};
use wscodec::io::{Deflate, Options};
use wscodec::{CloseCode, Config, Event, Message, MessageKind, Piece};
use wscodec_tests::{Owned, Script};

use crate::Setup;

/// A page at `/page`, a refusal at `/nope`, and upgrades, with `chat` when offered.
fn decide<'r>(request: &Request<'_, 'r>, upgrade: Option<&Upgrade<'r>>) -> Decision<'r> {
    match (request.path, upgrade) {
        ("/page", None) => {
            Decision::Respond { status: 200, content_type: "text/plain", body: b"hi" }
        }
        ("/nope", _) => Decision::Reject { status: 404, reason: "no such room" },
        (_, Some(up)) if up.offers_protocol("chat") => Decision::Accept { protocol: Some("chat") },
        _ => Decision::Accept { protocol: None },
    }
}

/// An echo server: every message back (pieces as pieces, a ping answered by one of its
/// own), until the connection ends; then its own close if it still may.
#[bisync]
pub(crate) async fn server<S>(stream: S, setup: Setup) -> Vec<String>
where
    S: io::Read + io::Write,
    S::Error: Debug,
{
    let (mut rx, mut tx) = (vec![0u8; setup.rx], vec![0u8; 512]);
    let (mut state, mut window, mut out) = (InflateState::new(), vec![0u8; 1 << 15], vec![0; 4096]);
    let config = Config { streaming: setup.streaming, ..Config::default() };
    let mut options = Options::new(&mut rx[..], &mut tx).with_config(config);
    if setup.deflate {
        let inflater = Inflater::new(&mut state, &mut window, &mut out[..]);
        let deflate = if setup.storing {
            Deflate::new(inflater).storing()
        } else {
            Deflate::new(inflater).compressing(Compressor::new(6))
        };
        options = options.with_deflate(deflate);
    }
    let mut ws = match twin::WebSocket::accept(stream, options, decide).await {
        Ok(ws) => ws,
        Err(e) => return vec![format!("accept: {e:?}")],
    };
    let mut log = vec![format!("accepted, deflate {:?}", ws.deflate())];
    loop {
        let (event, mut sender) = match ws.read_for_reply().await {
            Ok(read) => read,
            Err(e) => {
                log.push(format!("read: {e:?}"));
                break;
            }
        };
        log.push(format!("{:?}", Owned::from(event)));
        let sent = match event {
            Event::Text(t) => sender.send(Message::Text(t)).await,
            Event::Binary(b) => sender.send(Message::Binary(b)).await,
            Event::Piece { kind, data, last, .. } => {
                sender.send_piece(Piece { kind, data, last }).await
            }
            Event::Ping(_) => sender.send(Message::Ping(b"and you?")).await,
            Event::Pong(_) | Event::Close { .. } => Ok(()),
        };
        log.push(format!("sent: {sent:?}, {:?}", sender.connection().state()));
    }
    log.push(format!("close: {:?}", ws.close(CloseCode::NORMAL, "bye").await));
    log.push(format!("{:?}", ws.connection().state()));
    log
}

/// A client: a text, a binary larger than `tx` (masked through it in pieces), a message
/// in pieces with a ping between them, a close; then it reads until the end.
#[bisync]
pub(crate) async fn client<S>(stream: S, setup: Setup) -> Vec<String>
where
    S: io::Read + io::Write,
    S::Error: Debug,
{
    let (mut rx, mut tx) = (vec![0u8; setup.rx], vec![0u8; 300]);
    let (mut state, mut window, mut out) = (InflateState::new(), vec![0u8; 1 << 15], vec![0; 4096]);
    let mut options = Options::new(&mut rx[..], &mut tx);
    if setup.deflate {
        let inflater = Inflater::new(&mut state, &mut window, &mut out[..]);
        options = options.with_deflate(Deflate::new(inflater));
    }
    let mut request = ClientRequest::new("device.local", "/chat", [7; 16]);
    request.protocols = &["chat"];
    let mut n = 0u8;
    let keys = move || {
        n = n.wrapping_add(1);
        [n, 0x5a, !n, 3]
    };
    let (mut ws, protocol) = match twin::WebSocket::connect(stream, options, &request, keys).await {
        Ok(connected) => connected,
        Err(e) => return vec![format!("connect: {e:?}")],
    };
    let mut log = vec![format!("connected, {protocol:?}, deflate {:?}", ws.deflate())];
    let big: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    log.push(format!("{:?}", ws.send(Message::Text("hello")).await));
    log.push(format!("{:?}", ws.send(Message::Binary(&big)).await));
    let hel = Piece { kind: MessageKind::Text, data: b"Hel", last: false };
    log.push(format!("{:?}", ws.send_piece(hel).await));
    log.push(format!("{:?}", ws.send(Message::Ping(b"mid")).await));
    let lo = Piece { kind: MessageKind::Text, data: b"lo", last: true };
    log.push(format!("{:?}", ws.send_piece(lo).await));
    log.push(format!("{:?}", ws.close(CloseCode::new(4000), "done").await));
    loop {
        match ws.read().await {
            Ok(event) => log.push(format!("{:?}", Owned::from(event))),
            Err(e) => {
                log.push(format!("read: {e:?}"));
                break;
            }
        }
    }
    log.push(format!("{:?}", ws.send(Message::Text("late")).await));
    log
}

/// A server split into halves, driven in turn: the writer sends, the reader reads (and
/// answers pings through the writer's side) until the end, the writer tries again.
#[bisync]
pub(crate) async fn split(input: &[u8], chunk: usize) -> Vec<String> {
    let (mut rx, mut tx) = (vec![0u8; 1024], vec![0u8; 512]);
    let options = Options::new(&mut rx[..], &mut tx);
    let mut ws = match twin::WebSocket::accept(Script::new(input, chunk), options, decide).await {
        Ok(ws) => ws,
        Err(e) => return vec![format!("accept: {e:?}")],
    };
    let mut log = vec![format!("{:?}", ws.send(Message::Text("before")).await)];
    let lock = Lock::new(None);
    let (mut reader, mut writer) = ws
        .split(&lock, |reading: Script| {
            let writing = Script { written: reading.written.clone(), ..Script::default() };
            (reading, writing)
        })
        .await;
    log.push(format!("{:?}", writer.send(Message::Text("from the writer")).await));
    let hel = Piece { kind: MessageKind::Binary, data: b"\x01\x02", last: true };
    log.push(format!("{:?}", writer.clone().send_piece(hel).await));
    loop {
        match reader.read().await {
            Ok(event) => log.push(format!("{:?}", Owned::from(event))),
            Err(e) => {
                log.push(format!("read: {e:?}"));
                break;
            }
        }
        log.push(format!("{:?}", reader.receiving().await));
    }
    log.push(format!("{:?}", writer.send(Message::Text("late")).await));
    log.push(format!("{:?}, buffered {}", writer.state().await, reader.buffered()));
    let shared = twin::Lock::lock(&lock).await.take();
    let written = shared.map(|shared| shared.into_parts().0.written);
    log.push(format!("wrote {written:02x?}"));
    log
}
