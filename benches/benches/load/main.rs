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
//! max round-trip latency, and the server process's CPU time per message. `--rounds`
//! repeats the loads, each round in another order, and reports medians: the ratio of
//! `wsc serve` to the best peer is the median of the rounds' ratios.
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
    #[arg(long, default_value_t = 5000)]
    messages: usize,
    /// Rounds: each loads every server once per shape, in an order rotated from round to
    /// round; the table gives each server's median over the rounds, and the ratio to the
    /// best peer is the median of the rounds' ratios. On a shared machine one round of
    /// the 16 KiB shape swings by 10 % either way.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    rounds: u32,
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
    /// Which round of `--rounds` (from 0).
    pub(crate) round: usize,
}

/// One server's rounds under one shape: medians of rate and CPU, latencies of all rounds.
struct Summary {
    rate: f64,
    /// µs per message.
    cpu: Option<f64>,
    /// Seconds.
    p50: f64,
    p99: f64,
    max: f64,
}

impl Summary {
    fn of(runs: &[&Report]) -> Option<Self> {
        if runs.is_empty() {
            return None;
        }
        let rate = median(runs.iter().map(|r| r.rate()).collect());
        let cpus: Option<Vec<f64>> = runs
            .iter()
            .map(|r| r.server_cpu.map(|c| c.as_secs_f64() * 1e6 / r.messages as f64))
            .collect();
        let mut latencies: Vec<Duration> =
            runs.iter().flat_map(|r| r.latencies.iter().copied()).collect();
        latencies.sort_unstable();
        let at = |p: f64| {
            let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
            latencies.get(i).copied().unwrap_or_default().as_secs_f64()
        };
        Some(Self { rate, cpu: cpus.map(median), p50: at(0.50), p99: at(0.99), max: at(1.0) })
    }
}

/// The median (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

impl Report {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
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
        for round in 0..args.rounds as usize {
            for i in 0..running.len() {
                let server = &running[(round + i) % running.len()];
                let load = Load {
                    shape,
                    messages: args.messages,
                    window: args.window as usize,
                    deadline: Instant::now() + Duration::from_secs(args.timeout),
                };
                let before = server.cpu_time()?;
                let mut report = run_load(server.name, &server.addr, load).with_context(|| {
                    format!("{} at {}, shape {shape}", server.name, server.addr)
                })?;
                if let (Some(before), Some(after)) = (before, server.cpu_time()?) {
                    report.server_cpu = Some(after.saturating_sub(before));
                }
                report.round = round;
                println!(
                    "{shape}, round {}: {} done, {:.0} msg/s",
                    round + 1,
                    server.name,
                    report.rate()
                );
                reports.push(report);
            }
        }
    }
    let names: Vec<&'static str> = running.iter().map(|s| s.name).collect();
    drop(running);

    println!();
    println!("| shape | server | rounds × messages | msg/s | MB/s | server CPU per msg | p50 | p99 | max |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for &shape in &args.shapes {
        for &name in &names {
            let runs: Vec<&Report> =
                reports.iter().filter(|r| r.shape == shape && r.name == name).collect();
            let Some(summary) = Summary::of(&runs) else { continue };
            println!(
                "| {} x {} B | {} | {} × {} | {:.0} | {:.1} | {} | {:.1} µs | {:.1} µs | {:.1} µs |",
                shape.connections,
                shape.size,
                name,
                runs.len(),
                runs[0].messages,
                summary.rate,
                summary.rate * shape.size as f64 / 1e6,
                summary.cpu.map_or_else(|| "–".to_owned(), |us| format!("{us:.1} µs")),
                summary.p50 * 1e6,
                summary.p99 * 1e6,
                summary.max * 1e6,
            );
        }
    }
    println!();
    for &shape in &args.shapes {
        let ratios: Vec<(f64, &str)> = (0..args.rounds as usize)
            .filter_map(|round| {
                let of_round: Vec<&Report> =
                    reports.iter().filter(|r| r.shape == shape && r.round == round).collect();
                let wsc = of_round.iter().find(|r| r.name == "wsc serve")?;
                let best = of_round
                    .iter()
                    .filter(|r| r.name != "wsc serve")
                    .max_by(|a, b| a.rate().total_cmp(&b.rate()))?;
                Some((wsc.rate() / best.rate(), best.name))
            })
            .collect();
        if ratios.is_empty() {
            continue;
        }
        let each: Vec<String> = ratios.iter().map(|(r, name)| format!("{r:.2} ({name})")).collect();
        let median = median(ratios.iter().map(|(r, _)| *r).collect());
        println!(
            "{shape}: wsc serve / best peer of the round, messages/s: median {median:.2}x; rounds: {}",
            each.join(", ")
        );
    }
    println!("every echo checked: no loss, no reordering, no corruption");
    Ok(())
}
