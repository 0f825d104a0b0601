//! The echo servers under load, each in a process of its own: `wsc serve` (started from its
//! binary) and three peers built into this bench binary (started as `load --serve NAME`),
//! each the way its own crate's echo example builds it, listening on a free loopback port
//! with `TCP_NODELAY` on every connection. A process of its own makes every server's CPU
//! time measurable the same way (`/proc/PID/stat`), apart from the client's.

use std::io::{BufRead, BufReader, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use anyhow::{bail, ensure, Context as _};

/// A server under load: its address, and its process (killed on drop) unless it was
/// already running (`--wsc-url`).
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) name: &'static str,
    pub(crate) addr: String,
    process: Option<Child>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.process.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Server {
    /// CPU time (user and system, all threads, exited ones included) the server's process
    /// has used so far; `None` for a server this bench did not start. Linux reports it in
    /// clock ticks of 10 ms.
    pub(crate) fn cpu_time(&self) -> anyhow::Result<Option<Duration>> {
        let Some(child) = &self.process else { return Ok(None) };
        let path = format!("/proc/{}/stat", child.id());
        let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        // Fields after the parenthesised command name start at field 3 (state); utime and
        // stime are fields 14 and 15.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        let (Some(user), Some(system)) = (ticks(11), ticks(12)) else {
            bail!("unexpected {path}: {stat:?}");
        };
        Ok(Some(Duration::from_millis((user + system) * 10)))
    }
}

/// Every server this bench knows, by the name `--servers` takes.
pub(crate) const NAMES: [&str; 4] = ["wsc", "tungstenite", "tokio-websockets", "fastwebsockets"];

/// Starts the server called `name` (one of [`NAMES`]) in a process of its own.
pub(crate) fn start(
    name: &str,
    wsc_bin: Option<PathBuf>,
    wsc_url: Option<&str>,
) -> anyhow::Result<Server> {
    let (label, mut command) = match name {
        "wsc" => {
            if let Some(url) = wsc_url {
                return Ok(Server { name: "wsc serve", addr: host_port(url)?, process: None });
            }
            let bin = wsc_bin.unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/wsc")
            });
            ensure!(
                bin.exists(),
                "{} not found: run `cargo build --release -p wsc` first",
                bin.display()
            );
            // Whatever the binary is today, started the way a user starts it.
            let mut command = Command::new(bin);
            command.args(["serve", "--listen", "127.0.0.1:0", "--max-connections", "4096"]);
            ("wsc serve", command)
        }
        "tungstenite" | "tokio-websockets" | "fastwebsockets" => {
            let mut command = Command::new(std::env::current_exe()?);
            command.args(["--serve", name]);
            (label_of(name), command)
        }
        other => bail!("unknown server {other:?}; the servers are {}", NAMES.join(", ")),
    };
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {label}"))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    // From here on, dropping `server` stops the process.
    let mut server = Server { name: label, addr: String::new(), process: Some(child) };
    // "listening on ws://127.0.0.1:PORT/"
    let Some(url) = line.trim().strip_prefix("listening on ") else {
        bail!("unexpected first line from {label}: {line:?}");
    };
    server.addr = host_port(url)?;
    Ok(server)
}

fn label_of(name: &str) -> &'static str {
    match name {
        "tungstenite" => "tungstenite echo",
        "tokio-websockets" => "tokio-websockets echo",
        _ => "fastwebsockets echo",
    }
}

/// `load --serve NAME`: runs the peer echo server `name` in this process, prints
/// `listening on ws://ADDR/` and serves until killed.
pub(crate) fn serve(name: &str) -> anyhow::Result<()> {
    let (addr, _keep) = match name {
        "tungstenite" => (start_tungstenite_echo()?, None),
        "tokio-websockets" => {
            let (addr, rt) = start_tokio_websockets_echo()?;
            (addr, Some(rt))
        }
        "fastwebsockets" => {
            let (addr, rt) = start_fastwebsockets_echo()?;
            (addr, Some(rt))
        }
        other => bail!("no peer server called {other:?}"),
    };
    let mut out = std::io::stdout();
    writeln!(out, "listening on ws://{addr}/")?;
    out.flush()?;
    loop {
        thread::park();
    }
}

