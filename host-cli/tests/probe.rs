//! `wsc probe`: every verdict against a real local server that misbehaves in one way,
//! asserting the verdict and the step that failed (from `--json`), and the human report.
//!
//! Servers are `wsc serve` (ok, forbidden, server_error, subprotocol, TLS certificates)
//! or a one-connection TCP server made here that answers with fixed bytes. DNS failure
//! and unreachable addresses run the probe under `unshare --net`, in a network namespace
//! with only a down loopback: nothing leaves the machine.

mod support;
#[path = "support/tls.rs"]
mod tls_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::thread;

use serde_json::Value;
use support::{code, wsc, Server, TIMEOUT};
use tls_support::self_signed;

/// `wsc probe --json --timeout 1 ARGS...`: the parsed JSON and the exit code.
fn probe(args: &[&str]) -> (Value, i32) {
    let mut all = vec!["probe", "--json", "--timeout", "1"];
    all.extend_from_slice(args);
    let out = wsc(&all, b"");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (json, code(out.status))
}

/// Asserts the verdict and the failed step; returns the JSON for more checks.
fn expect(args: &[&str], verdict: &str, step: &str) -> Value {
    let (json, status) = probe(args);
    assert_eq!(json["verdict"], verdict, "{json:#}");
    assert_eq!(json["failed_step"], step, "{json:#}");
    let steps = json["steps"].as_array().unwrap();
    let last = steps.last().unwrap();
    assert_eq!((last["name"].as_str(), last["ok"].as_bool()), (Some(step), Some(false)));
    assert!(steps[..steps.len() - 1].iter().all(|s| s["ok"] == true), "{json:#}");
    assert!(steps.iter().all(|s| s["ms"].as_f64().is_some_and(|ms| ms >= 0.0)));
    assert!(
        !json["hint"].as_str().unwrap().is_empty() && !json["cause"].as_str().unwrap().is_empty()
    );
    assert_eq!(status, 1, "{json:#}");
    json
}

fn url(addr: SocketAddr) -> String {
    format!("ws://{addr}/")
}

/// A server for one connection: reads the request head, then runs `then` on the socket
/// with the request text.
fn fake(then: impl FnOnce(TcpStream, String) + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        then(stream, String::from_utf8_lossy(&head).into_owned());
    });
    addr
}

/// Answers with `response`, then waits for the client to hang up.
fn answer(response: &'static str) -> SocketAddr {
    fake(move |mut s, _| {
        s.write_all(response.as_bytes()).unwrap();
        drain(s);
    })
}

fn drain(mut s: TcpStream) {
    let mut sink = [0u8; 1024];
    while s.read(&mut sink).is_ok_and(|n| n > 0) {}
}

/// A correct 101 for `request`, with `extra` header lines.
fn switching(request: &str, extra: &str) -> String {
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .expect("a key in the request");
    let accept = wscodec::handshake::accept_key(key.trim().as_bytes());
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
        String::from_utf8_lossy(&accept)
    )
}

