//! A connection split into a reader half and a writer half, driven by two threads at once,
//! over loopback TCP against a peer that pings all the time.
//!
//! The reader thread echoes what the peer sends (through a clone of the writer) and, inside
//! `read`, answers every ping; the writer thread sends a numbered message every 10 ms. The
//! peer (the whole, unsplit blocking adapter) checks that every numbered message, every
//! echo and every pong arrived, in order and intact, then closes. Exits 0 only then.
//!
//! `cargo run -p wscodec --example split --features std,blocking`

use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use wscodec::handshake::client::ClientRequest;
use wscodec::handshake::server::Decision;
use wscodec::io::blocking::WebSocket;
use wscodec::io::{Error, Options, StdIo};
use wscodec::{CloseCode, Event, Message};

/// Numbered messages the writer thread sends, one every [`TICK`].
const MESSAGES: u32 = 200;
const TICK: Duration = Duration::from_millis(10);
/// The peer pings this often, and sends a message to echo every [`ECHO_EVERY`] pings.
const PING_EVERY: Duration = Duration::from_millis(1);
const ECHO_EVERY: u32 = 25;

/// What the peer saw.
#[derive(Debug, Default)]
struct Seen {
    pings: u32,
    pongs: u32,
    messages: u32,
    echoes_sent: u32,
    echoes: u32,
    errors: Vec<String>,
}

fn main() -> ExitCode {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("the port");
    let peer = thread::spawn(move || peer(&listener));
    let started = Instant::now();
    let halves = client(TcpStream::connect(addr).expect("connect to the peer"));
    let seen = peer.join().expect("the peer thread");
    let secs = started.elapsed().as_secs_f64();
    println!("split: {secs:.1} s over loopback TCP; one thread reads, one writes");
    println!(
        "split: writer thread: {} of {MESSAGES} numbered messages (one every {} ms) arrived in order",
        seen.messages,
        TICK.as_millis()
    );
    println!(
        "split: reader thread: {} of {} messages echoed back intact",
        seen.echoes, seen.echoes_sent
    );
    println!(
        "split: {} of {} pings answered by the reader with the right pong, in order, \
         between the writer's frames",
        seen.pongs, seen.pings
    );
    let ok = seen.errors.is_empty()
        && seen.messages == MESSAGES
        && seen.echoes == seen.echoes_sent
        && seen.echoes_sent > 0
        && seen.pongs == seen.pings
        && seen.pings > 0;
    match &halves {
        Ok(code) => println!("split: the peer closed with {code}; both halves ended"),
        Err(e) => println!("split: FAILED on our side: {e}"),
    }
    for e in &seen.errors {
        println!("split: FAILED at the peer: {e}");
    }
    if ok && halves.is_ok() {
        println!("split: OK");
        ExitCode::SUCCESS
    } else {
        println!("split: FAILED");
        ExitCode::FAILURE
    }
}

/// Our side: a client split into a reader thread and a writer thread. Returns the close
/// code the peer ended with.
fn client(tcp: TcpStream) -> Result<String, String> {
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let writing = tcp.try_clone().map_err(|e| e.to_string())?;
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 1024]);
    let request = ClientRequest::new("127.0.0.1", "/", wscodec::random::nonce());
    let mask = wscodec::random::mask_key;
    let options = Options::new(&mut rx, &mut tx);
    let (ws, _) = WebSocket::connect(StdIo(tcp), options, &request, mask)
        .map_err(|e| format!("handshake: {e}"))?;
    // The state both halves share, lent here: a std mutex around the writing side.
    let shared = Mutex::new(None);
    let (mut reader, writer) = ws.split(&shared, |reading| (reading, StdIo(writing)));
    let mut echo = writer.clone();
    thread::scope(|s| {
        let writes = s.spawn(move || {
            let mut writer = writer;
            for n in 0..MESSAGES {
                writer.send(Message::Text(&format!("message {n}"))).map_err(|e| e.to_string())?;
                thread::sleep(TICK);
            }
            writer.send(Message::Text("done")).map_err(|e| e.to_string())
        });
        let reads = s.spawn(move || loop {
            match reader.read() {
                // Pings are answered inside `read`, before the event comes out.
                Ok(Event::Ping(_) | Event::Pong(_)) => {}
                Ok(Event::Text(text)) => {
                    echo.send(Message::Text(text)).map_err(|e| format!("echo: {e}"))?
                }
                Ok(Event::Close { code, .. }) => {
                    return Ok(code.map_or("no code".to_owned(), |c| c.to_string()))
                }
                Ok(other) => return Err(format!("unexpected {other:?}")),
                Err(e) => return Err(format!("read: {e}")),
            }
        });
        writes.join().map_err(|_| "the writer thread panicked".to_owned())??;
        reads.join().map_err(|_| "the reader thread panicked".to_owned())?
    })
}

