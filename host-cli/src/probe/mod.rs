//! `wsc probe`: the connection doctor. Walks a WebSocket connection one step at a time
//! (URL, DNS, TCP, TLS, HTTP upgrade, 101 checks, ping, close) and reports the first step
//! that fails, why, and what to do.
//!
//! The handshake is done by hand with the codec's public pieces
//! (`ClientRequest::encode`, `parse_response`, `Response::validate`) rather than
//! `WebSocket::connect`, so that the exact request and the server's status line and
//! headers can be shown whatever they are.

mod checks;
mod diagnose;
mod hold;
mod report;
mod transport;
mod tunnel;
mod upgrade;
mod verdict;

use std::io::{self, IsTerminal as _, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::json;
use wscodec::deflate::{Offer, Setup};
use wscodec::io::blocking::WebSocket;
use wscodec::io::Options;
use wscodec::io::{Error, StdIo};
use wscodec::{CloseCode, Config, Event, Message};

use self::diagnose::{lost, no_close_reply, no_pong, resolve, truncate};
use self::report::{Report, Step};
use self::upgrade::Upgraded;
use self::verdict::{close_advice, Failure, Verdict};
use crate::deflate::{Memory, WINDOW};
use crate::tls::{self, ClientStream};
use crate::url::WsUrl;

/// The response head must fit this; a larger one is reported as not WebSocket.
const MAX_HEAD: usize = 64 * 1024;
/// How much of a refusal's body is read to explain it.
pub(super) const MAX_BODY: usize = 4096;
/// The probe's receive buffer (messages are handed out in pieces, so any size passes).
const RX_BUF: usize = 64 * 1024;

/// Options of `wsc probe`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    request: crate::dial::RequestArgs,
    /// Seconds each network step may take (connect, TLS, response, pong, close reply).
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    timeout: f64,
    /// After the handshake, stay silent (send no pings) for SECS seconds, then report
    /// whether something on the path dropped the idle connection, and when.
    #[arg(long, value_name = "SECS")]
    hold: Option<f64>,
    /// Print one JSON object instead of the report.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    tls: tls::TlsArgs,
    #[command(flatten)]
    client_cert: crate::client_cert::CertArgs,
    #[command(flatten)]
    proxy: crate::proxy::ProxyArgs,
}

/// Runs the probe; exit code 0 only when every step passed.
pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 3600.0,
        "--timeout must be between 0 and 3600 seconds"
    );
    if let Some(hold) = args.hold {
        anyhow::ensure!(
            hold.is_finite() && hold > 0.0 && hold <= 86_400.0,
            "--hold must be between 0 and 86400 seconds"
        );
    }
    let headers = args
        .request
        .headers()?
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let mut probe = Probe {
        args,
        headers,
        timeout: Duration::from_secs_f64(args.timeout),
        report: Report { url: args.request.url.clone(), ..Report::default() },
        answered_by: None,
        client_cert: crate::client_cert::Asked::Nothing,
    };
    // Each step records itself; the first failure ends the walk.
    let _ = probe.walk();
    let report = probe.report;
    let mut stdout = io::stdout().lock();
    if args.json {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&report.to_json())?)?;
    } else {
        let colour = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
        write!(stdout, "{}", report.to_text(colour))?;
    }
    stdout.flush()?;
    Ok(if report.verdict() == Verdict::Ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

struct Probe<'a> {
    args: &'a Args,
    headers: Vec<(String, String)>,
    timeout: Duration,
    report: Report,
    /// The `Server` (or `Via`) header of the 101: who answered, for the hold step.
    answered_by: Option<String>,
    /// What the server asked for in the TLS handshake (a client certificate), for its
    /// verdict on it, which TLS 1.3 sends with the first read.
    client_cert: crate::client_cert::Asked,
}

