//! permessage-deflate through the adapters: both roles from this crate, over an in-memory
//! duplex and scripted streams; the negotiation on the wire, compressed messages both
//! ways, the zero-copy reply, and what a hostile peer gets.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use wscodec::deflate::{Compressor, InflateError, InflateState, Inflater, PerMessageDeflate};
use wscodec::handshake::client::ClientRequest;
use wscodec::handshake::server::Decision;
use wscodec::handshake::ExtensionError;
use wscodec::io::Options;
use wscodec::io::{asynch, blocking, Deflate, Error};
use wscodec::MessageKind;
use wscodec::RxBuffer;
use wscodec::{CloseCode, Config, Event, HandshakeError, Message, Piece, ProtocolError};
use wscodec_tests::{block_on, duplex, DuplexEnd, Script};

/// Output storage that grows while a message arrives and shrinks when idle.
#[derive(Debug, Default)]
struct Growing(Vec<u8>);

impl RxBuffer for Growing {
    fn bytes(&self) -> &[u8] {
        &self.0
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
    fn max_len(&self) -> usize {
        64 << 20
    }
    fn grow(&mut self, min_len: usize) -> bool {
        self.0.resize(min_len.max(self.0.len()), 0);
        true
    }
    fn shrink(&mut self) {
        self.0 = Vec::new();
    }
}

/// A duplex end that counts the bytes it writes.
struct Counted(DuplexEnd, Arc<AtomicUsize>);

impl embedded_io::ErrorType for Counted {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.0.read(buf)
    }
}

impl embedded_io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.1.fetch_add(buf.len(), Ordering::Relaxed);
        self.0.write(buf)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn json(len: usize) -> String {
    let mut s = String::new();
    let mut i = 0u32;
    while s.len() < len {
        s.push_str(&format!("{{\"id\":{i},\"temp\":{}.{},\"ok\":true}},", 20 + i % 7, i % 10));
        i += 1;
    }
    s.truncate(len);
    s
}

fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A host-style echo server: 32 KiB window, growing output, a compressor; replies
/// straight from the event with `read_for_reply`. Returns what was agreed.
fn echo_server(stream: Counted) -> Option<PerMessageDeflate> {
    let mut tx = vec![0u8; 4096];
    let mut state = InflateState::new();
    let mut window = vec![0u8; 1 << 15];
    let deflate = Deflate::new(Inflater::new(&mut state, &mut window, Growing::default()))
        .compressing(Compressor::new(1));
    let config = Config { max_message: 8 << 20, ..Config::default() };
    let mut ws = blocking::WebSocket::accept(
        stream,
        Options::new(Growing(vec![0; 4096]), &mut tx).with_config(config).with_deflate(deflate),
        |_, _| Decision::Accept { protocol: None },
    )
    .expect("server handshake");
    let agreed = ws.deflate();
    loop {
        match ws.read_for_reply() {
            Ok((Event::Text(t), mut sender)) => sender.send(Message::Text(t)).unwrap(),
            Ok((Event::Binary(b), mut sender)) => sender.send(Message::Binary(b)).unwrap(),
            Ok(_) => {}
            Err(Error::Closed) => return agreed,
            Err(e) => panic!("server: {e}"),
        }
    }
}

