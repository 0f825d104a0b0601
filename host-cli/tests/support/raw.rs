//! Raw-socket helpers for the `wsc serve` fault and bound tests: a handshake without the
//! adapter, hand-made frames, a deterministic message generator, and the server's RSS.
#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use wscodec::handshake::client::ClientRequest;
use wscodec::{Connection, Event, Role, Status};

use super::support::tcp;

/// Resident set size of process `pid` in KiB, from /proc.
pub fn rss_kib(pid: u32) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/PID/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line")
}

/// A raw TCP connection after a successful opening handshake.
pub fn raw_ws(addr: SocketAddr) -> TcpStream {
    let mut stream = tcp(addr);
    let host = addr.to_string();
    let request = ClientRequest::new(&host, "/", *b"the sample nonce");
    let mut head = [0u8; 512];
    let n = request.encode(&mut head).unwrap();
    stream.write_all(&head[..n]).unwrap();
    let response = read_head(&mut stream);
    assert!(response.starts_with("HTTP/1.1 101 "), "{response}");
    stream
}

/// Reads an HTTP head byte by byte (so no frame bytes are swallowed).
pub fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).expect("read the response head"), 1, "EOF in head");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// A masked client frame.
pub fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    wscodec_test_frames::masked(first, payload, [1, 2, 3, 4])
}

/// Reads server frames until a close arrives (or EOF); returns the close code.
pub fn read_close(stream: &mut TcpStream) -> Option<u16> {
    let mut conn = Connection::new(Role::Client);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        loop {
            match conn.handle_input(&mut buf) {
                Ok(Status::Complete { value, consumed }) => {
                    let close = match value {
                        Some(Event::Close { code, .. }) => Some(code.map_or(1005, |c| c.as_u16())),
                        _ => None,
                    };
                    buf.drain(..consumed);
                    if close.is_some() {
                        return close;
                    }
                }
                Ok(Status::Partial { .. }) => break,
                Err(e) => panic!("bad frame from the server: {e}"),
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A small deterministic generator, so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Message `seq` of connection `id`: a size from a mix (70% up to 125 bytes, 25% up to
/// 4 KiB, 5% up to 32 KiB), starting with the ids and filled with a pattern of both, so
/// a lost, reordered or corrupted message cannot match.
pub fn message(id: u32, seq: u32, rng: &mut Rng) -> Vec<u8> {
    let size = match rng.next() % 100 {
        0..=69 => 8 + rng.next() % 118,
        70..=94 => 126 + rng.next() % (4096 - 126),
        _ => 4096 + rng.next() % (32 * 1024 - 4096),
    } as usize;
    let mut m = Vec::with_capacity(size);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend((8..size).map(|i| (i as u32 ^ id.wrapping_mul(2_654_435_761) ^ seq) as u8));
    m
}

/// Samples a process's RSS every 50 ms on a thread, keeping the highest.
pub struct PeakRss {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    sampler: std::thread::JoinHandle<u64>,
}

impl PeakRss {
    /// Starts sampling process `pid`.
    pub fn start(pid: u32) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let sampler = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid));
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            peak.max(rss_kib(pid))
        });
        Self { stop, sampler }
    }

    /// Stops sampling; the highest RSS seen, in KiB.
    pub fn stop(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.sampler.join().expect("the RSS sampler panicked")
    }
}
