//! websocketz's operations: it is async only and its frame codec is private, so each goes
//! through `WebSocket` over an in-memory `embedded_io_async` stream, polled by a minimal
//! `block_on` (the stream never returns `Pending`). It has no public masking function and
//! no permessage-deflate.
#![no_std]
#![no_main]

#[path = "../../../websocketz-glue.rs"]
mod glue;

#[path = "../bench.rs"]
mod bench;
#[path = "../chrome.rs"]
mod chrome;

use core::convert::Infallible;
use core::hint::black_box;

use bench::*;
use glue::{block_on, NoRng};
use websocketz::options::AcceptOptions;
use websocketz::{next, Message, WebSocket};

/// Reads from `input` (as much as asked), appends writes to `output`.
struct Stream<'a> {
    input: &'a [u8],
    output: &'a mut [u8],
    written: usize,
}

impl embedded_io_async::ErrorType for Stream<'_> {
    type Error = Infallible;
}

impl embedded_io_async::Read for Stream<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = buf.len().min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl embedded_io_async::Write for Stream<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        if self.written + buf.len() > self.output.len() {
            self.written = 0;
        }
        self.output[self.written..self.written + buf.len()].copy_from_slice(buf);
        self.written += buf.len();
        Ok(buf.len())
    }
    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// The buffers websocketz lends: read (the largest frame), write, fragments.
fn buffers() -> (&'static mut [u8], &'static mut [u8], &'static mut [u8]) {
    (
        scratch(AT_WORK, 0x1_1000),
        scratch(AT_WORK + 0x1_1000, 4096),
        scratch(AT_WORK + 0x1_2000, 4096),
    )
}

fn run() {
    let out = scratch(AT_OUT, 0x1_0000);
    measure("handshake", 10, |_| {
        let (read, write, fragments) = buffers();
        let stream = Stream { input: chrome::REQUEST, output: &mut out[..], written: 0 };
        let accepted = block_on(WebSocket::accept::<16>(
            AcceptOptions::default(),
            stream,
            NoRng,
            read,
            write,
            fragments,
        ));
        let Ok(ws) = accepted else { panic!("accept") };
        let stream = ws.into_inner();
        assert!(stream.output[..stream.written].ends_with(chrome::ACCEPT_END));
    });

    decode("decode_16", frames(AT_SMALL, SMALL_FRAMES, true, SMALL), SMALL_FRAMES, true);
    decode("decode_128", frames(AT_MEDIUM, MEDIUM_FRAMES, true, JSON_ASCII), MEDIUM_FRAMES, true);
    let utf8 = frames(AT_MEDIUM_UTF8, MEDIUM_FRAMES, true, JSON_UTF8.as_bytes());
    decode("decode_128_utf8", utf8, MEDIUM_FRAMES, true);
    decode("decode_64k", large_frame(), 1, false);

    let (read, write, fragments) = buffers();
    let stream = Stream { input: &[], output: &mut out[..], written: 0 };
    let mut ws = WebSocket::server(stream, NoRng, read, write, fragments);
    measure("encode_16", SMALL_FRAMES, |_| {
        block_on(ws.send(Message::Binary(SMALL))).unwrap();
    });
}

/// `count` frames taken one after another with `next!` from a stream over `input`.
fn decode(name: &str, input: &[u8], count: usize, text: bool) {
    let (read, write, fragments) = buffers();
    let out = scratch(AT_OUT, 0x1_0000);
    let stream = Stream { input, output: out, written: 0 };
    let mut ws = WebSocket::server(stream, NoRng, read, write, fragments);
    measure(name, count, |_| {
        block_on(async {
            match next!(ws) {
                Some(Ok(Message::Text(t))) if text => {
                    black_box(t);
                }
                Some(Ok(Message::Binary(b))) if !text => {
                    black_box(b);
                }
                _ => panic!("decode"),
            }
        })
    });
}