/// A step's successful result: its detail line, transcript lines and extra JSON.
struct Done<T> {
    value: T,
    detail: String,
    transcript: Vec<String>,
    extra: Vec<(&'static str, serde_json::Value)>,
}

impl<T> Done<T> {
    fn new(value: T, detail: impl Into<String>) -> Self {
        Self { value, detail: detail.into(), transcript: Vec::new(), extra: Vec::new() }
    }
}

/// A step's failure, with what it had seen so far.
struct Failed {
    failure: Box<Failure>,
    transcript: Vec<String>,
    extra: Vec<(&'static str, serde_json::Value)>,
}

impl From<Failure> for Failed {
    fn from(failure: Failure) -> Self {
        Self { failure: Box::new(failure), transcript: Vec::new(), extra: Vec::new() }
    }
}

impl Probe<'_> {
    /// Runs `f` as the step `name`, timing it and recording the result.
    fn step<T>(
        &mut self,
        name: &'static str,
        f: impl FnOnce(&mut Self) -> Result<Done<T>, Failed>,
    ) -> Result<T, ()> {
        let start = Instant::now();
        let result = f(self);
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        match result {
            Ok(done) => {
                self.report.steps.push(Step {
                    name,
                    ok: true,
                    ms,
                    detail: done.detail,
                    transcript: done.transcript,
                    extra: done.extra,
                });
                Ok(done.value)
            }
            Err(failed) => {
                self.report.steps.push(Step {
                    name,
                    ok: false,
                    ms,
                    detail: failed.failure.detail.clone(),
                    transcript: failed.transcript,
                    extra: failed.extra,
                });
                self.report.failure = Some(*failed.failure);
                Err(())
            }
        }
    }

    fn walk(&mut self) -> Result<(), ()> {
        let url = self.step("url", |p| p.parse_url())?;
        self.report.url = url.to_string();
        let tcp = self.reach(&url)?;
        let stream = if url.tls {
            self.step("tls", |p| p.tls(&url, tcp))?
        } else {
            ClientStream::Plain(tcp)
        };
        let nonce = wscodec::random::nonce();
        let Upgraded { stream, head, consumed, checks } =
            self.step("upgrade", |p| p.upgrade(&url, stream, nonce))?;
        let mut rx = vec![0u8; RX_BUF];
        let mut tx = vec![0u8; 16 * 1024];
        let leftover = head.len() - consumed;
        rx[..leftover].copy_from_slice(&head[consumed..]);
        let config = Config { max_message: u64::MAX, streaming: true, ..Config::default() };
        let mask: fn() -> [u8; 4] = wscodec::random::mask_key;
        // Streaming mode: inflated pieces come out of the window, no output storage.
        let (mut memory, mut output) = (Memory::new(), Vec::new());
        let options = Options::new(&mut rx, &mut tx)
            .with_config(config)
            .with_received(leftover)
            .with_deflate(memory.lend(&mut output, true));
        let ws = WebSocket::client(StdIo(stream), options, mask);
        // Decided from the response the upgrade step parsed.
        let mut ws = self.step("checks", |_| {
            let done = checks?;
            let header = || head_header(&head, "Sec-WebSocket-Extensions");
            let ws = checks::start_deflate(ws, done.value, header)?;
            Ok(Done {
                value: ws,
                detail: done.detail,
                transcript: done.transcript,
                extra: done.extra,
            })
        })?;
        if let Some(secs) = self.args.hold {
            self.step("hold", |p| p.hold(&mut ws, Duration::from_secs_f64(secs)))?;
        }
        self.step("ping", |p| p.ping(&mut ws))?;
        self.step("close", |p| p.close(&mut ws))?;
        Ok(())
    }

