//! An Autobahn|Testsuite client: runs every case of a fuzzingserver as an echo client,
//! then asks the server to update its reports. The firmware's side of the conformance run
//! in the client role.
//!
//! Each case is a connection to `/runCase?case=N&agent=AGENT` on which everything the
//! server sends is echoed, piece by piece as it arrives (streaming mode, the same
//! [`echo`] the servers run), until the server closes. permessage-deflate is offered with
//! what the inflater's 4 KiB window takes (`server_max_window_bits=12`), and messages are
//! echoed as stored blocks (no compressor). Before the cases, `/getCaseCount` says how many there are; after
//! them, `/updateReports?agent=AGENT` has the server write its reports.
//!
//! Memory: the same as one echo server connection ([`ServerBuffers`]).

use core::fmt::Write as _;

use embassy_net::tcp::TcpSocket;
use embassy_net::{IpEndpoint, Stack};
use embassy_time::Duration;
use static_cell::{ConstStaticCell, StaticCell};
use wscodec::deflate::{InflateState, Inflater};
use wscodec::handshake::client::ClientRequest;
use wscodec::io::asynch::WebSocket;
use wscodec::io::{Deflate, Options};
use wscodec::{CloseCode, Config, Event};

use crate::text::{host_name, Text};
use crate::{close_code_of, connect_retrying, echo, shut, Rng, ServerBuffers, Timeouts};

/// A case that sends nothing for this long has failed (the cases wait 10 s at most for
/// an echo, 100 s for the 16 MiB ones).
const IDLE: Duration = Duration::from_secs(120);
/// The server must take each echo within this long: it writes a large message whole
/// before it reads the echo of its start.
const WRITE: Duration = Duration::from_secs(120);

/// The fuzzingserver, and the name the reports file the results under.
#[derive(Debug, Clone, Copy)]
pub struct AutobahnPeer {
    pub endpoint: IpEndpoint,
    /// Sent percent-encoded.
    pub agent: &'static str,
    /// From the board's hardware RNG, for the handshake nonces and mask keys.
    pub seed: u64,
}

/// What the run came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Summary {
    /// The cases the server has.
    pub cases: u32,
    /// Cases whose connection ended in an error on this side (the server's report says
    /// whether that was right: many cases send what must be refused).
    pub ended_in_error: u32,
}

static BUFFERS: ConstStaticCell<ServerBuffers> = ConstStaticCell::new(ServerBuffers::new());
static INFLATE_STATE: StaticCell<InflateState> = StaticCell::new();

