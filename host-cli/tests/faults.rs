//! Faults and load against `wsc serve`, over loopback only, each bounded in time and
//! count: 500 concurrent echo connections, clients that vanish, slowloris, a client that
//! never reads, a ping flood, absurd length headers. After each fault a fresh client
//! must still get correct echoes, and the server's resident memory must stay bounded.

#[path = "support/raw.rs"]
mod raw;
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use raw::{frame, message, raw_ws, read_close, rss_kib, PeakRss, Rng};
use support::{tcp, ws, Server, TIMEOUT};
use wscodec::{CloseCode, Connection, Event, Message, Role, Status};

/// How much the server's RSS may grow across one fault (after its connection is gone),
/// measured from a warm server (two echo sessions served, so the allocator holds one
/// connection's buffers) running with `--max-message 1 MiB`.
const FAULT_RSS_BOUND_KIB: u64 = 8 * 1024;

/// The options every fault test's server gets: receive buffers of about 1 MiB.
const SMALL: [&str; 2] = ["--max-message", "1048576"];

/// The shared [`Server`] plus this file's RSS and recovery checks (it derefs to the
/// server for `addr`, `log`, `wait_for_log` and `pid`).
struct Serve(Server);

impl std::ops::Deref for Serve {
    type Target = Server;

    fn deref(&self) -> &Server {
        &self.0
    }
}

impl Serve {
    fn start(args: &[&str]) -> Self {
        Self(Server::start(args))
    }

    /// Resident set size in KiB, from /proc.
    fn rss_kib(&self) -> u64 {
        rss_kib(self.pid())
    }

    /// Serves two echo sessions, then returns the RSS to compare against.
    fn warm_rss(&self) -> u64 {
        self.assert_echoes();
        self.assert_echoes();
        self.rss_kib()
    }

    /// A fresh client gets correct echoes of a small and a large message.
    fn assert_echoes(&self) {
        let (mut rx, mut tx) = (vec![0u8; 256 * 1024], vec![0u8; 128 * 1024]);
        let mut client = ws(self.addr, "/", None, &mut rx, &mut tx).expect("fresh client");
        client.send(Message::Text("still echoing")).unwrap();
        assert_eq!(client.read().unwrap(), Event::Text("still echoing"));
        let blob: Vec<u8> = (0..60_000u32).map(|i| (i * 31 + 7) as u8).collect();
        client.send(Message::Binary(&blob)).unwrap();
        match client.read().unwrap() {
            Event::Binary(got) => assert!(got == &blob[..], "the echo of 60000 bytes differs"),
            other => panic!("expected the binary echo, got {other:?}"),
        }
        client.close(CloseCode::NORMAL, "").unwrap();
        assert!(matches!(client.read(), Ok(Event::Close { .. })));
    }

    /// Waits for the connection from `local` to be logged as closed, then checks that a
    /// fresh client is served and that RSS grew by at most [`FAULT_RSS_BOUND_KIB`].
    fn assert_recovered(&self, local: SocketAddr, rss_before: u64) -> String {
        let log = self.wait_for_log(&format!(" {local}"));
        let start = Instant::now();
        while !self.log().lines().any(|l| {
            l.contains(&local.to_string()) && (l.starts_with("close") || l.starts_with("drop"))
        }) {
            assert!(start.elapsed() < TIMEOUT, "{local} never ended:\n{}", self.log());
            thread::sleep(Duration::from_millis(20));
        }
        self.assert_echoes();
        let rss_after = self.rss_kib();
        assert!(
            rss_after <= rss_before + FAULT_RSS_BOUND_KIB,
            "RSS grew from {rss_before} KiB to {rss_after} KiB"
        );
        let _ = log;
        self.log()
    }
}

