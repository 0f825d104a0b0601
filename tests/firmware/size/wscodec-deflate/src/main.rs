//! wscodec with permessage-deflate doing the job: accept the upgrade (agreeing to the
//! client's compression offer), read one message (inflated), write it back, close.
#![no_std]
#![no_main]

#[path = "../../board/mod.rs"]
mod board;
#[path = "../../link.rs"]
mod link;

use wscodec::deflate::{InflateState, Inflater};
use wscodec::handshake::server::Decision;
use wscodec::io::blocking::WebSocket;
use wscodec::io::Deflate;
use wscodec::io::Options;
use wscodec::{CloseCode, Config, Event, Message};

use link::Link;

fn serve() -> i32 {
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 1024]);
    // A 4 KiB window (the client keeps its context in up to 4 KiB) and the inflated
    // message's storage.
    let (mut state, mut window, mut out) = (InflateState::new(), [0u8; 4096], [0u8; 4096]);
    let deflate = Deflate::new(Inflater::new(&mut state, &mut window, &mut out));
    let accepted =
        WebSocket::accept(Link, Options::new(&mut rx, &mut tx).with_deflate(deflate), |_, _| {
            Decision::Accept { protocol: None }
        });
    let Ok(mut ws) = accepted else {
        return 1;
    };
    // The echo goes out straight from the inflated bytes.
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
