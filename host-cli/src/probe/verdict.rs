//! The verdicts of `wsc probe`, and the explanations of HTTP answers and close codes.

use wscodec::CloseCode;

/// The outcome of a probe: `ok`, or the first thing that went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Ok,
    InvalidUrl,
    DnsFailure,
    ConnectionRefused,
    ConnectTimeout,
    Unreachable,
    ProxyUnreachable,
    ProxyAuthRequired,
    ProxyRefused,
    ProxyError,
    TlsError,
    HandshakeTimeout,
    ClosedBeforeResponse,
    NotWebsocket,
    Redirect,
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    VersionMismatch,
    ServerError,
    MissingUpgrade,
    InvalidAccept,
    SubprotocolMismatch,
    ExtensionMismatch,
    NoPong,
    IdleTimeout,
    AbnormalClose,
    ClosedWithError,
}

impl Verdict {
    /// The code printed and put in `--json`.
    pub(crate) const fn code(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::InvalidUrl => "invalid_url",
            Self::DnsFailure => "dns_failure",
            Self::ConnectionRefused => "connection_refused",
            Self::ConnectTimeout => "connect_timeout",
            Self::Unreachable => "unreachable",
            Self::ProxyUnreachable => "proxy_unreachable",
            Self::ProxyAuthRequired => "proxy_auth_required",
            Self::ProxyRefused => "proxy_refused",
            Self::ProxyError => "proxy_error",
            Self::TlsError => "tls_error",
            Self::HandshakeTimeout => "handshake_timeout",
            Self::ClosedBeforeResponse => "closed_before_response",
            Self::NotWebsocket => "not_websocket",
            Self::Redirect => "redirect",
            Self::BadRequest => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::VersionMismatch => "version_mismatch",
            Self::ServerError => "server_error",
            Self::MissingUpgrade => "missing_upgrade",
            Self::InvalidAccept => "invalid_accept",
            Self::SubprotocolMismatch => "subprotocol_mismatch",
            Self::ExtensionMismatch => "extension_mismatch",
            Self::NoPong => "no_pong",
            Self::IdleTimeout => "idle_timeout",
            Self::AbnormalClose => "abnormal_close",
            Self::ClosedWithError => "closed_with_error",
        }
    }
}

/// A failed step: the verdict, the step's one-line result, the cause and the fix.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) verdict: Verdict,
    /// What the step saw, e.g. `127.0.0.1:9: connection refused`.
    pub(crate) detail: String,
    /// Why, in a sentence.
    pub(crate) cause: String,
    /// What to do about it.
    pub(crate) hint: String,
}

impl Failure {
    pub(crate) fn new(
        verdict: Verdict,
        detail: impl Into<String>,
        cause: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self { verdict, detail: detail.into(), cause: cause.into(), hint: hint.into() }
    }
}

/// What a non-101 answer to the upgrade request tells.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answer<'a> {
    pub(crate) status: u16,
    pub(crate) reason: &'a str,
    /// `(name, value)` in the order received.
    pub(crate) headers: &'a [(String, String)],
    /// The first line of a text body, if any.
    pub(crate) body_line: Option<&'a str>,
    /// The body as far as it was read.
    pub(crate) body: &'a str,
    /// The request target (path and query).
    pub(crate) path: &'a str,
    pub(crate) origin: Option<&'a str>,
    pub(crate) tls: bool,
}