/// Runs every case of the fuzzingserver at `peer`, then has it update its reports; logs
/// `autobahn client: done` (or `autobahn client: FAIL: ...` when the server could not be
/// reached or did not answer) and returns the summary.
///
/// # Panics
/// If called twice (the static buffers are handed out once).
pub async fn run(stack: Stack<'static>, peer: AutobahnPeer) -> Option<Summary> {
    let ServerBuffers { tcp_rx, tcp_tx, ws_rx, ws_tx, inflate_window } = BUFFERS.take();
    let state = INFLATE_STATE.init_with(InflateState::new);
    let mut rng = Rng::new(peer.seed);
    let host = host_name(peer.endpoint.addr, peer.endpoint.port);
    let host = host.as_str();
    stack.wait_config_up().await;

    let mut socket = TcpSocket::new(stack, &mut tcp_rx[..], &mut tcp_tx[..]);
    socket.set_timeout(Some(IDLE));
    let count = match connect_retrying(&mut socket, peer.endpoint, "autobahn client").await {
        Ok(()) => case_count(&mut socket, host, ws_rx, ws_tx, &mut rng).await,
        Err(e) => {
            warn!(
                "autobahn client: FAIL: cannot reach the fuzzingserver at {}: {:?}",
                peer.endpoint, e
            );
            None
        }
    };
    shut(&mut socket).await;
    drop(socket);
    let cases = count?;
    info!("autobahn client: {} cases at {}", cases, peer.endpoint);

    let mut summary = Summary { cases, ended_in_error: 0 };
    for case in 1..=cases {
        let mut target = Text::<128>::new();
        let _ = write!(target, "/runCase?case={case}&agent={}", Encoded(peer.agent));
        let mut socket = TcpSocket::new(stack, &mut tcp_rx[..], &mut tcp_tx[..]);
        socket.set_timeout(Some(IDLE));
        socket.set_nagle_enabled(false);
        if let Err(e) = socket.connect(peer.endpoint).await {
            warn!("autobahn client: case {}: connect failed: {:?}", case, e);
            summary.ended_in_error += 1;
            continue;
        }
        let timed = Timeouts::new(&mut socket, IDLE, WRITE);
        let request = ClientRequest::new(host, target.as_str(), rng.nonce());
        let config = Config { max_message: u64::MAX, streaming: true, ..Config::default() };
        let deflate = Deflate::new(Inflater::new(state, inflate_window, &mut [][..])).storing();
        let mask = || rng.next_u32().to_ne_bytes();
        let options = Options::new(&mut ws_rx[..], ws_tx).with_config(config).with_deflate(deflate);
        let result = match WebSocket::connect(timed, options, &request, mask).await {
            Ok((mut ws, _)) => echo(&mut ws).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            // Expected in many cases (the server sends what must be refused); logged so
            // that a case the report marks as failed can be told apart.
            info!("autobahn client: case {}: {} ({})", case, close_code_of(&result).as_u16(), e);
            summary.ended_in_error += 1;
        }
        shut(&mut socket).await;
    }

    let mut target = Text::<128>::new();
    let _ = write!(target, "/updateReports?agent={}", Encoded(peer.agent));
    let mut socket = TcpSocket::new(stack, &mut tcp_rx[..], &mut tcp_tx[..]);
    socket.set_timeout(Some(IDLE));
    let updated = match socket.connect(peer.endpoint).await {
        Ok(()) => control(&mut socket, host, target.as_str(), ws_rx, ws_tx, &mut rng).await,
        Err(_) => false,
    };
    shut(&mut socket).await;
    if !updated {
        warn!("autobahn client: FAIL: the fuzzingserver did not take updateReports");
        return None;
    }
    info!(
        "autobahn client: done: {} cases run ({} ended in an error here, as many must), reports updated for agent {}",
        summary.cases, summary.ended_in_error, peer.agent
    );
    Some(summary)
}

/// The case count from `/getCaseCount`.
async fn case_count(
    socket: &mut TcpSocket<'_>,
    host: &str,
    ws_rx: &mut [u8],
    ws_tx: &mut [u8],
    rng: &mut Rng,
) -> Option<u32> {
    let request = ClientRequest::new(host, "/getCaseCount", rng.nonce());
    let mask = || rng.next_u32().to_ne_bytes();
    let connected = WebSocket::connect(socket, Options::new(ws_rx, ws_tx), &request, mask).await;
    let mut ws = match connected {
        Ok((ws, _)) => ws,
        Err(e) => {
            warn!("autobahn client: FAIL: getCaseCount: {}", e);
            return None;
        }
    };
    let count = loop {
        match ws.read().await {
            Ok(Event::Text(text)) => break text.trim().parse::<u32>().ok(),
            Ok(Event::Ping(_) | Event::Pong(_)) => {}
            Ok(_) => break None,
            Err(e) => {
                warn!("autobahn client: FAIL: getCaseCount: {}", e);
                return None;
            }
        }
    };
    if count.is_none() {
        warn!("autobahn client: FAIL: getCaseCount did not answer with a number");
    }
    let _ = ws.close(CloseCode::NORMAL, "").await;
    while ws.read().await.is_ok() {}
    count
}

/// A connection to a control `target` (`/updateReports`), then a normal close. True if
/// the server took the request (answered the upgrade): kosoku writes its reports and
/// exits then, and may end the connection without its close frame.
async fn control(
    socket: &mut TcpSocket<'_>,
    host: &str,
    target: &str,
    ws_rx: &mut [u8],
    ws_tx: &mut [u8],
    rng: &mut Rng,
) -> bool {
    let request = ClientRequest::new(host, target, rng.nonce());
    let mask = || rng.next_u32().to_ne_bytes();
    let Ok((mut ws, _)) =
        WebSocket::connect(socket, Options::new(ws_rx, ws_tx), &request, mask).await
    else {
        return false;
    };
    if ws.close(CloseCode::NORMAL, "").await.is_ok() {
        while ws.read().await.is_ok() {}
    }
    true
}

/// Text percent-encoded for a query string (everything but unreserved characters).
struct Encoded<'a>(&'a str);

impl core::fmt::Display for Encoded<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for b in self.0.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    f.write_char(char::from(b))?
                }
                _ => write!(f, "%{b:02X}")?,
            }
        }
        Ok(())
    }
}
