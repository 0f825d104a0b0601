//! `ws://` and `wss://` URLs, and the `host[:port]` split that proxy URLs share. A leaf:
//! it uses nothing else of the crate.

use std::fmt;

use anyhow::{bail, Context as _};

/// A parsed `ws[s]://host[:port]/path?query` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WsUrl {
    /// `wss://`: TLS over the TCP connection.
    pub(crate) tls: bool,
    /// The host as written in the URL (an IPv6 address keeps its brackets).
    pub(crate) host: String,
    /// The port (80 for ws://, 443 for wss:// when the URL has none).
    pub(crate) port: u16,
    /// The request target: path and query, at least `/`.
    pub(crate) target: String,
}

impl WsUrl {
    /// Parses a `ws://` or `wss://` URL. For `http://` and `https://` the error names
    /// the WebSocket URL that was probably meant.
    pub(crate) fn parse(url: &str) -> anyhow::Result<Self> {
        let url = url.trim();
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "ws" => false,
            "wss" => true,
            "http" => bail!(
                "{url:?} is an http:// URL: a WebSocket URL starts with ws:// (did you mean \
                 ws://{rest}?)"
            ),
            "https" => bail!(
                "{url:?} is an https:// URL: a WebSocket URL starts with wss:// (did you mean \
                 wss://{rest}?)"
            ),
            "" => bail!("{url:?} has no scheme: write ws://{url} (or wss://{url} for TLS)"),
            other => bail!(
                "{other}:// is not a WebSocket scheme: use ws:// (plain) or wss:// (TLS), \
                 e.g. ws://host:port/path"
            ),
        };
        let (authority, target) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
            Some(i) => (&rest[..i], rest[i..].to_owned()),
            None => (rest, "/".to_owned()),
        };
        let target = target.split('#').next().unwrap_or("/").to_owned();
        if authority.contains('@') {
            bail!("user:password@ in the URL is not supported; use -H 'Authorization: ...'");
        }
        let (host, port) = split_host_port(authority).with_context(|| format!("in {url:?}"))?;
        if host.is_empty() || host == "[]" {
            bail!("no host in {url:?}");
        }
        let port = match port {
            Some(p) => p.parse().with_context(|| format!("invalid port {p:?} in {url:?}"))?,
            None => Self::default_port(tls),
        };
        Ok(Self { tls, host, port, target })
    }

    const fn default_port(tls: bool) -> u16 {
        if tls {
            443
        } else {
            80
        }
    }

    /// The host without IPv6 brackets, as resolvers and TLS server names want it.
    pub(crate) fn bare_host(&self) -> &str {
        bare_host(&self.host)
    }

    /// `ws` or `wss`.
    pub(crate) const fn scheme(&self) -> &'static str {
        if self.tls {
            "wss"
        } else {
            "ws"
        }
    }

    /// The `Host` header value: the host, with the port unless it is the default.
    pub(crate) fn host_header(&self) -> String {
        if self.port == Self::default_port(self.tls) {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The same server with another request target (which must start with `/`).
    pub(crate) fn with_target(&self, target: &str) -> Self {
        let base = self.target.split('?').next().unwrap_or("").trim_end_matches('/');
        Self { target: format!("{base}{target}"), ..self.clone() }
    }
}

impl fmt::Display for WsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme(), self.host_header(), self.target)
    }
}

/// Splits `host[:port]` or `[v6addr][:port]`; the host keeps the brackets of an IPv6
/// address, the port is returned as written.
pub(crate) fn split_host_port(authority: &str) -> anyhow::Result<(String, Option<&str>)> {
    if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').context("unclosed '['")?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => bail!("unexpected {after:?} after the IPv6 address"),
        };
        Ok((format!("[{addr}]"), port))
    } else {
        Ok(match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (authority.to_owned(), None),
        })
    }
}

/// `host` without IPv6 brackets (`[::1]` -> `::1`), as resolvers and TLS server names
/// want it.
pub(crate) fn bare_host(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(host: &str, port: u16, target: &str) -> WsUrl {
        WsUrl { tls: false, host: host.into(), port, target: target.into() }
    }

    #[test]
    fn parses_ws_urls() {
        let cases = [
            ("ws://example.com", url("example.com", 80, "/")),
            ("ws://example.com:9001/chat?room=1", url("example.com", 9001, "/chat?room=1")),
            ("WS://h?x=1", url("h", 80, "/?x=1")),
            ("ws://[::1]:8080/a#frag", url("[::1]", 8080, "/a")),
            ("ws://[::1]", url("[::1]", 80, "/")),
            ("wss://example.com/x", WsUrl { tls: true, ..url("example.com", 443, "/x") }),
            ("WSS://h:8443", WsUrl { tls: true, ..url("h", 8443, "/") }),
        ];
        for (input, expected) in cases {
            assert_eq!(WsUrl::parse(input).unwrap(), expected, "{input}");
        }
    }

    #[test]
    fn refuses_other_urls() {
        let e = WsUrl::parse("http://example.com/chat").unwrap_err().to_string();
        assert!(e.contains("did you mean ws://example.com/chat?"), "{e}");
        let e = WsUrl::parse("https://example.com/chat").unwrap_err().to_string();
        assert!(e.contains("did you mean wss://example.com/chat?"), "{e}");
        let e = WsUrl::parse("example.com:80").unwrap_err().to_string();
        assert!(e.contains("write ws://example.com:80"), "{e}");
        let e = WsUrl::parse("ftp://example.com").unwrap_err().to_string();
        assert!(e.contains("ftp:// is not a WebSocket scheme"), "{e}");
        for bad in ["http://x/", "ws://", "ws://h:port/", "ws://u:p@h/", "ws://[::1"] {
            assert!(WsUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_header_and_targets() {
        let u = WsUrl::parse("ws://127.0.0.1:9001/").unwrap();
        assert_eq!(u.host_header(), "127.0.0.1:9001");
        assert_eq!(u.with_target("/getCaseCount").target, "/getCaseCount");
        assert_eq!(u.to_string(), "ws://127.0.0.1:9001/");
        let u = WsUrl::parse("ws://h/base/").unwrap();
        assert_eq!(u.host_header(), "h");
        assert_eq!(u.with_target("/runCase?case=1").to_string(), "ws://h/base/runCase?case=1");
        let u = WsUrl::parse("wss://h:443/").unwrap();
        assert_eq!((u.host_header(), u.to_string()), ("h".into(), "wss://h/".into()));
        let u = WsUrl::parse("wss://[::1]:80/").unwrap();
        assert_eq!((u.host_header(), u.bare_host()), ("[::1]:80".into(), "::1"));
    }
}
