//! `wsc connect`: a line-oriented client. Stdin lines become messages; received
//! messages are printed on stdout.
//!
//! The WebSocket lends its buffers to each event, so it cannot be shared with a reader
//! thread. One thread owns it and alternates: send the lines a stdin thread has queued,
//! then read with a short socket timeout. A timed-out read leaves the adapter intact
//! (it returns `Error::Read` before touching its buffers), so the next read goes on.
//!
//! With `--reconnect`, a connection that ends abnormally (1006) or with a close code that
//! invites a retry (see [`wscodec::backoff::should_retry`]) is made again after a delay
//! from [`wscodec::backoff::Backoff`]; the stdin reader outlives the connections, so lines
//! typed while disconnected are sent once connected again.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;
use std::sync::mpsc::{self, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use wscodec::backoff::{should_retry, Backoff};
use wscodec::io::Error;
use wscodec::{CloseCode, Config, Event, HandshakeError, Message};

use crate::deflate::{describe, ClientMemory};
use crate::dial::{self, Client};
use crate::url::WsUrl;
use crate::{hex, proxy, tls};

/// How long a read waits before the loop checks stdin again.
const POLL: Duration = Duration::from_millis(50);
/// How long to wait for the server's close reply after stdin ends.
const CLOSE_WAIT: Duration = Duration::from_secs(10);
/// Received binary messages are shown up to this many bytes.
const SHOW_BYTES: usize = 64;

/// Options of `wsc connect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    request: dial::RequestArgs,
    /// Send each line as a binary message instead of text.
    #[arg(long)]
    binary: bool,
    /// The largest message accepted from the server, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_message: usize,
    #[command(flatten)]
    tls: tls::TlsArgs,
    #[command(flatten)]
    proxy: proxy::ProxyArgs,
    /// Reconnect, with exponential backoff and full jitter, when the connection drops
    /// (1006), closes with 1001 or 1011-1014, or cannot be made. A normal close (1000)
    /// and policy or protocol closes (1002, 1003, 1007, 1008, ...) end the session.
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

/// How one connection ended.
enum Outcome {
    /// Stdin ended and the closing handshake is over (or failed): exit with this.
    Done(ExitCode),
    /// The connection ended on its own: `None` when it dropped without a close frame.
    Lost { code: Option<CloseCode>, exit: ExitCode },
}

/// Runs the client; exit code 0 after a clean closing handshake, 1 otherwise.
pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let url = WsUrl::parse(&args.request.url)?;
    let headers = args.request.headers()?;
    let protocols = args.request.protocols();
    let tls_config = if url.tls { Some(tls::client_config(args.tls.trust())?.0) } else { None };
    let route = args.proxy.route(&url)?;
    for note in route.notes() {
        eprintln!("note: {note}");
    }
    let via = route.proxy().map(|chosen| format!(" via {chosen}")).unwrap_or_default();
    let options = dial::Options {
        origin: args.request.origin.as_deref(),
        protocols: &protocols,
        headers: &headers,
        tls: tls_config.as_ref(),
        proxy: route.proxy(),
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
    let lines = spawn_stdin_reader();
    loop {
        let deflate = memory.as_mut().map(ClientMemory::lend);
        let why = match dial::dial(&url, options, config, &mut rx, &mut tx, deflate) {
            Ok((mut ws, protocol)) => {
                let protocol = protocol.map(|p| format!(" (protocol {p})")).unwrap_or_default();
                let deflate = ws
                    .deflate()
                    .map(|a| format!(", {}", describe(&a, wscodec::Role::Client)))
                    .unwrap_or_default();
                eprintln!("connected to {url}{via}{protocol}{deflate}");
                let up = Instant::now();
                let outcome = session(&mut ws, &lines, args.binary)?;
                backoff
                    .connection_lasted(u32::try_from(up.elapsed().as_millis()).unwrap_or(u32::MAX));
                match outcome {
                    Outcome::Done(exit) => return Ok(exit),
                    Outcome::Lost { exit, .. } if !args.reconnect => return Ok(exit),
                    Outcome::Lost { code, exit } => {
                        let wanted = code.is_some_and(|c| args.retry_on.contains(&c.as_u16()));
                        if !should_retry(code) && !wanted {
                            let code = code.unwrap_or(CloseCode::ABNORMAL);
                            eprintln!(
                                "not reconnecting after {code} (pass --retry-on {} to retry it)",
                                code.as_u16()
                            );
                            return Ok(exit);
                        }
                        format!("after {}", code.unwrap_or(CloseCode::ABNORMAL))
                    }
                }
            }
            Err(e) if !args.reconnect => return Err(e),
            Err(e) if is_final(&e) => {
                eprintln!("not reconnecting: {e:#}");
                return Ok(ExitCode::FAILURE);
            }
            Err(e) => format!("connecting failed: {e:#}"),
        };
        let random = u32::from_ne_bytes(wscodec::random::mask_key());
        let attempt = backoff.attempt() + 1;
        let Some(delay) = backoff.next_delay_ms(random) else {
            eprintln!("giving up after {} attempts ({why})", attempt - 1);
            return Ok(ExitCode::FAILURE);
        };
        let of = args.max_retries.map(|m| format!(" of {m}")).unwrap_or_default();
        eprintln!("reconnecting in {delay} ms (attempt {attempt}{of}, {why})");
        thread::sleep(Duration::from_millis(u64::from(delay)));
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

/// Runs one connection: sends the queued stdin lines, prints what arrives.
fn session(
    ws: &mut Client<'_>,
    lines: &mpsc::Receiver<Vec<u8>>,
    binary: bool,
) -> anyhow::Result<Outcome> {
    ws.stream_mut().0.set_read_timeout(Some(POLL))?;
    let mut closing_since: Option<Instant> = None;
    let mut stdout = io::stdout().lock();
    loop {
        if closing_since.is_none() {
            loop {
                let sent = match lines.try_recv() {
                    Ok(line) if binary => ws.send(Message::Binary(&line)),
                    Ok(line) => ws.send(Message::Text(&String::from_utf8_lossy(&line))),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        closing_since = Some(Instant::now());
                        ws.close(CloseCode::NORMAL, "")
                    }
                };
                match sent {
                    Ok(()) if closing_since.is_some() => break,
                    Ok(()) => {}
                    // The server went away between two reads: the send failed, and the
                    // connection is closed without a closing handshake.
                    Err(Error::Write(_)) => {
                        writeln!(stdout, "closed: {}", CloseCode::ABNORMAL)?;
                        return Ok(if closing_since.is_some() {
                            Outcome::Done(ExitCode::FAILURE)
                        } else {
                            Outcome::Lost { code: None, exit: ExitCode::FAILURE }
                        });
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        match ws.read() {
            Ok(Event::Text(text)) => writeln!(stdout, "{text}")?,
            Ok(Event::Binary(data)) => writeln!(stdout, "{}", describe_binary(data))?,
            Ok(Event::Close { code, reason }) => {
                // Either the reply to our close, or the server's close (already answered).
                let shown = code.unwrap_or(CloseCode::NO_STATUS);
                writeln!(stdout, "closed: {shown} reason={reason:?}")?;
                stdout.flush()?;
                let clean = shown == CloseCode::NO_STATUS || !shown.is_error();
                let exit = if clean { ExitCode::SUCCESS } else { ExitCode::FAILURE };
                return Ok(if closing_since.is_some() {
                    Outcome::Done(exit)
                } else {
                    Outcome::Lost { code: Some(shown), exit }
                });
            }
            Ok(_) => {}
            Err(Error::Read(e)) if crate::timed::is_timeout(&e) => {
                if closing_since.is_some_and(|t| t.elapsed() > CLOSE_WAIT) {
                    let secs = CLOSE_WAIT.as_secs();
                    writeln!(
                        stdout,
                        "closed: {} (no close reply within {secs} s)",
                        CloseCode::ABNORMAL
                    )?;
                    return Ok(Outcome::Done(ExitCode::FAILURE));
                }
            }
            Err(Error::UnexpectedEof | Error::Read(_) | Error::Write(_))
                if closing_since.is_none() =>
            {
                writeln!(stdout, "closed: {}", CloseCode::ABNORMAL)?;
                return Ok(Outcome::Lost { code: None, exit: ExitCode::FAILURE });
            }
            // Closing, and the server vanished instead of answering (EOF, or a reset
            // because our close frame hit a socket it had already closed).
            Err(Error::UnexpectedEof | Error::Read(_) | Error::Write(_)) => {
                writeln!(stdout, "closed: {}", CloseCode::ABNORMAL)?;
                return Ok(Outcome::Done(ExitCode::FAILURE));
            }
            Err(Error::Protocol(e)) => {
                writeln!(
                    stdout,
                    "closed: {} error={:?} (sent by wsc)",
                    e.close_code(),
                    e.to_string()
                )?;
                // Our own complaint about the server: retrying would meet the same bug.
                let code = Some(e.close_code());
                return Ok(if closing_since.is_some() {
                    Outcome::Done(ExitCode::FAILURE)
                } else {
                    Outcome::Lost { code, exit: ExitCode::FAILURE }
                });
            }
            Err(e) => return Err(e.into()),
        }
        stdout.flush()?;
    }
}

/// Reads stdin lines (without the line ending) into a channel; the channel closes at EOF.
fn spawn_stdin_reader() -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        loop {
            let mut line = Vec::new();
            match stdin.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if line.last() == Some(&b'\n') {
                        line.pop();
                        if line.last() == Some(&b'\r') {
                            line.pop();
                        }
                    }
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });
    receiver
}

/// `<binary N bytes: 01 02 ...>`, showing at most [`SHOW_BYTES`] bytes.
pub(crate) fn describe_binary(data: &[u8]) -> String {
    let shown = &data[..data.len().min(SHOW_BYTES)];
    let more = if data.len() > SHOW_BYTES { " ..." } else { "" };
    format!("<binary {} bytes: {}{more}>", data.len(), hex::spaced(shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_is_shown_as_hex_and_truncated() {
        assert_eq!(describe_binary(&[1, 0xff]), "<binary 2 bytes: 01 ff>");
        assert_eq!(describe_binary(&[]), "<binary 0 bytes: >");
        let long = describe_binary(&[0; 100]);
        assert!(long.starts_with("<binary 100 bytes: 00 00") && long.ends_with(" ...>"), "{long}");
    }
}
