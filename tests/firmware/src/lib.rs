//! The firmware application: a WebSocket echo server and a WebSocket client on an
//! `embassy-net` stack, written as it would be for a board.
//!
//! Nothing here uses `std`: the network stack, the timer and the tasks are Embassy's, every
//! buffer is a `static` lent to the socket and the codec, and the only inputs from the
//! board are the [`Stack`] and a few [`Settings`]. The board support in `main.rs` (here:
//! Linux, a TAP device and the std time driver) creates the stack and calls [`start`].
//!
//! Memory, per connection (all in `.bss`, nothing on the heap):
//!
//! | buffer | bytes | used by |
//! |---|---|---|
//! | TCP rx + tx | 4096 + 8192 | `embassy-net` (smoltcp) socket |
//! | WebSocket rx | 4096 | handshake head, then frames (streaming mode) |
//! | WebSocket tx | 1024 | frame headers, control frames and small frames |
//! | permessage-deflate window | 4096 | inflated pieces of compressed messages |
//! | permessage-deflate state | 10 504 (64-bit) | the inflater's tables ([`InflateState`]) |
//!
//! The echo goes back straight from the WebSocket receive buffer (or, for a compressed
//! message, from the inflater's window): no copy. The firmware has no compressor: on a
//! connection with permessage-deflate it sends each piece as a DEFLATE stored block
//! ([`Deflate::storing`]: 5 bytes more a piece, no memory), since Autobahn's runner
//! takes only compressed echoes there; without it, messages go as they are.
#![no_std]

#[macro_use]
mod fmt;
pub mod autobahn;
pub mod telemetry;
pub mod template;
mod text;
mod timeouts;
pub mod tls_client;

use embassy_executor::Spawner;
use embassy_net::tcp::{self, TcpSocket};
use embassy_net::{IpEndpoint, Stack};
use embassy_time::{Duration, Instant, Timer};
use embedded_io_async::{Read, Write};
use static_cell::{ConstStaticCell, StaticCell};
use wscodec::deflate::{InflateState, Inflater};
use wscodec::handshake::client::ClientRequest;
use wscodec::handshake::server::Decision;
use wscodec::io::asynch::WebSocket;
use wscodec::io::Options;
use wscodec::io::{Deflate, Error, MaskKeys};
use wscodec::{CloseCode, Config, Event, Message, MessageKind, Piece};

use text::host_name;
pub use timeouts::{TimedError, Timeouts};

/// Echo server tasks: each owns one listening socket, so this many connections are served
/// at once (a new client is refused with a TCP reset while all are busy).
pub const SERVERS: usize = 2;
/// Sockets the stack needs: the servers, the client, the wss:// client, the Autobahn
/// client and the template's servers.
pub const SOCKETS: usize = SERVERS + 3 + template::TASKS;

/// The TCP receive buffer of an echo server socket.
pub const TCP_RX: usize = 4096;
/// The TCP transmit buffer of an echo server socket.
pub const TCP_TX: usize = 8192;
/// The WebSocket receive buffer. In streaming mode it bounds each piece handed out, not
/// the message: messages of any size are echoed.
pub const WS_RX: usize = 4096;
/// The WebSocket transmit buffer of an echo server.
pub const WS_TX: usize = 1024;
/// permessage-deflate's LZ77 window: a client that accepts a smaller window than 32 KiB
/// (browsers and Python `websockets` do) is asked for `client_max_window_bits=12`, and
/// compressed messages stream through it in pieces of up to 4 KiB. A client that does not
/// gets no compression (streaming mode needs the client's window for every message).
pub const INFLATE_WINDOW: usize = 4096;

/// What the board tells the application.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The TCP port of the echo server.
    pub port: u16,
    /// The largest message the echo server takes; larger ones are refused with 1009 as
    /// soon as their header arrives.
    ///
    /// Streaming needs no buffer for a message of any size, but an echo of one needs a peer
    /// that reads while it writes. A peer that writes the whole message first (kosoku does,
    /// and so does Python `websockets` with its default `max_queue`) stalls against any
    /// echo with bounded memory once the message outgrows what the two TCP stacks buffer
    /// between them. The limit turns that stall into a prompt, explicit 1009.
    pub max_message: u64,
    /// A client must have sent its whole request head this long after it connected, or
    /// it is dropped: one that trickles it cannot hold a server task.
    pub handshake_timeout: Duration,
    /// A connection that sends nothing for this long is dropped.
    pub idle_timeout: Duration,
    /// A peer must take each reply (an echo, a pong, a close frame) within this long,
    /// or it is dropped: one that pings and never reads cannot hold a server task.
    pub write_timeout: Duration,
    /// A WebSocket echo server (path `/`) the client task talks to once at start.
    pub peer: Option<IpEndpoint>,
    /// A seed from the board's hardware random number generator.
    pub seed: u64,
}

