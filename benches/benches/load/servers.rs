//! The echo servers under load: `wsc serve` (a separate process, started from its binary)
//! and three peers built into this bench binary, each the way its own crate's echo example
//! builds it, listening on a free loopback port with `TCP_NODELAY` on every connection.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;

use anyhow::{bail, ensure, Context as _};

/// A server under load: its address, and whatever keeps it running until dropped.
#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) name: &'static str,
    pub(crate) addr: String,
    _keep: Keep,
}

/// What keeps a server alive: a child process (killed on drop) or a tokio runtime.
#[derive(Debug)]
enum Keep {
    Process(Child),
    Runtime { _runtime: tokio::runtime::Runtime },
    Threads,
}

impl Drop for Keep {
    fn drop(&mut self) {
        if let Self::Process(child) = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Every server this bench knows, by the name `--servers` takes.
pub(crate) const NAMES: [&str; 4] = ["wsc", "tungstenite", "tokio-websockets", "fastwebsockets"];

/// Starts the server called `name` (one of [`NAMES`]).
pub(crate) fn start(
    name: &str,
    wsc_bin: Option<PathBuf>,
    wsc_url: Option<&str>,
) -> anyhow::Result<Server> {
    match name {
        "wsc" => match wsc_url {
            Some(url) => {
                Ok(Server { name: "wsc serve", addr: host_port(url)?, _keep: Keep::Threads })
            }
            None => start_wsc(wsc_bin),
        },
        "tungstenite" => start_tungstenite_echo(),
        "tokio-websockets" => start_tokio_websockets_echo(),
        "fastwebsockets" => start_fastwebsockets_echo(),
        other => bail!("unknown server {other:?}; the servers are {}", NAMES.join(", ")),
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

/// Starts `wsc serve` on a free loopback port: whatever the binary is today, started the
/// way a user starts it.
fn start_wsc(bin: Option<PathBuf>) -> anyhow::Result<Server> {
    let bin = bin
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/wsc"));
    ensure!(bin.exists(), "{} not found: run `cargo build --release -p wsc` first", bin.display());
    let mut child = Command::new(&bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--max-connections", "4096"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let keep = Keep::Process(child);
    // "listening on ws://127.0.0.1:PORT/"
    let Some(url) = line.trim().strip_prefix("listening on ") else {
        bail!("unexpected first line from wsc serve: {line:?}");
    };
    Ok(Server { name: "wsc serve", addr: host_port(url)?, _keep: keep })
}

/// A tungstenite echo server built like `wsc serve`: an accept loop, one thread per
/// connection, blocking `tungstenite::accept`, read and send back.
fn start_tungstenite_echo() -> anyhow::Result<Server> {
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
    Ok(Server { name: "tungstenite echo", addr, _keep: Keep::Threads })
}

/// A tokio runtime with one worker thread per CPU (the default), I/O enabled.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_io().build().context("tokio runtime")
}

/// The tokio-websockets echo server of its own `examples/echo_server.rs`, on a
/// multi-threaded tokio runtime: `ServerBuilder::accept`, then `next` and `send` back each
/// text or binary message, every connection an unconstrained task.
fn start_tokio_websockets_echo() -> anyhow::Result<Server> {
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
    Ok(Server { name: "tokio-websockets echo", addr, _keep: Keep::Runtime { _runtime: rt } })
}

/// The fastwebsockets echo server of its own `examples/echo_server.rs`, on a
/// multi-threaded tokio runtime: hyper's HTTP/1 server with `fastwebsockets::upgrade`,
/// then a `FragmentCollector` that reads each message and writes it back (its defaults
/// answer pings and closes), every connection an unconstrained task.
fn start_fastwebsockets_echo() -> anyhow::Result<Server> {
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
    Ok(Server { name: "fastwebsockets echo", addr, _keep: Keep::Runtime { _runtime: rt } })
}
