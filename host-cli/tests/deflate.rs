//! permessage-deflate in `wsc serve` and `wsc connect`: what they agree to, that messages
//! really go compressed on the wire, `--no-deflate`, and a malformed offer.

mod support;

use std::net::TcpStream;

use support::{code, http, tcp, wsc, Server};
use wscodec::deflate::{Compressor, InflateState, Inflater};
use wscodec::handshake::client::ClientRequest;
use wscodec::io::blocking::WebSocket;
use wscodec::io::{Deflate, Options, StdIo};
use wscodec::{CloseCode, Event, Message};

/// JSON-like text that compresses well.
fn json(len: usize) -> String {
    let mut s = String::new();
    let mut i = 0u32;
    while s.len() < len {
        s.push_str(&format!("{{\"sensor\":{},\"value\":{}}},", i % 17, i % 100));
        i += 1;
    }
    s.truncate(len);
    s
}

/// The `wire_in` and `wire_out` of the server's close line for `local`.
fn wire(log: &str, local: &str) -> (usize, usize) {
    let line = log.lines().find(|l| l.starts_with(&format!("close {local} "))).expect("close line");
    let field = |name: &str| -> usize {
        let at = line.find(&format!("{name}=")).expect(name) + name.len() + 1;
        line[at..].split(' ').next().unwrap().parse().unwrap()
    };
    (field("wire_in"), field("wire_out"))
}

#[test]
fn serve_agrees_and_echoes_compressed_both_ways() {
    let server = Server::start(&[]);
    let (mut rx, mut tx, mut out) = (vec![0u8; 1 << 20], vec![0u8; 16 * 1024], vec![0u8; 1 << 20]);
    let mut state = InflateState::new();
    let mut window = vec![0u8; 1 << 15];
    let deflate = Deflate::new(Inflater::new(&mut state, &mut window, &mut out[..]))
        .compressing(Compressor::new(6));
    let host = server.addr.to_string();
    let request = ClientRequest::new(&host, "/", wscodec::random::nonce());
    let mask: fn() -> [u8; 4] = wscodec::random::mask_key;
    let stream = StdIo(tcp(server.addr));
    let local = stream.0.local_addr().unwrap().to_string();
    let options = Options::new(&mut rx[..], &mut tx).with_deflate(deflate);
    let (mut ws, _) =
        WebSocket::<'_, StdIo<TcpStream>, _, &mut [u8]>::connect(stream, options, &request, mask)
            .unwrap();
    // A 32 KiB window keeps the client's context; the server compresses each reply on
    // its own, and says so.
    let agreed = ws.deflate().expect("permessage-deflate agreed");
    assert_eq!(agreed.to_string(), "permessage-deflate; server_no_context_takeover");
    let text = json(200_000);
    ws.send(Message::Text(&text)).unwrap();
    assert_eq!(ws.read().unwrap(), Event::Text(&text));
    ws.send(Message::Binary(b"\x00\x01\x02")).unwrap();
    assert_eq!(ws.read().unwrap(), Event::Binary(b"\x00\x01\x02"));
    ws.close(CloseCode::NORMAL, "").unwrap();
    assert!(matches!(ws.read().unwrap(), Event::Close { .. }));
    let log = server.wait_for_log(&format!("close {local}"));
    assert!(
        log.contains(&format!(
            "open  {local} path=/ protocol=- deflate=permessage-deflate; \
             server_no_context_takeover (sent: 15-bit window, each message on its own; \
             received: 15-bit window, context kept)"
        )),
        "{log}"
    );
    let (wire_in, wire_out) = wire(&log, &local);
    assert!(wire_in * 4 < text.len() && wire_out * 4 < text.len(), "{wire_in} in, {wire_out} out");
}

#[test]
fn no_deflate_declines_and_a_malformed_offer_is_a_400() {
    let server = Server::start(&["--no-deflate"]);
    let out = wsc(&["connect", &format!("ws://{}/", server.addr)], b"plain\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(out.status), 0, "{stderr}");
    assert!(!stderr.contains("permessage-deflate"), "{stderr}");
    let log = server.wait_for_log("close");
    assert!(log.contains("deflate=-"), "{log}");

    let server = Server::start(&[]);
    let response = http(
        server.addr,
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; =15\r\n\r\n",
    );
    assert!(response.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{response}");
    assert!(response.contains("malformed Sec-WebSocket-Extensions header"), "{response}");
}

#[test]
fn connect_offers_deflate_and_says_what_was_agreed() {
    let server = Server::start(&[]);
    let url = format!("ws://{}/", server.addr);
    let line = json(3000);
    let out = wsc(&["connect", &url], format!("{line}\nsmall\n").as_bytes());
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(code(out.status), 0, "{stderr}");
    assert!(
        stderr.contains(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover \
             (sent: 15-bit window, each message on its own; received: 15-bit window, each \
             message on its own)"
        ),
        "{stderr}"
    );
    assert!(stdout.starts_with(&format!("{line}\nsmall\n")), "{stdout}");
    let log = server.wait_for_log("close");
    let local = log
        .lines()
        .find_map(|l| l.strip_prefix("close "))
        .and_then(|l| l.split(' ').next())
        .unwrap()
        .to_owned();
    let (wire_in, wire_out) = wire(&log, &local);
    assert!(wire_in < 1500 && wire_out < 1500, "{wire_in} in, {wire_out} out for 3000 bytes");
}
