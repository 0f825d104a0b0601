//! The cause and the fix of a [`Failure`], written for the person reading them.

use std::io;

use super::failure::{socks_reply_text, FailureKind, Stage};
use super::{Failure, Kind, Source};
use crate::timed::short_io;

/// The text of the errno Squid appends to `ERR_CONNECT_FAIL`.
fn errno_text(errno: &str) -> Option<&'static str> {
    Some(match errno {
        "111" => "connection refused",
        "110" => "connection timed out",
        "113" => "no route to host",
        "101" => "network unreachable",
        "104" => "connection reset",
        _ => return None,
    })
}

impl Failure {
    /// Why, in a sentence or two.
    pub(crate) fn cause(&self) -> String {
        let proxy = &self.proxy;
        let url = &proxy.url;
        let protocol = url.kind.protocol();
        let target = &self.target;
        match &self.kind {
            FailureKind::Resolve(e) => format!(
                "the proxy {proxy} cannot be reached: its host name {} does not resolve ({e})",
                url.host
            ),
            FailureKind::Connect { addr, error, timeout } => match error.kind() {
                io::ErrorKind::ConnectionRefused => format!(
                    "the proxy {proxy} cannot be reached: nothing listens on {addr} \
                     (connection refused)"
                ),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!(
                    "the proxy {proxy} cannot be reached: {addr} did not answer within {} s \
                     (a firewall drops the packets, or the proxy host is down)",
                    timeout.as_secs_f64()
                ),
                _ => format!("the proxy {proxy} cannot be reached: {addr}: {}", short_io(error)),
            },
            FailureKind::Io(e) => format!("the connection to the proxy {proxy} failed: {e}"),
            FailureKind::Timeout { stage: Stage::Greeting, timeout, .. } => format!(
                "the proxy {proxy} accepted TCP but did not answer the {protocol} greeting \
                 within {} s: this port may not be a {protocol} proxy",
                timeout.as_secs_f64()
            ),
            FailureKind::Timeout { timeout, .. } => format!(
                "the proxy {proxy} did not answer the request for a tunnel to {target} within \
                 {} s: it may still be trying to reach {target} (packets dropped on its side, \
                 a slow name lookup), or this port is not a {protocol} proxy",
                timeout.as_secs_f64()
            ),
            FailureKind::Closed { stage: Stage::Auth, .. } => format!(
                "the proxy {proxy} hung up after the user name and password: it refused them"
            ),
            FailureKind::Closed { got, .. } => format!(
                "the proxy {proxy} closed the connection {} the request for a tunnel to \
                 {target}: this port is probably not a {protocol} proxy, or it refuses this \
                 client",
                if *got == 0 { "without answering" } else { "in the middle of answering" }
            ),
            FailureKind::NotHttp(first) => {
                let socks = if first.first() == Some(&5) {
                    ": the answer looks like SOCKS5"
                } else if first.first() == Some(&0x15) || first.first() == Some(&0x16) {
                    ": the answer is TLS"
                } else {
                    ""
                };
                format!("{proxy} did not answer CONNECT in HTTP{socks}")
            }
            FailureKind::NotSocks(first) => {
                let http = if first.starts_with(b"HTTP/") { ": it answered in HTTP" } else { "" };
                format!("{proxy} did not answer the SOCKS5 greeting in SOCKS5{http}")
            }
            FailureKind::HeadTooLarge(max) => format!(
                "the proxy {proxy} sent an answer head larger than {max} bytes: not a proxy \
                 reply wsc accepts"
            ),
            FailureKind::Http { status, reason, body_line, sent_credentials, .. } => {
                let mut cause = self.http_cause(*status, reason, *sent_credentials);
                if let Some(line) = body_line {
                    cause.push_str(&format!("; the proxy said: {line:?}"));
                }
                cause
            }
            FailureKind::SocksNoMethod { offered_credentials: false } => format!(
                "the SOCKS5 proxy {proxy} wants credentials: it accepts none of the offered \
                 methods (only \"no authentication\" was offered, as the URL has no user name)"
            ),
            FailureKind::SocksNoMethod { offered_credentials: true } => format!(
                "the SOCKS5 proxy {proxy} accepts neither \"no authentication\" nor user name \
                 and password (RFC 1929): it wants another method, such as GSSAPI"
            ),
            FailureKind::SocksUnexpectedMethod(m) => format!(
                "the SOCKS5 proxy {proxy} chose authentication method {m:#04x}, which was not \
                 offered: a broken proxy, or not a SOCKS5 proxy"
            ),
            FailureKind::SocksAuthRejected(_) => {
                format!("the SOCKS5 proxy {proxy} refused the user name and password (RFC 1929)")
            }
            FailureKind::SocksReply(code) => {
                let text = socks_reply_text(*code);
                let why = match code {
                    0x01 => {
                        "a failure on the proxy's side; some proxies (microsocks) report a \
                             failed name lookup this way"
                    }
                    0x02 => "the proxy's rules forbid a connection from here to this target",
                    0x03 | 0x04 => {
                        "the proxy has no route to the target (or could not resolve \
                                    its name)"
                    }
                    0x05 => {
                        "the target refused the proxy's connection: nothing listens there, \
                             as seen from the proxy"
                    }
                    0x06 => "the proxy's connection to the target timed out",
                    0x07 => "the proxy does not allow CONNECT",
                    0x08 if url.kind == Kind::Socks5h => {
                        "the proxy does not take host names (socks5h://)"
                    }
                    0x08 => "the proxy does not take this kind of address",
                    _ => "the proxy failed in a way RFC 1928 does not define",
                };
                format!(
                    "the SOCKS5 proxy {proxy} could not open a tunnel to {target}: reply \
                     {code:#04x} \"{text}\": {why}"
                )
            }
            FailureKind::SocksBadReply(what) => {
                format!("the SOCKS5 proxy {proxy} sent a malformed reply: {what}")
            }
            FailureKind::Invalid(what) => format!("cannot ask {proxy} for a tunnel: {what}"),
        }
    }

