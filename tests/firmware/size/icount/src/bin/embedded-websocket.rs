//! embedded-websocket's operations: its sans-IO `WebSocketServer` (`read`, `write`,
//! `server_accept`, with httparse for the request as its example does). It has no public
//! masking function and no permessage-deflate.
#![no_std]
#![no_main]

#[path = "../bench.rs"]
mod bench;
#[path = "../chrome.rs"]
mod chrome;

use core::hint::black_box;

use bench::*;
use embedded_websocket::{
    WebSocketReceiveMessageType, WebSocketSendMessageType, WebSocketServer, WebSocketState,
};

fn run() {
    let out = scratch(AT_OUT, 0x1_0000);
    measure("handshake", 10, |_| {
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut request = httparse::Request::new(&mut headers);
        assert!(request.parse(chrome::REQUEST).unwrap().is_complete());
        let headers = request.headers.iter().map(|h| (h.name, h.value));
        let context = embedded_websocket::read_http_header(headers).unwrap().unwrap();
        let mut ws = WebSocketServer::new_server();
        let n = ws.server_accept(&context.sec_websocket_key, None, out).unwrap();
        assert!(out[..n].ends_with(chrome::ACCEPT_END));
    });

    decode("decode_16", frames(AT_SMALL, SMALL_FRAMES, true, SMALL), SMALL_FRAMES, true);
    decode("decode_128", frames(AT_MEDIUM, MEDIUM_FRAMES, true, JSON_ASCII), MEDIUM_FRAMES, true);
    let utf8 = frames(AT_MEDIUM_UTF8, MEDIUM_FRAMES, true, JSON_UTF8.as_bytes());
    decode("decode_128_utf8", utf8, MEDIUM_FRAMES, true);
    decode("decode_64k", large_frame(), 1, false);

    let mut ws = WebSocketServer::new_server();
    ws.state = WebSocketState::Open;
    measure("encode_16", SMALL_FRAMES, |_| {
        let n = ws.write(WebSocketSendMessageType::Binary, true, SMALL, out).unwrap();
        black_box(&out[..n]);
    });
}

/// `count` frames decoded one after another from `input` (unmasked into a buffer of the
/// caller's: `read` copies).
fn decode(name: &str, input: &[u8], count: usize, text: bool) {
    let to = scratch(AT_OUT, 0x1_0000);
    let mut ws = WebSocketServer::new_server();
    ws.state = WebSocketState::Open;
    let kind =
        if text { WebSocketReceiveMessageType::Text } else { WebSocketReceiveMessageType::Binary };
    let mut pos = 0;
    measure(name, count, |_| match ws.read(&input[pos..], to) {
        Ok(r) if r.message_type == kind && r.end_of_message => {
            black_box(&to[..r.len_to]);
            pos += r.len_from;
        }
        _ => panic!("decode"),
    });
}
