//! Shared helpers for the `wsc` integration tests: run the binary, talk to it with
//! `wscodec`'s blocking client, and bound every wait with a timeout.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use wscodec::handshake::client::ClientRequest;
use wscodec::io::blocking::WebSocket;
use wscodec::io::Options;
use wscodec::io::StdIo;

/// The test's upper bound for any single wait.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The test client type: the blocking adapter over a TCP stream.
pub type Client<'b> = WebSocket<'b, StdIo<TcpStream>, fn() -> [u8; 4]>;

/// A running `wsc serve` (ws:// or wss://), killed on drop: the one helper every test
/// that needs a server uses. Its stderr is captured for [`Server::log`].
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `wsc serve --listen 127.0.0.1:0 ARGS...` and waits for its `listening on` line.
    pub fn start(args: &[&str]) -> Self {
        Self::start_on("127.0.0.1:0", args)
    }

    /// Starts `wsc serve --listen LISTEN ARGS...` and waits (at most [`TIMEOUT`]) for its
    /// `listening on ws://ADDR/` or `listening on wss://ADDR/` line.
    pub fn start_on(listen: &str, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wsc"))
            .args(["serve", "--listen", listen])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn wsc serve");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        // Read the first stdout line on a thread so a hung server cannot hang the test.
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        // Owned before any wait, so a panic below still kills the child.
        let mut server = Self { child, addr: "0.0.0.0:0".parse().unwrap(), stderr: log };
        let line = rx.recv_timeout(TIMEOUT).expect("no `listening on` line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.strip_prefix("ws://").or_else(|| a.strip_prefix("wss://")))
            .and_then(|a| a.strip_suffix('/'))
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        server.addr = addr.parse().unwrap();
        server
    }

    /// The server's process id (to read its /proc entries).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (at most [`TIMEOUT`]) until the log contains `needle`, and returns the log.
    pub fn wait_for_log(&self, needle: &str) -> String {
        self.wait_for_log_within(needle, TIMEOUT)
    }

    /// Waits at most `within` until the log contains `needle`, and returns the log.
    pub fn wait_for_log_within(&self, needle: &str, within: Duration) -> String {
        let start = Instant::now();
        loop {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            assert!(start.elapsed() < within, "log never contained {needle:?}:\n{log}");
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server and waits for it.
    pub fn kill(self) {
        drop(self);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP connection to `addr` with read and write timeouts of [`TIMEOUT`].
pub fn tcp(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// Connects a WebSocket client to `path` on `addr`, optionally with an Origin.
pub fn ws<'b>(
    addr: SocketAddr,
    path: &str,
    origin: Option<&str>,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
) -> Result<Client<'b>, wscodec::io::Error<std::io::Error>> {
    let host = addr.to_string();
    let request =
        ClientRequest { origin, ..ClientRequest::new(&host, path, wscodec::random::nonce()) };
    let mask: fn() -> [u8; 4] = wscodec::random::mask_key;
    WebSocket::connect(StdIo(tcp(addr)), Options::new(rx, tx), &request, mask).map(|(ws, _)| ws)
}

/// Sends a raw HTTP request and returns the whole response (the server closes after it).
pub fn http(addr: SocketAddr, request: &str) -> String {
    let mut stream = tcp(addr);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read the response");
    String::from_utf8_lossy(&response).into_owned()
}

/// The variables `wsc connect` and `wsc probe` read to choose a proxy.
pub const PROXY_VARIABLES: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// Removes the proxy variables from `command`'s environment.
pub fn without_proxy_env(command: &mut Command) -> &mut Command {
    for name in PROXY_VARIABLES {
        command.env_remove(name);
    }
    command
}

/// Runs `wsc ARGS...` with `stdin`, killing it after [`TIMEOUT`]. The proxy variables
/// of the test's environment are removed, so that every test chooses its own.
pub fn wsc(args: &[&str], stdin: &[u8]) -> Output {
    wsc_with_env(args, stdin, &[])
}

/// [`wsc`] with these environment variables set.
pub fn wsc_with_env(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut child = without_proxy_env(&mut Command::new(env!("CARGO_BIN_EXE_wsc")))
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn wsc");
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "wsc {args:?} did not finish in time\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// The exit code of `status` (panics if killed by a signal).
pub fn code(status: ExitStatus) -> i32 {
    status.code().expect("exited with a code")
}
