//! wss:// end to end on loopback: `wsc serve --tls-cert/--tls-key` with a certificate
//! the test makes, `wsc connect`, and `wsc autobahn-client` against a TLS stand-in for
//! the fuzzingserver.

mod support;
#[path = "support/tls.rs"]
mod tls_support;

use std::net::TcpListener;
use std::sync::Arc;
use std::thread;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use support::{code, wsc, Server, TIMEOUT};
use tls_support::self_signed;
use wscodec::handshake::server::Decision;
use wscodec::io::blocking::WebSocket;
use wscodec::io::Options;
use wscodec::io::StdIo;
use wscodec::{CloseCode, Event, Message};

#[test]
fn connect_echoes_over_wss_with_the_ca_file() {
    let cert = self_signed(&["127.0.0.1", "localhost"], false);
    let server = Server::start(&cert.serve_args());
    let target = format!("wss://localhost:{}/echo", server.addr.port());
    let out = wsc(&["connect", "--ca-file", cert.cert.to_str().unwrap(), &target], b"over tls\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        "over tls\nclosed: 1000 (normal closure) reason=\"\"\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(code(out.status), 0);
    assert!(server.log().contains("path=/echo"), "{}", server.log());
}

#[test]
fn connect_refuses_an_untrusted_certificate_unless_insecure() {
    let cert = self_signed(&["127.0.0.1"], false);
    let server = Server::start(&cert.serve_args());
    let target = format!("wss://{}/", server.addr);
    let out = wsc(&["connect", &target], b"x\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(out.status), 5, "TLS: {stderr}");
    assert!(stderr.contains(&format!("TLS with {target} failed: the certificate of 127.0.0.1 is not signed by a trusted authority")), "{stderr}");
    assert!(stderr.contains("--ca-file"), "{stderr}");
    let out = wsc(&["connect", "--insecure", &target], b"x\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "x\nclosed: 1000 (normal closure) reason=\"\"\n"
    );
}

#[test]
fn connect_with_wss_to_a_plain_server_says_use_ws() {
    let server = Server::start(&[]);
    let out = wsc(&["connect", &format!("wss://{}/", server.addr)], b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(out.status), 5, "TLS: {stderr}");
    assert!(stderr.contains("the server spoke plain text, not TLS"), "{stderr}");
    assert!(stderr.contains(&format!("use ws:// not wss:// (ws://{}/)", server.addr)), "{stderr}");
}

#[test]
fn serve_over_tls_still_serves_the_page_and_probe_passes() {
    let cert = self_signed(&["127.0.0.1"], false);
    let server = Server::start(&cert.serve_args());
    let out = wsc(
        &["probe", "--ca-file", cert.cert.to_str().unwrap(), &format!("wss://{}/", server.addr)],
        b"",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(out.status), 0, "{text}");
    assert!(text.contains("  ok    tls "), "{text}");
    assert!(text.contains("certificate valid for 127.0.0.1, trusted via the CA file"), "{text}");
}

/// One TLS connection of the fuzzingserver stand-in: `/getCaseCount` says 1, `/runCase`
/// sends a text and a binary message and checks the echoes, `/updateReports` closes.
fn fuzzingserver_connection(
    tcp: std::net::TcpStream,
    config: &Arc<rustls::ServerConfig>,
    seen: &mut Vec<String>,
) {
    tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
    let conn = rustls::ServerConnection::new(Arc::clone(config)).unwrap();
    let stream = rustls::StreamOwned::new(conn, tcp);
    let (mut rx, mut tx) = (vec![0u8; 64 * 1024], vec![0u8; 16 * 1024]);
    let mut path = String::new();
    let mut ws = WebSocket::accept(StdIo(stream), Options::new(&mut rx, &mut tx), |request, _| {
        path = request.path.to_owned();
        Decision::Accept { protocol: None }
    })
    .unwrap();
    seen.push(path.clone());
    if path.starts_with("/getCaseCount") {
        ws.send(Message::Text("1")).unwrap();
    } else if path.starts_with("/runCase") {
        ws.send(Message::Text("héllo")).unwrap();
        assert_eq!(ws.read().unwrap(), Event::Text("héllo"));
        ws.send(Message::Binary(&[1, 2, 3])).unwrap();
        assert_eq!(ws.read().unwrap(), Event::Binary(&[1, 2, 3]));
        seen.push("echoed".into());
    }
    ws.close(CloseCode::NORMAL, "").unwrap();
    while ws.read().is_ok() {}
}

#[test]
fn autobahn_client_runs_over_wss() {
    let cert = self_signed(&["127.0.0.1"], false);
    let chain = vec![CertificateDer::from_pem_slice(cert.cert_pem.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..3 {
            let (tcp, _) = listener.accept().unwrap();
            fuzzingserver_connection(tcp, &config, &mut seen);
        }
        seen
    });
    let out = wsc(
        &["autobahn-client", "--ca-file", cert.cert.to_str().unwrap(), &format!("wss://{addr}")],
        b"",
    );
    assert_eq!(code(out.status), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let seen = server.join().unwrap();
    assert_eq!(
        seen,
        ["/getCaseCount", "/runCase?case=1&agent=wsc", "echoed", "/updateReports?agent=wsc"]
    );
}