/// The memory of one echo server connection.
pub struct ServerBuffers {
    tcp_rx: [u8; TCP_RX],
    tcp_tx: [u8; TCP_TX],
    ws_rx: [u8; WS_RX],
    ws_tx: [u8; WS_TX],
    inflate_window: [u8; INFLATE_WINDOW],
}

impl ServerBuffers {
    const fn new() -> Self {
        Self {
            tcp_rx: [0; TCP_RX],
            tcp_tx: [0; TCP_TX],
            ws_rx: [0; WS_RX],
            ws_tx: [0; WS_TX],
            inflate_window: [0; INFLATE_WINDOW],
        }
    }
}

/// The memory of the client connection.
pub struct ClientBuffers {
    tcp_rx: [u8; 2048],
    tcp_tx: [u8; 2048],
    ws_rx: [u8; 2048],
    ws_tx: [u8; 512],
}

static SERVER_BUFFERS: [ConstStaticCell<ServerBuffers>; SERVERS] =
    [const { ConstStaticCell::new(ServerBuffers::new()) }; SERVERS];
/// The inflaters' state (it has no `const` constructor: made once, at start).
static INFLATE_STATES: [StaticCell<InflateState>; SERVERS] = [const { StaticCell::new() }; SERVERS];
static CLIENT_BUFFERS: ConstStaticCell<ClientBuffers> = ConstStaticCell::new(ClientBuffers {
    tcp_rx: [0; 2048],
    tcp_tx: [0; 2048],
    ws_rx: [0; 2048],
    ws_tx: [0; 512],
});

/// Spawns the echo servers and, if there is a peer, the client.
///
/// # Panics
/// If called twice (the static buffers are handed out once).
pub fn start(spawner: Spawner, stack: Stack<'static>, settings: Settings) {
    for (id, (buffers, state)) in SERVER_BUFFERS.iter().zip(&INFLATE_STATES).enumerate() {
        let state = state.init_with(InflateState::new);
        spawner.spawn(echo_server(id, stack, settings, buffers.take(), state).unwrap());
    }
    if let Some(peer) = settings.peer {
        spawner.spawn(client(stack, peer, settings.seed).unwrap());
    }
}

/// How a connection ended, as a close code (1006 when the peer vanished without a close).
fn close_code_of<E>(result: &Result<Option<CloseCode>, Error<E>>) -> CloseCode {
    match result {
        Ok(code) => code.unwrap_or(CloseCode::NO_STATUS),
        Err(Error::Protocol(e)) => e.close_code(),
        // The transport ended or failed without a closing handshake.
        Err(_) => CloseCode::ABNORMAL,
    }
}

#[embassy_executor::task(pool_size = SERVERS)]
async fn echo_server(
    id: usize,
    stack: Stack<'static>,
    settings: Settings,
    buffers: &'static mut ServerBuffers,
    inflate: &'static mut InflateState,
) -> ! {
    stack.wait_config_up().await;
    let ServerBuffers { tcp_rx, tcp_tx, ws_rx, ws_tx, inflate_window } = buffers;
    let port = settings.port;
    info!("server[{}]: listening on port {}", id, port);
    loop {
        let mut socket = TcpSocket::new(stack, tcp_rx, tcp_tx);
        socket.set_timeout(Some(settings.idle_timeout));
        socket.set_nagle_enabled(false);
        if let Err(e) = socket.accept(port).await {
            warn!("server[{}]: accept failed: {:?}", id, e);
            continue;
        }
        if let Some(remote) = socket.remote_endpoint() {
            info!("server[{}]: connection from {}", id, remote);
        }
        let config =
            Config { max_message: settings.max_message, streaming: true, ..Config::default() };
        let timed = Timeouts::new(&mut socket, settings.idle_timeout, settings.write_timeout)
            .answered_by(Instant::now() + settings.handshake_timeout);
        // Streaming mode: inflated pieces come out of the window; no output storage.
        let deflate = Deflate::new(Inflater::new(inflate, inflate_window, &mut [][..])).storing();
        let result = echo_connection(timed, config, ws_rx, ws_tx, deflate).await;
        let code = close_code_of(&result);
        match result {
            Ok(_) => info!("server[{}]: closed {}", id, code),
            Err(Error::NotUpgraded(status)) => {
                info!("server[{}]: answered HTTP {}, not upgraded", id, status)
            }
            Err(Error::Handshake(e)) => info!("server[{}]: bad upgrade request: {}", id, e),
            Err(e) => info!("server[{}]: closed {} ({})", id, code.as_u16(), e),
        }
        shut(&mut socket).await;
    }
}