/// Runs the probe in a new network namespace (only a down loopback). Needs root and
/// `unshare` (util-linux); without them the test fails and says so, rather than skip.
fn probe_without_network(target: &str) -> Value {
    let ok = Command::new("unshare").args(["--net", "true"]).status().is_ok_and(|s| s.success());
    assert!(ok, "`unshare --net` failed: this test needs root and util-linux's unshare");
    let out = Command::new("unshare")
        .args(["--net", env!("CARGO_BIN_EXE_wsc"), "probe", "--json", "--timeout", "2", target])
        .output()
        .unwrap();
    assert_eq!(code(out.status), 1);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn ok_against_wsc_serve_with_every_step() {
    let server = Server::start(&[]);
    let (json, status) = probe(&[&format!("ws://{}/chat", server.addr)]);
    assert_eq!((json["verdict"].as_str(), status), (Some("ok"), 0), "{json:#}");
    assert_eq!(json["failed_step"], Value::Null);
    let names: Vec<&str> =
        json["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["url", "dns", "tcp", "upgrade", "checks", "ping", "close"]);
    let upgrade = &json["steps"][3];
    assert!(upgrade["request"].as_str().unwrap().starts_with("GET /chat HTTP/1.1\r\n"));
    assert_eq!(upgrade["response"]["status"], 101);
    assert!(json["steps"][5]["rtt_ms"].as_f64().is_some());
    assert_eq!(json["steps"][6]["detail"], "sent 1000, the server answered 1000 (normal closure)");
}

#[test]
fn human_report_shows_steps_request_response_cause_and_fix() {
    let addr = answer("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno route\n");
    let out = wsc(&["probe", &format!("ws://{addr}/wrong")], b"");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(out.status), 1);
    assert!(!text.contains('\x1b'), "no colour when stdout is not a terminal: {text}");
    for needle in [
        "  ok    tcp ",
        "> GET /wrong HTTP/1.1",
        "< HTTP/1.1 404 Not Found",
        "FAIL  upgrade",
        "verdict: not_found (step upgrade)",
        "cause:   there is no WebSocket endpoint at /wrong; the server said: \"no route\"",
        "fix:     check the path",
    ] {
        assert!(text.contains(needle), "{needle:?} in\n{text}");
    }
}

#[test]
fn invalid_url_names_the_scheme_meant() {
    let json = expect(&["https://example.com/chat"], "invalid_url", "url");
    assert!(json["hint"].as_str().unwrap().starts_with("use wss://example.com/chat"), "{json:#}");
    let json = expect(&["ftp://example.com/"], "invalid_url", "url");
    assert!(json["cause"].as_str().unwrap().contains("ftp:// is not a WebSocket scheme"));
    expect(&["ws://host:notaport/"], "invalid_url", "url");
}

#[test]
fn dns_failure_without_a_reachable_resolver() {
    let json = probe_without_network("ws://wsc-probe-test.example/");
    assert_eq!(
        (json["verdict"].as_str(), json["failed_step"].as_str()),
        (Some("dns_failure"), Some("dns"))
    );
    assert!(json["cause"].as_str().unwrap().contains("wsc-probe-test.example"), "{json:#}");
}

#[test]
fn unreachable_without_a_route() {
    // TEST-NET-1 inside an empty network namespace: connect fails at once, nothing is sent.
    let json = probe_without_network("ws://192.0.2.1:9/");
    assert_eq!(
        (json["verdict"].as_str(), json["failed_step"].as_str()),
        (Some("unreachable"), Some("tcp"))
    );
    assert!(json["cause"].as_str().unwrap().contains("192.0.2.1:9 is unreachable"), "{json:#}");
}

#[test]
fn connection_refused_on_a_closed_port() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let json = expect(&[&format!("ws://127.0.0.1:{port}/")], "connection_refused", "tcp");
    let cause = json["cause"].as_str().unwrap();
    assert!(cause.starts_with(&format!("nothing is listening on 127.0.0.1:{port}")), "{cause}");
    assert!(json["hint"].as_str().unwrap().starts_with("is the server running? is the port right"));
}

#[test]
fn connect_timeout_when_syns_are_dropped() {
    // A listener whose accept queue (backlog 0: one connection) is full and never
    // accepted: Linux drops further SYNs, so the next connect times out.
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into()).unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut queued = Vec::new();
    for _ in 0..8 {
        match TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(300)) {
            Ok(s) => queued.push(s),
            Err(_) => break,
        }
    }
    let json = expect(&[&url(addr)], "connect_timeout", "tcp");
    assert!(json["cause"].as_str().unwrap().contains("no answer from"), "{json:#}");
    drop((socket, queued));
}

#[test]
fn tls_unknown_issuer_for_a_self_signed_certificate() {
    let cert = self_signed(&["127.0.0.1", "localhost"], false);
    let args = ["--tls-cert", cert.cert.to_str().unwrap(), "--tls-key", cert.key.to_str().unwrap()];
    let server = Server::start(&args);
    let target = format!("wss://{}/", server.addr);
    let json = expect(&[&target], "tls_error", "tls");
    assert!(
        json["cause"].as_str().unwrap().contains("not signed by a trusted authority"),
        "{json:#}"
    );
    assert!(json["hint"].as_str().unwrap().contains("--ca-file"), "{json:#}");
    // The same server passes with its certificate as the CA, or with --insecure.
    let (json, status) = probe(&["--ca-file", cert.cert.to_str().unwrap(), &target]);
    assert_eq!((json["verdict"].as_str(), status), (Some("ok"), 0), "{json:#}");
    let (json, status) = probe(&["--insecure", &target]);
    assert_eq!((json["verdict"].as_str(), status), (Some("ok"), 0), "{json:#}");
    assert!(json["steps"][3]["detail"].as_str().unwrap().contains("NOT verified"), "{json:#}");
}

