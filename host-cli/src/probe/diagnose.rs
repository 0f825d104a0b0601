//! What `wsc probe` says when a network step fails, and the DNS step.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use serde_json::json;
use wscodec::io::Error;
use wscodec::{CloseCode, HandshakeError};

use super::verdict::{Failure, Verdict};
use super::{Done, Failed};
use crate::url::WsUrl;

/// Resolves the host: an IP address as is, a name through the system resolver.
pub(super) fn resolve(url: &WsUrl) -> Result<Done<Vec<SocketAddr>>, Failed> {
    if let Ok(ip) = url.bare_host().parse::<IpAddr>() {
        let addr = SocketAddr::new(ip, url.port);
        return Ok(Done::new(vec![addr], format!("{ip} is an IP address: no lookup needed")));
    }
    match (url.bare_host(), url.port).to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                return Err(Failure::new(
                    Verdict::DnsFailure,
                    format!("{} has no addresses", url.host),
                    format!("{} exists in DNS but has no A or AAAA record", url.host),
                    "add an address record for the host, or use another name",
                )
                .into());
            }
            let list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
            let mut done = Done::new(
                addrs.clone(),
                format!("{} -> {} (trying {} first)", url.host, list.join(", "), addrs[0].ip()),
            );
            done.extra.push(("addresses", json!(list)));
            Ok(done)
        }
        Err(e) => {
            let text = e.to_string();
            let temporary = text.contains("Temporary failure") || text.contains("try again");
            let (cause, hint) = if temporary {
                (
                    format!("no DNS server answered for {}: {text}", url.host),
                    "this machine cannot reach its DNS server: check the network connection \
                     and /etc/resolv.conf (or the VPN); an IP address in the URL skips DNS"
                        .to_owned(),
                )
            } else {
                (
                    format!("the name {} does not exist: {text}", url.host),
                    format!(
                        "check the spelling of {}; an internal name needs the right network, \
                         VPN or search domain; a name only in /etc/hosts must be spelled \
                         the same",
                        url.host
                    ),
                )
            };
            Err(Failure::new(
                Verdict::DnsFailure,
                format!("cannot resolve {}: {text}", url.host),
                cause,
                hint,
            )
            .into())
        }
    }
}

pub(super) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}

/// The first line of a text body, for the explanation.
pub(super) fn body_line(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body.get(..body.len().min(512))?).ok()?;
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(truncate(line, 120))
}

pub(super) fn no_response(head: &[u8], timeout: Duration) -> Failure {
    let secs = timeout.as_secs_f64();
    Failure::new(
        Verdict::HandshakeTimeout,
        if head.is_empty() {
            format!("no response within {secs} s")
        } else {
            format!("an incomplete response within {secs} s ({} bytes)", head.len())
        },
        format!(
            "TCP connected and the request was sent, but no complete HTTP response came \
             within {secs} s"
        ),
        "the server may be stuck, or the port belongs to another protocol that waits for \
         the client (a database, SSH over another port, a TLS server reached with ws://); \
         check the port, and the server's logs; raise --timeout for a slow server",
    )
}

pub(super) fn closed_early(head: &[u8], url: &WsUrl) -> Failure {
    let tls_hint = if !url.tls && head.first() == Some(&0x15) {
        "; it answered with a TLS alert: this port expects wss://"
    } else {
        ""
    };
    Failure::new(
        Verdict::ClosedBeforeResponse,
        if head.is_empty() {
            "the server closed the connection without answering".to_owned()
        } else {
            format!("the server closed the connection after {} bytes of a response", head.len())
        },
        format!(
            "the server accepted TCP, read the request and hung up without a response{tls_hint}"
        ),
        if url.tls {
            "look at the server's logs: it may crash on upgrade requests, refuse this client \
             silently, or limit connections"
        } else {
            "is this port a wss:// (TLS) endpoint? try wss://; otherwise look at the server's \
             logs: it may crash on upgrade requests or refuse this client silently"
        },
    )
}

pub(super) fn not_http(head: &[u8], e: HandshakeError, url: &WsUrl) -> Failure {
    let tls_record = matches!(head.first(), Some(0x15 | 0x16)) && head.get(1) == Some(&3);
    if tls_record && !url.tls {
        let wss = WsUrl { tls: true, ..url.clone() };
        return Failure::new(
            Verdict::NotWebsocket,
            "the server answered with a TLS record, not HTTP",
            "this port speaks TLS: it expects wss://, not ws://",
            format!("use {wss}"),
        );
    }
    Failure::new(
        Verdict::NotWebsocket,
        format!("the answer is not HTTP ({e}): {:?}", truncate(&String::from_utf8_lossy(head), 40)),
        "the server does not speak HTTP on this port, so it cannot speak WebSocket",
        "check the port: another service (database, mail, SSH, a custom protocol) listens here",
    )
}

pub(super) fn no_pong(timeout: Duration) -> Failed {
    let secs = timeout.as_secs_f64();
    Failure::new(
        Verdict::NoPong,
        format!("no pong within {secs} s"),
        format!(
            "the connection opened, but the server did not answer a ping within {secs} s; \
             RFC 6455 requires a pong as soon as practical"
        ),
        "the server's event loop may be blocked, or its framework does not answer pings; \
         clients that check liveness with pings (and proxies with idle timeouts) will drop \
         this connection",
    )
    .into()
}

pub(super) fn no_close_reply(timeout: Duration) -> Failed {
    let secs = timeout.as_secs_f64();
    Failure::new(
        Verdict::AbnormalClose,
        format!("no close reply within {secs} s"),
        format!("the server did not answer the close frame within {secs} s"),
        "the server should echo the close frame and then close TCP; clients report such \
         connections as 1006 (abnormal closure)",
    )
    .into()
}

/// The connection broke while `doing`.
pub(super) fn lost(e: &Error<io::Error>, doing: &str) -> Failed {
    match e {
        Error::Protocol(p) => Failure::new(
            Verdict::ClosedWithError,
            format!("the server broke the protocol while {doing}: {p}"),
            format!("the server sent an invalid frame ({p}); wsc closed with {}", p.close_code()),
            "a bug in the server's WebSocket library, or a proxy that alters frames",
        )
        .into(),
        _ => Failure::new(
            Verdict::AbnormalClose,
            format!("connection dropped while {doing}: {}", CloseCode::ABNORMAL),
            format!(
                "the server (or something in between) dropped the TCP connection without a \
                 close frame while {doing}: close code 1006, abnormal closure"
            ),
            "1006 is never sent by a server: it means the connection just ended. Look at the \
             server's logs for a crash or a handler that returns without closing; proxies \
             drop idle connections too (send pings, raise the proxy's read timeout)",
        )
        .into(),
    }
}
