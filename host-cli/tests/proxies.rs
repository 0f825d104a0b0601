//! `wsc probe` and `wsc connect` through real proxies, each started here on loopback from
//! its Debian package (see `support/proxies.rs`): Squid with its stock policy, an open
//! policy and Basic authentication; nginx as a reverse proxy that drops `Upgrade`, and
//! one that forwards it but cuts idle tunnels after 2 s; microsocks and dante as SOCKS5
//! servers. Every proxy verdict here comes from one of them.

#[path = "support/proxies.rs"]
mod proxies;
mod support;
#[path = "support/tls.rs"]
mod tls_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use proxies::{dante, free_port, microsocks, nginx, squid, SquidPolicy};
use serde_json::Value;
use support::{code, wsc_with_env, Server};
use tls_support::self_signed;

/// `wsc probe --json --timeout 3 ARGS...` with `env`: the JSON and the exit code.
fn probe(args: &[&str], env: &[(&str, &str)]) -> (Value, i32) {
    let mut all = vec!["probe", "--json", "--timeout", "3"];
    all.extend_from_slice(args);
    let out = wsc_with_env(&all, b"", env);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (json, code(out.status))
}

/// The probe's verdict and failed step.
fn verdict(json: &Value) -> (&str, Option<&str>) {
    (json["verdict"].as_str().unwrap(), json["failed_step"].as_str())
}

/// The step called `name`.
fn step<'a>(json: &'a Value, name: &str) -> &'a Value {
    let steps = json["steps"].as_array().unwrap();
    steps.iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("no step {name}: {json:#}"))
}

