//! `wsc`: the host tool of `wscodec`.
//!
//! Every WebSocket detail (handshake, framing, masking, close codes) goes through the
//! `wscodec` public API; this binary only adds sockets, threads, a command line and text
//! output.

mod autobahn;
mod client_cert;
mod connect;
mod decode;
mod deflate;
mod dial;
mod hex;
mod probe;
mod proxy;
mod serve;
mod timed;
mod tls;
mod url;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use wscodec::handshake::encode_key;

/// The wscodec host tool: echo server, client, frame dissector, Autobahn client.
#[derive(Debug, Parser)]
#[command(name = "wsc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an echo server (one thread per connection) that also serves a browser test page at `/`.
    Serve(serve::Args),
    /// Connect to a ws:// or wss:// URL: send stdin lines as messages, print received
    /// messages; keepalive, scripting (--send, --count), transcripts (--jsonl).
    Connect(connect::Args),
    /// Print the Sec-WebSocket-Accept value for a Sec-WebSocket-Key.
    Accept {
        /// The Sec-WebSocket-Key value, e.g. dGhlIHNhbXBsZSBub25jZQ==
        key: String,
    },
    /// Print a fresh random Sec-WebSocket-Key.
    Key,
    /// Dissect WebSocket frames given as hex (or raw bytes on stdin).
    Decode(decode::Args),
    /// Diagnose a WebSocket endpoint step by step: URL, DNS, TCP, TLS, upgrade, ping, close.
    Probe(probe::Args),
    /// Run the Autobahn fuzzingserver test cases as an echo client.
    AutobahnClient(autobahn::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Connect(args) => Ok(connect::run(&args)),
        Command::Accept { key } => {
            let accept = wscodec::handshake::accept_key(key.trim().as_bytes());
            println!("{}", String::from_utf8_lossy(&accept));
            Ok(ExitCode::SUCCESS)
        }
        Command::Key => {
            let key = encode_key(wscodec::random::nonce());
            println!("{}", String::from_utf8_lossy(&key));
            Ok(ExitCode::SUCCESS)
        }
        Command::Decode(args) => decode::run(&args),
        Command::Probe(args) => probe::run(&args),
        Command::AutobahnClient(args) => autobahn::run(&args).map(|()| ExitCode::SUCCESS),
    };
    result.unwrap_or_else(|e| {
        eprintln!("wsc: {e:#}");
        ExitCode::from(2)
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