impl Answer<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn said(&self) -> String {
        match self.body_line {
            Some(line) => format!("; the server said: {line:?}"),
            None => String::new(),
        }
    }

    /// The verdict, cause and fix for a status other than 101.
    ///
    /// A wscodec server's answer to a request whose `Upgrade` a proxy dropped starts with
    /// [`STRIPPED`], whether it was built with feature `error-advice` (as `wsc serve` is)
    /// or without (as a firmware is).
    pub(crate) fn explain(&self) -> Failure {
        let status_line = format!("{} {}", self.status, self.reason);
        let said = self.said();
        let proxy_fix = "behind a reverse proxy, forward the upgrade (nginx: `proxy_http_version \
                         1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header \
                         Connection \"upgrade\";`)";
        if self.status == 400 && self.body.starts_with(STRIPPED) {
            return self.upgrade_stripped(&status_line);
        }
        if let Some(version) = self.header("Sec-WebSocket-Version") {
            if self.status == 426 || self.status == 400 {
                return Failure::new(
                    Verdict::VersionMismatch,
                    format!("HTTP {status_line}, Sec-WebSocket-Version: {version}"),
                    format!(
                        "the server speaks WebSocket version {version}; wsc (like every \
                         browser) speaks 13, the version of RFC 6455{said}"
                    ),
                    "upgrade the server to an RFC 6455 (version 13) WebSocket library; \
                     versions 0-12 were drafts from before 2011",
                );
            }
        }
        match self.status {
            200..=299 => Failure::new(
                Verdict::NotWebsocket,
                format!("HTTP {status_line}: an ordinary HTTP answer, not 101 Switching Protocols"),
                format!(
                    "{} answered like a web page or an API ({}), so nothing at this path \
                     speaks WebSocket, or a proxy in between dropped the Upgrade header",
                    self.path,
                    self.header("Content-Type").unwrap_or("no Content-Type"),
                ),
                format!(
                    "check the WebSocket path (often /ws, /socket or /websocket; Socket.IO \
                     servers need /socket.io/?EIO=4&transport=websocket); {proxy_fix}"
                ),
            ),
            301 | 302 | 303 | 307 | 308 => {
                let location = self.header("Location").unwrap_or("(no Location header)");
                let target = ws_url_for(location);
                let upgrade_tls = !self.tls && location.starts_with("https://");
                Failure::new(
                    Verdict::Redirect,
                    format!("HTTP {status_line} to {location}"),
                    if upgrade_tls {
                        format!("the server redirects to {location}: it wants TLS")
                    } else {
                        format!("the server redirects to {location}")
                    },
                    format!(
                        "WebSocket clients, browsers included, do not follow redirects: connect \
                         to {target} directly{}",
                        if upgrade_tls { " (wss://, not ws://)" } else { "" }
                    ),
                )
            }
            400 => Failure::new(
                Verdict::BadRequest,
                format!("HTTP {status_line}"),
                format!(
                    "the server refused the upgrade request as malformed or incomplete{said}; \
                     it checks the Host, Upgrade, Connection, Sec-WebSocket-Key and \
                     Sec-WebSocket-Version headers (all sent, see above), and often headers of \
                     its own"
                ),
                "compare with what the server expects: a required subprotocol (--protocol \
                 NAME), a token in the query string or a header (-H 'Name: value'), an Origin \
                 (--origin); a proxy that rewrites Connection or Upgrade causes this too",
            ),
            401 => {
                let scheme = self
                    .header("WWW-Authenticate")
                    .map(|w| format!(" (WWW-Authenticate: {w})"))
                    .unwrap_or_default();
                Failure::new(
                    Verdict::Unauthorized,
                    format!("HTTP {status_line}{scheme}"),
                    format!("the server wants credentials before upgrading{scheme}{said}"),
                    "send them: -H 'Authorization: Bearer TOKEN' or -H 'Cookie: name=value'. \
                     Browsers cannot set headers on a WebSocket: there the credentials go in a \
                     cookie or in the query string (?token=...)",
                )
            }
            403 => {
                let cause = match self.origin {
                    Some(origin) => {
                        format!("the server refused the Origin {origin}{said}")
                    }
                    None => format!(
                        "the server refused this client{said}; no Origin was sent, and a server \
                         that checks Origin may refuse requests without one"
                    ),
                };
                Failure::new(
                    Verdict::Forbidden,
                    format!("HTTP {status_line}"),
                    cause,
                    "browsers always send Origin: the scheme://host[:port] of the page. Try \
                     --origin https://your.site with your page's origin; if that is refused \
                     too, add it to the server's allowed origins (e.g. `wsc serve \
                     --allow-origin`, Socket.IO `cors.origin`, Spring \
                     `setAllowedOrigins`), or check the credentials",
                )
            }
            404 => Failure::new(
                Verdict::NotFound,
                format!("HTTP {status_line}"),
                format!("there is no WebSocket endpoint at {}{said}", self.path),
                "check the path: a missing or extra trailing slash, a /ws or /socket prefix, \
                 or a reverse proxy that routes only some paths to the WebSocket server",
            ),
            426 => Failure::new(
                Verdict::VersionMismatch,
                format!(
                    "HTTP {status_line}{}",
                    self.header("Upgrade").map(|u| format!(", Upgrade: {u}")).unwrap_or_default()
                ),
                format!("the server wants another protocol or version to upgrade to{said}"),
                "the server says what it wants in its Upgrade header above; for WebSocket it \
                 must accept version 13 (RFC 6455)",
            ),
            500..=599 => {
                let (cause, hint) = match self.status {
                    502 | 504 => (
                        "a proxy or load balancer in front of the server could not reach it",
                        "check that the WebSocket application behind the proxy is running and \
                         reachable from the proxy, and the proxy's upstream timeout",
                    ),
                    503 => (
                        "the server is overloaded, at its connection limit or in maintenance",
                        "try again later (see Retry-After), or raise the server's connection \
                         limit",
                    ),
                    _ => (
                        "the server failed while handling the upgrade request",
                        "look at the server's logs for this request",
                    ),
                };
                let retry = self
                    .header("Retry-After")
                    .map(|r| format!(" (Retry-After: {r})"))
                    .unwrap_or_default();
                Failure::new(
                    Verdict::ServerError,
                    format!("HTTP {status_line}{retry}"),
                    format!("{cause}{said}"),
                    hint,
                )
            }
            100..=199 => Failure::new(
                Verdict::NotWebsocket,
                format!("HTTP {status_line}"),
                "the server answered with an interim status instead of 101 Switching Protocols",
                proxy_fix,
            ),
            _ => Failure::new(
                Verdict::BadRequest,
                format!("HTTP {status_line}"),
                format!("the server refused the upgrade with {status_line}{said}"),
                "look up what this status means for this server; its body or logs say more",
            ),
        }
    }
}

