//! A wss:// client: the codec over a TLS 1.3 connection (`embedded-tls`, no allocator) over
//! an `embassy-net` [`TcpSocket`], the server's certificate checked against a CA.
//!
//! The codec needs nothing for this: `TlsConnection` is an `embedded-io-async` stream like
//! the socket under it, so [`exchange`](crate::exchange) runs over it unchanged. The TLS
//! handshake runs first, on its own, so a failure there (a certificate for another name,
//! from another CA, or out of date) is reported as a TLS error, never as a WebSocket one.
//!
//! What the board provides, in [`WssPeer`]:
//! - the CA certificate (DER), which on a board is `include_bytes!` in flash;
//! - 32 bytes from its hardware random number generator. They seed a ChaCha20 generator
//!   (`rand_chacha`, a cryptographic one) for the TLS key exchange and the ClientHello
//!   random; the xorshift of [`Rng`](crate::Rng), which is not cryptographic, is used only
//!   for the WebSocket nonce and mask keys, seeded from the ChaCha20 generator. (The Linux
//!   stand-in of the board reads the seed from `/dev/urandom`.)
//! - the wall-clock time at boot, for the certificates' validity dates. Without one
//!   (`unix_time_at_boot: 0`, a board without a real-time clock or network time) the dates
//!   are not checked; the chain and the name still are.
//!
//! What `embedded-tls` 0.19 checks (feature `rustpki`): TLS 1.3 only, cipher suite
//! `TLS_AES_128_GCM_SHA256`, key exchange on P-256; each certificate of the chain is
//! signed by the one above it, up to the CA given; ECDSA P-256 signatures (P-384, Ed25519
//! and RSA are further features); the server name against the certificate's DNS names;
//! the validity dates when there is a clock. It does not look at basic constraints or key
//! usage, and has no revocation.
//!
//! Memory (all in `.bss`): TCP rx + tx 2 × 2048, TLS record rx [`TLS_RX`], TLS record tx
//! [`TLS_TX`], WebSocket rx 2048 and tx 512; `scripts/firmware-budget` prints the sizes of
//! the connection state and the task's future.

use core::sync::atomic::{AtomicU32, Ordering};