#[test]
fn a_blocking_pair_compresses_both_ways_and_echoes_without_copying() {
    let (a, b) = duplex();
    let (sent_by_client, sent_by_server) =
        (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let counter = Arc::clone(&sent_by_server);
    let server = thread::spawn(move || echo_server(Counted(b, counter)));

    let (mut tx, mut state) = (vec![0u8; 1024], InflateState::new());
    let mut window = vec![0u8; 1 << 15];
    let deflate = Deflate::new(Inflater::new(&mut state, &mut window, Growing::default()))
        .compressing(Compressor::new(6));
    let request = ClientRequest::new("device.local", "/", [3; 16]);
    let (mut ws, _) = blocking::WebSocket::connect(
        Counted(a, Arc::clone(&sent_by_client)),
        Options::new(Growing(vec![0; 4096]), &mut tx)
            .with_config(Config { max_message: 8 << 20, ..Config::default() })
            .with_deflate(deflate),
        &request,
        wscodec::random::mask_key,
    )
    .expect("client handshake");
    let agreed = ws.deflate().expect("permessage-deflate agreed");
    assert_eq!(agreed.header_value().as_str(), "permessage-deflate");

    let text = json(1 << 20);
    let bytes = noise(100_000);
    let before = (sent_by_client.load(Ordering::Relaxed), sent_by_server.load(Ordering::Relaxed));
    ws.send(Message::Text(&text)).unwrap();
    assert_eq!(ws.read().unwrap(), Event::Text(&text));
    let after = (sent_by_client.load(Ordering::Relaxed), sent_by_server.load(Ordering::Relaxed));
    let (up, down) = (after.0 - before.0, after.1 - before.1);
    assert!(
        up * 5 < text.len() && down * 5 < text.len(),
        "1 MiB of JSON took {up} up and {down} down"
    );
    // Incompressible bytes, small messages, context across messages, a fragmented send
    // (which goes uncompressed) and a ping between its fragments.
    ws.send(Message::Binary(&bytes)).unwrap();
    assert_eq!(ws.read().unwrap(), Event::Binary(&bytes));
    for i in 0..50 {
        let small = json(100 + i);
        ws.send(Message::Text(&small)).unwrap();
        assert_eq!(ws.read().unwrap(), Event::Text(&small));
    }
    ws.send_piece(Piece { kind: MessageKind::Text, data: b"frag", last: false }).unwrap();
    ws.send(Message::Ping(b"p")).unwrap();
    ws.send_piece(Piece { kind: MessageKind::Text, data: b"mented", last: true }).unwrap();
    assert_eq!(ws.read().unwrap(), Event::Pong(b"p"));
    assert_eq!(ws.read().unwrap(), Event::Text("fragmented"));
    ws.send(Message::Text("")).unwrap();
    assert_eq!(ws.read().unwrap(), Event::Text(""));
    ws.close(CloseCode::NORMAL, "bye").unwrap();
    assert!(matches!(ws.read().unwrap(), Event::Close { code: Some(CloseCode::NORMAL), .. }));
    assert_eq!(server.join().unwrap(), Some(agreed));
}

/// The firmware's shape: async, streaming mode, a 4 KiB window, no compressor, every
/// buffer a lent slice; the echo goes back in fragments straight from the window.
#[test]
fn a_small_streaming_server_inflates_through_its_window() {
    let (a, b) = duplex();
    let server = thread::spawn(move || {
        let (mut rx, mut tx) = ([0u8; 2048], [0u8; 1024]);
        let mut state = InflateState::new();
        let mut window = [0u8; 4096];
        let deflate = Deflate::new(Inflater::new(&mut state, &mut window, &mut [][..]));
        let config = Config { streaming: true, ..Config::default() };
        block_on(async {
            let stream = wscodec_tests::AsyncOverDuplex(b);
            let mut ws = asynch::WebSocket::accept(
                stream,
                Options::new(&mut rx[..], &mut tx).with_config(config).with_deflate(deflate),
                |_, _| Decision::Accept { protocol: None },
            )
            .await
            .expect("server handshake");
            let agreed = ws.deflate();
            loop {
                match ws.read_for_reply().await {
                    Ok((Event::Piece { kind, data, last, .. }, mut sender)) => {
                        sender.send_piece(Piece { kind, data, last }).await.unwrap();
                    }
                    Ok(_) => {}
                    Err(Error::Closed) => return agreed,
                    Err(e) => panic!("server: {e}"),
                }
            }
        })
    });
    let (mut tx, mut state) = (vec![0u8; 1024], InflateState::new());
    let mut window = vec![0u8; 1 << 15];
    let deflate = Deflate::new(Inflater::new(&mut state, &mut window, Growing::default()))
        .compressing(Compressor::new(6));
    let request = ClientRequest::new("device.local", "/", [4; 16]);
    let (mut ws, _) = blocking::WebSocket::connect(
        a,
        Options::new(Growing(vec![0; 4096]), &mut tx).with_deflate(deflate),
        &request,
        wscodec::random::mask_key,
    )
    .unwrap();
    let agreed = ws.deflate().unwrap();
    assert_eq!(
        agreed.header_value().as_str(),
        "permessage-deflate; server_no_context_takeover; client_max_window_bits=12"
    );
    // Up to 4 KiB goes compressed (the window the server asked for); larger messages
    // go as they are, and stream through all the same.
    for len in [10, 4000, 4096, 50_000] {
        let text = json(len);
        ws.send(Message::Text(&text)).unwrap();
        assert_eq!(ws.read().unwrap(), Event::Text(&text), "{len}");
    }
    ws.close(CloseCode::NORMAL, "").unwrap();
    while !matches!(ws.read(), Err(Error::Closed) | Ok(Event::Close { .. })) {}
    assert_eq!(server.join().unwrap(), Some(agreed));
}

#[test]
fn without_an_offer_both_run_uncompressed() {
    let (a, b) = duplex();
    let counter = Arc::new(AtomicUsize::new(0));
    let server = thread::spawn(move || echo_server(Counted(b, counter)));
    let (mut rx, mut tx) = (vec![0u8; 1 << 20], vec![0u8; 1024]);
    let request = ClientRequest::new("h", "/", [5; 16]);
    let (mut ws, _) = blocking::WebSocket::connect(
        a,
        Options::new(&mut rx, &mut tx),
        &request,
        wscodec::random::mask_key,
    )
    .unwrap();
    ws.send(Message::Text("plain")).unwrap();
    assert_eq!(ws.read().unwrap(), Event::Text("plain"));
    ws.close(CloseCode::NORMAL, "").unwrap();
    while !matches!(ws.read(), Err(Error::Closed) | Ok(Event::Close { .. })) {}
    assert_eq!(server.join().unwrap(), None);
}

const UPGRADE: &str = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

fn accept_scripted(wire: &[u8]) -> (Result<(), Error<std::convert::Infallible>>, String) {
    let (mut rx, mut tx) = ([0u8; 2048], [0u8; 1024]);
    let mut state = InflateState::new();
    let deflate = Deflate::new(Inflater::new(&mut state, &mut [], &mut [][..]));
    let mut script = Script::new(wire, 7);
    let result = blocking::WebSocket::accept(
        &mut script,
        Options::new(&mut rx[..], &mut tx).with_deflate(deflate),
        |_, _| Decision::Accept { protocol: None },
    )
    .and_then(|mut ws| ws.read().map(|_| ()));
    (result, String::from_utf8_lossy(&script.written).into_owned())
}

#[test]
fn the_server_answers_each_offer_on_the_wire() {
    for (offer, answer) in [
        // No window lent: each message on its own; no compressor: nor the server's.
        (
            "permessage-deflate; client_max_window_bits",
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
        ),
        ("x-webkit-deflate-frame", None),
        ("permessage-deflate; bogus, permessage-deflate; server_max_window_bits=10", Some(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10",
        )),
    ] {
        let wire = format!("{UPGRADE}Sec-WebSocket-Extensions: {offer}\r\n\r\n");
        let (result, written) = accept_scripted(wire.as_bytes());
        assert!(matches!(result, Err(Error::UnexpectedEof)), "{result:?}");
        assert!(written.starts_with("HTTP/1.1 101 "), "{written}");
        let line = written.lines().find(|l| l.starts_with("Sec-WebSocket-Extensions: "));
        assert_eq!(line.map(|l| &l[26..]), answer, "{offer}");
    }
    let wire = format!("{UPGRADE}Sec-WebSocket-Extensions: permessage-deflate;\r\n\r\n");
    let (result, written) = accept_scripted(wire.as_bytes());
    assert!(
        matches!(result, Err(Error::Handshake(HandshakeError::Extension(ExtensionError::Syntax)))),
        "{result:?}"
    );
    assert!(written.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{written}");
}

#[test]
fn a_client_fails_an_answer_it_cannot_accept() {
    let request = ClientRequest::new("h", "/", *b"the sample nonce");
    for (answer, expected) in [
        (
            "permessage-deflate; client_max_window_bits",
            HandshakeError::Extension(ExtensionError::InvalidValue),
        ),
        (
            "permessage-deflate; mystery=1",
            HandshakeError::Extension(ExtensionError::UnknownParameter),
        ),
        ("x-other", HandshakeError::UnofferedExtension),
        // No window lent: a server that keeps its context cannot be followed.
        (
            "permessage-deflate",
            HandshakeError::Extension(ExtensionError::WindowUnsupported { bits: 15 }),
        ),
    ] {
        let wire = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: {answer}\r\n\r\n"
        );
        let (mut rx, mut tx) = ([0u8; 2048], [0u8; 1024]);
        let mut state = InflateState::new();
        let deflate = Deflate::new(Inflater::new(&mut state, &mut [], &mut [][..]));
        let mut script = Script::new(wire.as_bytes(), 1000);
        let result = blocking::WebSocket::connect(
            &mut script,
            Options::new(&mut rx[..], &mut tx).with_deflate(deflate),
            &request,
            || [1, 2, 3, 4],
        );
        assert!(
            matches!(result, Err(Error::Handshake(e)) if e == expected),
            "{answer}: {:?}",
            result.err()
        );
        let sent = String::from_utf8_lossy(&script.written).into_owned();
        assert!(
            sent.contains("\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits\r\n"),
            "{sent}"
        );
    }
}

#[test]
fn a_bomb_is_refused_with_1009_having_read_little() {
    // 64 MiB of zeros, compressed to about 64 KiB, against a limit of 1 MiB.
    let mut compressor = Compressor::new(9);
    let zeros = vec![0u8; 64 << 20];
    let mut bomb = vec![0u8; 1 << 20];
    let step = compressor.compress(&zeros, &mut bomb);
    assert!(step.done && step.written < 128 * 1024, "{step:?}");
    bomb.truncate(step.written);
    let mut wire = vec![0xc2, 0xff];
    wire.extend_from_slice(&(bomb.len() as u64).to_be_bytes());
    wire.extend_from_slice(&[1, 2, 3, 4]);
    wire.extend(bomb.iter().enumerate().map(|(i, b)| b ^ [1, 2, 3, 4][i % 4]));

    let mut tx = [0u8; 256];
    let mut state = InflateState::new();
    let deflate = Deflate::new(Inflater::new(&mut state, &mut [], Growing::default()));
    let mut script = Script::new(&wire, 1500);
    let config = Config { max_message: 1 << 20, ..Config::default() };
    let agreed =
        PerMessageDeflate { client_no_context_takeover: true, ..PerMessageDeflate::default() };
    let rx = Growing(vec![0; 4096]);
    let options = Options::new(rx, &mut tx).with_config(config).with_deflate(deflate);
    let mut ws =
        blocking::WebSocket::server(&mut script, options).with_deflate(Some(agreed)).unwrap();
    let err = ws.read().unwrap_err();
    assert_eq!(
        err,
        Error::Protocol(ProtocolError::Inflate(InflateError::TooLarge { max: 1 << 20 }))
    );
    drop(ws);
    assert!(
        script.input.len() > wire.len() - 16 * 1024,
        "read {} bytes",
        wire.len() - script.input.len()
    );
    assert_eq!(&script.written[..4], &[0x88, script.written[1], 0x03, 0xf1], "close 1009");
}

/// The data of a message of stored blocks (checking each block's header) ending in the
/// `00` of the flush.
fn stored_data(payload: &[u8]) -> Vec<u8> {
    let (mut at, mut data) = (0, Vec::new());
    while at + 1 < payload.len() {
        assert_eq!(payload[at], 0, "a stored block, not the last, at {at}");
        let len = u16::from_le_bytes([payload[at + 1], payload[at + 2]]);
        let nlen = u16::from_le_bytes([payload[at + 3], payload[at + 4]]);
        assert_eq!(nlen, !len, "NLEN at {at}");
        data.extend_from_slice(&payload[at + 5..at + 5 + usize::from(len)]);
        at += 5 + usize::from(len);
    }
    assert_eq!(&payload[at..], [0], "the flush's first byte ends the message");
    data
}

/// The frames a storing server writes after the handshake: (first byte, payload), the
/// payload read past a header of 2, 4 or 10 bytes (servers do not mask).
fn server_frames(written: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut at = written.windows(4).position(|w| w == b"\r\n\r\n").expect("a response") + 4;
    let mut frames = Vec::new();
    while at < written.len() {
        let (first, len7) = (written[at], written[at + 1] & 0x7f);
        let (len, head) = match len7 {
            126 => (u16::from_be_bytes([written[at + 2], written[at + 3]]) as usize, 4),
            127 => (u64::from_be_bytes(written[at + 2..at + 10].try_into().unwrap()) as usize, 10),
            n => (n as usize, 2),
        };
        frames.push((first, written[at + head..at + head + len].to_vec()));
        at += head + len;
    }
    frames
}

/// `Deflate::storing`: with permessage-deflate agreed and no compressor, messages and
/// fragments go out as stored blocks: RSV1 on a message's first frame only, each piece
/// behind a 5-byte block header, the last frame ending in `00`; an inflater gets back
/// exactly what was sent.
#[test]
fn a_storing_server_sends_each_piece_as_a_stored_block() {
    let wire = format!("{UPGRADE}Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
    let (mut rx, mut tx) = ([0u8; 2048], [0u8; 1024]);
    let mut state = InflateState::new();
    let deflate = Deflate::new(Inflater::new(&mut state, &mut [], &mut [][..])).storing();
    let mut script = Script::new(wire.as_bytes(), 7);
    let mut ws = blocking::WebSocket::accept(
        &mut script,
        Options::new(&mut rx[..], &mut tx).with_deflate(deflate),
        |_, _| Decision::Accept { protocol: None },
    )
    .unwrap();
    assert!(ws.deflate().is_some());
    let big = noise(70_000); // more than a stored block holds, more than tx
    ws.send(Message::Text("hello")).unwrap();
    ws.send(Message::Binary(&big)).unwrap();
    ws.send_piece(Piece { kind: MessageKind::Text, data: b"frag", last: false }).unwrap();
    ws.send_piece(Piece { kind: MessageKind::Text, data: b"", last: false }).unwrap();
    ws.send_piece(Piece { kind: MessageKind::Text, data: b"ments", last: true }).unwrap();
    ws.send(Message::Ping(b"control frames stay as they are")).unwrap();
    drop(ws);

    let frames = server_frames(&script.written);
    let firsts: Vec<u8> = frames.iter().map(|f| f.0).collect();
    // FIN|RSV1|text, FIN|RSV1|binary, RSV1|text, continuation x2 (no RSV1), FIN|ping.
    assert_eq!(firsts, [0xc1, 0xc2, 0x41, 0x00, 0x80, 0x89]);
    assert_eq!(frames[0].1, [&[0, 5, 0, 0xfa, 0xff][..], b"hello", &[0]].concat());
    assert_eq!(stored_data(&frames[1].1), big);
    assert_eq!(frames[1].1.len(), big.len() + 2 * 5 + 1);
    let fragmented: Vec<u8> = frames[2..5].iter().flat_map(|f| f.1.clone()).collect();
    assert_eq!(stored_data(&fragmented), b"fragments");
    assert_eq!(frames[5].1, b"control frames stay as they are");
}

/// A storing client masks its stored blocks like any payload, and a server with an
/// inflater reads them; with a server that agrees to no compression, storing sends plain
/// frames.
#[test]
fn a_storing_client_is_read_by_an_inflating_server_and_plain_without_agreement() {
    for server_deflates in [true, false] {
        let (a, b) = duplex();
        let server = thread::spawn(move || {
            let mut tx = [0u8; 1024];
            let mut state = InflateState::new();
            let mut window = vec![0u8; 1 << 15];
            let deflate = Deflate::new(Inflater::new(&mut state, &mut window, Growing::default()));
            let options = Options::new(Growing(vec![0; 4096]), &mut tx);
            let options = if server_deflates { options.with_deflate(deflate) } else { options };
            let mut ws =
                blocking::WebSocket::accept(b, options, |_, _| Decision::Accept { protocol: None })
                    .unwrap();
            let mut got = Vec::new();
            loop {
                match ws.read() {
                    Ok(Event::Text(text)) => got.push(text.to_owned()),
                    Ok(_) => {}
                    Err(Error::Closed) => return (got, ws.deflate().is_some()),
                    Err(e) => panic!("server: {e}"),
                }
            }
        });
        let (mut rx, mut tx, mut state) = ([0u8; 2048], [0u8; 300], InflateState::new());
        let mut window = [0u8; 4096];
        let request = ClientRequest::new("h", "/", [1; 16]);
        let config = Config { streaming: true, ..Config::default() };
        let deflate = Deflate::new(Inflater::new(&mut state, &mut window, &mut [][..])).storing();
        let options = Options::new(&mut rx[..], &mut tx).with_config(config).with_deflate(deflate);
        let (mut ws, _) =
            blocking::WebSocket::connect(a, options, &request, wscodec::random::mask_key).unwrap();
        assert_eq!(ws.deflate().is_some(), server_deflates);
        let long = json(1000); // longer than tx: masked through it in chunks
        ws.send(Message::Text(&long)).unwrap();
        ws.send_piece(Piece { kind: MessageKind::Text, data: b"two ", last: false }).unwrap();
        ws.send_piece(Piece { kind: MessageKind::Text, data: b"pieces", last: true }).unwrap();
        ws.close(CloseCode::NORMAL, "").unwrap();
        while !matches!(ws.read(), Err(Error::Closed) | Ok(Event::Close { .. })) {}
        let (got, agreed) = server.join().unwrap();
        assert_eq!(agreed, server_deflates);
        assert_eq!(got, [long, "two pieces".to_owned()]);
    }
}
