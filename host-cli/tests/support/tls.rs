//! Test certificates (made with rcgen) and `wsc serve` over ws:// or wss://, for the
//! probe, wss and reconnection tests.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

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

/// A running `wsc serve` (ws:// or wss://), killed on drop.
pub struct Serve {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Serve {
    /// `wsc serve --listen LISTEN ARGS...`; waits for the `listening on` line.
    pub fn start(listen: &str, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wsc"))
            .args(["serve", "--listen", listen])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn wsc serve");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(10)).expect("no `listening on` line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.split_once("://"))
            .and_then(|(_, a)| a.strip_suffix('/'))
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Self { child, addr: addr.parse().unwrap(), log }
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Kills the server and waits for it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