#[test]
fn five_hundred_connections_echo_two_hundred_mixed_messages_each() {
    // One test at a time would be kinder to CI, but the harness runs tests in parallel;
    // this one dominates and stays far below its bounds either way.
    const CONNECTIONS: u32 = 500;
    const MESSAGES: u32 = 200;
    // 64 KiB messages at most keep the server's per-connection buffers near 130 KiB.
    let server = Serve::start(&[
        "--max-message",
        "65536",
        "--max-connections",
        "1024",
        "--idle-timeout",
        "60",
    ]);
    let addr = server.addr;
    let rss_idle = server.rss_kib();
    let start = Instant::now();
    let barrier = Arc::new(std::sync::Barrier::new(CONNECTIONS as usize + 1));
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|id| {
            let barrier = Arc::clone(&barrier);
            thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || -> Result<u64, String> {
                    let (mut rx, mut tx) = (vec![0u8; 72 * 1024], vec![0u8; 40 * 1024]);
                    let connected = ws(addr, "/load", None, &mut rx, &mut tx);
                    barrier.wait(); // all connections are open at once
                    let mut client = connected.map_err(|e| format!("{id}: connect: {e:?}"))?;
                    client.stream_mut().0.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(id + 1));
                    let mut bytes = 0u64;
                    // Two messages in flight: send seq+1 before reading seq's echo.
                    let mut pending = std::collections::VecDeque::new();
                    for seq in 0..MESSAGES {
                        let m = message(id, seq, &mut rng);
                        client
                            .send(Message::Binary(&m))
                            .map_err(|e| format!("{id}: send: {e:?}"))?;
                        bytes += m.len() as u64;
                        pending.push_back(m);
                        // Keep one message in flight; at the end, read them all.
                        let keep = if seq == MESSAGES - 1 { 0 } else { 1 };
                        while pending.len() > keep {
                            let expect = pending.pop_front().unwrap();
                            match client.read() {
                                Ok(Event::Binary(got)) if got == &expect[..] => {}
                                Ok(Event::Binary(got)) => {
                                    return Err(format!(
                                        "{id}: echo of {} bytes differs (got {} bytes, ids {:?})",
                                        expect.len(),
                                        got.len(),
                                        got.get(..8)
                                    ))
                                }
                                other => return Err(format!("{id}: read: {other:?}")),
                            }
                        }
                    }
                    client.close(CloseCode::NORMAL, "done").map_err(|e| format!("{e:?}"))?;
                    match client.read() {
                        Ok(Event::Close { .. }) => Ok(bytes),
                        other => Err(format!("{id}: close: {other:?}")),
                    }
                })
                .expect("spawn a client thread")
        })
        .collect();
    barrier.wait();
    let rss_all_open = server.rss_kib();
    let sampler = PeakRss::start(server.pid());
    let mut errors = Vec::new();
    let mut total = 0;
    for c in clients {
        match c.join().expect("client thread panicked") {
            Ok(bytes) => total += bytes,
            Err(e) => errors.push(e),
        }
    }
    let elapsed = start.elapsed();
    let peak_rss = sampler.stop().max(rss_all_open);
    assert!(
        errors.is_empty(),
        "{} of {CONNECTIONS} clients failed:\n{}",
        errors.len(),
        errors.join("\n")
    );
    eprintln!(
        "load: {CONNECTIONS} connections x {MESSAGES} messages, {total} bytes each way in {elapsed:?}; \
         server RSS idle {rss_idle} KiB, all open {rss_all_open} KiB, peak {peak_rss} KiB"
    );
    // Per connection the server holds rx (at most 65536 + 1024 rounded to 4 KiB pages,
    // while such a message arrives), tx (16 KiB), an 8 KiB head buffer and the echo copy;
    // 512 KiB per connection is a generous bound that still catches buffering without limit.
    let bound = rss_idle + u64::from(CONNECTIONS) * 512;
    assert!(peak_rss <= bound, "peak RSS {peak_rss} KiB over the bound {bound} KiB");
    let log = server.log();
    assert_eq!(
        log.lines().filter(|l| l.starts_with("close") && l.contains("msgs=200")).count(),
        CONNECTIONS as usize,
        "every connection echoed all its messages"
    );
    assert!(elapsed < Duration::from_secs(120), "{elapsed:?}");
    server.assert_echoes();
}

#[test]
fn clients_that_vanish_mid_handshake_mid_frame_and_mid_close() {
    let server = Serve::start(&SMALL);
    let rss = server.warm_rss();
    // Mid-handshake: half a request head, then gone.
    let mut s = tcp(server.addr);
    let local = s.local_addr().unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: webs").unwrap();
    drop(s);
    let log = server.assert_recovered(local, rss);
    assert!(log.contains(&format!("drop  {local}: disconnected before completing")), "{log}");
    // Mid-frame: a header announcing 1000 bytes and 10 of them.
    let mut s = raw_ws(server.addr);
    let local = s.local_addr().unwrap();
    s.write_all(&frame(0x82, &[5; 1000])[..18]).unwrap();
    drop(s);
    let log = server.assert_recovered(local, rss);
    assert!(log.contains(&format!("close {local} code=1006")), "{log}");
    // Mid-header: 1 byte of a frame header.
    let mut s = raw_ws(server.addr);
    let local = s.local_addr().unwrap();
    s.write_all(&[0x81]).unwrap();
    drop(s);
    server.assert_recovered(local, rss);
    // Mid-close: half a close frame.
    let mut s = raw_ws(server.addr);
    let local = s.local_addr().unwrap();
    s.write_all(&frame(0x88, b"\x03\xe8bye")[..7]).unwrap();
    drop(s);
    server.assert_recovered(local, rss);
    // Mid-close: a whole close frame, then gone before reading the reply.
    let mut s = raw_ws(server.addr);
    let local = s.local_addr().unwrap();
    s.write_all(&frame(0x88, b"\x03\xe8bye")).unwrap();
    drop(s);
    server.assert_recovered(local, rss);
}

