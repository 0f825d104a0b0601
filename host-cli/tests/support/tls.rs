//! Test certificates (made with rcgen), for the probe, wss and reconnection tests. Their
//! servers (ws:// or wss://) are the shared `support::Server`.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A certificate and its key, as PEM files in a fresh temporary directory (removed on drop).
pub struct Cert {
    dir: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub cert_pem: String,
    pub key_pem: String,
}

/// A self-signed certificate for `names` (DNS names or IP addresses); `expired` dates it
/// 2000-2001.
pub fn self_signed(names: &[&str], expired: bool) -> Cert {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = rcgen::CertificateParams::new(names).expect("certificate names");
    if expired {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    }
    let key = rcgen::KeyPair::generate().expect("key pair");
    let cert = params.self_signed(&key).expect("self-signed certificate");
    let dir = std::env::temp_dir().join(format!(
        "wsc-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_pem, key_pem) = (cert.pem(), key.serialize_pem());
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, &cert_pem).unwrap();
    std::fs::write(&key_path, &key_pem).unwrap();
    Cert { dir, cert: cert_path, key: key_path, cert_pem, key_pem }
}

impl Cert {
    /// `--tls-cert CERT --tls-key KEY` for `wsc serve`.
    pub fn serve_args(&self) -> [&str; 4] {
        ["--tls-cert", self.cert.to_str().unwrap(), "--tls-key", self.key.to_str().unwrap()]
    }
}

impl Drop for Cert {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
