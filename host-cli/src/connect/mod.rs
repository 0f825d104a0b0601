//! `wsc connect`: the everyday client. Stdin lines (after the `--on-connect` and `--send`
//! messages) become messages; received messages are printed on stdout, with the control
//! frames under `--show-control`, or as JSON lines under `--jsonl`.
//!
//! After the input ends, the answers are still read until none arrived for `--wait`
//! seconds; then the client closes with 1000. `--ping-interval` and `--ping-timeout` keep
//! the connection alive and notice a dead server. The exit status says at which stage a
//! connection failed ([`status::Status`]).
//!
//! With `--reconnect`, a connection that ends abnormally (1006, a dead peer) or with a
//! close code that invites a retry (see [`wscodec::backoff::should_retry`]) is made again
//! after a delay from [`wscodec::backoff::Backoff`], and the `--on-connect` messages are
//! sent again; the stdin reader outlives the connections, so lines typed while
//! disconnected are sent once connected again.

mod input;
mod session;
mod status;
mod transcript;

use std::ffi::OsString;
use std::io;
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use wscodec::backoff::{should_retry, Backoff};
use wscodec::io::Error;
use wscodec::{CloseCode, Config, HandshakeError};

use self::input::Input;
use self::session::{End, Keepalive, Session, Settings};
pub(crate) use self::status::Status;
use self::transcript::Transcript;
use crate::deflate::{describe, ClientMemory};
use crate::dial;
use crate::url::WsUrl;
use crate::{client_cert, proxy, tls};

/// Options of `wsc connect`.
#[derive(Debug, clap::Args)]
#[command(after_help = Status::help_table())]
pub(crate) struct Args {
    #[command(flatten)]
    request: dial::RequestArgs,
    /// Send this message once connected, before stdin's lines (repeatable, in order).
    #[arg(long = "send", value_name = "MSG", allow_hyphen_values = true)]
    send: Vec<OsString>,
    /// Send this message after every successful connection and reconnection, before
    /// anything else (repeatable): a login or a subscription. @FILE sends each line of
    /// FILE as a message; @@ starts a message with a literal @.
    #[arg(long = "on-connect", value_name = "MSG|@FILE", allow_hyphen_values = true)]
    on_connect: Vec<OsString>,
    /// Do not read stdin: send only the --on-connect and --send messages, then wait for
    /// answers as when stdin ends.
    #[arg(long)]
    no_stdin: bool,
    /// Once the input ended (stdin, or --send with --no-stdin), keep reading until no
    /// message arrived for SECS or the server closed, then close with 1000. 0 closes at
    /// once; `inf` waits for the server to close. Default: 1, or inf with --count.
    #[arg(long, value_name = "SECS", value_parser = parse_wait)]
    wait: Option<Wait>,
    /// Exit 0 after N messages (text or binary) arrived, closing with 1000.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Keepalive: send a ping after SECS without a frame from the server.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    ping_interval: Option<Duration>,
    /// Declare the server dead when no frame (pong or other) arrived SECS after a ping,
    /// or when it took nothing sent to it for SECS: exit with status 9, or reconnect
    /// under --reconnect. Default: the ping interval (and without --ping-interval, pings
    /// go out after SECS of quiet).
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    ping_timeout: Option<Duration>,
    /// Also print pings, pongs and close frames, both ways ('<' received, '>' sent).
    #[arg(long)]
    show_control: bool,
    /// Print one JSON object per line for every event instead: t (seconds since the
    /// connection opened), dir (in, out), type (text, binary, ping, pong, close, open,
    /// error), len, and text, base64 (binary and control payloads), or code and reason.
    #[arg(long)]
    jsonl: bool,
    /// Send each line (and --send, --on-connect) as a binary message instead of text.
    #[arg(long)]
    binary: bool,
    /// The largest message accepted from the server, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_message: usize,
    #[command(flatten)]
    tls: tls::TlsArgs,
    #[command(flatten)]
    client_cert: client_cert::CertArgs,
    #[command(flatten)]
    proxy: proxy::ProxyArgs,
    /// Reconnect, with exponential backoff and full jitter, when the connection drops
    /// (1006), the server is dead (--ping-timeout), closes with 1001 or 1011-1014, or
    /// cannot be made. A normal close (1000) and policy or protocol closes (1002, 1003,
    /// 1007, 1008, ...) end the session.
    #[arg(long)]
    reconnect: bool,
    /// With --reconnect: give up after this many attempts in a row (default: never).
    #[arg(long, value_name = "N", requires = "reconnect")]
    max_retries: Option<u32>,
    /// With --reconnect: the ceiling of the first delay, in milliseconds; it doubles
    /// after each failed attempt.
    #[arg(long, value_name = "MS", default_value_t = 500, requires = "reconnect")]
    backoff_initial: u32,
    /// With --reconnect: the largest delay ceiling, in milliseconds. A connection that
    /// stayed up this long (at least 1 s) resets the schedule.
    #[arg(long, value_name = "MS", default_value_t = 30_000, requires = "reconnect")]
    backoff_max: u32,
    /// With --reconnect: also reconnect after these close codes, e.g. --retry-on 1000,1008.
    #[arg(long, value_name = "CODE", value_delimiter = ',', requires = "reconnect")]
    retry_on: Vec<u16>,
}