/// Runs the handshake, then echoes every message until the connection closes.
///
/// Data arrives as [`Event::Piece`]s (streaming mode) and goes back straight from the
/// receive buffer, with no copy: a frame that fits `ws_rx` is one piece and goes back as
/// one frame, a larger message goes back in fragments as it arrives. So a message of any
/// size passes with fixed memory.
///
/// permessage-deflate is accepted when the client offers what `deflate`'s window can
/// take: compressed messages are inflated through the window and echoed as stored blocks.
///
/// Works over any `embedded-io-async` stream (the firmware passes its `TcpSocket`,
/// wrapped in [`Timeouts`]; `scripts/firmware-budget` an in-memory one).
pub async fn echo_connection<'b, S: Read + Write>(
    socket: S,
    config: Config,
    ws_rx: &'b mut [u8],
    ws_tx: &'b mut [u8],
    deflate: Deflate<'b, &'b mut [u8]>,
) -> Result<Option<CloseCode>, Error<S::Error>> {
    let mut ws = WebSocket::accept(
        socket,
        Options::new(ws_rx, ws_tx).with_config(config).with_deflate(deflate),
        |request, _| match request.path {
            "/" | "/echo" => Decision::Accept { protocol: None },
            _ => Decision::Reject { status: 404, reason: "the echo endpoint is /" },
        },
    )
    .await?;
    if let Some(agreed) = ws.deflate() {
        info!("permessage-deflate: {}", agreed.header_value().as_str());
    }
    echo(&mut ws).await
}

/// Echoes every message until the peer closes: each piece goes back straight from the
/// receive buffer as it arrives (the first piece starts a message, the last ends it).
/// A server's echo, or a client's (the Autobahn client's).
pub async fn echo<S: Read + Write, M: MaskKeys>(
    ws: &mut WebSocket<'_, S, M>,
) -> Result<Option<CloseCode>, Error<S::Error>> {
    loop {
        // The event borrows the receive buffer, the sender everything else.
        let (event, mut sender) = ws.read_for_reply().await?;
        match event {
            // The first piece starts a message, the last ends it: one piece is a whole
            // message in one frame.
            Event::Piece { kind, data, last, .. } => {
                sender.send_piece(Piece { kind, data, last }).await?
            }
            Event::Close { code, .. } => return Ok(code),
            // Pings are answered inside `read`; whole messages come only without streaming.
            Event::Ping(_) | Event::Pong(_) | Event::Text(_) | Event::Binary(_) => {}
        }
    }
}

/// A small xorshift64* generator seeded by the board's hardware RNG, for the client's
/// handshake nonce and mask keys. On a board, draw these from the RNG peripheral directly.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced by a fixed odd constant).
    pub const fn new(seed: u64) -> Self {
        Self(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }

    /// 16 random bytes.
    pub fn nonce(&mut self) -> [u8; 16] {
        let mut out = [0u8; 16];
        for chunk in out.chunks_exact_mut(4) {
            chunk.copy_from_slice(&self.next_u32().to_ne_bytes());
        }
        out
    }
}

/// How long a closing connection waits for its peer: to take what is still queued, and
/// to read it.
const LINGER: Duration = Duration::from_secs(2);

/// Ends the connection so that the peer can read everything sent to it, even an answer
/// sent while it was still sending (a 431 for a request head too large, a close frame
/// after a protocol error): our FIN after what is queued, then whatever the peer still
/// sends is read and dropped until it closes too, for [`LINGER`] at most. Only then the
/// reset that frees the socket: a reset that met unread data would make the peer's stack
/// drop our answer before the application read it.
async fn shut(socket: &mut TcpSocket<'_>) {
    socket.close();
    let _ = embassy_time::with_timeout(LINGER, async {
        let _ = socket.flush().await;
        let mut sink = [0u8; 64];
        while socket.read(&mut sink).await.is_ok_and(|n| n > 0) {}
    })
    .await;
    socket.abort();
    let _ = socket.flush().await;
}

/// Why the client's exchange with the peer failed (`E`: the transport's error).
#[derive(Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClientError<E = tcp::Error> {
    Connect(tcp::ConnectError),
    Ws(Error<E>),
    Mismatch(&'static str),
}

impl<E: core::fmt::Debug> core::fmt::Display for ClientError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Connect(e) => write!(f, "connect failed: {e:?}"),
            Self::Ws(e) => write!(f, "{e}"),
            Self::Mismatch(what) => write!(f, "wrong {what}"),
        }
    }
}

impl<E> From<Error<E>> for ClientError<E> {
    fn from(e: Error<E>) -> Self {
        Self::Ws(e)
    }
}

#[embassy_executor::task]
async fn client(stack: Stack<'static>, peer: IpEndpoint, seed: u64) {
    run_client(stack, peer, seed).await;
}

