//! Links wscodec into a binary with no `std`: the build is the test.
#![no_std]
#![no_main]

use core::panic::PanicInfo;

use wscodec::io::Options;
use wscodec::{Connection, Event, Message, Role, Status};

// The C runtime that calls `main` (and provides memcmp/memcpy) stands in for a board's
// startup code. It is libc, not Rust's std.
#[link(name = "c")]
unsafe extern "C" {}

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    loop {}
}

/// A stream over two fixed arrays, as a firmware socket would be.
struct Wire<'a> {
    input: &'a [u8],
    output: &'a mut [u8],
    written: usize,
}

impl embedded_io::ErrorType for Wire<'_> {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.input.len());
        let (head, rest) = self.input.split_at(n);
        buf[..n].copy_from_slice(head);
        self.input = rest;
        Ok(n)
    }
}

impl embedded_io::Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let room = &mut self.output[self.written..];
        let n = buf.len().min(room.len());
        room[..n].copy_from_slice(&buf[..n]);
        self.written += n;
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let mut failures = 0;
    // Sans-IO core.
    let mut conn = Connection::new(Role::Server);
    let mut wire = [0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2];
    match conn.handle_input(&mut wire) {
        Ok(Status::Complete { value: Some(Event::Text("Hi")), .. }) => {}
        _ => failures += 1,
    }
    let mut out = [0u8; 16];
    if conn.encode(Message::Text("Hi"), [0; 4], &mut out).is_err() {
        failures += 1;
    }
    // The accept key of RFC 6455 section 1.3.
    if &wscodec::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ==")
        != b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    {
        failures += 1;
    }
    // The blocking adapter over a fixed-buffer stream.
    let input = [0x82, 0x81, 9, 9, 9, 9, 7 ^ 9];
    let mut output = [0u8; 64];
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
    let stream = Wire { input: &input, output: &mut output, written: 0 };
    let mut ws = wscodec::io::blocking::WebSocket::server(stream, Options::new(&mut rx, &mut tx));
    match ws.read() {
        Ok(Event::Binary(&[7])) => {}
        _ => failures += 1,
    }
    failures
}