/// `host:port` of a ws:// URL on loopback.
pub(crate) fn host_port(url: &str) -> anyhow::Result<String> {
    let rest = url.strip_prefix("ws://").context("only ws:// URLs")?;
    let authority = rest.split('/').next().unwrap_or(rest);
    ensure!(
        authority.starts_with("127.")
            || authority.starts_with("localhost")
            || authority.starts_with("[::1]"),
        "the load check runs on loopback only"
    );
    Ok(authority.to_owned())
}

/// A tungstenite echo server built like `wsc serve`: an accept loop, one thread per
/// connection, blocking `tungstenite::accept`, read and send back.
fn start_tungstenite_echo() -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_nodelay(true);
            thread::spawn(move || {
                let Ok(mut ws) = tungstenite::accept(stream) else { return };
                loop {
                    match ws.read() {
                        Ok(
                            msg @ (tungstenite::Message::Binary(_) | tungstenite::Message::Text(_)),
                        ) => {
                            if ws.send(msg).is_err() {
                                return;
                            }
                        }
                        // Pongs and the close reply are queued by `read` and flushed here.
                        Ok(_) => {
                            let _ = ws.flush();
                        }
                        Err(_) => return,
                    }
                }
            });
        }
    });
    Ok(addr)
}

/// A tokio runtime with one worker thread per CPU (the default), I/O enabled.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_io().build().context("tokio runtime")
}

/// The tokio-websockets echo server of its own `examples/echo_server.rs`, on a
/// multi-threaded tokio runtime: `ServerBuilder::accept`, then `next` and `send` back each
/// text or binary message, every connection an unconstrained task.
fn start_tokio_websockets_echo() -> anyhow::Result<(String, tokio::runtime::Runtime)> {
    use futures_util::{SinkExt, StreamExt};
    let rt = runtime()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?.to_string();
    rt.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(tokio::task::unconstrained(async move {
                let Ok((_, mut ws)) = tokio_websockets::ServerBuilder::new().accept(stream).await
                else {
                    return;
                };
                while let Some(Ok(msg)) = ws.next().await {
                    if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                        return;
                    }
                }
            }));
        }
    });
    Ok((addr, rt))
}

/// The fastwebsockets echo server of its own `examples/echo_server.rs`, on a
/// multi-threaded tokio runtime: hyper's HTTP/1 server with `fastwebsockets::upgrade`,
/// then a `FragmentCollector` that reads each message and writes it back (its defaults
/// answer pings and closes), every connection an unconstrained task.
fn start_fastwebsockets_echo() -> anyhow::Result<(String, tokio::runtime::Runtime)> {
    use fastwebsockets::{upgrade, FragmentCollector, OpCode, WebSocketError};
    use http_body_util::Empty;
    use hyper::body::{Bytes, Incoming};
    use hyper::{server::conn::http1, service::service_fn, Request, Response};

    async fn echo(fut: upgrade::UpgradeFut) -> Result<(), WebSocketError> {
        let mut ws = FragmentCollector::new(fut.await?);
        loop {
            let frame = ws.read_frame().await?;
            match frame.opcode {
                OpCode::Close => return Ok(()),
                OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
                _ => {}
            }
        }
    }

    async fn upgrade(mut req: Request<Incoming>) -> Result<Response<Empty<Bytes>>, WebSocketError> {
        let (response, fut) = upgrade::upgrade(&mut req)?;
        tokio::spawn(tokio::task::unconstrained(async move {
            let _ = echo(fut).await;
        }));
        Ok(response)
    }

    let rt = runtime()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?.to_string();
    rt.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = http1::Builder::new()
                    .serve_connection(io, service_fn(upgrade))
                    .with_upgrades()
                    .await;
            });
        }
    });
    Ok((addr, rt))
}