impl Answer<'_> {
    /// A 400 from a wscodec server (`wsc serve`) that says the request came without
    /// `Upgrade`: a proxy in between stripped it.
    fn upgrade_stripped(&self, status_line: &str) -> Failure {
        let via = match (self.header("Server"), self.header("Via")) {
            (Some(server), _) if !server.is_empty() => {
                format!(" (the answer came through {server})")
            }
            (_, Some(via)) => format!(" (Via: {via})"),
            _ => String::new(),
        };
        Failure::new(
            Verdict::MissingUpgrade,
            format!("HTTP {status_line}: the server got the request without `Upgrade: websocket`"),
            format!(
                "a proxy between here and the server stripped the hop-by-hop Upgrade and \
                 Connection headers{via}: the request reached the server as a plain GET with \
                 only Sec-WebSocket-Key and Sec-WebSocket-Version left, and the server says so"
            ),
            "make the proxy forward the upgrade. nginx: `proxy_http_version 1.1; \
             proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\";` \
             in the location; Apache: `ProxyPass / ws://backend/ upgrade=websocket`; a CDN or \
             load balancer needs its WebSocket support enabled",
        )
    }
}

/// `https://h/p` → `wss://h/p`, `http://h/p` → `ws://h/p`; a relative location stays.
fn ws_url_for(location: &str) -> String {
    if let Some(rest) = location.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = location.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        location.to_owned()
    }
}

/// The cause and fix for a close code the server sent.
pub(crate) fn close_advice(code: CloseCode, reason: &str) -> (String, String) {
    let reason = if reason.is_empty() { String::new() } else { format!(", reason {reason:?}") };
    let cause = format!("the server closed with {}{reason}", code);
    let hint = match code.as_u16() {
        1000 => {
            "the server ended the session on purpose right away: it may expect a first \
                 message, a subprotocol or credentials before it keeps a connection"
        }
        1001 => {
            "the server is going away (restarting or shutting down): reconnect with \
                 backoff (`wsc connect --reconnect`)"
        }
        1002 => {
            "the server saw a protocol error from this client: compare the server's \
                 logs; a proxy that alters frames causes this too"
        }
        1003 => "the server cannot take this kind of data (text vs binary)",
        1007 => "the server received data inconsistent with its type (invalid UTF-8 text)",
        1008 => {
            "the server's policy refused this client: often a missing or expired token, \
                 a refused Origin, or a rate limit; the reason above and the server logs say which"
        }
        1009 => "a message was larger than the server accepts",
        1010 => "the server wanted an extension that was not negotiated",
        1011 => {
            "the server hit an internal error (an exception in its handler): look at the \
                 server's logs at this time"
        }
        1012 => "the server is restarting: reconnect after a short delay",
        1013 => {
            "the server is overloaded: try again later, with backoff \
                 (`wsc connect --reconnect`)"
        }
        1014 => "a gateway or proxy got a bad answer from the server behind it",
        3000..=4999 => "an application-defined code: its meaning is in the server's documentation",
        _ => "the code is not one RFC 6455 allows on the wire: a server bug",
    };
    (cause, hint.to_owned())
}