    /// A TCP stream to the server: directly (steps dns and tcp), or through a proxy (step
    /// proxy, after step dns for socks5://, where wsc resolves the name).
    fn reach(&mut self, url: &WsUrl) -> Result<TcpStream, ()> {
        let route = match self.args.proxy.route(url) {
            Ok(route) => route,
            Err(e) => {
                let failure = Failure::new(
                    Verdict::InvalidUrl,
                    "the proxy URL cannot be used",
                    format!("{e:#}"),
                    "write the proxy as http://[USER:PASSWORD@]HOST:PORT, \
                     socks5://[USER:PASSWORD@]HOST:PORT or socks5h://...; --no-proxy connects \
                     directly",
                );
                self.step::<()>("proxy", |_| Err(failure.into()))?;
                return Err(());
            }
        };
        self.report.notes.extend(route.notes().iter().cloned());
        let Some(chosen) = route.proxy() else {
            let addrs = self.step("dns", |_| resolve(url))?;
            return self.step("tcp", |p| p.connect(url, &addrs));
        };
        let resolved = if chosen.url.kind == crate::proxy::Kind::Socks5 {
            Some(self.step("dns", |_| resolve(url))?)
        } else {
            None
        };
        self.step("proxy", |p| p.tunnel(url, chosen, resolved.as_deref()))
    }

    /// The permessage-deflate offer (unless `--no-deflate`): a 32 KiB window in streaming
    /// mode, each message compressed on its own, as [`Memory`] lends it.
    fn offer(&self) -> Option<(Offer, Setup)> {
        if self.args.request.no_deflate {
            return None;
        }
        let setup = Setup { send_no_context_takeover: true, streaming: true, ..Setup::new(WINDOW) };
        Offer::for_setup(&setup).map(|offer| (offer, setup))
    }

    fn parse_url(&mut self) -> Result<Done<WsUrl>, Failed> {
        let url = WsUrl::parse(&self.args.request.url).map_err(|e| {
            let given = self.args.request.url.trim();
            let lower = given.to_ascii_lowercase();
            let hint = if let Some(rest) = lower.strip_prefix("https://").map(|_| &given[8..]) {
                format!(
                    "use wss://{rest}: the WebSocket URL names the server like the page's URL \
                     does, but with wss:// for https:// (the path is usually different, e.g. /ws)"
                )
            } else if let Some(rest) = lower.strip_prefix("http://").map(|_| &given[7..]) {
                format!(
                    "use ws://{rest}: the WebSocket URL names the server like the page's URL \
                     does, but with ws:// for http:// (the path is usually different, e.g. /ws)"
                )
            } else {
                "write it as ws://host[:port]/path, or wss://host[:port]/path for TLS".to_owned()
            };
            Failure::new(
                Verdict::InvalidUrl,
                format!("{given:?} is not a WebSocket URL"),
                format!("{e:#}"),
                hint,
            )
        })?;
        if let Some(origin) = &self.args.request.origin {
            if origin.starts_with("https://") && !url.tls {
                self.report.notes.push(format!(
                    "the Origin {origin} is an https:// page: browsers block ws:// from https:// \
                     pages as mixed content (\"insecure WebSocket connection\"); such a page \
                     must use {}",
                    WsUrl { tls: true, ..url.clone() }
                ));
            }
        }
        let port = if url.host_header().ends_with(&format!(":{}", url.port)) {
            url.port.to_string()
        } else {
            format!("{} (default for {}://)", url.port, url.scheme())
        };
        let detail = format!(
            "{}:// ({}), host {}, port {port}, path {}",
            url.scheme(),
            if url.tls { "TLS" } else { "no TLS" },
            url.host,
            url.target
        );
        Ok(Done::new(url, detail))
    }