#[test]
fn tls_expired_certificate() {
    let cert = self_signed(&["127.0.0.1"], true);
    let args = ["--tls-cert", cert.cert.to_str().unwrap(), "--tls-key", cert.key.to_str().unwrap()];
    let server = Server::start(&args);
    let ca = cert.cert.to_str().unwrap();
    let json = expect(&["--ca-file", ca, &format!("wss://{}/", server.addr)], "tls_error", "tls");
    let cause = json["cause"].as_str().unwrap();
    assert!(cause.starts_with("the server's certificate has expired"), "{cause}");
    assert!(json["hint"].as_str().unwrap().contains("renew"), "{json:#}");
}

#[test]
fn tls_certificate_for_another_name() {
    let cert = self_signed(&["other.example"], false);
    let args = ["--tls-cert", cert.cert.to_str().unwrap(), "--tls-key", cert.key.to_str().unwrap()];
    let server = Server::start(&args);
    let ca = cert.cert.to_str().unwrap();
    let json = expect(&["--ca-file", ca, &format!("wss://{}/", server.addr)], "tls_error", "tls");
    let cause = json["cause"].as_str().unwrap();
    assert!(
        cause.contains("not valid for 127.0.0.1") && cause.contains("other.example"),
        "{cause}"
    );
}

#[test]
fn tls_to_a_plain_server_says_use_ws() {
    let server = Server::start(&[]);
    let json = expect(&[&format!("wss://{}/", server.addr)], "tls_error", "tls");
    assert!(
        json["cause"].as_str().unwrap().contains("the server spoke plain text, not TLS"),
        "{json:#}"
    );
    assert!(json["hint"]
        .as_str()
        .unwrap()
        .starts_with(&format!("use ws:// not wss:// (ws://{}/)", server.addr)));
}

#[test]
fn ws_to_a_tls_server_says_use_wss() {
    let cert = self_signed(&["127.0.0.1"], false);
    let args = ["--tls-cert", cert.cert.to_str().unwrap(), "--tls-key", cert.key.to_str().unwrap()];
    let server = Server::start(&args);
    let (json, _) = probe(&[&url(server.addr)]);
    assert_eq!(json["failed_step"], "upgrade", "{json:#}");
    let text = format!("{} {}", json["cause"], json["hint"]);
    assert!(text.contains("wss://"), "{json:#}");
}

#[test]
fn handshake_timeout_when_the_server_never_answers() {
    let addr = fake(|s, _| drain(s));
    let json = expect(&[&url(addr)], "handshake_timeout", "upgrade");
    assert_eq!(json["steps"][3]["detail"], "no response within 1 s");
}

#[test]
fn closed_before_response() {
    let addr = fake(|s, _| drop(s));
    expect(&[&url(addr)], "closed_before_response", "upgrade");
}

#[test]
fn not_websocket_for_a_200() {
    let addr =
        answer("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\n\r\n<html>");
    let json = expect(&[&url(addr)], "not_websocket", "upgrade");
    assert!(json["cause"].as_str().unwrap().contains("text/html"), "{json:#}");
    assert_eq!(json["steps"][3]["response"]["status"], 200);
}

#[test]
fn redirect_names_the_target() {
    let addr = answer("HTTP/1.1 301 Moved Permanently\r\nLocation: https://example.com/ws\r\nContent-Length: 0\r\n\r\n");
    let json = expect(&[&url(addr)], "redirect", "upgrade");
    assert!(
        json["hint"].as_str().unwrap().contains("connect to wss://example.com/ws directly"),
        "{json:#}"
    );
}

#[test]
fn bad_request_for_a_400() {
    let addr = answer("HTTP/1.1 400 Bad Request\r\nContent-Length: 14\r\n\r\nmissing token\n");
    let json = expect(&[&url(addr)], "bad_request", "upgrade");
    assert!(json["cause"].as_str().unwrap().contains("missing token"), "{json:#}");
}

#[test]
fn unauthorized_for_a_401() {
    let addr = answer(
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 0\r\n\r\n",
    );
    let json = expect(&[&url(addr)], "unauthorized", "upgrade");
    assert!(json["hint"].as_str().unwrap().contains("Authorization: Bearer"), "{json:#}");
}

