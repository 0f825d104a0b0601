//! embedded-websocket doing the job: accept the upgrade, read one message, write it back,
//! close. Follows the crate's `examples/server.rs`, minus std.
#![no_std]
#![no_main]

#[path = "../../board/mod.rs"]
mod board;

use embedded_websocket as ws;
use ws::framer::{Framer, ReadResult, Stream};
use ws::{WebSocketCloseStatusCode, WebSocketSendMessageType, WebSocketServer};

/// The board's in-memory transport as the byte stream.
struct Link;

impl Stream<()> for Link {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ()> {
        Ok(board::read(buf))
    }
    fn write_all(&mut self, buf: &[u8]) -> Result<(), ()> {
        board::write(buf)
    }
}

fn serve() -> i32 {
    let (mut read_buf, mut write_buf, mut frame_buf) = ([0u8; 4096], [0u8; 1024], [0u8; 4096]);
    let mut read_cursor = 0;
    let mut stream = Link;
    // The application reads and parses the HTTP head itself.
    let context = loop {
        let Ok(n @ 1..) = stream.read(&mut read_buf[read_cursor..]) else {
            return 1;
        };
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&read_buf[..read_cursor + n]) {
            Ok(httparse::Status::Complete(len)) => {
                read_cursor += n - len;
                let headers = request.headers.iter().map(|h| (h.name, h.value));
                match ws::read_http_header(headers) {
                    Ok(Some(context)) => break context,
                    _ => return 1,
                }
            }
            Ok(httparse::Status::Partial) => read_cursor += n,
            Err(_) => return 1,
        }
    };
    let mut websocket = WebSocketServer::new_server();
    let mut framer = Framer::new(&mut read_buf, &mut read_cursor, &mut write_buf, &mut websocket);
    if framer.accept(&mut stream, &context).is_err() {
        return 1;
    }
    let (kind, len) = match framer.read(&mut stream, &mut frame_buf) {
        Ok(ReadResult::Text(t)) => (WebSocketSendMessageType::Text, t.len()),
        Ok(ReadResult::Binary(b)) => (WebSocketSendMessageType::Binary, b.len()),
        _ => return 2,
    };
    let close = WebSocketCloseStatusCode::NormalClosure;
    if framer.write(&mut stream, kind, true, &frame_buf[..len]).is_err()
        || framer.close(&mut stream, close, None).is_err()
    {
        return 3;
    }
    0
}