    fn ping(&mut self, ws: &mut Probed<'_>) -> Result<Done<()>, Failed> {
        let payload = format!("wsc-probe {:08x}", u32::from_ne_bytes(wscodec::random::mask_key()));
        let sent = Instant::now();
        ws.send(Message::Ping(payload.as_bytes())).map_err(|e| lost(&e, "sending a ping"))?;
        let deadline = sent + self.timeout;
        let mut before = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(no_pong(self.timeout));
            }
            bound_next_read(ws, left, "waiting for the pong")?;
            match ws.read() {
                Ok(Event::Pong(data)) if data == payload.as_bytes() => {
                    let rtt = sent.elapsed().as_secs_f64() * 1000.0;
                    let mut detail =
                        format!("pong after {rtt:.1} ms ({} byte payload echoed)", data.len());
                    if !before.is_empty() {
                        detail.push_str(&format!("; the server sent first: {}", before.join(", ")));
                    }
                    let mut done = Done::new((), detail);
                    done.extra.push(("rtt_ms", json!((rtt * 10.0).round() / 10.0)));
                    return Ok(done);
                }
                Ok(Event::Close { code, reason }) => {
                    let code = code.unwrap_or(CloseCode::NO_STATUS);
                    let (cause, hint) = close_advice(code, reason);
                    return Err(Failure::new(
                        Verdict::ClosedWithError,
                        format!("the server closed with {code} before answering the ping"),
                        cause,
                        hint,
                    )
                    .into());
                }
                Ok(Event::Text(t)) => before.push(format!("text {:?}", truncate(t, 60))),
                Ok(Event::Binary(b)) => before.push(format!("binary ({} bytes)", b.len())),
                Ok(Event::Piece { kind, last: true, .. }) => {
                    before.push(format!("{kind:?} message").to_lowercase())
                }
                Ok(_) => {}
                Err(Error::Read(e)) if crate::timed::is_timeout(&e) => {
                    return Err(no_pong(self.timeout));
                }
                Err(e) => return Err(lost(&e, "waiting for the pong")),
            }
        }
    }

    fn close(&mut self, ws: &mut Probed<'_>) -> Result<Done<()>, Failed> {
        ws.close(CloseCode::NORMAL, "wsc probe done")
            .map_err(|e| lost(&e, "sending the close frame"))?;
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(no_close_reply(self.timeout));
            }
            bound_next_read(ws, left, "waiting for the close reply")?;
            match ws.read() {
                Ok(Event::Close { code, reason }) => {
                    let shown = code.unwrap_or(CloseCode::NO_STATUS);
                    if code.is_some_and(|c| c != CloseCode::NORMAL && c.is_error()) {
                        let (cause, hint) = close_advice(shown, reason);
                        return Err(Failure::new(
                            Verdict::ClosedWithError,
                            format!("sent 1000, the server answered {shown}"),
                            cause,
                            hint,
                        )
                        .into());
                    }
                    return Ok(Done::new((), format!("sent 1000, the server answered {shown}")));
                }
                Ok(_) => {}
                Err(Error::Read(e)) if crate::timed::is_timeout(&e) => {
                    return Err(no_close_reply(self.timeout));
                }
                Err(e) => return Err(lost(&e, "waiting for the close reply")),
            }
        }
    }
}

/// Reads the body of a refusal until it has `want` bytes, the server closes, or
/// `deadline` (whatever comes first: the body only helps to explain the refusal).
pub(super) fn read_body(
    stream: &mut ClientStream,
    body: &mut Vec<u8>,
    want: usize,
    deadline: Instant,
) {
    let mut chunk = [0u8; 1024];
    while body.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        let room = chunk.len().min(want - body.len());
        match stream.read(&mut chunk[..room]) {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The probe's connection after the handshake.
type Probed<'b> = WebSocket<'b, StdIo<ClientStream>, fn() -> [u8; 4], &'b mut Vec<u8>>;

/// Bounds the next read on `ws` by `left` (what is left of a step's deadline, never
/// zero). Without it a silent server could hold the read forever, so a socket that
/// refuses the timeout ends the step as a dropped connection.
fn bound_next_read(ws: &mut Probed<'_>, left: Duration, doing: &str) -> Result<(), Failed> {
    ws.stream_mut().0.set_read_timeout(Some(left)).map_err(|e| lost(&Error::Read(e), doing))
}

/// The value of header `name` in the response head `head`, as text.
fn head_header(head: &[u8], name: &str) -> Option<String> {
    let mut headers = [wscodec::handshake::Header::EMPTY; wscodec::handshake::MAX_HEADERS];
    let parsed = wscodec::handshake::client::parse_response(head, &mut headers).ok()?;
    let wscodec::Status::Complete { value: response, .. } = parsed else { return None };
    response.header(name).map(|v| String::from_utf8_lossy(v).into_owned())
}