/// The client's exchange with the echo server at `peer` ([`exchange`]), tried until the
/// server answers; logs `client: PASS` or `client: FAIL: ...` and returns whether it
/// passed. `seed` comes from the board's hardware RNG.
///
/// # Panics
/// If called twice (the static buffers are handed out once).
pub async fn run_client(stack: Stack<'static>, peer: IpEndpoint, seed: u64) -> bool {
    let ClientBuffers { tcp_rx, tcp_tx, ws_rx, ws_tx } = CLIENT_BUFFERS.take();
    let mut rng = Rng::new(seed);
    stack.wait_config_up().await;
    let mut socket = TcpSocket::new(stack, tcp_rx, tcp_tx);
    socket.set_timeout(Some(Duration::from_secs(10)));
    let result = match connect_retrying(&mut socket, peer, "client").await {
        Ok(()) => {
            let host = host_name(peer.addr, peer.port);
            exchange(&mut socket, host.as_str(), ws_rx, ws_tx, &mut rng).await
        }
        Err(e) => Err(ClientError::Connect(e)),
    };
    shut(&mut socket).await;
    match result {
        Ok(()) => {
            info!(
                "client: PASS: text, binary, ping/pong, fragmented echo, close 1000 with {}",
                peer
            );
            true
        }
        Err(e) => {
            warn!("client: FAIL: {}", e);
            false
        }
    }
}

/// Connects `socket` to `peer`, which may still be starting: tries again every 250 ms
/// while the connection is refused or times out, 40 times at most. `who` names the
/// client in the log.
async fn connect_retrying(
    socket: &mut TcpSocket<'_>,
    peer: IpEndpoint,
    who: &str,
) -> Result<(), tcp::ConnectError> {
    let mut attempt = 1;
    loop {
        match socket.connect(peer).await {
            Err(e) if attempt < 40 => {
                info!("{}: connect to {} failed ({:?}), retrying", who, peer, e);
                socket.abort();
                Timer::after_millis(250).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// One session with an echo server: text, binary, ping, a message sent in fragments, a
/// message larger than `ws_tx`, then the closing handshake.
pub async fn exchange<S: Read + Write>(
    socket: S,
    host: &str,
    ws_rx: &mut [u8],
    ws_tx: &mut [u8],
    rng: &mut Rng,
) -> Result<(), ClientError<S::Error>> {
    let request = ClientRequest::new(host, "/", rng.nonce());
    let mask = || rng.next_u32().to_ne_bytes();
    let (mut ws, _) =
        WebSocket::connect(socket, Options::new(ws_rx, ws_tx), &request, mask).await?;

    ws.send(Message::Text("hello from the firmware")).await?;
    expect(&mut ws, "text echo", |e| *e == Event::Text("hello from the firmware")).await?;

    let mut bytes = [0u8; 256];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = i as u8;
    }
    ws.send(Message::Binary(&bytes)).await?;
    expect(&mut ws, "binary echo", |e| *e == Event::Binary(&bytes)).await?;

    ws.send(Message::Ping(b"firmware ping")).await?;
    loop {
        match ws.read().await? {
            Event::Pong(b"firmware ping") => break,
            Event::Ping(_) | Event::Pong(_) => {}
            _ => return Err(ClientError::Mismatch("pong")),
        }
    }

    // One message in three fragments; the server answers with the whole message.
    ws.send_piece(Piece { kind: MessageKind::Text, data: b"frag", last: false }).await?;
    ws.send_piece(Piece { kind: MessageKind::Text, data: b"men", last: false }).await?;
    ws.send_piece(Piece { kind: MessageKind::Text, data: b"ted", last: true }).await?;
    expect(&mut ws, "fragmented echo", |e| *e == Event::Text("fragmented")).await?;

    // Larger than `ws_tx`: written through it in pieces.
    let big = [b'x'; 1500];
    let big = core::str::from_utf8(&big).unwrap_or("");
    ws.send(Message::Text(big)).await?;
    expect(&mut ws, "1500-byte echo", |e| *e == Event::Text(big)).await?;

    ws.close(CloseCode::NORMAL, "done").await?;
    loop {
        match ws.read().await? {
            Event::Close { code: Some(CloseCode::NORMAL), .. } => return Ok(()),
            Event::Close { .. } => return Err(ClientError::Mismatch("close code")),
            _ => {}
        }
    }
}

/// Reads the next data or close event, skipping pings and pongs (a server may ping an idle
/// client), and checks it. The event borrows `ws`, so the check runs here rather than
/// handing the event out of the loop.
async fn expect<S, M>(
    ws: &mut WebSocket<'_, S, M>,
    what: &'static str,
    check: impl FnOnce(&Event<'_>) -> bool,
) -> Result<(), ClientError<S::Error>>
where
    S: Read + Write,
    M: FnMut() -> [u8; 4],
{
    loop {
        match ws.read().await? {
            Event::Ping(_) | Event::Pong(_) => {}
            event if check(&event) => return Ok(()),
            _ => return Err(ClientError::Mismatch(what)),
        }
    }
}
