//! `wsc connect`: a line-oriented client. Stdin lines become messages; received
//! messages are printed on stdout.
//!
//! The WebSocket lends its buffers to each event, so it cannot be shared with a reader
//! thread. One thread owns it and alternates: send the lines a stdin thread has queued,
//! then read with a short socket timeout. A timed-out read leaves the adapter intact
//! (it returns `Error::Io` before touching its buffers), so the next read goes on.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;
use std::sync::mpsc::{self, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use wscodec::io::Error;
use wscodec::{CloseCode, Config, Event, Message};

use crate::dial::{self, WsUrl};
use crate::hex;

/// How long a read waits before the loop checks stdin again.
const POLL: Duration = Duration::from_millis(50);
/// How long to wait for the server's close reply after stdin ends.
const CLOSE_WAIT: Duration = Duration::from_secs(10);
/// Received binary messages are shown up to this many bytes.
const SHOW_BYTES: usize = 64;

/// Options of `wsc connect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The server, e.g. ws://127.0.0.1:9001/
    url: String,
    /// Send this Origin header, as a browser would.
    #[arg(long)]
    origin: Option<String>,
    /// Offer this subprotocol (repeatable, in order of preference).
    #[arg(long = "protocol", value_name = "NAME")]
    protocol: Vec<String>,
    /// Send an extra header (repeatable), e.g. -H 'Authorization: Bearer x'.
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'")]
    header: Vec<String>,
    /// Send each line as a binary message instead of text.
    #[arg(long)]
    binary: bool,
    /// The largest message accepted from the server, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_message: usize,
}

/// Runs the client; exit code 0 after a clean closing handshake, 1 otherwise.
pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let url = WsUrl::parse(&args.url)?;
    let headers = args
        .header
        .iter()
        .map(|h| {
            let (name, value) =
                h.split_once(':').with_context(|| format!("header {h:?} is not 'Name: value'"))?;
            Ok((name.trim(), value.trim()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let protocols: Vec<&str> = args.protocol.iter().map(String::as_str).collect();
    let options =
        dial::Options { origin: args.origin.as_deref(), protocols: &protocols, headers: &headers };
    let config = Config { max_message: args.max_message as u64, streaming: false };
    let mut rx = vec![0u8; args.max_message.saturating_add(4096)];
    let mut tx = vec![0u8; 64 * 1024];
    let (mut ws, protocol) = dial::dial(&url, options, config, &mut rx, &mut tx)?;
    match &protocol {
        Some(p) => eprintln!("connected to {url} (protocol {p})"),
        None => eprintln!("connected to {url}"),
    }
    ws.stream_mut().0.set_read_timeout(Some(POLL))?;

    let lines = spawn_stdin_reader();
    let mut closing_since: Option<Instant> = None;
    let mut stdout = io::stdout().lock();
    loop {
        if closing_since.is_none() {
            loop {
                match lines.try_recv() {
                    Ok(line) if args.binary => ws.send(Message::Binary(&line))?,
                    Ok(line) => ws.send(Message::Text(&String::from_utf8_lossy(&line)))?,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        ws.close(CloseCode::NORMAL, "")?;
                        closing_since = Some(Instant::now());
                        break;
                    }
                }
            }
        }
        match ws.read() {
            Ok(Event::Text(text)) => writeln!(stdout, "{text}")?,
            Ok(Event::Binary(data)) => writeln!(stdout, "{}", describe_binary(data))?,
            Ok(Event::Close { code, reason }) => {
                // Either the reply to our close, or the server's close (already answered).
                let code = code.unwrap_or(CloseCode::NO_STATUS);
                writeln!(stdout, "closed: {code} reason={reason:?}")?;
                stdout.flush()?;
                let clean = code == CloseCode::NO_STATUS || !code.is_error();
                return Ok(if clean { ExitCode::SUCCESS } else { ExitCode::FAILURE });
            }
            Ok(_) => {}
            Err(Error::Io(e))
                if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
            {
                if closing_since.is_some_and(|t| t.elapsed() > CLOSE_WAIT) {
                    let secs = CLOSE_WAIT.as_secs();
                    writeln!(
                        stdout,
                        "closed: {} (no close reply within {secs} s)",
                        CloseCode::ABNORMAL
                    )?;
                    return Ok(ExitCode::FAILURE);
                }
            }
            Err(Error::UnexpectedEof) => {
                writeln!(stdout, "closed: {}", CloseCode::ABNORMAL)?;
                return Ok(ExitCode::FAILURE);
            }
            Err(Error::Protocol(e)) => {
                writeln!(
                    stdout,
                    "closed: {} error={:?} (sent by wsc)",
                    e.close_code(),
                    e.to_string()
                )?;
                return Ok(ExitCode::FAILURE);
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
