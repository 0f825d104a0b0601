//! Board support for running the firmware on Linux: the std executor and time driver, a TAP
//! device as the Ethernet MAC, `/dev/urandom` as the hardware RNG, stdout as the log
//! console, and the command line as the board's configuration. Everything else is the
//! application in `lib.rs`, which is `#![no_std]`.
//!
//! ```text
//! wscodec-firmware --tap tap0 --address 192.168.69.2/24 [--gateway 192.168.69.1]
//!                  [--port 8080] [--max-message 262144] [--peer 192.168.69.1:9100]
//!                  [--idle-timeout 60] [--write-timeout 10]
//! ```

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::exit;

use embassy_executor::Spawner;
use embassy_net::{Config, IpEndpoint, Ipv4Cidr, StackResources, StaticConfigV4};
use embassy_net_tuntap::TunTapDevice;
use static_cell::StaticCell;
use wscodec_firmware::{start, Settings, SOCKETS};

/// The board's configuration (on a real board: constants, flash, or DHCP).
struct Board {
    tap: String,
    address: Ipv4Cidr,
    gateway: Option<Ipv4Addr>,
    port: u16,
    max_message: u64,
    peer: Option<SocketAddrV4>,
    idle_timeout: u64,
    write_timeout: u64,
}

fn usage(error: &str) -> ! {
    eprintln!("wscodec-firmware: {error}");
    eprintln!(
        "usage: wscodec-firmware --tap NAME --address A.B.C.D/LEN [--gateway A.B.C.D] \
         [--port PORT] [--max-message BYTES] [--peer A.B.C.D:PORT] [--idle-timeout SECS] \
         [--write-timeout SECS]"
    );
    exit(2)
}

fn parse_args() -> Board {
    let mut board = Board {
        tap: String::new(),
        address: Ipv4Cidr::new(Ipv4Addr::UNSPECIFIED, 0),
        gateway: None,
        port: 8080,
        max_message: 256 * 1024,
        peer: None,
        idle_timeout: 60,
        write_timeout: 10,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let bad = |what: &str| -> ! { usage(&format!("{flag}: {value:?} is not {what}")) };
        match flag.as_str() {
            "--tap" => board.tap = value.clone(),
            "--address" => {
                let (ip, len) = value.split_once('/').unwrap_or_else(|| bad("A.B.C.D/LEN"));
                let ip: Ipv4Addr = ip.parse().unwrap_or_else(|_| bad("A.B.C.D/LEN"));
                let len: u8 =
                    len.parse().ok().filter(|l| *l <= 32).unwrap_or_else(|| bad("A.B.C.D/LEN"));
                board.address = Ipv4Cidr::new(ip, len);
            }
            "--gateway" => {
                board.gateway = Some(value.parse().unwrap_or_else(|_| bad("an IPv4 address")))
            }
            "--port" => board.port = value.parse().unwrap_or_else(|_| bad("a port")),
            "--max-message" => {
                board.max_message = value.parse().unwrap_or_else(|_| bad("a byte count"))
            }
            "--peer" => board.peer = Some(value.parse().unwrap_or_else(|_| bad("A.B.C.D:PORT"))),
            "--idle-timeout" => {
                board.idle_timeout = value.parse().unwrap_or_else(|_| bad("a number of seconds"))
            }
            "--write-timeout" => {
                board.write_timeout = value.parse().unwrap_or_else(|_| bad("a number of seconds"))
            }
            _ => usage(&format!("unknown option {flag}")),
        }
    }
    if board.tap.is_empty() || board.address.prefix_len() == 0 {
        usage("--tap and --address are required");
    }
    board
}

/// The log console: one line per record on stdout, flushed at once so a test can follow it.
struct Console;

impl log::Log for Console {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) && record.target().starts_with("wscodec_firmware") {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{} {}", record.level(), record.args());
            let _ = out.flush();
        }
    }

    fn flush(&self) {}
}

/// The hardware RNG stand-in.
fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .unwrap_or_else(|e| usage(&format!("cannot read /dev/urandom: {e}")));
    u64::from_ne_bytes(bytes)
}

#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, TunTapDevice>) -> ! {
    runner.run().await
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    static CONSOLE: Console = Console;
    let _ = log::set_logger(&CONSOLE).map(|()| log::set_max_level(log::LevelFilter::Info));
    let board = parse_args();

    let device = TunTapDevice::new(&board.tap).unwrap_or_else(|e| {
        eprintln!(
            "wscodec-firmware: cannot open TAP device {:?}: {e} \
             (it must exist, e.g. `ip tuntap add dev {0} mode tap`, and /dev/net/tun must be usable)",
            board.tap
        );
        exit(3)
    });
    let config = Config::ipv4_static(StaticConfigV4 {
        address: board.address,
        gateway: board.gateway,
        dns_servers: Default::default(),
    });
    static RESOURCES: StaticCell<StackResources<SOCKETS>> = StaticCell::new();
    let seed = seed();
    let (stack, runner) =
        embassy_net::new(device, config, RESOURCES.init(StackResources::new()), seed);
    spawner.spawn(net_task(runner).unwrap());
    println!("firmware: up on {} port {}", board.address, board.port);
    let peer = board.peer.map(|p| IpEndpoint::new((*p.ip()).into(), p.port()));
    let settings = Settings {
        port: board.port,
        max_message: board.max_message,
        idle_timeout: embassy_time::Duration::from_secs(board.idle_timeout),
        write_timeout: embassy_time::Duration::from_secs(board.write_timeout),
        peer,
        seed: seed.rotate_left(32),
    };
    start(spawner, stack, settings);
}
