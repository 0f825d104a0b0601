//! `wsc autobahn-client`: runs the Autobahn|Testsuite fuzzingserver cases as an echo
//! client, then asks the server to write its reports.

use std::sync::Mutex;
use std::time::Duration;

use anyhow::{bail, Context as _};
use wscodec::io::{Error, StdIo};
use wscodec::{CloseCode, Config, Event, Message};

use crate::deflate::ClientMemory;
use crate::dial::{self, Client};
use crate::tls;
use crate::url::WsUrl;

/// The largest message the cases send is 16 MiB; leave room above it.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;
/// A case that sends nothing for this long is abandoned.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Options of `wsc autobahn-client`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The fuzzingserver, e.g. ws://127.0.0.1:9001
    url: String,
    /// The agent name the reports are filed under.
    #[arg(long, default_value = "wsc")]
    agent: String,
    #[command(flatten)]
    tls: tls::TlsArgs,
    /// Do not offer permessage-deflate (the cases of sections 12 and 13 then report
    /// UNIMPLEMENTED).
    #[arg(long)]
    no_deflate: bool,
    /// Run each case through a connection split into a reader half and a writer half
    /// (`WebSocket::split`): the reader answers pings and the close through the shared
    /// writing side. ws:// only (a TLS stream does not split).
    #[arg(long)]
    split: bool,
}

/// Runs every case, then updates the reports.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let base = WsUrl::parse(&args.url)?;
    if args.split && base.tls {
        bail!("--split needs a ws:// URL: a TLS stream cannot be split into two halves");
    }
    let agent = percent_encode(&args.agent);
    let config = Config { max_message: MAX_MESSAGE as u64, streaming: false, ..Config::default() };
    let mut rx = vec![0u8; MAX_MESSAGE + 4096];
    let mut tx = vec![0u8; 64 * 1024];
    let mut memory = (!args.no_deflate).then(|| ClientMemory::new(MAX_MESSAGE));
    let tls_config = if base.tls { Some(tls::client_config(args.tls.trust())?.0) } else { None };
    let options = dial::Options { tls: tls_config.as_ref(), ..dial::Options::default() };

    let url = base.with_target("/getCaseCount");
    let (mut ws, _) = dial::dial(&url, options, config, &mut rx, &mut tx, None)?;
    let count: u32 = match ws.read().context("reading the case count")? {
        Event::Text(text) => {
            text.trim().parse().with_context(|| format!("case count {text:?} is not a number"))?
        }
        other => bail!("expected the case count as a text message, got {other:?}"),
    };
    finish(&mut ws);
    drop(ws);

    for case in 1..=count {
        eprintln!("case {case}/{count}");
        let url = base.with_target(&format!("/runCase?case={case}&agent={agent}"));
        let deflate = memory.as_mut().map(ClientMemory::lend);
        match dial::dial(&url, options, config, &mut rx, &mut tx, deflate) {
            Ok((mut ws, _)) => {
                ws.stream_mut().0.set_read_timeout(Some(READ_TIMEOUT))?;
                let echoed = if args.split { echo_split(ws) } else { echo(&mut ws) };
                if let Err(e) = echoed {
                    eprintln!("case {case}: {e}");
                }
            }
            Err(e) => eprintln!("case {case}: {e:#}"),
        }
    }

    let url = base.with_target(&format!("/updateReports?agent={agent}"));
    let (mut ws, _) = dial::dial(&url, options, config, &mut rx, &mut tx, None)?;
    finish(&mut ws);
    eprintln!("reports updated for agent {}", args.agent);
    Ok(())
}

/// Echoes every text and binary message until the connection ends, straight from the
/// received bytes.
fn echo(ws: &mut Client<'_>) -> Result<(), Error<std::io::Error>> {
    loop {
        match ws.read_for_reply() {
            Ok((Event::Text(text), mut sender)) => sender.send(Message::Text(text))?,
            Ok((Event::Binary(data), mut sender)) => sender.send(Message::Binary(data))?,
            Ok(_) => {}
            // The closing handshake is over, or the case ended the connection.
            Err(Error::Closed | Error::UnexpectedEof) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// [`echo`], through the halves of the split connection: the reader reads, the writer
/// echoes, and the pongs and the close reply the reader owes go out through the writing
/// side they share.
fn echo_split(mut ws: Client<'_>) -> Result<(), Error<std::io::Error>> {
    let writing = ws.stream_mut().0.get_ref().try_clone().map_err(Error::Write)?;
    let shared = Mutex::new(None);
    let (mut reader, mut writer) =
        ws.split(&shared, |reading| (reading, StdIo(tls::ClientStream::Plain(writing))));
    loop {
        match reader.read() {
            Ok(Event::Text(text)) => writer.send(Message::Text(text))?,
            Ok(Event::Binary(data)) => writer.send(Message::Binary(data))?,
            Ok(_) => {}
            Err(Error::Closed | Error::UnexpectedEof) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// Closes normally (if still open) and waits for the server's close.
fn finish(ws: &mut Client<'_>) {
    let _ = ws.close(CloseCode::NORMAL, "");
    // READ_TIMEOUT is not zero: this fails only on a dead socket, and `read` then ends the loop.
    let _ = ws.stream_mut().0.set_read_timeout(Some(READ_TIMEOUT));
    while ws.read().is_ok() {}
}

/// Percent-encodes everything but unreserved URL characters.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_names_are_percent_encoded() {
        assert_eq!(percent_encode("wsc"), "wsc");
        assert_eq!(percent_encode("wsc 0.1/x"), "wsc%200.1%2Fx");
    }
}