/// The peer: the whole blocking adapter, pinging every [`PING_EVERY`] and checking what
/// comes back, until the writer's "done" and the last pong; then it closes.
fn peer(listener: &TcpListener) -> Seen {
    let mut seen = Seen::default();
    let (tcp, _) = listener.accept().expect("accept");
    tcp.set_nodelay(true).expect("nodelay");
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 1024]);

    let options = Options::new(&mut rx, &mut tx);
    let accepted =
        WebSocket::accept(StdIo(tcp), options, |_, _| Decision::Accept { protocol: None });
    let mut ws = match accepted {
        Ok(ws) => ws,
        Err(e) => {
            seen.errors.push(format!("handshake: {e}"));
            return seen;
        }
    };
    // A short read timeout lets the peer ping while it waits (a timed-out read loses
    // nothing).
    ws.stream_mut().0.set_read_timeout(Some(PING_EVERY)).expect("read timeout");
    let deadline = Instant::now() + TICK * MESSAGES + Duration::from_secs(10);
    let mut done = false;
    let mut next_ping = Instant::now();
    while Instant::now() < deadline {
        if done && seen.pongs == seen.pings && seen.echoes == seen.echoes_sent {
            break;
        }
        if !done && Instant::now() >= next_ping {
            next_ping += PING_EVERY;
            if let Err(e) = ws.send(Message::Ping(&seen.pings.to_be_bytes())) {
                seen.errors.push(format!("ping: {e}"));
                return seen;
            }
            seen.pings += 1;
            if seen.pings % ECHO_EVERY == 0 {
                let text = format!("echo {}", seen.echoes_sent);
                if let Err(e) = ws.send(Message::Text(&text)) {
                    seen.errors.push(format!("send: {e}"));
                    return seen;
                }
                seen.echoes_sent += 1;
            }
        }
        match ws.read() {
            Ok(Event::Pong(payload)) => {
                if payload != seen.pongs.to_be_bytes() {
                    seen.errors.push(format!("pong {payload:?} where {} was due", seen.pongs));
                }
                seen.pongs += 1;
            }
            Ok(Event::Text("done")) => done = true,
            Ok(Event::Text(text)) if text.starts_with("message ") => {
                if text != format!("message {}", seen.messages) {
                    seen.errors.push(format!("{text:?} where message {} was due", seen.messages));
                }
                seen.messages += 1;
            }
            Ok(Event::Text(text)) => {
                if text != format!("echo {}", seen.echoes) {
                    seen.errors.push(format!("echo {text:?} where echo {} was due", seen.echoes));
                }
                seen.echoes += 1;
            }
            Ok(other) => seen.errors.push(format!("unexpected {other:?}")),
            Err(Error::Read(e)) if is_timeout(&e) => {}
            Err(e) => {
                seen.errors.push(format!("read: {e}"));
                return seen;
            }
        }
    }
    if !done {
        seen.errors.push("the writer's \"done\" never came".to_owned());
    }
    // The closing handshake: our close, then the client's reply.
    if let Err(e) = ws.close(CloseCode::NORMAL, "checked") {
        seen.errors.push(format!("close: {e}"));
        return seen;
    }
    while Instant::now() < deadline + Duration::from_secs(5) {
        match ws.read() {
            Ok(Event::Close { .. }) => return seen,
            Ok(_) => {}
            Err(Error::Read(e)) if is_timeout(&e) => {}
            Err(e) => {
                seen.errors.push(format!("waiting for the close reply: {e}"));
                return seen;
            }
        }
    }
    seen.errors.push("the close reply never came".to_owned());
    seen
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
}
