//! `wsc connect --reconnect`: the server is killed and started again on the same port
//! while the client keeps going; and the closes that must not be retried.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use support::{code, wsc, Server, TIMEOUT};

/// A running `wsc connect`, with its stdout lines on a channel and its stderr collected.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Client {
    fn start(args: &[&str]) -> Self {
        let mut child = support::without_proxy_env(&mut Command::new(env!("CARGO_BIN_EXE_wsc")))
            .arg("connect")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Self { child, stdin, lines, stderr: log }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(TIMEOUT)
            .unwrap_or_else(|_| panic!("no stdout line; stderr:\n{}", self.stderr.lock().unwrap()))
    }

    fn wait_stderr(&self, needle: &str, count: usize) -> String {
        let start = Instant::now();
        loop {
            let log = self.stderr.lock().unwrap().clone();
            if log.matches(needle).count() >= count {
                return log;
            }
            assert!(start.elapsed() < TIMEOUT, "stderr never had {count} x {needle:?}:\n{log}");
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Closes stdin and waits for the exit code.
    fn finish(mut self) -> (i32, String) {
        drop(self.stdin.take());
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < TIMEOUT, "wsc connect did not exit");
            thread::sleep(Duration::from_millis(20));
        }
        let status = self.child.wait().unwrap();
        thread::sleep(Duration::from_millis(50));
        let log = self.stderr.lock().unwrap().clone();
        (code(status), log)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn keeps_going_while_the_server_is_killed_and_restarted() {
    let server = Server::start(&[]);
    let addr = server.addr;
    let target = format!("ws://{addr}/");
    let args = ["--reconnect", "--backoff-initial", "50", "--backoff-max", "200", &target];
    let mut client = Client::start(&args);
    client.send("one");
    assert_eq!(client.next_line(), "one");

    server.kill();
    assert_eq!(
        client.next_line(),
        "closed: 1006 (abnormal closure: connection dropped without a close frame)"
    );
    // While the port is closed, each attempt is refused and the next delay is printed.
    let log = client.wait_stderr("connecting failed", 2);
    assert!(log.contains("reconnecting in ") && log.contains("(attempt 1, after 1006"), "{log}");
    assert!(log.contains("(attempt 2, connecting failed: cannot connect to"), "{log}");

    let server = Server::start_on(&addr.to_string(), &[]);
    client.wait_stderr(&format!("connected to {target}"), 2);
    client.send("two");
    assert_eq!(client.next_line(), "two");
    let (status, log) = client.finish();
    assert_eq!(status, 0, "{log}");
    assert!(server.log().contains("code=1000"), "{}", server.log());
}

#[test]
fn every_delay_is_within_the_backoff_bounds() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target = format!("ws://127.0.0.1:{port}/");
    let args = [
        "connect",
        "--reconnect",
        "--max-retries",
        "4",
        "--backoff-initial",
        "10",
        "--backoff-max",
        "25",
        &target,
    ];
    let out = wsc(&args, b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The status of the last failure: TCP.
    assert_eq!(code(out.status), 4, "{stderr}");
    let delays: Vec<u32> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("reconnecting in "))
        .map(|l| l.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(delays.len(), 4, "{stderr}");
    for (i, (delay, ceiling)) in delays.iter().zip([10, 20, 25, 25]).enumerate() {
        assert!(*delay <= ceiling, "attempt {}: {delay} > {ceiling}\n{stderr}", i + 1);
    }
    assert!(stderr.contains("(attempt 4 of 4, connecting failed"), "{stderr}");
    assert!(stderr.contains("giving up after 4 attempts"), "{stderr}");
}

/// A server that accepts every connection and closes it at once with `code`; counts them.
fn closing_server(code: u16) -> (String, Arc<Mutex<usize>>) {
    use wscodec::handshake::server::Decision;
    use wscodec::io::blocking::WebSocket;
    use wscodec::io::{Options, StdIo};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("ws://{}/", listener.local_addr().unwrap());
    let count = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&count);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            *counter.lock().unwrap() += 1;
            stream.set_read_timeout(Some(TIMEOUT)).unwrap();
            let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
            let Ok(mut ws) =
                WebSocket::accept(StdIo(stream), Options::new(&mut rx, &mut tx), |_, _| {
                    Decision::Accept { protocol: None }
                })
            else {
                continue;
            };
            let _ = ws.close(wscodec::CloseCode::new(code), "go away");
            while ws.read().is_ok() {}
        }
    });
    (target, count)
}

#[test]
fn a_policy_close_is_final() {
    let (target, count) = closing_server(1008);
    let client = Client::start(&["--reconnect", "--backoff-initial", "10", &target]);
    assert_eq!(client.next_line(), "closed: 1008 (policy violation) reason=\"go away\"");
    // wsc exits on its own after a final close (writing to its stdin now would race
    // with that exit and fail with a broken pipe).
    let (status, log) = client.finish();
    assert_eq!(status, 10, "abnormal close by the peer: {log}");
    assert!(
        log.contains(
            "not reconnecting after 1008 (policy violation) (pass --retry-on 1008 to retry it)"
        ),
        "{log}"
    );
    assert_eq!(*count.lock().unwrap(), 1);
}

#[test]
fn try_again_later_is_retried_and_retry_on_extends_the_list() {
    for (code, extra) in [(1013, None), (1000, Some("1000"))] {
        let (target, count) = closing_server(code);
        let mut args =
            vec!["connect", "--reconnect", "--max-retries", "2", "--backoff-initial", "10"];
        if let Some(codes) = extra {
            args.extend(["--retry-on", codes]);
        }
        args.push(&target);
        // Stdin stays open (the channel end is never closed) until the retries run out.
        let out = {
            let mut child =
                support::without_proxy_env(&mut Command::new(env!("CARGO_BIN_EXE_wsc")))
                    .args(&args)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
            let _stdin = child.stdin.take();
            let start = Instant::now();
            while child.try_wait().unwrap().is_none() {
                assert!(start.elapsed() < TIMEOUT, "did not give up");
                thread::sleep(Duration::from_millis(20));
            }
            child.wait_with_output().unwrap()
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Retries ran out after closes: an abnormal close, even for a 1000 retried on request.
        assert_eq!(code_of(&out), 10, "{stderr}");
        assert!(stderr.contains("giving up after 2 attempts"), "{code}: {stderr}");
        assert_eq!(*count.lock().unwrap(), 3, "{code}: {stderr}");
    }
}

fn code_of(out: &std::process::Output) -> i32 {
    code(out.status)
}