fn step_names(json: &Value) -> Vec<&str> {
    json["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect()
}

fn text(json: &Value, field: &str) -> String {
    json[field].as_str().unwrap_or_default().to_owned()
}

fn ws(addr: SocketAddr) -> String {
    format!("ws://{addr}/chat")
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    free_port()
}

#[test]
fn squid_stock_policy_refuses_connect_to_ports_other_than_443() {
    let server = Server::start(&[]);
    let squid = squid(SquidPolicy::Stock);
    let proxy = format!("http://{}", squid.addr());
    let (json, status) = probe(&["--proxy", &proxy, &ws(server.addr)], &[]);
    assert_eq!(verdict(&json), ("proxy_refused", Some("proxy")), "{json:#}{}", squid.logs());
    assert_eq!(status, 1);
    let proxy_step = step(&json, "proxy");
    assert_eq!(proxy_step["chosen_by"], "--proxy");
    assert_eq!(proxy_step["reply"]["status"], 403);
    let detail = text(proxy_step, "detail");
    assert!(detail.contains("403 Forbidden, X-Squid-Error: ERR_ACCESS_DENIED"), "{detail}");
    let cause = text(&json, "cause");
    assert!(cause.contains("allow CONNECT only to port 443"), "{cause}");
    assert!(cause.contains(&format!("this tunnel is to port {}", server.addr.port())), "{cause}");
    let hint = text(&json, "hint");
    assert!(hint.contains("wss:// on port 443"), "{hint}");
    assert!(hint.contains(&format!("acl SSL_ports port {}", server.addr.port())), "{hint}");
}

#[test]
fn squid_open_policy_tunnels_ws_and_wss_checking_the_servers_certificate() {
    let squid = squid(SquidPolicy::Open);
    let proxy = format!("http://{}", squid.addr());
    let server = Server::start(&[]);
    let (json, status) = probe(&["--proxy", &proxy, &ws(server.addr)], &[]);
    assert_eq!((verdict(&json), status), (("ok", None), 0), "{json:#}{}", squid.logs());
    assert_eq!(step_names(&json), ["url", "proxy", "upgrade", "checks", "ping", "close"]);
    let detail = text(step(&json, "proxy"), "detail");
    assert!(detail.contains("-> HTTP/1.1 200 Connection established"), "{detail}");

    // wss:// through the tunnel: the server's certificate is checked, for the URL's host.
    let cert = self_signed(&["127.0.0.1"], false);
    let tls_server = Server::start(&cert.serve_args());
    let ca = cert.cert.to_str().unwrap();
    let target = format!("wss://{}/", tls_server.addr);
    let (json, status) = probe(&["--proxy", &proxy, "--ca-file", ca, &target], &[]);
    assert_eq!((verdict(&json), status), (("ok", None), 0), "{json:#}");
    let tls = text(step(&json, "tls"), "detail");
    assert!(tls.contains("certificate valid for 127.0.0.1"), "{tls}");
    let other = self_signed(&["other.example"], false);
    let wrong_server = Server::start(&other.serve_args());
    let target = format!("wss://{}/", wrong_server.addr);
    let ca = other.cert.to_str().unwrap();
    let (json, _) = probe(&["--proxy", &proxy, "--ca-file", ca, &target], &[]);
    assert_eq!(verdict(&json), ("tls_error", Some("tls")), "{json:#}");
    assert!(text(&json, "cause").contains("not valid for 127.0.0.1"), "{json:#}");
}

#[test]
fn the_environment_chooses_the_proxy_as_curl_does() {
    let squid = squid(SquidPolicy::Open);
    let proxy = format!("http://{}", squid.addr());
    let server = Server::start(&[]);
    let url = ws(server.addr);
    // http_proxy for ws://.
    let (json, _) =
        probe(&[&url], &[("http_proxy", &proxy), ("https_proxy", "http://127.0.0.1:1")]);
    assert_eq!(verdict(&json), ("ok", None), "{json:#}");
    assert_eq!(step(&json, "proxy")["chosen_by"], "http_proxy");
    // The uppercase HTTP_PROXY is ignored, with a note.
    let (json, _) = probe(&[&url], &[("HTTP_PROXY", &proxy)]);
    assert_eq!(step_names(&json), ["url", "dns", "tcp", "upgrade", "checks", "ping", "close"]);
    assert!(json["notes"][0].as_str().unwrap().contains("HTTP_PROXY="), "{json:#}");
    // all_proxy when nothing more specific is set; no_proxy sends the host direct.
    let (json, _) = probe(&[&url], &[("all_proxy", &proxy)]);
    assert_eq!(step(&json, "proxy")["chosen_by"], "all_proxy");
    let (json, _) =
        probe(&[&url], &[("all_proxy", &proxy), ("no_proxy", "localhost, 127.0.0.0/8")]);
    assert!(!step_names(&json).contains(&"proxy"), "{json:#}");
    assert!(json["notes"][0].as_str().unwrap().starts_with("no_proxy=localhost, 127.0.0.0/8"));
    // --no-proxy goes direct, whatever is set.
    let (json, _) = probe(&["--no-proxy", &url], &[("http_proxy", "http://127.0.0.1:1")]);
    assert_eq!(verdict(&json), ("ok", None), "{json:#}");
    // https_proxy for wss://.
    let cert = self_signed(&["127.0.0.1"], false);
    let tls_server = Server::start(&cert.serve_args());
    let target = format!("wss://{}/", tls_server.addr);
    let ca = cert.cert.to_str().unwrap();
    let env = [("https_proxy", proxy.as_str()), ("http_proxy", "http://127.0.0.1:1")];
    let (json, _) = probe(&["--ca-file", ca, &target], &env);
    assert_eq!(verdict(&json), ("ok", None), "{json:#}");
    assert_eq!(step(&json, "proxy")["chosen_by"], "https_proxy");
}

#[test]
fn wsc_connect_goes_through_the_proxy_of_the_environment() {
    let squid = squid(SquidPolicy::Open);
    let server = Server::start(&[]);
    let proxy = format!("http://{}", squid.addr());
    let out =
        wsc_with_env(&["connect", &ws(server.addr)], b"through squid\n", &[("http_proxy", &proxy)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(out.status), 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("through squid\n"), "{stdout}");
    assert!(stderr.contains(&format!("via {proxy} (from $http_proxy)")), "{stderr}");
    assert!(squid.logs().contains(&format!("CONNECT {}", server.addr)), "{}", squid.logs());
}

#[test]
fn squid_reports_an_unreachable_target_as_proxy_error() {
    let squid = squid(SquidPolicy::Open);
    let proxy = format!("http://{}", squid.addr());
    let target = format!("ws://127.0.0.1:{}/", closed_port());
    let (json, _) = probe(&["--proxy", &proxy, &target], &[]);
    assert_eq!(verdict(&json), ("proxy_error", Some("proxy")), "{json:#}");
    assert_eq!(step(&json, "proxy")["reply"]["status"], 503);
    let cause = text(&json, "cause");
    assert!(cause.contains("ERR_CONNECT_FAIL 111") && cause.ends_with("connection refused"));
    // wsc connect says the same, and does not call it a proxy problem to retry forever.
    let out = wsc_with_env(&["connect", "--proxy", &proxy, &target], b"", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(out.status), 6, "proxy: {stderr}");
    assert!(stderr.contains("could not reach 127.0.0.1:"), "{stderr}");
}

#[test]
fn squid_basic_auth_asks_for_credentials_and_takes_them_from_the_url() {
    let server = Server::start(&[]);
    let squid = squid(SquidPolicy::BasicAuth { user: "alice", password: "p@ss:w/rd" });
    let addr = squid.addr();
    let url = ws(server.addr);
    let (json, _) = probe(&["--proxy", &format!("http://{addr}"), &url], &[]);
    assert_eq!(verdict(&json), ("proxy_auth_required", Some("proxy")), "{json:#}{}", squid.logs());
    assert_eq!(step(&json, "proxy")["reply"]["status"], 407);
    let cause = text(&json, "cause");
    assert!(cause.contains("asks to authenticate with Basic"), "{cause}");
    assert!(text(&json, "hint").contains(&format!("http://USER:PASSWORD@{addr}")), "{json:#}");
    // Wrong credentials: refused, and the password never shows.
    let (json, _) = probe(&["--proxy", &format!("http://alice:wrong@{addr}"), &url], &[]);
    assert_eq!(verdict(&json), ("proxy_auth_required", Some("proxy")), "{json:#}");
    assert!(text(&json, "cause").contains("refused the credentials"), "{json:#}");
    assert!(!json.to_string().contains("wrong"), "{json:#}");
    // The right ones, percent-encoded in the URL.
    let proxy = format!("http://alice:p%40ss%3Aw%2Frd@{addr}");
    let (json, status) = probe(&["--proxy", &proxy, &url], &[]);
    assert_eq!((verdict(&json), status), (("ok", None), 0), "{json:#}{}", squid.logs());
    assert_eq!(step(&json, "proxy")["proxy"], format!("http://alice:***@{addr}"));
}

#[test]
fn a_proxy_that_is_not_running_is_proxy_unreachable() {
    let server = Server::start(&[]);
    let squid = squid(SquidPolicy::Open);
    let proxy = format!("http://{}", squid.addr());
    drop(squid);
    let (json, _) = probe(&[&ws(server.addr)], &[("http_proxy", &proxy)]);
    assert_eq!(verdict(&json), ("proxy_unreachable", Some("proxy")), "{json:#}");
    assert!(text(&json, "cause").contains("(connection refused)"), "{json:#}");
    assert!(text(&json, "hint").contains("The proxy came from $http_proxy; --no-proxy"));
}

#[test]
fn socks5_through_microsocks_with_and_without_credentials() {
    let server = Server::start(&[]);
    let open = microsocks(None);
    let url = format!("ws://localhost:{}/", server.addr.port());
    // socks5://: wsc resolves localhost (step dns), the proxy gets an address.
    let (json, status) = probe(&["--proxy", &format!("socks5://{}", open.addr()), &url], &[]);
    assert_eq!((verdict(&json), status), (("ok", None), 0), "{json:#}{}", open.logs());
    assert_eq!(step_names(&json)[..3], ["url", "dns", "proxy"]);
    assert_eq!(step(&json, "proxy")["reply"]["socks_reply"], 0);
    // socks5h://: the proxy resolves the name.
    let (json, _) = probe(&["--proxy", &format!("socks5h://{}", open.addr()), &url], &[]);
    assert_eq!(verdict(&json), ("ok", None), "{json:#}");
    assert_eq!(step_names(&json)[..2], ["url", "proxy"]);
    assert_eq!(step(&json, "proxy")["target"], format!("localhost:{}", server.addr.port()));
    // A closed port behind the proxy: reply 0x05.
    let target = format!("ws://127.0.0.1:{}/", closed_port());
    let (json, _) = probe(&["--proxy", &format!("socks5://{}", open.addr()), &target], &[]);
    assert_eq!(verdict(&json), ("proxy_error", Some("proxy")), "{json:#}");
    assert!(text(&json, "cause").contains("reply 0x05 \"connection refused\""), "{json:#}");

    let locked = microsocks(Some(("alice", "s3cret")));
    let addr = locked.addr();
    let (json, _) = probe(&["--proxy", &format!("socks5h://{addr}"), &url], &[]);
    assert_eq!(verdict(&json), ("proxy_auth_required", Some("proxy")), "{json:#}");
    assert!(text(&json, "cause").contains("wants credentials"), "{json:#}");
    let (json, _) = probe(&["--proxy", &format!("socks5h://alice:nope@{addr}"), &url], &[]);
    assert_eq!(verdict(&json), ("proxy_auth_required", Some("proxy")), "{json:#}");
    assert!(text(&json, "cause").contains("refused the user name and password"), "{json:#}");
    let (json, status) = probe(&["--proxy", &format!("socks5h://alice:s3cret@{addr}"), &url], &[]);
    assert_eq!((verdict(&json), status), (("ok", None), 0), "{json:#}{}", locked.logs());
}

#[test]
fn socks5_rules_of_dante_refuse_with_reply_0x02() {
    let server = Server::start(&[]);
    let dante = dante(server.addr);
    let (json, _) =
        probe(&["--proxy", &format!("socks5://{}", dante.addr()), &ws(server.addr)], &[]);
    assert_eq!(verdict(&json), ("proxy_refused", Some("proxy")), "{json:#}{}", dante.logs());
    assert_eq!(step(&json, "proxy")["reply"]["socks_reply"], 2);
    assert!(text(&json, "cause").contains("\"connection not allowed by ruleset\""), "{json:#}");
    // The same proxy passes other destinations.
    let other = Server::start(&[]);
    let (json, _) =
        probe(&["--proxy", &format!("socks5://{}", dante.addr()), &ws(other.addr)], &[]);
    assert_eq!(verdict(&json), ("ok", None), "{json:#}{}", dante.logs());
}

#[test]
fn nginx_without_upgrade_forwarding_is_named_as_the_cause() {
    let server = Server::start(&[]);
    let nginx = nginx(server.addr, false, 60);
    let url = format!("ws://{}/chat", nginx.addr());
    let (json, _) = probe(&[&url], &[]);
    assert_eq!(verdict(&json), ("missing_upgrade", Some("upgrade")), "{json:#}{}", nginx.logs());
    let cause = text(&json, "cause");
    assert!(cause.contains("stripped the hop-by-hop Upgrade"), "{cause}");
    assert!(cause.contains("the answer came through nginx/"), "{cause}");
    assert!(text(&json, "hint").contains("proxy_set_header Upgrade $http_upgrade"), "{json:#}");
    // wsc serve answered 400 (not its test page), and said why.
    server.wait_for_log("status=400");
}

#[test]
fn nginx_read_timeout_cuts_an_idle_connection_and_hold_measures_it() {
    let server = Server::start(&[]);
    let nginx = nginx(server.addr, true, 2);
    let url = format!("ws://{}/chat", nginx.addr());
    let start = Instant::now();
    let (json, status) = probe(&["--hold", "6", &url], &[]);
    assert!(start.elapsed() < Duration::from_secs(5), "the drop ends the hold early");
    assert_eq!(verdict(&json), ("idle_timeout", Some("hold")), "{json:#}{}", nginx.logs());
    assert_eq!(status, 1);
    let hold = step(&json, "hold");
    let ms = hold["ms"].as_f64().unwrap();
    assert!((1500.0..3500.0).contains(&ms), "nginx cut after 2 s, measured {ms} ms");
    assert!(text(hold, "detail").contains("TCP ended without a close frame (1006)"), "{json:#}");
    let cause = text(&json, "cause");
    assert!(cause.contains("something is set to about 2."), "{cause}");
    assert!(cause.contains("the 101 came through nginx"), "{cause}");
    assert!(text(&json, "hint").contains("proxy_read_timeout 3600s"), "{json:#}");
    // A shorter hold survives, and the probe goes on to ping and close.
    let (json, status) = probe(&["--hold", "1", &url], &[]);
    assert_eq!((verdict(&json), status), (("ok", None), 0), "{json:#}");
    assert!(text(step(&json, "hold"), "detail").starts_with("survived 1.0 s idle"), "{json:#}");
}