    fn http_cause(&self, status: u16, reason: &str, sent_credentials: bool) -> String {
        let proxy = &self.proxy;
        let target = &self.target;
        let squid = self
            .header("X-Squid-Error")
            .map(|e| format!(", X-Squid-Error: {e}"))
            .unwrap_or_default();
        match status {
            407 => {
                let schemes = match self.header("Proxy-Authenticate") {
                    Some(_) => format!(" with {}", self.auth_schemes().join(" or ")),
                    None => " (it sent no Proxy-Authenticate header)".to_owned(),
                };
                if sent_credentials {
                    format!(
                        "the proxy {proxy} refused the credentials given (407 {reason}): it \
                         wants a valid user name and password{schemes}"
                    )
                } else {
                    format!(
                        "the proxy {proxy} wants credentials before it opens a tunnel (407 \
                         {reason}): it asks to authenticate{schemes}"
                    )
                }
            }
            403 if self.target_port != 443 => format!(
                "the proxy {proxy} refused to open a tunnel to {target} (403 {reason}{squid}): \
                 many proxies allow CONNECT only to port 443 (Squid's stock configuration \
                 says `http_access deny CONNECT !SSL_ports` with `acl SSL_ports port 443`), \
                 and this tunnel is to port {}",
                self.target_port
            ),
            403 => format!(
                "the proxy {proxy} refused to open a tunnel to {target} (403 {reason}{squid}): \
                 its policy forbids this host or this client"
            ),
            405 => format!(
                "the proxy {proxy} does not allow CONNECT (405 {reason}): it is not a forward \
                 proxy for tunnels, or tunnels are disabled"
            ),
            300..=399 => format!(
                "the proxy {proxy} redirects the CONNECT ({status} {reason}, Location: {}): \
                 usually a captive portal or a login page",
                self.header("Location").unwrap_or("none")
            ),
            400..=499 => format!(
                "the proxy {proxy} refused the request for a tunnel to {target} ({status} \
                 {reason}{squid})"
            ),
            _ => {
                let errno = self
                    .header("X-Squid-Error")
                    .and_then(|e| e.split_whitespace().nth(1))
                    .and_then(errno_text)
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default();
                let what = match status {
                    502 => "it got no usable answer from the target",
                    503 => "it could not connect to the target",
                    504 => "its connection to the target timed out",
                    _ => "it failed",
                };
                format!(
                    "the proxy {proxy} could not reach {target} ({status} {reason}{squid}): \
                     {what}{errno}"
                )
            }
        }
    }