/// The start of [`wscodec::HandshakeError::UpgradeStripped`]'s message: what a wscodec server says,
/// with or without the advice that feature `error-advice` adds after it.
const STRIPPED: &str = "missing header `Upgrade: websocket` but Sec-WebSocket-* present";

#[cfg(test)]
mod tests {
    use super::*;
    use wscodec::HandshakeError;

    /// Every code `Verdict::code` can print (read from this file, so a new verdict is
    /// found without being listed again) has its row in the `wsc` guide's table.
    #[test]
    fn the_wsc_guide_explains_every_verdict() {
        let source = include_str!("verdict.rs");
        let start = source.find("pub(crate) const fn code").expect("Verdict::code");
        let end = source[start..].find("\n    }\n").expect("its end") + start;
        let codes: Vec<&str> = source[start..end]
            .lines()
            .filter_map(|line| line.trim().strip_prefix("Self::"))
            .filter_map(|arm| arm.split_once(" => \""))
            .map(|(_, code)| code.trim_end_matches("\","))
            .collect();
        assert!(codes.len() >= 29, "{codes:?}");
        assert!(codes.contains(&Verdict::ExtensionMismatch.code()), "{codes:?}");
        let guide = include_str!("../../../docs/wsc.md");
        for code in codes {
            assert!(
                guide.contains(&format!("\n| `{code}` | ")),
                "docs/wsc.md's table of verdicts lacks `{code}`"
            );
        }
    }

    fn answer(status: u16, headers: &[(String, String)]) -> Failure {
        Answer {
            status,
            reason: "X",
            headers,
            body_line: None,
            body: "",
            path: "/",
            origin: None,
            tls: false,
        }
        .explain()
    }

    #[test]
    fn statuses_map_to_verdicts() {
        let cases = [
            (200, Verdict::NotWebsocket),
            (204, Verdict::NotWebsocket),
            (301, Verdict::Redirect),
            (308, Verdict::Redirect),
            (400, Verdict::BadRequest),
            (401, Verdict::Unauthorized),
            (403, Verdict::Forbidden),
            (404, Verdict::NotFound),
            (405, Verdict::BadRequest),
            (426, Verdict::VersionMismatch),
            (500, Verdict::ServerError),
            (503, Verdict::ServerError),
        ];
        for (status, verdict) in cases {
            assert_eq!(answer(status, &[]).verdict, verdict, "{status}");
        }
        let version = [("Sec-WebSocket-Version".to_owned(), "8".to_owned())];
        assert_eq!(answer(400, &version).verdict, Verdict::VersionMismatch);
    }

    #[test]
    fn a_wscodec_servers_stripped_upgrade_answer_is_recognised() {
        let body = HandshakeError::UpgradeStripped.to_string();
        assert!(body.starts_with(STRIPPED), "{body}");
        // From `wsc serve` (with the advice) and from a firmware (without).
        for body in [body.as_str(), STRIPPED] {
            let stripped = Answer {
                status: 400,
                reason: "Bad Request",
                headers: &[],
                body_line: Some(body),
                body,
                path: "/",
                origin: None,
                tls: false,
            };
            assert_eq!(stripped.explain().verdict, Verdict::MissingUpgrade, "{body}");
        }
    }

    #[test]
    fn redirects_name_the_websocket_url() {
        let location = [("Location".to_owned(), "https://h/ws".to_owned())];
        let f = answer(301, &location);
        assert!(f.hint.contains("wss://h/ws"), "{}", f.hint);
        assert!(f.cause.contains("it wants TLS"), "{}", f.cause);
    }
}