/// A positive number of seconds, e.g. `5` or `0.25`.
fn parse_secs(value: &str) -> Result<Duration, String> {
    match value.trim().parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs.is_finite() && secs < 1e9 => {
            Ok(Duration::from_secs_f64(secs))
        }
        _ => Err(format!("{value:?} is not a positive number of seconds (e.g. 5 or 0.5)")),
    }
}

/// `--wait`: how long to wait for answers once the input ended; `None`: until the server
/// closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Wait(Option<Duration>);

/// `--wait`: seconds (0 allowed), or `inf`.
fn parse_wait(value: &str) -> Result<Wait, String> {
    match value.trim() {
        "inf" | "infinity" => Ok(Wait(None)),
        "0" => Ok(Wait(Some(Duration::ZERO))),
        other => parse_secs(other)
            .map(|d| Wait(Some(d)))
            .map_err(|_| format!("{value:?} is not a number of seconds (e.g. 1, 0.5, 0, or inf)")),
    }
}

/// Runs the client; the exit status says how it ended (see [`Status`]).
pub(crate) fn run(args: &Args) -> ExitCode {
    let status = match Client::new(args) {
        Ok(mut client) => client.run().unwrap_or_else(|e| {
            eprintln!("wsc: {e:#}");
            Status::Other
        }),
        Err(e) => {
            eprintln!("wsc: {e:#}");
            Status::Usage
        }
    };
    status.into()
}

/// Everything checked before connecting: a mistake here is a usage error.
struct Client<'a> {
    args: &'a Args,
    url: WsUrl,
    headers: Vec<(&'a str, &'a str)>,
    protocols: Vec<&'a str>,
    tls: Option<tls::ClientTls>,
    route: proxy::Route,
    input: Input,
    settings: Settings,
}

impl<'a> Client<'a> {
    fn new(args: &'a Args) -> anyhow::Result<Self> {
        let url = WsUrl::parse(&args.request.url)?;
        let headers = args.request.headers()?;
        let identity = args.client_cert.load()?;
        if identity.is_some() && !url.tls {
            anyhow::bail!("--cert is for wss:// URLs: {url} has no TLS to present it in");
        }
        let tls = if url.tls {
            let trust = tls::TrustOptions { identity: identity.as_ref(), ..args.tls.trust() };
            Some(tls::client_config(trust)?.0)
        } else {
            None
        };
        let route = args.proxy.route(&url)?;
        let keepalive = match (args.ping_interval, args.ping_timeout) {
            (None, None) => None,
            (interval, timeout) => Some(Keepalive {
                interval: interval.or(timeout).unwrap_or_default(),
                timeout: timeout.or(interval).unwrap_or_default(),
            }),
        };
        let default_wait = if args.count.is_some() { None } else { Some(Duration::from_secs(1)) };
        let settings = Settings {
            keepalive,
            wait: args.wait.map_or(default_wait, |w| w.0),
            count: args.count,
        };
        let input = Input::new(&args.on_connect, &args.send, args.binary, args.no_stdin)?;
        Ok(Self {
            args,
            url,
            headers,
            protocols: args.request.protocols(),
            tls,
            route,
            input,
            settings,
        })
    }

