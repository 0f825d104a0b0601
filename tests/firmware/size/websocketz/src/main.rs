//! websocketz doing the job: accept the upgrade, read one message, write it back, close.
//! Follows the crate's `examples/server-callback.rs`, minus std: its futures are polled
//! by a minimal `block_on` (the in-memory transport below never returns `Pending`).
#![no_std]
#![no_main]

#[path = "../../websocketz-glue.rs"]
mod glue;

#[path = "../../board/mod.rs"]
mod board;

use glue::{block_on, NoRng};
use websocketz::options::AcceptOptions;
use websocketz::{next, send, CloseCode, CloseFrame, Message, WebSocket};

/// The board's in-memory transport as the byte stream.
struct Link;

impl embedded_io_async::ErrorType for Link {
    type Error = embedded_io_async::ErrorKind;
}

impl embedded_io_async::Read for Link {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        Ok(board::read(buf))
    }
}

impl embedded_io_async::Write for Link {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        board::write(buf).map(|()| buf.len()).map_err(|()| embedded_io_async::ErrorKind::Other)
    }
    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn serve() -> i32 {
    block_on(serve_async())
}

async fn serve_async() -> i32 {
    let (mut rx, mut tx, mut fragments) = ([0u8; 4096], [0u8; 1024], [0u8; 4096]);
    let accepted = WebSocket::accept::<16>(
        AcceptOptions::default(),
        Link,
        NoRng,
        &mut rx,
        &mut tx,
        &mut fragments,
    )
    .await;
    let Ok(mut ws) = accepted else {
        return 1;
    };
    // The echo goes out straight from the received bytes.
    let sent = match next!(ws) {
        Some(Ok(Message::Text(t))) => send!(ws, Message::Text(t)),
        Some(Ok(Message::Binary(b))) => send!(ws, Message::Binary(b)),
        _ => return 2,
    };
    let close = Message::Close(Some(CloseFrame::new(CloseCode::Normal, "")));
    if sent.is_err() || ws.send(close).await.is_err() {
        return 3;
    }
    0
}
