//! Load check of whole servers: `wsc serve` and the echo servers of tungstenite,
//! tokio-websockets and fastwebsockets, loaded in the same run by the same client, on
//! loopback only.
//!
//! ```sh
//! cargo build --release -p wsc
//! cargo bench -p wscodec-benches --bench load
//! ```
//!
//! For each shape (default: 100 connections x 20 bytes, then 10 connections x 16 KiB, the
//! uWebSockets load-test shapes) and each server, one client thread per connection opens a
//! WebSocket (the `wscodec` blocking client over `std::net::TcpStream`), keeps up to
//! `--window` binary messages in flight, and checks every echo byte for byte against what it
//! sent, in order: a lost, reordered or corrupted echo fails the run. It reports messages
//! per second and MB/s of echoed payload (all connections, wall clock) and the p50 / p99 /
//! max round-trip latency, and the server process's CPU time per message.
//!
//! `wsc serve` is started from `target/release/wsc` (or `--wsc-bin`) on a free port and
//! stopped at the end; `--wsc-url` uses a server that is already running instead. The peers
//! are built into this binary (`servers.rs`) and each runs in a process of its own (this
//! binary with `--serve NAME`): tungstenite with a thread per connection like `wsc serve`,
//! tokio-websockets and fastwebsockets on a multi-threaded tokio runtime.

mod client;
mod servers;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _};
use clap::Parser;

use client::{run_load, Load};

/// Loads `wsc serve` and peer echo servers with the same clients and checks every echo.
#[derive(Debug, Parser)]
struct Args {
    /// Load shapes as CONNECTIONSxBYTES (connections, payload bytes per message); each
    /// shape loads every server in turn.
    #[arg(long = "shape", default_values_t = [Shape::new(100, 20), Shape::new(10, 16384)])]
    shapes: Vec<Shape>,
    /// Messages per connection.
    #[arg(long, default_value_t = 2000)]
    messages: usize,
    /// Messages in flight per connection (1: strict request/response). Keep
    /// `window * bytes` well under the socket buffers (a few hundred KiB).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    window: u32,
    /// The servers to load, in this order.
    #[arg(long, value_delimiter = ',', default_values_t = servers::NAMES.map(String::from))]
    servers: Vec<String>,
    /// The `wsc` binary to start as `wsc serve --listen 127.0.0.1:0`.
    #[arg(long)]
    wsc_bin: Option<PathBuf>,
    /// Use a `wsc serve` already listening at this ws:// URL (loopback) instead.
    #[arg(long)]
    wsc_url: Option<String>,
    /// Give up (and fail) after this many seconds per server and shape.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
    /// Internal: run this peer echo server in this process (see `servers.rs`).
    #[arg(long, hide = true)]
    serve: Option<String>,
}

/// Connections and payload bytes per message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) connections: usize,
    pub(crate) size: usize,
}

impl Shape {
    const fn new(connections: usize, size: usize) -> Self {
        Self { connections, size }
    }
}

impl FromStr for Shape {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parsed = s.split_once('x').and_then(|(c, b)| Some((c.parse().ok()?, b.parse().ok()?)));
        match parsed {
            Some((connections, size)) if connections > 0 && size > 0 => {
                Ok(Self::new(connections, size))
            }
            _ => Err(format!("{s:?} is not CONNECTIONSxBYTES, e.g. 100x20")),
        }
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.connections, self.size)
    }
}

/// What one server achieved under one shape.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) name: &'static str,
    pub(crate) shape: Shape,
    pub(crate) messages: usize,
    pub(crate) elapsed: Duration,
    pub(crate) latencies: Vec<Duration>,
    /// CPU time the server's process used during the load (`None`: not measured).
    pub(crate) server_cpu: Option<Duration>,
}

impl Report {
    fn percentile(&self, p: f64) -> Duration {
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(i).copied().unwrap_or_default()
    }

    fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }

    /// Echoed payload, in 10^6 bytes per second.
    fn megabytes(&self) -> f64 {
        self.rate() * self.shape.size as f64 / 1e6
    }

    /// The server's CPU time per echoed message, in µs.
    fn cpu_per_message(&self) -> String {
        self.server_cpu.map_or_else(
            || "–".to_owned(),
            |cpu| format!("{:.1} µs", cpu.as_secs_f64() * 1e6 / self.messages as f64),
        )
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(name) = &args.serve {
        return servers::serve(name);
    }
    ensure!(args.messages > 0, "need at least one message per connection");
    let mut running = Vec::new();
    for name in &args.servers {
        let server = servers::start(name, args.wsc_bin.clone(), args.wsc_url.as_deref())
            .with_context(|| format!("starting the {name} server"))?;
        running.push(server);
    }
    println!(
        "load: {} messages per connection, window {}, loopback; servers: {}",
        args.messages,
        args.window,
        running.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
    );
    let mut reports = Vec::new();
    for &shape in &args.shapes {
        for server in &running {
            let load = Load {
                shape,
                messages: args.messages,
                window: args.window as usize,
                deadline: Instant::now() + Duration::from_secs(args.timeout),
            };
            let before = server.cpu_time()?;
            let mut report = run_load(server.name, &server.addr, load)
                .with_context(|| format!("{} at {}, shape {shape}", server.name, server.addr))?;
            if let (Some(before), Some(after)) = (before, server.cpu_time()?) {
                report.server_cpu = Some(after.saturating_sub(before));
            }
            println!("{shape}: {} done, {:.0} msg/s", server.name, report.rate());
            reports.push(report);
        }
    }
    drop(running);

    println!();
    println!("| shape | server | messages | msg/s | MB/s | server CPU per msg | p50 | p99 | max |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &reports {
        println!(
            "| {} x {} B | {} | {} | {:.0} | {:.1} | {} | {:.1} µs | {:.1} µs | {:.1} µs |",
            r.shape.connections,
            r.shape.size,
            r.name,
            r.messages,
            r.rate(),
            r.megabytes(),
            r.cpu_per_message(),
            r.percentile(0.50).as_secs_f64() * 1e6,
            r.percentile(0.99).as_secs_f64() * 1e6,
            r.latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e6,
        );
    }
    println!();
    for &shape in &args.shapes {
        let of_shape: Vec<&Report> = reports.iter().filter(|r| r.shape == shape).collect();
        let wsc = of_shape.iter().find(|r| r.name == "wsc serve");
        let best = of_shape
            .iter()
            .filter(|r| r.name != "wsc serve")
            .max_by(|a, b| a.rate().total_cmp(&b.rate()));
        if let (Some(wsc), Some(best)) = (wsc, best) {
            println!(
                "{shape}: wsc serve / best peer ({}): {:.2}x messages/s",
                best.name,
                wsc.rate() / best.rate()
            );
        }
    }
    println!("every echo checked: no loss, no reordering, no corruption");
    Ok(())
}
