//! A WebSocket echo server driven by hand, for a network stack without `embedded-io`:
//! an lwIP-style raw API, where the stack calls the application's `recv` callback with
//! each segment that arrives, and the application calls `tcp_write`, which takes only
//! what fits in the send window (the rest waits for the `sent` callback).
//!
//! It shows what the adapters do for you: `Partial` (wait for the next segment),
//! `retained` and `compact` (a fragmented message reassembled in place in a small
//! buffer), and `poll_transmit` (the pong and the close reply the connection owes).
//!
//! `cargo run -p wscodec --example lwip_callbacks` plays a client's conversation, split
//! into odd-sized segments, through it and checks every byte the server sent back.

use wscodec::handshake::server::{self, Answer, Decision, Outcome};
use wscodec::{CloseCode, Config, Connection, Event, Message, Role, Status};

/// The receive buffer: request head, then frames. A message of up to
/// `RX - MAX_CONTROL_FRAME` bytes is reassembled in it, however fragmented.
const RX: usize = 1024;
/// The output queue: frames wait here until the send window takes them.
const OUT: usize = 2048;

/// The stack's side of one TCP connection (lwIP's `tcp_pcb`), simulated: it takes at most
/// `window` bytes per `tcp_write` until the peer acknowledges them.
struct Pcb {
    window: usize,
    wire: Vec<u8>,
}

impl Pcb {
    /// lwIP's `tcp_write` (with `TCP_WRITE_FLAG_COPY`): takes what fits, returns how much.
    fn tcp_write(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.window);
        self.wire.extend_from_slice(&data[..n]);
        self.window -= n;
        n
    }

    /// The peer acknowledged everything: the window opens again.
    fn acked(&mut self) {
        self.window = 300;
    }
}

/// The application's state for one connection, in fixed buffers.
struct EchoServer {
    rx: [u8; RX],
    filled: usize,
    out: [u8; OUT],
    queued: usize,
    /// `None` until the opening handshake is done.
    conn: Option<Connection>,
}

impl EchoServer {
    fn new() -> Self {
        Self { rx: [0; RX], filled: 0, out: [0; OUT], queued: 0, conn: None }
    }

    /// The `recv` callback: a segment arrived. Returns `false` to close the connection.
    fn recv(&mut self, pcb: &mut Pcb, mut segment: &[u8]) -> bool {
        while !segment.is_empty() {
            // Take what fits; handling it makes room for the rest.
            let take = segment.len().min(RX - self.filled);
            self.rx[self.filled..self.filled + take].copy_from_slice(&segment[..take]);
            self.filled += take;
            segment = &segment[take..];
            let open = if self.conn.is_some() { self.frames() } else { self.handshake() };
            self.flush(pcb);
            if !open || (take == 0 && self.filled == RX) {
                return false;
            }
        }
        true
    }

    /// The `sent` callback: the window opened, send what is queued.
    fn sent(&mut self, pcb: &mut Pcb) {
        self.flush(pcb);
    }

    fn flush(&mut self, pcb: &mut Pcb) {
        let n = pcb.tcp_write(&self.out[..self.queued]);
        self.out.copy_within(n..self.queued, 0);
        self.queued -= n;
    }

    /// The opening handshake, in one call on what has arrived so far.
    fn handshake(&mut self) -> bool {
        let head = server::Head::new(&self.rx, self.filled);
        let out = &mut self.out[self.queued..];
        let decide =
            |_: &server::Request<'_, '_>, upgrade: Option<&server::Upgrade<'_>>| match upgrade {
                Some(_) => Decision::Accept { protocol: None },
                None => Decision::Reject { status: 404, reason: "this device speaks WebSocket" },
            };
        let step = server::handle_request(head, out, decide, server::no_extensions);
        let Status::Complete { value: Answer { written, outcome, .. }, consumed } = step else {
            return true; // wait for the rest of the request head
        };
        // The 101, or the refusal / error response (400, 426, 431 ...) with its reason.
        self.queued += written;
        if outcome != Outcome::Upgraded {
            return false;
        }
        // Frames that came in the same segment as the request stay in the buffer.
        self.rx.copy_within(consumed..self.filled, 0);
        self.filled -= consumed;

