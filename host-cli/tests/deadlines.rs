//! `wsc serve`'s write deadlines beside its idle timeout, over loopback: each write gets
//! its own `--write-timeout` from when it starts (the idle ping, the idle close, a pong,
//! an echo), with write timeouts shorter than, equal to and longer than the idle timeout,
//! against a silent client and against one that never reads; and the log says what went
//! out on the wire.

#[path = "support/raw.rs"]
mod raw;
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use raw::{frame, raw_ws};
use support::Server;

/// The idle timeout of every server here, in seconds.
const IDLE: u64 = 2;
/// Write timeouts shorter than, equal to and longer than [`IDLE`].
const WRITES: [u64; 3] = [1, 2, 4];

fn serve(write: u64) -> Server {
    let (idle, write) = (IDLE.to_string(), write.to_string());
    Server::start(&["--max-message", "1048576", "--idle-timeout", &idle, "--write-timeout", &write])
}

/// Runs `test` once per write timeout of [`WRITES`], at the same time.
fn for_each_write_timeout(test: fn(u64)) {
    let runs: Vec<_> = WRITES.iter().map(|&w| (w, thread::spawn(move || test(w)))).collect();
    // Every run ends (and kills its server) before any failure is reported.
    let failures: Vec<_> = runs
        .into_iter()
        .filter_map(|(w, run)| {
            let e = run.join().err()?;
            let why = e.downcast_ref::<String>().map_or("(no message)", String::as_str);
            Some(format!("with --write-timeout {w} (--idle-timeout {IDLE}): {why}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A frame from the server: when it was read whole (since `start`), opcode, payload.
type Frame = (Duration, u8, Vec<u8>);

/// Reads the server's (unmasked) frames until EOF or `limit` passes.
fn frames_until_eof(stream: &mut TcpStream, start: Instant, limit: Duration) -> Vec<Frame> {
    stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let (mut buf, mut frames) = (Vec::new(), Vec::new());
    let mut chunk = [0u8; 4096];
    while start.elapsed() < limit {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
        // Small control frames only: a 7-bit length.
        while buf.len() >= 2 && buf.len() >= 2 + usize::from(buf[1] & 0x7f) {
            let len = usize::from(buf[1] & 0x7f);
            assert!(len < 126 && buf[1] & 0x80 == 0, "unexpected frame {:02x?}", &buf[..2]);
            frames.push((start.elapsed(), buf[0] & 0x0f, buf[2..2 + len].to_vec()));
            buf.drain(..2 + len);
        }
    }
    assert!(buf.is_empty(), "a frame cut short: {buf:02x?}");
    frames
}

/// The close frame 1001 "idle timeout".
fn idle_close() -> Vec<u8> {
    [&1001u16.to_be_bytes()[..], b"idle timeout"].concat()
}

#[test]
fn a_silent_client_gets_the_idle_ping_and_then_the_close_frame() {
    for_each_write_timeout(|write| {
        let server = serve(write);
        let mut s = raw_ws(server.addr);
        let local = s.local_addr().unwrap();
        let start = Instant::now();
        let frames = frames_until_eof(&mut s, start, Duration::from_secs(4 * IDLE + 4));
        let got: Vec<_> = frames.iter().map(|(_, op, payload)| (*op, payload.clone())).collect();
        assert_eq!(got, [(0x9, b"idle".to_vec()), (0x8, idle_close())], "{frames:?}");
        let (ping, close) = (frames[0].0, frames[1].0);
        let idle = Duration::from_secs(IDLE);
        assert!(ping >= idle && ping < idle * 2, "ping after {ping:?}");
        assert!(close >= ping + idle && close < ping + idle * 2, "close after {close:?}");
        server.wait_for_log(&format!(
            "close {local} code=1001 (going away) reason=\"idle timeout\" by=server \
             sent=close_frame msgs=0"
        ));
    });
}

#[test]
fn a_client_that_never_reads_still_has_the_close_frame_in_its_buffer() {
    // Nothing is read until the server has closed: the ping and the close frame wait in
    // the client's receive buffer, so both writes complete and the close is logged as sent.
    for_each_write_timeout(|write| {
        let server = serve(write);
        let mut s = raw_ws(server.addr);
        let local = s.local_addr().unwrap();
        let log = server.wait_for_log(&format!("close {local}"));
        assert!(
            log.contains(&format!(
                "close {local} code=1001 (going away) reason=\"idle timeout\" by=server \
                 sent=close_frame"
            )),
            "{log}"
        );
        let frames = frames_until_eof(&mut s, Instant::now(), Duration::from_secs(5));
        let got: Vec<_> = frames.into_iter().map(|(_, op, payload)| (op, payload)).collect();
        assert_eq!(got, [(0x9, b"idle".to_vec()), (0x8, idle_close())]);
    });
}

#[test]
fn a_client_that_never_reads_is_dropped_one_write_timeout_after_the_stuck_echo() {
    // 256 KiB messages, never an echo read: the echo that no longer fits stalls, and the
    // connection is dropped --write-timeout after it started, not at the idle timeout (no
    // read is due while the server writes) and without a close frame.
    for_each_write_timeout(|write| {
        let server = serve(write);
        let mut s = raw_ws(server.addr);
        let local = s.local_addr().unwrap();
        s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
        let message = frame(0x82, &vec![7u8; 256 * 1024]);
        let start = Instant::now();
        let writer = thread::spawn(move || {
            while start.elapsed() < Duration::from_secs(30) {
                if s.write_all(&message).is_err() {
                    return;
                }
            }
        });
        let log = server.wait_for_log_within(&format!("close {local}"), Duration::from_secs(30));
        let dropped = start.elapsed();
        let expected = format!(
            "close {local} code=1006 (abnormal closure: connection dropped without a close \
             frame) error=\"an echo was not sent: the client did not take it within {write} s \
             (write timeout): it stopped reading\" by=server msgs="
        );
        assert!(log.contains(&expected), "expected {expected:?} in:\n{log}");
        let write = Duration::from_secs(write);
        // The stuck echo starts once the socket buffers are full, well within a second.
        assert!(dropped >= write && dropped < write + Duration::from_secs(3), "{dropped:?}");
        writer.join().unwrap();
    });
}

#[test]
fn a_pong_does_not_shorten_the_deadline_of_the_next_echo() {
    // A ping, then a message that takes longer than --write-timeout to arrive (but less
    // than --idle-timeout): the pong went out before the message started, so the echo's
    // write has its own deadline and goes out.
    let server = Server::start(&["--idle-timeout", "6", "--write-timeout", "1"]);
    let mut s = raw_ws(server.addr);
    let local = s.local_addr().unwrap();
    s.write_all(&frame(0x89, b"are you there")).unwrap();
    let mut pong = [0u8; 15];
    s.read_exact(&mut pong).unwrap();
    assert_eq!(&pong[..2], &[0x8a, 13]);
    let message = frame(0x81, b"slow but in time");
    for &b in &message {
        s.write_all(&[b]).unwrap();
        thread::sleep(Duration::from_millis(2500 / message.len() as u64));
    }
    let mut echo = [0u8; 18];
    s.read_exact(&mut echo).unwrap();
    assert_eq!(&echo[2..], b"slow but in time");
    s.write_all(&frame(0x88, &1000u16.to_be_bytes())).unwrap();
    server.wait_for_log(&format!("close {local} code=1000 (normal closure) reason=\"\" msgs=1"));
}