use embassy_executor::Spawner;
use embassy_net::tcp::{self, TcpSocket};
use embassy_net::{IpEndpoint, Stack};
use embassy_time::{Duration, Instant};
use embedded_io_async::{Read, Write};
use embedded_tls::pki::CertVerifier;
use embedded_tls::{
    Aes128GcmSha256, Certificate, CryptoProvider, CryptoRngCore, TlsClock, TlsConfig,
    TlsConnection, TlsContext, TlsError, TlsVerifier,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use static_cell::ConstStaticCell;

use crate::{connect_retrying, exchange, host_name, ClientError, Rng};

/// The TLS record receive buffer: a TLS 1.3 record is at most 2^14 bytes of data plus 256
/// of expansion, and a server may send records that large (`wsc serve`, with rustls,
/// does), whatever the WebSocket messages' size.
pub const TLS_RX: usize = 16_640;
/// The TLS record transmit buffer: bounds the records sent, not the messages (a write
/// larger than it goes out as several records). At least the ClientHello (about 200 bytes)
/// plus the record overhead.
pub const TLS_TX: usize = 2048;
/// The largest server certificate the verifier keeps (DER) until it checks the
/// server's signature over the handshake.
pub const CERT_MAX: usize = 2048;

/// Where the wss:// client connects, and what the board gives it to check the server.
#[derive(Debug, Clone, Copy)]
pub struct WssPeer {
    /// The server's address.
    pub endpoint: IpEndpoint,
    /// The server's name: sent as SNI and in the `Host` header, and checked against the
    /// certificate's DNS names.
    pub name: &'static str,
    /// The CA the server's certificate must chain to, DER-encoded.
    pub ca: &'static [u8],
    /// 32 bytes from the board's hardware random number generator.
    pub seed: [u8; 32],
    /// Seconds since 1970 when the board started, or 0 if the board has no clock.
    pub unix_time_at_boot: u32,
}

/// The memory of the wss:// client connection.
pub struct WssBuffers {
    tcp_rx: [u8; 2048],
    tcp_tx: [u8; 2048],
    tls_rx: [u8; TLS_RX],
    tls_tx: [u8; TLS_TX],
    ws_rx: [u8; 2048],
    ws_tx: [u8; 512],
}

impl WssBuffers {
    /// Zeroed buffers (for a `static`).
    pub const fn new() -> Self {
        Self {
            tcp_rx: [0; 2048],
            tcp_tx: [0; 2048],
            tls_rx: [0; TLS_RX],
            tls_tx: [0; TLS_TX],
            ws_rx: [0; 2048],
            ws_tx: [0; 512],
        }
    }
}

impl Default for WssBuffers {
    fn default() -> Self {
        Self::new()
    }
}

static WSS_BUFFERS: ConstStaticCell<WssBuffers> = ConstStaticCell::new(WssBuffers::new());

/// The wall-clock time at boot, for [`BoardClock`]; 0 while unknown.
static UNIX_TIME_AT_BOOT: AtomicU32 = AtomicU32::new(0);

/// The time for certificate validity: the board's time at boot plus the time since.
#[derive(Debug)]
pub struct BoardClock;

impl TlsClock for BoardClock {
    fn now() -> Option<u64> {
        match UNIX_TIME_AT_BOOT.load(Ordering::Relaxed) {
            0 => None,
            boot => Some(u64::from(boot) + Instant::now().as_secs()),
        }
    }
}

/// Keys from the seeded generator, the server checked against the CA, no client
/// certificate.
struct Provider<'a> {
    rng: &'a mut ChaCha20Rng,
    verifier: CertVerifier<'static, Aes128GcmSha256, BoardClock, CERT_MAX>,
}

impl CryptoProvider for Provider<'_> {
    type CipherSuite = Aes128GcmSha256;
    type Signature = [u8; 0];

    fn rng(&mut self) -> impl CryptoRngCore {
        &mut *self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, TlsError> {
        Ok(&mut self.verifier)
    }
}

/// Why the wss:// exchange failed: at the TCP, the TLS or the WebSocket layer.
#[derive(Debug)]
pub enum WssError {
    /// The TCP connection was refused or timed out.
    Connect(tcp::ConnectError),
    /// The TLS handshake failed: nothing was sent over WebSocket.
    Tls(TlsError),
    /// TLS is up; the WebSocket exchange over it failed.
    Ws(ClientError<TlsError>),
}

#[cfg(feature = "defmt")]
impl defmt::Format for WssError {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Connect(e) => defmt::write!(f, "TCP connect failed: {}", e),
            Self::Tls(e) => defmt::write!(f, "TLS handshake failed: {} ({})", e, tls_meaning(e)),
            Self::Ws(e) => defmt::write!(f, "WebSocket over TLS failed: {}", e),
        }
    }
}

impl core::fmt::Display for WssError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Connect(e) => write!(f, "TCP connect failed: {e:?}"),
            Self::Tls(e) => write!(f, "TLS handshake failed: {e:?} ({})", tls_meaning(e)),
            Self::Ws(e) => write!(f, "WebSocket over TLS failed: {e}"),
        }
    }
}

/// What a TLS handshake error means for the person reading the log.
fn tls_meaning(e: &TlsError) -> &'static str {
    match e {
        TlsError::InvalidCertificate => {
            "the server's certificate is not for this name, not signed by the CA, or out of date"
        }
        TlsError::InvalidSignature | TlsError::InvalidSignatureScheme => {
            "the server's signature did not verify, or uses an algorithm not built in"
        }
        TlsError::DecodeError | TlsError::ParseError(_) => {
            "a certificate or handshake message could not be decoded"
        }
        TlsError::HandshakeAborted(..) => "the server aborted the handshake with an alert",
        TlsError::InvalidCipherSuite | TlsError::InvalidKeyShare => {
            "no cipher suite or key exchange in common (this client offers AES-128-GCM, P-256)"
        }
        TlsError::InsufficientSpace | TlsError::OutOfMemory => {
            "a record or certificate was larger than the buffers"
        }
        TlsError::Io(_) | TlsError::ConnectionClosed => {
            "the connection failed or was closed during the handshake"
        }
        _ => "see the embedded-tls error name",
    }
}