    fn run(&mut self) -> anyhow::Result<Status> {
        let args = self.args;
        for note in self.route.notes() {
            eprintln!("note: {note}");
        }
        let via = self.route.proxy().map(|chosen| format!(" via {chosen}")).unwrap_or_default();
        let options = dial::Options {
            origin: args.request.origin.as_deref(),
            protocols: &self.protocols,
            headers: &self.headers,
            tls: self.tls.as_ref(),
            proxy: self.route.proxy(),
        };
        let config =
            Config { max_message: args.max_message as u64, streaming: false, ..Config::default() };
        let mut rx = vec![0u8; args.max_message.saturating_add(4096)];
        let mut tx = vec![0u8; 64 * 1024];
        let mut memory = (!args.request.no_deflate).then(|| ClientMemory::new(args.max_message));
        let mut backoff = Backoff::new(args.backoff_initial, args.backoff_max);
        if let Some(max) = args.max_retries {
            backoff = backoff.with_max_retries(max);
        }
        let mut out = Transcript::new(args.jsonl, args.show_control);
        let mut received = 0;
        loop {
            out.attempt();
            let deflate = memory.as_mut().map(ClientMemory::lend);
            let (why, status) = match dial::dial(
                &self.url, options, config, &mut rx, &mut tx, deflate,
            ) {
                Ok((mut ws, protocol)) => {
                    let agreed = ws.deflate();
                    let deflate = agreed
                        .map(|a| format!(", {}", describe(&a, wscodec::Role::Client)))
                        .unwrap_or_default();
                    let shown = protocol.as_ref().map(|p| format!(" (protocol {p})"));
                    let url = &self.url;
                    eprintln!("connected to {url}{via}{}{deflate}", shown.unwrap_or_default());
                    out.open(&url.to_string(), protocol.as_deref(), agreed.map(|a| a.to_string()))?;
                    let up = Instant::now();
                    let end = Session::new(&mut ws, &mut out, self.settings)
                        .run(&mut self.input, &mut received)?;
                    let lasted = u32::try_from(up.elapsed().as_millis()).unwrap_or(u32::MAX);
                    backoff.connection_lasted(lasted);
                    match end {
                        End::Done(status) => return Ok(status),
                        End::Dead if !args.reconnect => return Ok(Status::DeadPeer),
                        End::Dead => ("after a dead peer".to_owned(), Status::DeadPeer),
                        End::Lost { status, .. } if !args.reconnect => return Ok(status),
                        End::Lost { code, status } => {
                            let wanted = code.is_some_and(|c| args.retry_on.contains(&c.as_u16()));
                            if !should_retry(code) && !wanted {
                                let code = code.unwrap_or(CloseCode::ABNORMAL);
                                eprintln!(
                                    "not reconnecting after {code} (pass --retry-on {} to retry it)",
                                    code.as_u16()
                                );
                                return Ok(status);
                            }
                            // A close retried on request counts as a failure if retries run out.
                            let status = if status == Status::Normal {
                                Status::AbnormalClose
                            } else {
                                status
                            };
                            (format!("after {}", code.unwrap_or(CloseCode::ABNORMAL)), status)
                        }
                    }
                }
                Err(e) => {
                    let status = Status::of_dial_error(&e);
                    out.error(&format!("{e:#}"), status)?;
                    if !args.reconnect {
                        eprintln!("wsc: {e:#}");
                        return Ok(status);
                    }
                    if is_final(&e) {
                        eprintln!("not reconnecting: {e:#}");
                        return Ok(status);
                    }
                    (format!("connecting failed: {e:#}"), status)
                }
            };
            let random = u32::from_ne_bytes(wscodec::random::mask_key());
            let attempt = backoff.attempt() + 1;
            let Some(delay) = backoff.next_delay_ms(random) else {
                eprintln!("giving up after {} attempts ({why})", attempt - 1);
                return Ok(status);
            };
            let of = args.max_retries.map(|m| format!(" of {m}")).unwrap_or_default();
            eprintln!("reconnecting in {delay} ms (attempt {attempt}{of}, {why})");
            thread::sleep(Duration::from_millis(u64::from(delay)));
        }
    }
}

/// Whether a failed connection attempt would fail the same way again: the server
/// refused the request itself (4xx other than 408 and 429), the handshake answer is
/// wrong, the certificate is, or the proxy wants credentials or refuses the tunnel.
fn is_final(e: &anyhow::Error) -> bool {
    if let Some(failure) = e.downcast_ref::<proxy::Failure>() {
        return matches!(failure.class(), proxy::Class::AuthRequired | proxy::Class::Refused);
    }
    if let Some(tls) = e.downcast_ref::<tls::TlsError>() {
        return !matches!(tls.failure, tls::TlsFailure::Timeout | tls::TlsFailure::Closed);
    }
    match e.downcast_ref::<Error<io::Error>>() {
        Some(Error::Handshake(HandshakeError::UnexpectedStatus(status))) => {
            (400..500).contains(status) && !matches!(status, 408 | 429)
        }
        Some(Error::Handshake(_)) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_parsed() {
        assert_eq!(parse_secs("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_secs("0.25"), Ok(Duration::from_millis(250)));
        for bad in ["0", "-1", "x", "inf", "NaN", ""] {
            assert!(parse_secs(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_wait("0"), Ok(Wait(Some(Duration::ZERO))));
        assert_eq!(parse_wait("1.5"), Ok(Wait(Some(Duration::from_millis(1500)))));
        assert_eq!(parse_wait("inf"), Ok(Wait(None)));
        assert!(parse_wait("-2").is_err());
    }
}
