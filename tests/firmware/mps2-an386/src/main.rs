//! The firmware application (`wscodec-firmware`, the same library the Linux board runs)
//! on an Arm MPS2 AN386 board: a Cortex-M4F at 25 MHz with 4 MiB of code memory, 4 MiB
//! of SRAM and a LAN9220 Ethernet controller, as QEMU emulates it (`-machine mps2-an386`).
//!
//! The board support is this crate: the memory layout (memory.x), the vector table
//! (src/interrupts.rs), an embassy time driver on the CMSDK timers (src/time.rs), the
//! Ethernet driver (src/lan9118), the executor's idle loop (src/executor.rs), and the
//! host's services through semihosting (src/host.rs). Logs go out as defmt frames over
//! semihosting; `scripts/qemu-firmware` boots it and decodes them.
//!
//! The network is QEMU's user networking: the board is 10.0.2.15/24 and reaches the host
//! at 10.0.2.2.
#![no_std]
#![no_main]

mod executor;
mod host;
mod interrupts;
mod lan9118;
mod mmio;
mod time;

use core::net::Ipv4Addr;

use defmt_semihosting as _;
use embassy_executor::Spawner;
use embassy_net::{IpEndpoint, Ipv4Cidr, Stack, StackResources, StaticConfigV4};
use embassy_time::Duration;
use static_cell::StaticCell;
use wscodec_firmware::autobahn::{self, AutobahnPeer};
use wscodec_firmware::tls_client::{self, WssPeer};
use wscodec_firmware::{Settings, SOCKETS};

use host::{Command, Mode};
use lan9118::driver::Device;
use lan9118::Lan9118;

/// The board's address under QEMU's user networking, and the host's.
const ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);

#[cortex_m_rt::entry]
fn main() -> ! {
    time::init();
    let command = host::command();
    let chip = Lan9118::new().unwrap_or_else(|e| {
        defmt::error!("ethernet: {}", e);
        host::exit(3)
    });
    defmt::info!("ethernet: LAN9220 up, MAC {=[u8]:02x}", chip.mac_address());
    static DEVICE: StaticCell<Device> = StaticCell::new();
    let device = DEVICE.init(Device::new(chip));
    executor::run(|spawner| start(spawner, device, command))
}

fn start(spawner: Spawner, device: &'static mut Device, command: Command) {
    let config = embassy_net::Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(ADDRESS, 24),
        gateway: Some(GATEWAY),
        dns_servers: Default::default(),
    });
    static RESOURCES: StaticCell<StackResources<SOCKETS>> = StaticCell::new();
    let seed = u64::from_ne_bytes(host::random());
    let (stack, runner) =
        embassy_net::new(device, config, RESOURCES.init(StackResources::new()), seed);
    spawner.spawn(net_task(runner).unwrap());
    let peer = command.peer.map(|p| IpEndpoint::new((*p.ip()).into(), p.port()));
    let seed = seed.rotate_left(32);
    match (command.mode, peer) {
        (Mode::Serve, _) => {
            let settings = Settings {
                port: command.port,
                max_message: command.max_message,
                handshake_timeout: Duration::from_secs(command.handshake_timeout),
                idle_timeout: Duration::from_secs(command.idle_timeout),
                write_timeout: Duration::from_secs(command.write_timeout),
                peer: None,
                seed,
            };
            wscodec_firmware::start(spawner, stack, settings);
        }
        (Mode::Client, Some(peer)) => spawner.spawn(client(stack, peer, seed).unwrap()),
        (Mode::AutobahnClient, Some(endpoint)) => {
            let peer = AutobahnPeer { endpoint, agent: command.agent, seed };
            spawner.spawn(autobahn_client(stack, peer).unwrap());
        }
        (Mode::WssClient, Some(endpoint)) => {
            let (Some(name), Some(ca)) = (command.name, command.ca) else { host::exit(2) };
            let peer = WssPeer {
                endpoint,
                name,
                ca: host::read_file(ca),
                seed: host::random(),
                unix_time_at_boot: host::unix_time(),
            };
            spawner.spawn(wss_client(stack, peer).unwrap());
        }
        // The command line was checked: the clients have a peer.
        (_, None) => host::exit(2),
    }
    spawner.spawn(announce(stack).unwrap());
}

/// Exits with status 0 if a client's run passed, 1 if not.
fn exit_with(passed: bool) -> ! {
    host::exit(if passed { 0 } else { 1 })
}

#[embassy_executor::task]
async fn client(stack: Stack<'static>, peer: IpEndpoint, seed: u64) {
    exit_with(wscodec_firmware::run_client(stack, peer, seed).await)
}

#[embassy_executor::task]
async fn autobahn_client(stack: Stack<'static>, peer: AutobahnPeer) {
    exit_with(autobahn::run(stack, peer).await.is_some())
}

#[embassy_executor::task]
async fn wss_client(stack: Stack<'static>, peer: WssPeer) {
    exit_with(tls_client::run(stack, peer).await)
}

#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, &'static mut Device>) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn announce(stack: Stack<'static>) {
    stack.wait_config_up().await;
    defmt::info!("network: up as {}", ADDRESS);
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    defmt::error!("panic: {}", defmt::Display2Format(info));
    host::exit(101)
}

#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    defmt::error!("hard fault at pc {=u32:#010x}", frame.pc());
    host::exit(102)
}