#[test]
fn forbidden_origin_from_wsc_serve() {
    let server = Server::start(&["--allow-origin", "https://good.example"]);
    let json =
        expect(&["--origin", "https://evil.example", &url(server.addr)], "forbidden", "upgrade");
    assert!(json["cause"].as_str().unwrap().contains("refused the Origin https://evil.example"));
    assert!(json["hint"].as_str().unwrap().contains("browsers always send Origin"));
    // An https:// origin with ws:// is also mixed content for a browser.
    assert!(json["notes"][0].as_str().unwrap().contains("mixed content"), "{json:#}");
    let (json, status) = probe(&["--origin", "https://good.example", &url(server.addr)]);
    assert_eq!((json["verdict"].as_str(), status), (Some("ok"), 0), "{json:#}");
}

#[test]
fn not_found_for_a_404() {
    let addr = answer("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    expect(&[&url(addr)], "not_found", "upgrade");
}

#[test]
fn version_mismatch_for_426_or_a_version_header() {
    let addr = answer(
        "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 8\r\nContent-Length: 0\r\n\r\n",
    );
    let json = expect(&[&url(addr)], "version_mismatch", "upgrade");
    assert!(json["cause"].as_str().unwrap().contains("version 8"), "{json:#}");
    let addr = answer(
        "HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Version: 7, 8\r\nContent-Length: 0\r\n\r\n",
    );
    expect(&[&url(addr)], "version_mismatch", "upgrade");
}

#[test]
fn server_error_when_wsc_serve_is_at_capacity() {
    let server = Server::start(&["--max-connections", "1"]);
    // Hold the one slot with an open WebSocket.
    let (mut rx, mut tx) = (vec![0u8; 64 * 1024], vec![0u8; 16 * 1024]);
    let _held = support::ws(server.addr, "/", None, &mut rx, &mut tx).unwrap();
    let json = expect(&[&url(server.addr)], "server_error", "upgrade");
    assert!(json["steps"][3]["detail"].as_str().unwrap().starts_with("HTTP 503"), "{json:#}");
    assert!(json["cause"].as_str().unwrap().contains("at capacity"), "{json:#}");
}

#[test]
fn missing_upgrade_in_a_101() {
    let addr = answer("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n");
    let json = expect(&[&url(addr)], "missing_upgrade", "checks");
    assert!(json["hint"].as_str().unwrap().contains("proxy_set_header Upgrade"), "{json:#}");
}

#[test]
fn invalid_accept_in_a_101() {
    let addr = answer(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    );
    let json = expect(&[&url(addr)], "invalid_accept", "checks");
    assert!(json["steps"][4]["detail"].as_str().unwrap().contains("expected"), "{json:#}");
}

#[test]
fn subprotocol_mismatch_unoffered_or_missing() {
    let addr = fake(|mut s, request| {
        s.write_all(switching(&request, "Sec-WebSocket-Protocol: other\r\n").as_bytes()).unwrap();
        drain(s);
    });
    let json = expect(&["--protocol", "chat", &url(addr)], "subprotocol_mismatch", "checks");
    assert!(json["steps"][4]["detail"].as_str().unwrap().contains("\"other\""), "{json:#}");
    // wsc serve speaks no subprotocol: it accepts without selecting the one offered.
    let server = Server::start(&[]);
    let json = expect(&["--protocol", "chat", &url(server.addr)], "subprotocol_mismatch", "checks");
    assert!(json["cause"].as_str().unwrap().contains("browsers then fail"), "{json:#}");
    let server = Server::start(&["--protocol", "chat"]);
    let (json, status) = probe(&["--protocol", "chat", &url(server.addr)]);
    assert_eq!((json["verdict"].as_str(), status), (Some("ok"), 0), "{json:#}");
}

#[test]
fn checks_report_what_permessage_deflate_agreed() {
    let server = Server::start(&[]);
    let (json, status) = probe(&[&url(server.addr)]);
    assert_eq!((json["verdict"].as_str(), status), (Some("ok"), 0), "{json:#}");
    let offer = "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; \
                 client_max_window_bits\r\n";
    assert!(json["steps"][3]["request"].as_str().unwrap().contains(offer), "{json:#}");
    let checks = &json["steps"][4];
    let agreed = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    assert!(
        checks["detail"].as_str().unwrap().ends_with(&format!(
            "permessage-deflate: {agreed} (sent: 15-bit window, each message on its own; \
             received: 15-bit window, each message on its own)"
        )),
        "{json:#}"
    );
    assert_eq!(checks["deflate"]["extension"], agreed);
    assert_eq!(checks["deflate"]["server_to_client"]["max_window_bits"], 15);
    assert_eq!(checks["deflate"]["client_to_server"]["no_context_takeover"], true);
    // Not offered, or declined by the server.
    let (json, _) = probe(&["--no-deflate", &url(server.addr)]);
    let detail = json["steps"][4]["detail"].as_str().unwrap();
    assert!(detail.ends_with("permessage-deflate: not offered (--no-deflate)"), "{json:#}");
    assert!(!json["steps"][3]["request"].as_str().unwrap().contains("Extensions"));
    assert_eq!(json["steps"][4]["deflate"], Value::Null);
    let server = Server::start(&["--no-deflate"]);
    let (json, status) = probe(&[&url(server.addr)]);
    assert_eq!((json["verdict"].as_str(), status), (Some("ok"), 0), "{json:#}");
    let detail = json["steps"][4]["detail"].as_str().unwrap();
    assert!(detail.ends_with("permessage-deflate: declined by the server"), "{json:#}");
}

#[test]
fn extension_mismatch_for_an_answer_the_client_must_fail() {
    for (extra, why) in [
        ("permessage-deflate; client_max_window_bits", "whole number from 8 to 15"),
        ("permessage-deflate; server_max_window_bits=8, permessage-deflate", "more than once"),
        ("x-custom-extension", "was not offered"),
    ] {
        let addr = fake(move |mut s, request| {
            let header = format!("Sec-WebSocket-Extensions: {extra}\r\n");
            s.write_all(switching(&request, &header).as_bytes()).unwrap();
            drain(s);
        });
        let json = expect(&[&url(addr)], "extension_mismatch", "checks");
        let detail = json["steps"][4]["detail"].as_str().unwrap();
        assert!(detail.contains(extra) && detail.contains(why), "{json:#}");
    }
}

#[test]
fn no_pong_from_a_server_that_ignores_pings() {
    let addr = fake(|mut s, request| {
        s.write_all(switching(&request, "").as_bytes()).unwrap();
        drain(s);
    });
    expect(&[&url(addr)], "no_pong", "ping");
}

#[test]
fn abnormal_close_when_tcp_drops_after_the_101() {
    let addr = fake(|mut s, request| {
        s.write_all(switching(&request, "").as_bytes()).unwrap();
    });
    let json = expect(&[&url(addr)], "abnormal_close", "ping");
    assert!(json["cause"].as_str().unwrap().contains("1006"), "{json:#}");
}

#[test]
fn abnormal_close_when_the_close_frame_gets_no_reply() {
    let addr = fake(|mut s, request| {
        s.write_all(switching(&request, "").as_bytes()).unwrap();
        // Answer the ping (masked from the client: unmask it), then drop at the close.
        let mut header = [0u8; 6];
        s.read_exact(&mut header).unwrap();
        let mut payload = vec![0u8; usize::from(header[1] & 0x7f)];
        s.read_exact(&mut payload).unwrap();
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= header[2 + i % 4];
        }
        let mut pong = vec![0x8a, payload.len() as u8];
        pong.extend_from_slice(&payload);
        s.write_all(&pong).unwrap();
        let mut close = [0u8; 2];
        let _ = s.read_exact(&mut close);
    });
    expect(&[&url(addr)], "abnormal_close", "close");
}

#[test]
fn closed_with_error_1011_explained() {
    let addr = fake(|mut s, request| {
        s.write_all(switching(&request, "").as_bytes()).unwrap();
        // Close frame 1011 "boom".
        s.write_all(&[0x88, 0x06, 0x03, 0xf3, b'b', b'o', b'o', b'm']).unwrap();
        drain(s);
    });
    let json = expect(&[&url(addr)], "closed_with_error", "ping");
    let cause = json["cause"].as_str().unwrap();
    assert!(
        cause.contains("1011 (internal server error)") && cause.contains("\"boom\""),
        "{cause}"
    );
    assert!(json["hint"].as_str().unwrap().contains("server's logs"), "{json:#}");
}

#[test]
fn closed_with_error_1013_says_try_later() {
    let addr = fake(|mut s, request| {
        s.write_all(switching(&request, "").as_bytes()).unwrap();
        s.write_all(&[0x88, 0x02, 0x03, 0xf5]).unwrap();
        drain(s);
    });
    let json = expect(&[&url(addr)], "closed_with_error", "ping");
    assert!(json["hint"].as_str().unwrap().contains("--reconnect"), "{json:#}");
}