    /// What to do.
    pub(crate) fn fix(&self) -> String {
        let url = &self.proxy.url;
        let scheme = url.kind.scheme();
        let direct = match self.proxy.source {
            Source::Env(name) => {
                format!(" The proxy came from ${name}; --no-proxy (or no_proxy) connects directly.")
            }
            Source::Flag => String::new(),
        };
        let fix = match &self.kind {
            FailureKind::Resolve(_) => format!(
                "check the proxy's host name ({}) and this machine's DNS, VPN or network",
                url.host
            ),
            FailureKind::Connect { .. } | FailureKind::Io(_) => format!(
                "is the proxy running, and are its host and port right? A proxy URL without a \
                 port means port {} (as in curl)",
                super::DEFAULT_PORT
            ),
            FailureKind::Timeout { stage: Stage::Greeting, .. }
            | FailureKind::Closed { stage: Stage::Greeting, .. }
            | FailureKind::NotSocks(_)
            | FailureKind::NotHttp(_) => match url.kind {
                Kind::Http => "check that this port is an HTTP proxy; for a SOCKS5 proxy write \
                               socks5://host:port"
                    .to_owned(),
                Kind::Socks5 | Kind::Socks5h => "check that this port is a SOCKS5 proxy; for \
                                                 an HTTP proxy write http://host:port"
                    .to_owned(),
            },
            FailureKind::Closed { stage: Stage::Auth, .. }
            | FailureKind::SocksAuthRejected(_)
            | FailureKind::SocksNoMethod { .. } => format!(
                "give a user name and password the proxy accepts in the proxy URL: \
                 {scheme}://USER:PASSWORD@{}:{} (percent-encode @ : / as %40 %3A %2F)",
                url.host, url.port
            ),
            FailureKind::Http { status: 407, .. } => self.auth_fix(),
            FailureKind::Http { status: 403, .. } if self.target_port != 443 => format!(
                "serve the WebSocket as wss:// on port 443, the port such proxies tunnel to \
                 (e.g. behind a reverse proxy on 443), or ask the proxy's administrators to \
                 allow CONNECT to port {} (Squid: `acl SSL_ports port {}`)",
                self.target_port, self.target_port
            ),
            FailureKind::Http { status: 300..=499, .. } => "ask the proxy's administrators \
                 to allow this destination; the proxy's error page (or its log) names the rule"
                .to_owned(),
            FailureKind::Http { .. }
            | FailureKind::SocksReply(0x01 | 0x03..=0x06)
            | FailureKind::Timeout { .. }
            | FailureKind::Closed { .. } => format!(
                "check that the server at {} is running and reachable from the proxy's \
                 machine: a name must resolve there, and 127.0.0.1 there is the proxy itself",
                self.target
            ),
            FailureKind::SocksReply(0x08) if url.kind == Kind::Socks5h => format!(
                "use socks5://{}:{} so that wsc resolves the name and sends an address",
                url.host, url.port
            ),
            FailureKind::SocksReply(0x02 | 0x07) => "ask the proxy's administrators to allow \
                 this destination (dante: a `socks pass` rule that covers it)"
                .to_owned(),
            FailureKind::SocksReply(_)
            | FailureKind::SocksBadReply(_)
            | FailureKind::SocksUnexpectedMethod(_)
            | FailureKind::HeadTooLarge(_) => {
                "check that the proxy URL points at a working proxy of that kind".to_owned()
            }
            FailureKind::Invalid(_) => "shorten or fix the value named above".to_owned(),
        };
        format!("{fix}.{direct}")
    }

