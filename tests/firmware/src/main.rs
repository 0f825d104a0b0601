//! Board support for running the firmware on Linux: the std executor and time driver, a TAP
//! device as the Ethernet MAC, `/dev/urandom` as the hardware RNG, the system clock as the
//! real-time clock, stdout as the log console, and the command line as the board's
//! configuration (a CA certificate file stands in for one built into flash). Everything
//! else is the application in `lib.rs`, which is `#![no_std]`.
//!
//! ```text
//! wscodec-firmware --tap tap0 --address 192.168.69.2/24 [--gateway 192.168.69.1]
//!                  [--port 8080] [--max-message 262144] [--peer 192.168.69.1:9100]
//!                  [--handshake-timeout 10] [--idle-timeout 60] [--write-timeout 10]
//!                  [--wss-peer 192.168.69.1:9443 --wss-name NAME --wss-ca CA.der]
//!                  [--template-port 8081] [--telemetry-port 8082]
//! ```

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::exit;

use embassy_executor::Spawner;
use embassy_net::{Config, IpEndpoint, Ipv4Cidr, StackResources, StaticConfigV4};
use embassy_net_tuntap::TunTapDevice;
use static_cell::StaticCell;
use wscodec_firmware::tls_client::{self, WssPeer};
use wscodec_firmware::{start, telemetry, Settings, SOCKETS};

/// The board's configuration (on a real board: constants, flash, or DHCP).
struct Board {
    tap: String,
    address: Ipv4Cidr,
    gateway: Option<Ipv4Addr>,
    port: u16,
    max_message: u64,
    peer: Option<SocketAddrV4>,
    handshake_timeout: u64,
    idle_timeout: u64,
    write_timeout: u64,
    wss_peer: Option<SocketAddrV4>,
    wss_name: Option<String>,
    wss_ca: Option<Vec<u8>>,
    template_port: Option<u16>,
    telemetry_port: Option<u16>,
}

fn usage(error: &str) -> ! {
    eprintln!("wscodec-firmware: {error}");
    eprintln!(
        "usage: wscodec-firmware --tap NAME --address A.B.C.D/LEN [--gateway A.B.C.D] \
         [--port PORT] [--max-message BYTES] [--peer A.B.C.D:PORT] [--handshake-timeout SECS] [--idle-timeout SECS] \
         [--write-timeout SECS] [--wss-peer A.B.C.D:PORT --wss-name NAME --wss-ca CA.der] [--template-port PORT] \
         [--telemetry-port PORT]"
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
        handshake_timeout: 10,
        idle_timeout: 60,
        write_timeout: 10,
        wss_peer: None,
        wss_name: None,
        wss_ca: None,
        template_port: None,
        telemetry_port: None,
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
            "--handshake-timeout" => {
                board.handshake_timeout =
                    value.parse().unwrap_or_else(|_| bad("a number of seconds"))
            }
            "--idle-timeout" => {
                board.idle_timeout = value.parse().unwrap_or_else(|_| bad("a number of seconds"))
            }
            "--write-timeout" => {
                board.write_timeout = value.parse().unwrap_or_else(|_| bad("a number of seconds"))
            }
            "--wss-peer" => {
                board.wss_peer = Some(value.parse().unwrap_or_else(|_| bad("A.B.C.D:PORT")))
            }
            "--wss-name" => board.wss_name = Some(value.clone()),
            "--wss-ca" => {
                let der = std::fs::read(&value)
                    .unwrap_or_else(|e| usage(&format!("--wss-ca: cannot read {value:?}: {e}")));
                board.wss_ca = Some(der);
            }
            "--template-port" => {
                board.template_port = Some(value.parse().unwrap_or_else(|_| bad("a port")))
            }
            "--telemetry-port" => {
                board.telemetry_port = Some(value.parse().unwrap_or_else(|_| bad("a port")))
            }
            _ => usage(&format!("unknown option {flag}")),
        }
    }
    if board.tap.is_empty() || board.address.prefix_len() == 0 {
        usage("--tap and --address are required");
    }
    let wss = [board.wss_peer.is_some(), board.wss_name.is_some(), board.wss_ca.is_some()];
    if wss.contains(&true) && wss.contains(&false) {
        usage("--wss-peer, --wss-name and --wss-ca go together");
    }
    board
}

/// The log console: one line per record on stdout, flushed at once so a test can follow it.
struct Console;

impl log::Log for Console {
    /// The application's records from `info` up, and the TLS library's errors (they say
    /// which check of the server's certificate failed).
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        let target = metadata.target();
        (target.starts_with("wscodec_firmware") && metadata.level() <= log::Level::Info)
            || (target.starts_with("embedded_tls") && metadata.level() <= log::Level::Warn)
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{} {}", record.level(), record.args());
            let _ = out.flush();
        }
    }

    fn flush(&self) {}
}

/// The hardware RNG stand-in.
fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .unwrap_or_else(|e| usage(&format!("cannot read /dev/urandom: {e}")));
    bytes
}

/// The real-time clock stand-in: seconds since 1970, 0 if unknown.
fn unix_time() -> u32 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.ok().and_then(|d| u32::try_from(d.as_secs()).ok()).unwrap_or(0)
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
    // The shared application's sockets, and the telemetry endpoint's.
    static RESOURCES: StaticCell<StackResources<{ SOCKETS + telemetry::SOCKETS }>> =
        StaticCell::new();
    let seed = u64::from_ne_bytes(random());
    let (stack, runner) =
        embassy_net::new(device, config, RESOURCES.init(StackResources::new()), seed);
    spawner.spawn(net_task(runner).unwrap());
    println!("firmware: up on {} port {}", board.address, board.port);
    let peer = board.peer.map(|p| IpEndpoint::new((*p.ip()).into(), p.port()));
    let settings = Settings {
        port: board.port,
        max_message: board.max_message,
        handshake_timeout: embassy_time::Duration::from_secs(board.handshake_timeout),
        idle_timeout: embassy_time::Duration::from_secs(board.idle_timeout),
        write_timeout: embassy_time::Duration::from_secs(board.write_timeout),
        peer,
        seed: seed.rotate_left(32),
    };
    start(spawner, stack, settings);
    if let Some(port) = board.telemetry_port {
        telemetry::start(spawner, stack, port, settings);
    }
    if let Some(port) = board.template_port {
        wscodec_firmware::template::spawn_websocket_servers(spawner, stack, port);
    }
    if let (Some(at), Some(name), Some(ca)) = (board.wss_peer, board.wss_name, board.wss_ca) {
        let peer = WssPeer {
            endpoint: IpEndpoint::new((*at.ip()).into(), at.port()),
            // On a board these are constants in flash.
            name: name.leak(),
            ca: ca.leak(),
            seed: random(),
            unix_time_at_boot: unix_time(),
        };
        tls_client::start(spawner, stack, peer);
    }
}
