//! A proxy URL as `--proxy` and the environment give it, parsed as curl parses it.

use std::fmt;

use anyhow::{bail, Context as _};

use super::DEFAULT_PORT;

/// The protocol spoken to the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// HTTP `CONNECT`.
    Http,
    /// SOCKS5, the target's name resolved by wsc.
    Socks5,
    /// SOCKS5, the target's name resolved by the proxy.
    Socks5h,
}

impl Kind {
    pub(crate) const fn scheme(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Socks5 => "socks5",
            Self::Socks5h => "socks5h",
        }
    }

    /// `HTTP` or `SOCKS5`, for messages.
    pub(crate) const fn protocol(self) -> &'static str {
        match self {
            Self::Http => "HTTP",
            Self::Socks5 | Self::Socks5h => "SOCKS5",
        }
    }
}

/// A parsed proxy URL: `scheme://[user[:password]@]host[:port][/]`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ProxyUrl {
    pub(crate) kind: Kind,
    /// The host as written (an IPv6 address keeps its brackets).
    pub(crate) host: String,
    pub(crate) port: u16,
    /// Percent-decoded credentials.
    pub(crate) user: Option<String>,
    pub(crate) password: Option<String>,
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyUrl({self})")
    }
}

impl ProxyUrl {
    /// Parses a proxy URL. No scheme means `http://`, as in curl; `https://` (TLS to the
    /// proxy) and SOCKS4 are refused with a message that says what to use.
    pub(crate) fn parse(text: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("http".to_owned(), text),
        };
        let kind = match scheme.as_str() {
            "http" => Kind::Http,
            "socks5" => Kind::Socks5,
            "socks5h" => Kind::Socks5h,
            "https" => bail!(
                "https:// proxies (TLS to the proxy) are not supported: most proxies take \
                 plain http:// CONNECT even for wss:// targets, whose TLS runs inside the tunnel"
            ),
            "socks4" | "socks4a" | "socks" => {
                bail!("SOCKS4 is not supported: use socks5:// or socks5h://")
            }
            other => {
                bail!("{other}:// is not a proxy scheme: use http://, socks5:// or socks5h://")
            }
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let (host, port) = crate::url::split_host_port(hostport)
            .with_context(|| format!("cannot read the proxy URL {:?}", mask(text)))?;
        if host.is_empty() || host == "[]" {
            bail!("no host in the proxy URL {:?}", mask(text));
        }
        if host.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            bail!("the proxy host {host:?} contains spaces or control characters");
        }
        let port = match port {
            Some(p) => p.parse().with_context(|| format!("invalid proxy port {p:?}"))?,
            None => DEFAULT_PORT,
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(info) => {
                let (user, password) = match info.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (info, None),
                };
                (Some(percent_decode(user)?), password.map(percent_decode).transpose()?)
            }
        };
        Ok(Self { kind, host, port, user, password })
    }

    /// The host without IPv6 brackets.
    pub(crate) fn bare_host(&self) -> &str {
        crate::url::bare_host(&self.host)
    }
}

/// The URL with the password replaced by `***`.
impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.kind.scheme())?;
        if let Some(user) = &self.user {
            let password = if self.password.is_some() { ":***" } else { "" };
            write!(f, "{user}{password}@")?;
        }
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// `text` with any password in a `user:password@` part replaced by `***`.
fn mask(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            let userinfo = &text[start + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &text[..start + 3], &text[at..]),
                None => text.to_owned(),
            }
        }
        _ => text.to_owned(),
    }
}

/// Decodes `%XX` escapes (credentials may hold `@`, `:` or `/` written so).
fn percent_decode(text: &str) -> anyhow::Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(byte) = byte else {
                bail!("a % in the proxy credentials must start an escape such as %40 (for @)")
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).context("the proxy credentials are not UTF-8 once decoded")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(kind: Kind, host: &str, port: u16) -> ProxyUrl {
        ProxyUrl { kind, host: host.into(), port, user: None, password: None }
    }

    #[test]
    fn parses_proxy_urls_as_curl_does() {
        let cases = [
            ("http://127.0.0.1:3128", url(Kind::Http, "127.0.0.1", 3128)),
            ("HTTP://proxy.corp:8080/", url(Kind::Http, "proxy.corp", 8080)),
            ("proxy.corp:3128", url(Kind::Http, "proxy.corp", 3128)),
            ("proxy.corp", url(Kind::Http, "proxy.corp", 1080)),
            ("socks5://[::1]:1080", url(Kind::Socks5, "[::1]", 1080)),
            ("socks5h://localhost", url(Kind::Socks5h, "localhost", 1080)),
        ];
        for (text, expected) in cases {
            assert_eq!(ProxyUrl::parse(text).unwrap(), expected, "{text}");
        }
        let with = ProxyUrl::parse("http://al%40ice:p%3As%2Fs@h:1").unwrap();
        assert_eq!(
            (with.user.as_deref(), with.password.as_deref()),
            (Some("al@ice"), Some("p:s/s"))
        );
        assert_eq!(with.to_string(), "http://al@ice:***@h:1");
        let user_only = ProxyUrl::parse("socks5://bob@h:2").unwrap();
        assert_eq!((user_only.user.as_deref(), user_only.password.as_deref()), (Some("bob"), None));
        assert_eq!(user_only.to_string(), "socks5://bob@h:2");
    }

    #[test]
    fn refuses_what_it_cannot_speak_and_says_what_to_use() {
        for (text, says) in [
            ("https://h:443", "not supported"),
            ("socks4://h:1080", "use socks5://"),
            ("ftp://h", "use http://, socks5:// or socks5h://"),
            ("http://:3128", "no host"),
            ("http://h:port", "invalid proxy port"),
            ("http://u:%zz@h:1", "%40"),
            ("http://h h:1", "spaces"),
        ] {
            let e = format!("{:#}", ProxyUrl::parse(text).unwrap_err());
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn messages_never_show_the_password() {
        assert_eq!(mask("http://u:secret@h:1/"), "http://u:***@h:1/");
        assert_eq!(mask("http://h:1"), "http://h:1");
        let e = format!("{:#}", ProxyUrl::parse("http://u:secret@:1").unwrap_err());
        assert!(!e.contains("secret"), "{e}");
    }
}
