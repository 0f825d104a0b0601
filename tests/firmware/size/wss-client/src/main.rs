//! A wss:// client doing the job: TLS 1.3 with the server's certificate checked against the
//! CA built in (for the name `wsc.test`), the upgrade, one text message out and its echo
//! back, the closing handshake, TLS `close_notify`. Exits 0 only if all of it worked.
//!
//! The board's parts: `getrandom(2)` stands in for the hardware RNG (it seeds ChaCha20),
//! `time(2)` for the real-time clock (certificate dates), stdin/stdout for the socket.
#![no_std]
#![no_main]

mod stdio;

use embedded_tls::blocking::{
    Aes128GcmSha256, Certificate, CryptoProvider, TlsClock, TlsConfig, TlsConnection, TlsContext,
    TlsError, TlsVerifier,
};
use embedded_tls::pki::CertVerifier;
use embedded_tls::CryptoRngCore;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use wscodec::handshake::client::ClientRequest;
use wscodec::io::blocking::WebSocket;
use wscodec::io::Options;
use wscodec::{CloseCode, Config, Event, Message};

use stdio::Stdio;

/// The CA certificate, built into flash.
const CA: &[u8] = include_bytes!(env!("WSS_CA_DER"));
const NAME: &str = "wsc.test";

unsafe extern "C" {
    fn getrandom(buf: *mut u8, len: usize, flags: u32) -> isize;
    fn time(t: *mut i64) -> i64;
}

struct Rtc;

impl TlsClock for Rtc {
    fn now() -> Option<u64> {
        u64::try_from(unsafe { time(core::ptr::null_mut()) }).ok()
    }
}

struct Provider<'a> {
    rng: &'a mut ChaCha20Rng,
    verifier: CertVerifier<'static, Aes128GcmSha256, Rtc, 2048>,
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

#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let mut seed = [0u8; 32];
    if unsafe { getrandom(seed.as_mut_ptr(), seed.len(), 0) } != 32 {
        return 1;
    }
    let mut rng = ChaCha20Rng::from_seed(seed);
    let (mut tls_rx, mut tls_tx) = ([0u8; 16_640], [0u8; 2048]);
    let config = TlsConfig::new().with_server_name(NAME);
    let mut tls: TlsConnection<'_, Stdio, Aes128GcmSha256> =
        TlsConnection::new(Stdio, &mut tls_rx, &mut tls_tx);
    let provider = Provider { rng: &mut rng, verifier: CertVerifier::new(Certificate::X509(CA)) };
    if tls.open(TlsContext::new(&config, provider)).is_err() {
        return 2;
    }
    if websocket(&mut tls, &mut rng).is_err() {
        return 3;
    }
    match tls.close() {
        Ok(_) => 0,
        Err(_) => 4,
    }
}

fn websocket(
    tls: &mut TlsConnection<'_, Stdio, Aes128GcmSha256>,
    rng: &mut ChaCha20Rng,
) -> Result<(), ()> {
    let (mut rx, mut tx) = ([0u8; 2048], [0u8; 512]);
    let mut nonce = [0u8; 16];
    rng.fill_bytes(&mut nonce);
    let request = ClientRequest::new(NAME, "/", nonce);
    let mask = || rng.next_u32().to_ne_bytes();
    let (mut ws, _) =
        WebSocket::connect(tls, Options::new(&mut rx, &mut tx), &request, mask).map_err(|_| ())?;
    ws.send(Message::Text("Hi")).map_err(|_| ())?;
    if !matches!(ws.read(), Ok(Event::Text("Hi"))) {
        return Err(());
    }
    ws.close(CloseCode::NORMAL, "").map_err(|_| ())?;
    loop {
        match ws.read() {
            Ok(Event::Close { code: Some(CloseCode::NORMAL), .. }) => return Ok(()),
            Ok(Event::Close { .. }) | Err(_) => return Err(()),
            Ok(_) => {}
        }
    }
}