#[test]
fn slowloris_in_the_handshake_is_cut_at_the_handshake_timeout() {
    let server = Serve::start(&[SMALL[0], SMALL[1], "--handshake-timeout", "2"]);
    let rss = server.warm_rss();
    let mut s = tcp(server.addr);
    let local = s.local_addr().unwrap();
    let start = Instant::now();
    let request = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n";
    let mut cut = None;
    for &b in request {
        if s.write_all(&[b]).is_err() {
            cut = Some(start.elapsed());
            break;
        }
        thread::sleep(Duration::from_secs(1));
        if server.log().contains(&format!("drop  {local}")) {
            cut = Some(start.elapsed());
            break;
        }
    }
    let cut = cut.expect("the server never dropped the slow client");
    assert!(cut >= Duration::from_secs(2) && cut < Duration::from_secs(6), "{cut:?}");
    let log = server.assert_recovered(local, rss);
    assert!(log.contains("handshake timeout"), "{log}");
}

/// Reads server frames until a text message arrives; returns it.
fn read_text(stream: &mut TcpStream) -> String {
    let mut conn = Connection::new(Role::Client);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 256];
    loop {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "EOF before the echo");
        buf.extend_from_slice(&chunk[..n]);
        match conn.handle_input(&mut buf).unwrap() {
            Status::Complete { value: Some(Event::Text(t)), .. } => return t.to_owned(),
            Status::Complete { consumed, .. } => drop(buf.drain(..consumed)),
            Status::Partial { .. } => {}
        }
    }
}

#[test]
fn slowloris_in_a_frame_is_closed_with_1008_when_the_message_is_due() {
    // Once a message has started, all of it must arrive within --idle-timeout (2 s),
    // even though bytes keep arriving and the connection is never idle.
    let server = Serve::start(&[SMALL[0], SMALL[1], "--idle-timeout", "2"]);
    let rss = server.warm_rss();
    let mut s = raw_ws(server.addr);
    let local = s.local_addr().unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    // Slow but in time: each message takes 1.2 s, three take longer than the deadline,
    // and each is echoed (the deadline runs per message, not per connection).
    for i in 0..3 {
        let text = format!("slow {i}");
        let wire = frame(0x81, text.as_bytes());
        for &b in &wire {
            s.write_all(&[b]).unwrap();
            thread::sleep(Duration::from_millis(1200 / wire.len() as u64));
        }
        assert_eq!(read_text(&mut s), text);
    }
    // Too slow: one byte per 0.7 s of a 21-byte frame would take 14 s.
    let wire = frame(0x81, b"slow but steady");
    let start = Instant::now();
    let mut cut = None;
    for &b in &wire {
        if s.write_all(&[b]).is_err() {
            cut = Some(start.elapsed());
            break;
        }
        server.assert_echoes(); // others are unaffected meanwhile
        thread::sleep(Duration::from_millis(700));
        if server.log().contains(&format!("close {local}")) {
            cut = Some(start.elapsed());
            break;
        }
    }
    let cut = cut.expect("the server never closed the slow client");
    assert!(cut >= Duration::from_secs(2) && cut < Duration::from_secs(6), "{cut:?}");
    assert_eq!(read_close(&mut s), Some(1008));
    drop(s);
    let log = server.assert_recovered(local, rss);
    assert!(
        log.contains(&format!(
            "close {local} code=1008 (policy violation) reason=\"message too slow\" by=server \
             sent=close_frame msgs=3 wire_in="
        )),
        "{log}"
    );
}

