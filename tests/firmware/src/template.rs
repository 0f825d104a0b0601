//! The template: the smallest WebSocket server an Embassy firmware needs, on static
//! buffers. Copy this file, replace the echo in `serve` with your application, and call
//! `spawn_websocket_servers` once the network stack exists (give the stack a socket for
//! each task). The wscodec README shows this file; a test keeps the two the same, and the
//! firmware test runs it (`--template-port`).
//!
//! The firmware's own `echo_server` is this plus logging, a message-size limit, streaming
//! and write deadlines (`Timeouts`, so a peer that stops reading cannot hold a task).

use embassy_executor::Spawner;
use embassy_net::tcp::{Error as TcpError, TcpSocket};
use embassy_net::Stack;
use embassy_time::Duration;
use static_cell::ConstStaticCell;
use wscodec::handshake::server::Decision;
use wscodec::io::{asynch::WebSocket, Error, Options};
use wscodec::{CloseCode, Event, Message};

/// Connections served at once: each task owns one socket and one set of buffers.
pub const TASKS: usize = 2;

/// The memory of one connection, in `.bss`: 13 KiB.
pub struct Buffers {
    tcp_rx: [u8; 4096],
    tcp_tx: [u8; 4096],
    /// The handshake head, then frames: the largest message is this minus 131 bytes.
    ws_rx: [u8; 4096],
    /// Frame headers and small frames; larger messages are written in pieces.
    ws_tx: [u8; 1024],
}

static BUFFERS: [ConstStaticCell<Buffers>; TASKS] = [const {
    ConstStaticCell::new(Buffers {
        tcp_rx: [0; 4096],
        tcp_tx: [0; 4096],
        ws_rx: [0; 4096],
        ws_tx: [0; 1024],
    })
}; TASKS];

/// Spawns the server tasks, listening on `port`.
///
/// # Panics
/// If called twice (the buffers are handed out once).
pub fn spawn_websocket_servers(spawner: Spawner, stack: Stack<'static>, port: u16) {
    for buffers in &BUFFERS {
        spawner.spawn(websocket_server(stack, port, buffers.take()).unwrap());
    }
}

#[embassy_executor::task(pool_size = TASKS)]
async fn websocket_server(stack: Stack<'static>, port: u16, buffers: &'static mut Buffers) -> ! {
    let Buffers { tcp_rx, tcp_tx, ws_rx, ws_tx } = buffers;
    stack.wait_config_up().await;
    loop {
        let mut socket = TcpSocket::new(stack, tcp_rx, tcp_tx);
        // A peer silent for this long is dropped.
        socket.set_timeout(Some(Duration::from_secs(60)));
        if socket.accept(port).await.is_err() {
            continue;
        }
        // How it ended: `Ok(code)` after a closing handshake, or the error (log it; a
        // `ProtocolError` has already been answered with its close code).
        let _ended: Result<Option<CloseCode>, Error<TcpError>> =
            serve(&mut socket, ws_rx, ws_tx).await;
        // Our FIN after what is still queued, then free the socket for the next client.
        socket.close();
        let _ = embassy_time::with_timeout(Duration::from_secs(2), socket.flush()).await;
        socket.abort();
        let _ = socket.flush().await;
    }
}

/// One connection: the upgrade, then the application (here: an echo).
async fn serve(
    socket: &mut TcpSocket<'_>,
    rx: &mut [u8],
    tx: &mut [u8],
) -> Result<Option<CloseCode>, Error<TcpError>> {
    let mut ws = WebSocket::accept(socket, Options::new(rx, tx), |request, _| match request.path {
        "/" => Decision::Accept { protocol: None },
        _ => Decision::Reject { status: 404, reason: "the endpoint is /" },
    })
    .await?;
    loop {
        // The event borrows the receive buffer; the sender replies from it, without a copy.
        let (event, mut sender) = ws.read_for_reply().await?;
        match event {
            Event::Text(text) => sender.send(Message::Text(text)).await?,
            Event::Binary(data) => sender.send(Message::Binary(data)).await?,
            // Pongs and the close reply are sent inside `read_for_reply`.
            Event::Close { code, .. } => return Ok(code),
            _ => {}
        }
    }
}
