//! Why a tunnel through a proxy failed, explained: what was seen, the cause, the fix.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::Chosen;
use crate::timed::short_io;

/// The four ways a proxy fails, as `wsc probe` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// The proxy cannot be reached or does not speak the expected protocol.
    Unreachable,
    /// The proxy wants (other) credentials.
    AuthRequired,
    /// The proxy's policy refuses this tunnel.
    Refused,
    /// The proxy could not reach the target.
    Error,
}

/// Which exchange with a SOCKS5 proxy was under way (HTTP has only `Connect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Greeting,
    Auth,
    Connect,
}

/// What went wrong.
#[derive(Debug)]
pub(crate) enum FailureKind {
    /// The proxy's host name does not resolve.
    Resolve(String),
    /// TCP to the proxy failed.
    Connect { addr: SocketAddr, error: io::Error, timeout: Duration },
    /// A socket error other than a timeout or a closed connection.
    Io(io::Error),
    /// The proxy's answer did not arrive in time (`got` bytes of it did).
    Timeout { stage: Stage, got: usize, timeout: Duration },
    /// The proxy closed the connection (after `got` bytes of its answer).
    Closed { stage: Stage, got: usize },
    /// The answer to `CONNECT` is not HTTP; its first bytes.
    NotHttp(Vec<u8>),
    /// The answer's head does not end within the limit.
    HeadTooLarge(usize),
    /// The proxy answered `CONNECT` with a status other than 2xx.
    Http {
        status: u16,
        reason: String,
        headers: Vec<(String, String)>,
        body_line: Option<String>,
        sent_credentials: bool,
    },
    /// The answer to the SOCKS5 greeting is not SOCKS5; its first bytes.
    NotSocks(Vec<u8>),
    /// SOCKS5 method 0xFF: none of the offered authentication methods is acceptable.
    SocksNoMethod { offered_credentials: bool },
    /// The proxy chose an authentication method that was not offered.
    SocksUnexpectedMethod(u8),
    /// RFC 1929: the user name and password were refused (the status byte).
    SocksAuthRejected(u8),
    /// The SOCKS5 reply to `CONNECT` is not 0x00 (succeeded).
    SocksReply(u8),
    /// A malformed SOCKS5 reply.
    SocksBadReply(String),
    /// Something wsc cannot send (a user name over 255 bytes, a control byte in a host).
    Invalid(String),
}

/// A failed tunnel, with what is needed to explain it.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: FailureKind,
    pub(crate) proxy: Chosen,
    /// The tunnel's target, `host:port`.
    pub(crate) target: String,
    pub(crate) target_port: u16,
    /// The exchange until the failure.
    pub(crate) transcript: Vec<String>,
    /// The proxy's reply as JSON, when there was one.
    pub(crate) reply: serde_json::Value,
}

/// The text of a SOCKS5 reply code (RFC 1928 section 6).
pub(crate) const fn socks_reply_text(code: u8) -> &'static str {
    match code {
        0x00 => "succeeded",
        0x01 => "general SOCKS server failure",
        0x02 => "connection not allowed by ruleset",
        0x03 => "network unreachable",
        0x04 => "host unreachable",
        0x05 => "connection refused",
        0x06 => "TTL expired",
        0x07 => "command not supported",
        0x08 => "address type not supported",
        _ => "unassigned code",
    }
}

impl Failure {
    pub(crate) fn class(&self) -> Class {
        match &self.kind {
            FailureKind::Resolve(_)
            | FailureKind::Connect { .. }
            | FailureKind::NotHttp(_)
            | FailureKind::NotSocks(_)
            | FailureKind::SocksUnexpectedMethod(_)
            | FailureKind::Invalid(_) => Class::Unreachable,
            FailureKind::Timeout { stage: Stage::Greeting, .. }
            | FailureKind::Closed { stage: Stage::Greeting, .. } => Class::Unreachable,
            FailureKind::SocksNoMethod { .. } | FailureKind::SocksAuthRejected(_) => {
                Class::AuthRequired
            }
            FailureKind::Closed { stage: Stage::Auth, .. } => Class::AuthRequired,
            FailureKind::Http { status: 407, .. } => Class::AuthRequired,
            FailureKind::Http { status: 300..=499, .. } => Class::Refused,
            FailureKind::SocksReply(0x02 | 0x07) => Class::Refused,
            FailureKind::Http { .. }
            | FailureKind::SocksReply(_)
            | FailureKind::SocksBadReply(_)
            | FailureKind::HeadTooLarge(_)
            | FailureKind::Io(_)
            | FailureKind::Timeout { .. }
            | FailureKind::Closed { .. } => Class::Error,
        }
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        match &self.kind {
            FailureKind::Http { headers, .. } => {
                headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
            }
            _ => None,
        }
    }

