//! wscodec doing the job: accept the upgrade, read one message, write it back, close.
#![no_std]
#![no_main]

#[path = "../../board/mod.rs"]
mod board;
#[path = "../../link.rs"]
mod link;

use wscodec::handshake::server::Decision;
use wscodec::io::blocking::WebSocket;
use wscodec::io::Options;
use wscodec::{CloseCode, Event, Message};

use link::Link;

fn serve() -> i32 {
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 1024]);
    let accepted = WebSocket::accept(Link, Options::new(&mut rx, &mut tx), |_, _| {
        Decision::Accept { protocol: None }
    });
    let Ok(mut ws) = accepted else {
        return 1;
    };
    // The echo goes out straight from the received bytes.
    let sent = match ws.read_for_reply() {
        Ok((Event::Text(t), mut sender)) => sender.send(Message::Text(t)),
        Ok((Event::Binary(b), mut sender)) => sender.send(Message::Binary(b)),
        _ => return 2,
    };
    if sent.is_err() || ws.close(CloseCode::NORMAL, "").is_err() {
        return 3;
    }
    0
}