        self.conn = Some(Connection::with_config(
            Role::Server,
            Config { max_message: (RX - wscodec::MAX_CONTROL_FRAME) as u64, ..Config::default() },
        ));
        self.frames()
    }

    /// Hands the buffered frames to the connection until it needs more input.
    fn frames(&mut self) -> bool {
        let Self { rx, filled, out, queued, conn } = self;
        let Some(conn) = conn.as_mut() else { return false };
        loop {
            let (event, consumed) = match conn.handle_input(&mut rx[..*filled]) {
                Ok(Status::Complete { value, consumed }) => (value, consumed),
                Ok(Status::Partial { .. }) => {
                    // Full while reassembling: free the headers of the fragments joined
                    // so far (the message itself, `retained()` bytes, stays in front).
                    if *filled == RX {
                        *filled -= conn.compact(&mut rx[..*filled]);
                    }
                    return true;
                }
                Err(e) => {
                    // The close frame with the right code (1002, 1007, 1009) is owed.
                    eprintln!("protocol error: {e}");
                    owed(conn, out, queued);
                    return false;
                }
            };
            // Reply while the event still borrows the buffer: encode into the queue.
            let reply = match event {
                Some(Event::Text(text)) => Some(Message::Text(text)),
                Some(Event::Binary(data)) => Some(Message::Binary(data)),
                _ => None,
            };
            if let Some(reply) = reply {
                match conn.encode(reply, [0; 4], &mut out[*queued..]) {
                    Ok(n) => *queued += n,
                    // The peer is not reading: a real server would stop reading too.
                    Err(_) => return false,
                }
            }
            // The pong, or the reply to the peer's close.
            owed(conn, out, queued);
            if conn.is_closed() {
                return false;
            }
            // While a message is reassembled, `consumed` is 0: the message so far
            // (`conn.retained()` bytes) stays at the front of the buffer.
            rx.copy_within(consumed..*filled, 0);
            *filled -= consumed;
        }
    }
}

/// Queues whatever the connection owes the peer.
fn owed(conn: &mut Connection, out: &mut [u8; OUT], queued: &mut usize) {
    while let Ok(Some(n)) = conn.poll_transmit([0; 4], &mut out[*queued..]) {
        *queued += n;
    }
}

fn main() {
    // The client's side of the conversation.
    let mut wire = b"GET /chat HTTP/1.1\r\nHost: device.local\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n"
        .to_vec();
    wire.extend(wscodec_test_frames::masked(0x81, b"hello", [1, 2, 3, 4]));
    // 800 bytes in 100 fragments, with pings between some: 1,400 bytes on the wire for
    // a 1 KiB buffer, so the joined fragments' headers must be compacted away.
    let message: Vec<u8> = (0..800u32).map(|i| (i * 7) as u8).collect();
    for (i, part) in message.chunks(8).enumerate() {
        let fin = if i == 99 { 0x80 } else { 0 };
        let opcode = if i == 0 { 0x2 } else { 0x0 };
        wire.extend(wscodec_test_frames::masked(fin | opcode, part, [9, 8, 7, i as u8]));
        if i % 25 == 3 {
            wire.extend(wscodec_test_frames::masked(0x89, b"ping", [5, 5, 5, 5]));
        }
    }
    wire.extend(wscodec_test_frames::masked(0x88, &[0x03, 0xe8, b'b', b'y', b'e'], [6, 6, 6, 6]));

    // The stack delivers it in odd-sized segments, acknowledging now and then.
    let mut pcb = Pcb { window: 300, wire: Vec::new() };
    let mut server = EchoServer::new();
    let mut open = true;
    for (i, segment) in wire.chunks(97).enumerate() {
        open = server.recv(&mut pcb, segment);
        if i % 3 == 2 {
            pcb.acked();
            server.sent(&mut pcb);
        }
        if !open {
            break;
        }
    }
    while server.queued > 0 {
        pcb.acked();
        server.sent(&mut pcb);
    }
    assert!(!open, "the connection ended with the closing handshake");

    // Check what the server sent: the 101, then the echoes, pongs and the close reply.
    let sent = pcb.wire;
    let head_end = sent.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
    assert!(sent.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    let mut client = Connection::new(Role::Client);
    let mut frames = sent[head_end..].to_vec();
    let mut got = Vec::new();
    while let Ok(Status::Complete { value, consumed }) = client.handle_input(&mut frames) {
        match value {
            Some(Event::Text(t)) => got.push(format!("text {t}")),
            Some(Event::Binary(b)) => {
                assert_eq!(b, &message[..], "the fragmented message came back whole");
                got.push(format!("binary of {} bytes", b.len()));
            }
            Some(Event::Pong(p)) => got.push(format!("pong {}", String::from_utf8_lossy(p))),
            Some(Event::Close { code, reason }) => {
                got.push(format!("close {} {reason}", code.unwrap_or(CloseCode::NO_STATUS)));
                break;
            }
            Some(other) => panic!("unexpected {other:?}"),
            None => {}
        }
        frames.drain(..consumed);
    }
    for line in &got {
        println!("server sent: {line}");
    }
    assert_eq!(got.first().map(String::as_str), Some("text hello"));
    assert_eq!(got.iter().filter(|l| l.starts_with("pong")).count(), 4);
    assert!(got.contains(&"binary of 800 bytes".to_owned()));
    assert_eq!(got.last().map(String::as_str), Some("close 1000 (normal closure) bye"));
}