    /// The `Proxy-Authenticate` schemes, e.g. `["Basic", "NTLM"]`.
    pub(super) fn auth_schemes(&self) -> Vec<String> {
        match &self.kind {
            FailureKind::Http { headers, .. } => headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("Proxy-Authenticate"))
                .filter_map(|(_, v)| v.split_whitespace().next())
                .map(|s| s.trim_end_matches(',').to_owned())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// What the step saw, in one line.
    pub(crate) fn detail(&self) -> String {
        let protocol = self.proxy.url.kind.protocol();
        match &self.kind {
            FailureKind::Resolve(e) => {
                format!("cannot resolve the proxy host {}: {e}", self.proxy.url.host)
            }
            FailureKind::Connect { addr, error, .. } => {
                format!("proxy {addr}: {}", short_io(error))
            }
            FailureKind::Io(e) => format!("talking to the proxy failed: {}", short_io(e)),
            FailureKind::Timeout { got: 0, timeout, .. } => {
                format!("no answer from the proxy within {} s", timeout.as_secs_f64())
            }
            FailureKind::Timeout { got, timeout, .. } => {
                format!("only {got} bytes of the proxy's answer within {} s", timeout.as_secs_f64())
            }
            FailureKind::Closed { got: 0, .. } => {
                "the proxy closed the connection without answering".to_owned()
            }
            FailureKind::Closed { got, .. } => {
                format!("the proxy closed the connection after {got} bytes of its answer")
            }
            FailureKind::NotHttp(first) => {
                format!("the answer to CONNECT is not HTTP: {}", show_bytes(first))
            }
            FailureKind::HeadTooLarge(max) => {
                format!("no end of the proxy's answer head in {max} bytes")
            }
            FailureKind::Http { status, reason, .. } => {
                let mut line = format!("CONNECT {} -> {status} {reason}", self.target);
                for name in ["X-Squid-Error", "Proxy-Authenticate"] {
                    if let Some(value) = self.header(name) {
                        line.push_str(&format!(", {name}: {value}"));
                    }
                }
                line
            }
            FailureKind::NotSocks(first) => {
                format!("the answer to the SOCKS5 greeting is not SOCKS5: {}", show_bytes(first))
            }
            FailureKind::SocksNoMethod { .. } => {
                "the proxy accepts none of the offered authentication methods (0xff)".to_owned()
            }
            FailureKind::SocksUnexpectedMethod(m) => {
                format!("the proxy chose authentication method {m:#04x}, which was not offered")
            }
            FailureKind::SocksAuthRejected(status) => {
                format!("the proxy refused the user name and password (status {status:#04x})")
            }
            FailureKind::SocksReply(code) => format!(
                "CONNECT {} -> {protocol} reply {code:#04x} ({})",
                self.target,
                socks_reply_text(*code)
            ),
            FailureKind::SocksBadReply(what) | FailureKind::Invalid(what) => what.clone(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.cause(), self.fix())
    }
}

impl std::error::Error for Failure {}

/// The first bytes of an answer, as text if they are printable, else as hex.
fn show_bytes(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(24)];
    if shown.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("{:?}", String::from_utf8_lossy(shown))
    } else {
        crate::hex::spaced(shown)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::{ProxyUrl, Source};
    use super::*;

    pub(in crate::proxy) fn failure(
        kind: FailureKind,
        proxy: &str,
        source: Source,
        port: u16,
    ) -> Failure {
        let url = ProxyUrl::parse(proxy).unwrap();
        Failure {
            kind,
            proxy: Chosen { url, source },
            target: format!("127.0.0.1:{port}"),
            target_port: port,
            transcript: Vec::new(),
            reply: serde_json::Value::Null,
        }
    }

    pub(in crate::proxy) fn http(
        status: u16,
        headers: &[(&str, &str)],
        sent_credentials: bool,
    ) -> FailureKind {
        FailureKind::Http {
            status,
            reason: "R".into(),
            headers: headers.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect(),
            body_line: None,
            sent_credentials,
        }
    }

    #[test]
    fn classes_follow_the_status_and_reply_codes() {
        let cases = [
            (http(407, &[], false), Class::AuthRequired),
            (http(403, &[], false), Class::Refused),
            (http(405, &[], false), Class::Refused),
            (http(302, &[], false), Class::Refused),
            (http(502, &[], false), Class::Error),
            (http(503, &[], false), Class::Error),
            (http(504, &[], false), Class::Error),
            (FailureKind::SocksReply(0x02), Class::Refused),
            (FailureKind::SocksReply(0x05), Class::Error),
            (FailureKind::SocksReply(0x01), Class::Error),
            (FailureKind::SocksNoMethod { offered_credentials: false }, Class::AuthRequired),
            (FailureKind::SocksAuthRejected(1), Class::AuthRequired),
            (FailureKind::NotSocks(b"HTTP/1.1 400".to_vec()), Class::Unreachable),
            (FailureKind::Resolve("x".into()), Class::Unreachable),
        ];
        for (kind, class) in cases {
            let f = failure(kind, "http://p:1", Source::Flag, 9001);
            assert_eq!(f.class(), class, "{:?}", f.kind);
            assert!(!f.detail().is_empty() && !f.cause().is_empty() && !f.fix().is_empty());
        }
    }
}
