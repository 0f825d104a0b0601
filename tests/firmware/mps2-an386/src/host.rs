//! What the board learns from the host through semihosting: its command line (QEMU's
//! `-semihosting-config arg=...`), files (the CA certificate, standing in for one in
//! flash), random numbers (standing in for a hardware RNG), the wall-clock time (standing
//! in for a real-time clock), and the exit status it reports when a client run is over.
//!
//! ```text
//! firmware serve [--port 80] [--max-message BYTES] [--handshake-timeout SECS]
//!                [--idle-timeout SECS] [--write-timeout SECS]
//! firmware client --peer A.B.C.D:PORT
//! firmware autobahn-client --peer A.B.C.D:PORT [--agent NAME]
//! firmware wss-client --peer A.B.C.D:PORT --name NAME --ca CA.der
//! ```

use core::net::SocketAddrV4;

use semihosting::experimental::env::{self, Args};
use static_cell::StaticCell;

/// How long the command line may be.
const ARGS: usize = 512;
/// The largest CA certificate (DER) the board takes.
pub const CA_MAX: usize = 4096;

/// What the board was asked to run.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// The echo servers.
    Serve,
    /// The client exchange with an echo server.
    Client,
    /// Every case of an Autobahn fuzzingserver, then its reports updated.
    AutobahnClient,
    /// The wss:// client exchange.
    WssClient,
}

/// The command line.
#[derive(Debug, Clone, Copy)]
pub struct Command {
    pub mode: Mode,
    pub port: u16,
    pub max_message: u64,
    pub handshake_timeout: u64,
    pub idle_timeout: u64,
    pub write_timeout: u64,
    pub peer: Option<SocketAddrV4>,
    pub agent: &'static str,
    pub name: Option<&'static str>,
    pub ca: Option<&'static str>,
}

/// Stops the board: QEMU exits with `code`.
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

/// Logs `message` and stops the board with exit status 2 (a usage error).
fn usage(message: &str) -> ! {
    defmt::error!("command line: {}", message);
    defmt::error!("usage: firmware serve|client|autobahn-client|wss-client [--port PORT] [--max-message BYTES] [--handshake-timeout SECS] [--idle-timeout SECS] [--write-timeout SECS] [--peer A.B.C.D:PORT] [--agent NAME] [--name NAME --ca CA.der]");
    exit(2)
}

/// Reads the command line.
pub fn command() -> Command {
    static ARGS_BUFFER: StaticCell<Args<ARGS>> = StaticCell::new();
    let args = env::args::<ARGS>()
        .unwrap_or_else(|_| usage("QEMU passed none (-semihosting-config arg=...)"));
    let args: &'static Args<ARGS> = ARGS_BUFFER.init(args);
    let mut args = args.into_iter().map(|arg| arg.unwrap_or_else(|_| usage("not UTF-8")));
    // The program's name.
    let _ = args.next();
    let mode = match args.next() {
        Some("serve") => Mode::Serve,
        Some("client") => Mode::Client,
        Some("autobahn-client") => Mode::AutobahnClient,
        Some("wss-client") => Mode::WssClient,
        _ => usage("the first argument is the mode"),
    };
    let mut command = Command {
        mode,
        port: 80,
        max_message: u64::MAX,
        handshake_timeout: 10,
        idle_timeout: 60,
        write_timeout: 10,
        peer: None,
        agent: "firmware",
        name: None,
        ca: None,
    };
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage("an option without its value"));
        let number = || value.parse::<u64>().unwrap_or_else(|_| usage("not a number"));
        match flag {
            "--port" => {
                command.port = value.parse().unwrap_or_else(|_| usage("--port: not a port"))
            }
            "--max-message" => command.max_message = number(),
            "--handshake-timeout" => command.handshake_timeout = number(),
            "--idle-timeout" => command.idle_timeout = number(),
            "--write-timeout" => command.write_timeout = number(),
            "--peer" => {
                command.peer =
                    Some(value.parse().unwrap_or_else(|_| usage("--peer: not A.B.C.D:PORT")))
            }
            "--agent" => command.agent = value,
            "--name" => command.name = Some(value),
            "--ca" => command.ca = Some(value),
            _ => usage("unknown option"),
        }
    }
    let needs_peer = !matches!(command.mode, Mode::Serve);
    if needs_peer && command.peer.is_none() {
        usage("this mode needs --peer");
    }
    if matches!(command.mode, Mode::WssClient) && (command.name.is_none() || command.ca.is_none()) {
        usage("wss-client needs --name and --ca");
    }
    command
}

/// The file at `path` on the host, whole (at most [`CA_MAX`] bytes), kept for good.
pub fn read_file(path: &str) -> &'static [u8] {
    static PATH: StaticCell<[u8; 256]> = StaticCell::new();
    static CONTENTS: StaticCell<[u8; CA_MAX]> = StaticCell::new();
    let name = PATH.init([0; 256]);
    let Some(slot) = name.get_mut(..path.len()) else { usage("--ca: path too long") };
    slot.copy_from_slice(path.as_bytes());
    let name =
        core::ffi::CStr::from_bytes_until_nul(name).unwrap_or_else(|_| usage("--ca: bad path"));
    let mut file = semihosting::fs::File::open(name).unwrap_or_else(|_| {
        defmt::error!("cannot open {} on the host", path);
        exit(2)
    });
    let contents = CONTENTS.init([0; CA_MAX]);
    let mut len = 0;
    loop {
        let Some(spare) = contents.get_mut(len..).filter(|s| !s.is_empty()) else {
            defmt::error!("{} is larger than {} bytes", path, CA_MAX);
            exit(2)
        };
        match semihosting::io::Read::read(&mut file, spare) {
            Ok(0) => return &contents[..len],
            Ok(n) => len += n,
            Err(_) => {
                defmt::error!("cannot read {} on the host", path);
                exit(2)
            }
        }
    }
}

/// `N` random bytes from the host (its /dev/urandom).
pub fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    if semihosting::experimental::random::fill_bytes(&mut bytes).is_err() {
        defmt::error!("no random numbers from the host");
        exit(2)
    }
    bytes
}

/// Seconds since 1970 on the host, 0 if it does not say.
pub fn unix_time() -> u32 {
    let now = semihosting::experimental::time::SystemTime::now();
    now.duration_since(semihosting::experimental::time::SystemTime::UNIX_EPOCH)
        .ok()
        .and_then(|d| u32::try_from(d.as_secs()).ok())
        .unwrap_or(0)
}