/// Spawns the wss:// client: [`run`].
///
/// # Panics
/// If called twice (the static buffers are handed out once).
pub fn start(spawner: Spawner, stack: Stack<'static>, peer: WssPeer) {
    spawner.spawn(wss_client(stack, peer).unwrap());
}

#[embassy_executor::task]
async fn wss_client(stack: Stack<'static>, peer: WssPeer) {
    run(stack, peer).await;
}

/// The wss:// client's exchange with `peer` ([`wss_exchange`]), tried until the server
/// answers; logs `wss client: PASS` or `wss client: FAIL: <layer> ...` and returns whether
/// it passed.
///
/// # Panics
/// If called twice (the static buffers are handed out once).
pub async fn run(stack: Stack<'static>, peer: WssPeer) -> bool {
    UNIX_TIME_AT_BOOT.store(peer.unix_time_at_boot, Ordering::Relaxed);
    let WssBuffers { tcp_rx, tcp_tx, tls_rx, tls_tx, ws_rx, ws_tx } = WSS_BUFFERS.take();
    let mut rng = ChaCha20Rng::from_seed(peer.seed);
    let at = peer.endpoint;
    stack.wait_config_up().await;
    let mut socket = TcpSocket::new(stack, tcp_rx, tcp_tx);
    socket.set_timeout(Some(Duration::from_secs(10)));
    let result = match connect_retrying(&mut socket, at, "wss client").await {
        Ok(()) => wss_exchange(&mut socket, &peer, tls_rx, tls_tx, ws_rx, ws_tx, &mut rng).await,
        Err(e) => Err(WssError::Connect(e)),
    };
    crate::shut(&mut socket).await;
    match result {
        Ok(()) => {
            info!("wss client: PASS: text, binary, ping/pong, fragmented echo, close 1000 over TLS 1.3 with {} at {}", peer.name, at);
            true
        }
        Err(e) => {
            warn!("wss client: FAIL: {} (server {} at {})", e, peer.name, at);
            false
        }
    }
}

/// One wss:// session over `socket`: the TLS handshake (the server's certificate checked
/// against `peer.ca` for `peer.name`), then [`exchange`], then TLS `close_notify`.
///
/// Generic over the stream under TLS, so `scripts/firmware-budget` runs it over a host
/// socket; the firmware passes its `TcpSocket`.
pub async fn wss_exchange<S: Read + Write>(
    socket: S,
    peer: &WssPeer,
    tls_rx: &mut [u8],
    tls_tx: &mut [u8],
    ws_rx: &mut [u8],
    ws_tx: &mut [u8],
    rng: &mut ChaCha20Rng,
) -> Result<(), WssError> {
    let config = TlsConfig::new().with_server_name(peer.name);
    let mask_seed = rng.next_u64();
    let provider = Provider { rng, verifier: CertVerifier::new(Certificate::X509(peer.ca)) };
    let mut tls: TlsConnection<'_, S, Aes128GcmSha256> = TlsConnection::new(socket, tls_rx, tls_tx);
    tls.open(TlsContext::new(&config, provider)).await.map_err(WssError::Tls)?;
    info!("wss client: TLS 1.3 up with {}, certificate verified against the CA", peer.name);

    let host = host_name(peer.name, peer.endpoint.port);
    let mut mask_rng = Rng::new(mask_seed);
    exchange(&mut tls, host.as_str(), ws_rx, ws_tx, &mut mask_rng).await.map_err(WssError::Ws)?;
    // close_notify, then the TCP close by the caller.
    tls.close().await.map_err(|(_, e)| WssError::Tls(e))?;
    Ok(())
}