    fn auth_fix(&self) -> String {
        let url = &self.proxy.url;
        let schemes = self.auth_schemes();
        let basic = schemes.is_empty() || schemes.iter().any(|s| s.eq_ignore_ascii_case("basic"));
        let sent = matches!(self.kind, FailureKind::Http { sent_credentials: true, .. });
        if !basic {
            return format!(
                "the proxy asks for {}, and wsc speaks only Basic: ask for Basic to be \
                 enabled, or run a local relay that authenticates for you (such as cntlm or \
                 px) and point --proxy at it",
                schemes.join(" or ")
            );
        }
        let how = format!(
            "http://USER:PASSWORD@{}:{} in --proxy or in the proxy variable (percent-encode \
             @ : / as %40 %3A %2F)",
            url.host, url.port
        );
        if sent {
            format!("check the user name and password; they go in the proxy URL: {how}")
        } else {
            format!("put the credentials in the proxy URL: {how}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::failure::tests::{failure, http};
    use super::*;

    #[test]
    fn a_407_names_the_scheme_and_how_to_pass_credentials() {
        let headers = [("Proxy-Authenticate", "Basic realm=\"corp\"")];
        let f = failure(http(407, &headers, false), "http://p:3128", Source::Env("https_proxy"), 1);
        assert!(f.cause().contains("asks to authenticate with Basic"), "{}", f.cause());
        assert!(f.fix().contains("http://USER:PASSWORD@p:3128"), "{}", f.fix());
        assert!(f.fix().contains("The proxy came from $https_proxy"), "{}", f.fix());
        let headers = [("Proxy-Authenticate", "NTLM"), ("Proxy-Authenticate", "Negotiate")];
        let f = failure(http(407, &headers, false), "http://p:3128", Source::Flag, 1);
        assert!(f.fix().contains("asks for NTLM or Negotiate"), "{}", f.fix());
        let f = failure(http(407, &[], true), "http://u:p@p:3128", Source::Flag, 1);
        assert!(f.cause().contains("refused the credentials"), "{}", f.cause());
    }

    #[test]
    fn a_403_to_another_port_than_443_explains_squids_stock_policy() {
        let f = failure(http(403, &[], false), "http://p:3128", Source::Flag, 9001);
        assert!(f.cause().contains("CONNECT only to port 443"), "{}", f.cause());
        assert!(f.fix().contains("wss:// on port 443"), "{}", f.fix());
        assert!(f.fix().contains("acl SSL_ports port 9001"), "{}", f.fix());
        let f = failure(http(403, &[], false), "http://p:3128", Source::Flag, 443);
        assert!(!f.cause().contains("port 443 ("), "{}", f.cause());
    }

    #[test]
    fn squid_errno_is_spelled_out() {
        let headers = [("X-Squid-Error", "ERR_CONNECT_FAIL 111")];
        let f = failure(http(503, &headers, false), "http://p:3128", Source::Flag, 9);
        assert!(f.cause().ends_with("could not connect to the target: connection refused"));
        assert_eq!(f.detail(), "CONNECT 127.0.0.1:9 -> 503 R, X-Squid-Error: ERR_CONNECT_FAIL 111");
    }

    #[test]
    fn socks_reply_codes_are_explained() {
        let f = failure(FailureKind::SocksReply(5), "socks5://p:1080", Source::Flag, 9);
        assert_eq!(f.detail(), "CONNECT 127.0.0.1:9 -> SOCKS5 reply 0x05 (connection refused)");
        assert!(f.cause().contains("nothing listens there"), "{}", f.cause());
        let f = failure(FailureKind::SocksReply(8), "socks5h://p:1080", Source::Flag, 9);
        assert!(f.fix().starts_with("use socks5://p:1080"), "{}", f.fix());
    }
}
