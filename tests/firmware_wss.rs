//! The firmware's wss:// client against `wsc serve --tls-cert`, with certificates made
//! here (rcgen): the right one, one for another name, one from another CA.

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use super::{require_root_tun_iproute2, start_firmware_with, wsc_binary, Netns, Process, HOST_IP};

/// `wsc serve --tls-cert` on the host side, for the firmware's wss:// client: a certificate
/// for [`WSS_NAME`] from the test CA, one for another name from the same CA, and one for
/// the right name from another CA.
const WSS_PORTS: [u16; 3] = [9443, 9444, 9445];
/// The server name the firmware's wss:// client expects.
const WSS_NAME: &str = "wsc.test";

/// The test PKI, as files in a fresh temporary directory (removed on drop): a CA, and
/// server certificates with their keys (PEM, for `wsc serve`). All keys are ECDSA P-256.
struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("wscodec-fw-pki-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let pki = Self { dir };
        let ca = Self::ca("wscodec firmware test CA");
        std::fs::write(pki.path("ca.der"), ca.der()).expect("write ca.der");
        pki.server("good", WSS_NAME, &ca);
        pki.server("wrong-name", "other.test", &ca);
        pki.server("other-ca", WSS_NAME, &Self::ca("some other CA"));
        pki
    }

    fn ca(name: &str) -> rcgen::CertifiedIssuer<'static, rcgen::KeyPair> {
        let mut params = rcgen::CertificateParams::new(Vec::new()).expect("CA params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let key = rcgen::KeyPair::generate().expect("CA key");
        rcgen::CertifiedIssuer::self_signed(params, key).expect("CA certificate")
    }

    /// `<tag>.pem` and `<tag>.key`: a certificate for `name` signed by `ca`.
    fn server(&self, tag: &str, name: &str, ca: &rcgen::Issuer<'_, rcgen::KeyPair>) {
        let params = rcgen::CertificateParams::new(vec![name.to_owned()]).expect("params");
        let key = rcgen::KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, ca).expect("server certificate");
        std::fs::write(self.path(&format!("{tag}.pem")), cert.pem()).expect("write cert");
        std::fs::write(self.path(&format!("{tag}.key")), key.serialize_pem()).expect("write key");
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).to_string_lossy().into_owned()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The firmware's wss:// client (embedded-tls, TLS 1.3, over its `TcpSocket`) against
/// `wsc serve --tls-cert`: with the right certificate it runs the whole exchange; with a
/// certificate for another name, or from another CA, it stops at the TLS handshake and
/// says so as a TLS error.
#[test]
fn firmware_wss_client_checks_the_server_certificate() {
    require_root_tun_iproute2();
    let wsc = wsc_binary();
    let netns = Netns::create("wss");
    let pki = Pki::new();
    let _servers: Vec<Process> = WSS_PORTS
        .iter()
        .zip(["good", "wrong-name", "other-ca"])
        .map(|(port, tag)| {
            let (listen, cert, key) = (
                format!("{HOST_IP}:{port}"),
                pki.path(&format!("{tag}.pem")),
                pki.path(&format!("{tag}.key")),
            );
            let args = ["serve", "--listen", &listen, "--tls-cert", &cert, "--tls-key", &key];
            let mut server = Process::start("wsc serve --tls-cert", netns.command(&wsc, &args));
            server.wait_for("listening on", 1, "", Duration::from_secs(10));
            server
        })
        .collect();
    let ca = pki.path("ca.der");
    let run = |port: u16| {
        let peer = format!("{HOST_IP}:{port}");
        let args = ["--wss-peer", &peer, "--wss-name", WSS_NAME, "--wss-ca", &ca];
        let mut firmware = start_firmware_with(&netns, &args);
        let timeout = Duration::from_secs(30);
        let start = Instant::now();
        while firmware.count("wss client: PASS") + firmware.count("wss client: FAIL") == 0 {
            firmware.assert_running();
            assert!(start.elapsed() < timeout, "no wss client verdict within {timeout:?}");
            thread::sleep(Duration::from_millis(50));
        }
        firmware.lines()
    };

    let good = run(WSS_PORTS[0]).join("\n");
    for expected in [
        "wss client: TLS 1.3 up with wsc.test, certificate verified against the CA",
        "wss client: PASS: text, binary, ping/pong, fragmented echo, close 1000 over TLS 1.3 \
         with wsc.test at 192.168.69.1:9443",
    ] {
        assert!(good.contains(expected), "the wss:// exchange with the right certificate:\n{good}");
    }

    for (port, what, detail) in [
        (WSS_PORTS[1], "a certificate for another name", "does not match certificate names"),
        (WSS_PORTS[2], "a certificate from another CA", ""),
    ] {
        let lines = run(port);
        let fail = lines.iter().find(|l| l.contains("wss client: FAIL")).unwrap_or_else(|| {
            panic!("{what}: the wss client did not fail:\n{}", lines.join("\n"))
        });
        assert!(
            fail.contains("FAIL: TLS handshake failed: InvalidCertificate (the server's certificate is not for this name, not signed by the CA, or out of date)"),
            "{what}: not reported as a TLS certificate error: {fail}"
        );
        assert!(!fail.contains("WebSocket"), "{what}: reported as a WebSocket error: {fail}");
        assert!(
            !lines.iter().any(|l| l.contains("TLS 1.3 up")),
            "{what}: the TLS handshake went through:\n{}",
            lines.join("\n")
        );
        assert!(
            lines.iter().any(|l| l.contains(detail)),
            "{what}: no {detail:?} from embedded-tls:\n{}",
            lines.join("\n")
        );
    }
}