#[test]
fn a_client_that_never_reads_is_closed_without_unbounded_buffering() {
    let server = Serve::start(&[SMALL[0], SMALL[1], "--write-timeout", "2"]);
    let rss = server.warm_rss();
    let mut s = raw_ws(server.addr);
    let local = s.local_addr().unwrap();
    s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    let message = frame(0x82, &vec![9u8; 256 * 1024]);
    let start = Instant::now();
    // Keep sending 256 KiB messages and never read an echo. TCP buffers fill both ways,
    // the server's echo write times out after --write-timeout, and it drops the client.
    let writer = thread::spawn(move || {
        // Write until the server drops the connection (it drains for at most 1 s after
        // closing, into a 1 KiB sink, so a write fails soon after), or give up at 30 s.
        let start = Instant::now();
        let mut sent = 0u64;
        while start.elapsed() < Duration::from_secs(30) {
            if s.write_all(&message).is_err() {
                return (sent, true);
            }
            sent += message.len() as u64;
        }
        (sent, false)
    });
    // Meanwhile others are served.
    for _ in 0..3 {
        server.assert_echoes();
    }
    let log = server.wait_for_log(&format!("close {local}"));
    let elapsed = start.elapsed();
    assert!(log.contains("stopped reading"), "{log}");
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    let (sent, refused) = writer.join().unwrap();
    assert!(refused, "the server kept accepting data after closing: {sent} bytes");
    eprintln!("never-reading client: {sent} bytes written before the server's close");
    server.assert_recovered(local, rss);
}

#[test]
fn a_ping_flood_is_answered_and_stays_bounded() {
    let server = Serve::start(&SMALL);
    let rss = server.warm_rss();
    let mut s = raw_ws(server.addr);
    let local = s.local_addr().unwrap();
    let mut reader = s.try_clone().unwrap();
    const PINGS: usize = 20_000;
    let writer = thread::spawn(move || {
        let ping = frame(0x89, &[b'p'; 125]);
        let burst: Vec<u8> = ping.iter().copied().cycle().take(ping.len() * 100).collect();
        for _ in 0..PINGS / 100 {
            s.write_all(&burst).unwrap();
        }
        s.write_all(&frame(0x81, b"after the flood")).unwrap();
        s
    });
    // Read pongs until the echo of the text that follows the flood.
    let mut conn = Connection::new(Role::Client);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let mut pongs = 0;
    'read: loop {
        let n = reader.read(&mut chunk).unwrap();
        assert!(n > 0, "EOF during the flood after {pongs} pongs");
        buf.extend_from_slice(&chunk[..n]);
        let mut at = 0;
        while let Status::Complete { value, consumed } = conn.handle_input(&mut buf[at..]).unwrap()
        {
            match value {
                Some(Event::Pong(p)) => {
                    assert_eq!(p, &[b'p'; 125]);
                    pongs += 1;
                }
                Some(Event::Text(t)) => {
                    assert_eq!(t, "after the flood");
                    break 'read;
                }
                other => panic!("unexpected {other:?}"),
            }
            at += consumed;
        }
        buf.drain(..at);
    }
    assert!((1..=PINGS).contains(&pongs), "{pongs} pongs for {PINGS} pings");
    let s = writer.join().unwrap();
    drop(s);
    drop(reader);
    server.assert_recovered(local, rss);
}

#[test]
fn a_length_of_2_pow_63_is_a_protocol_error_1002() {
    let server = Serve::start(&SMALL);
    let rss = server.warm_rss();
    let mut s = raw_ws(server.addr);
    let local = s.local_addr().unwrap();
    s.write_all(&[0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0xaa, 0xbb]).unwrap();
    assert_eq!(read_close(&mut s), Some(1002));
    drop(s);
    let log = server.assert_recovered(local, rss);
    assert!(log.contains(&format!("close {local} code=1002")), "{log}");
}

#[test]
fn ten_gib_declared_against_one_mib_is_1009_without_reading_it() {
    let server = Serve::start(&SMALL);
    let rss = server.warm_rss();
    let mut s = raw_ws(server.addr);
    let local = s.local_addr().unwrap();
    let start = Instant::now();
    let mut head = vec![0x82, 0xff];
    head.extend_from_slice(&(10u64 << 30).to_be_bytes());
    head.extend_from_slice(&[1, 2, 3, 4]);
    s.write_all(&head).unwrap();
    // Some payload, far less than announced.
    let _ = s.write_all(&[0u8; 64 * 1024]);
    assert_eq!(read_close(&mut s), Some(1009));
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    drop(s);
    let log = server.assert_recovered(local, rss);
    assert!(log.contains(&format!("close {local} code=1009")), "{log}");
}
