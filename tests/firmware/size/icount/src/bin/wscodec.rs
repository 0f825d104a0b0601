//! wscodec's operations (the sans-IO `Connection`, the server handshake step, `apply_mask`,
//! the permessage-deflate receive path).
#![no_std]
#![no_main]

#[path = "../bench.rs"]
mod bench;

use core::hint::black_box;

use bench::*;
use wscodec::deflate::{InflateState, Inflater, PerMessageDeflate};
use wscodec::handshake::server::{self, Decision, Head};
use wscodec::{Config, Connection, Event, Message, Role, Status};

#[path = "../chrome.rs"]
mod chrome;

fn run() {
    let out = scratch(AT_OUT, 0x1_0000);
    measure("handshake", 10, |_| {
        let head = Head::new(chrome::REQUEST, chrome::REQUEST.len());
        let decide = |_: &server::Request<'_, '_>, _: Option<&server::Upgrade<'_>>| {
            Decision::Accept { protocol: None }
        };
        let step = server::handle_request(head, out, decide, server::no_extensions);
        let Status::Complete { value, .. } = step else { panic!() };
        assert!(out[..value.written].ends_with(chrome::ACCEPT_END));
    });

    decode("decode_16", frames(AT_SMALL, SMALL_FRAMES, true, SMALL), SMALL_FRAMES);
    decode("decode_128", frames(AT_MEDIUM, MEDIUM_FRAMES, true, JSON_ASCII), MEDIUM_FRAMES);
    let utf8 = frames(AT_MEDIUM_UTF8, MEDIUM_FRAMES, true, JSON_UTF8.as_bytes());
    decode("decode_128_utf8", utf8, MEDIUM_FRAMES);
    let large = large_frame();
    let mut conn =
        Connection::with_config(Role::Server, Config { max_message: 1 << 20, ..Config::default() });
    measure("decode_64k", 1, |_| match conn.handle_input(large) {
        Ok(Status::Complete { value: Some(Event::Binary(p)), .. }) => {
            black_box(p);
        }
        _ => panic!(),
    });

    let mut conn = Connection::new(Role::Server);
    measure("encode_16", SMALL_FRAMES, |_| {
        let n = conn.encode(Message::Binary(SMALL), [0; 4], out).unwrap();
        black_box(&out[..n]);
    });

    let buf = scratch(AT_UNMASK, 1024);
    measure("unmask_1k", 100, |_| wscodec::mask::apply_mask(black_box(&mut buf[..]), KEY, 0));

    let frame = compressed_frame();
    let work = scratch(AT_WORK, frame.len());
    let reset = PerMessageDeflate { client_no_context_takeover: true, ..Default::default() };
    let mut state = InflateState::new();
    let inflated = scratch(AT_OUT, 4096);
    let mut inflater = Inflater::new(&mut state, &mut [], inflated);
    inflater.start(reset.receive(Role::Server), &Config::default()).unwrap();
    let mut conn = Connection::with_config(Role::Server, Config::default());
    conn.set_deflate(Some(reset));
    measure("inflate_1k", 10, |_| {
        work.copy_from_slice(frame);
        let mut start = 0;
        loop {
            match conn.handle_input_span(&mut work[start..], &mut inflater) {
                Ok(Status::Complete { value: Some(span), .. }) => {
                    let Ok(Event::Text(t)) = conn.event(span, &work[start..], &inflater) else {
                        panic!("inflate_1k")
                    };
                    assert!(t.len() == 1024);
                    break;
                }
                Ok(Status::Complete { value: None, consumed }) => start += consumed,
                _ => panic!("inflate_1k"),
            }
        }
    });
}

/// `count` frames decoded one after another from `input`.
fn decode(name: &str, input: &mut [u8], count: usize) {
    let mut conn = Connection::new(Role::Server);
    let mut pos = 0;
    measure(name, count, |_| match conn.handle_input(&mut input[pos..]) {
        Ok(Status::Complete { value: Some(Event::Text(t)), consumed }) => {
            black_box(t);
            pos += consumed;
        }
        _ => panic!(),
    });
}
