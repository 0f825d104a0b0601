//! Which proxy a connection uses: `--proxy`, or the environment read as curl reads it.
//!
//! - ws:// reads `http_proxy`; wss:// reads `https_proxy`, then `HTTPS_PROXY`; both then
//!   fall back to `all_proxy`, then `ALL_PROXY`. Lowercase wins. The uppercase
//!   `HTTP_PROXY` is ignored, as curl ignores it: a CGI program gets a request's `Proxy:`
//!   header as `HTTP_PROXY`, so a client could choose the proxy. An empty variable counts
//!   as unset.
//! - `no_proxy` (or `NO_PROXY`) lists hosts reached directly, even when `--proxy` is
//!   given (as in curl): `*` alone matches every host; a name matches itself and its
//!   subdomains (`example.com` and `.example.com` both match `www.example.com`, never
//!   `notexample.com`), ignoring case and a trailing dot; an IP address matches that
//!   address, or a range in CIDR notation (`10.0.0.0/8`, `fd00::/8`). Entries are
//!   separated by commas; the port of the URL plays no part.
//! - `--no-proxy` connects directly whatever is set.

use std::fmt;
use std::net::IpAddr;

use anyhow::Context as _;

use super::{Chosen, ProxyUrl};
use crate::url::WsUrl;

/// What chose the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The `--proxy` option.
    Flag,
    /// This environment variable.
    Env(&'static str),
}

impl Source {
    /// `--proxy` or the variable's name, as `--json` shows it.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Flag => "--proxy",
            Self::Env(name) => name,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag => f.write_str("--proxy"),
            Self::Env(name) => write!(f, "${name}"),
        }
    }
}

/// How a connection goes, and what is worth telling about the choice.
#[derive(Debug, Clone)]
pub(crate) enum Route {
    Direct { notes: Vec<String> },
    Proxy { chosen: Chosen, notes: Vec<String> },
}

impl Route {
    pub(crate) fn proxy(&self) -> Option<&Chosen> {
        match self {
            Self::Direct { .. } => None,
            Self::Proxy { chosen, .. } => Some(chosen),
        }
    }

    /// Things the user may not expect: an ignored `HTTP_PROXY`, a `no_proxy` match.
    pub(crate) fn notes(&self) -> &[String] {
        match self {
            Self::Direct { notes } | Self::Proxy { notes, .. } => notes,
        }
    }
}

/// The variables read for a ws:// (`tls` false) or wss:// URL, in order.
const fn variables(tls: bool) -> &'static [&'static str] {
    if tls {
        &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    } else {
        &["http_proxy", "all_proxy", "ALL_PROXY"]
    }
}

/// Decides the route to `url`; `var` reads an environment variable.
pub(super) fn route(
    flag: Option<&str>,
    disabled: bool,
    url: &WsUrl,
    var: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Route> {
    let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let mut notes = Vec::new();
    if disabled {
        return Ok(Route::Direct { notes });
    }
    let found = match flag {
        Some(text) => Some((text.to_owned(), Source::Flag)),
        None => {
            variables(url.tls).iter().find_map(|&name| get(name).map(|v| (v, Source::Env(name))))
        }
    };
    if flag.is_none() && !url.tls && get("http_proxy").is_none() {
        if let Some(ignored) = get("HTTP_PROXY") {
            notes.push(format!(
                "HTTP_PROXY={ignored} is ignored, as curl ignores it (a CGI program gets a \
                 request's Proxy: header as HTTP_PROXY); set http_proxy to use it for ws://"
            ));
        }
    }
    let Some((text, source)) = found else {
        return Ok(Route::Direct { notes });
    };
    let proxy = ProxyUrl::parse(&text)
        .with_context(|| format!("the proxy from {source} cannot be used"))?;
    let chosen = Chosen { url: proxy, source };
    let no_proxy = ["no_proxy", "NO_PROXY"].into_iter().find_map(|n| get(n).map(|v| (n, v)));
    if let Some((name, list)) = no_proxy {
        if no_proxy_matches(&list, url.bare_host()) {
            notes.push(format!(
                "{name}={list} matches {}: connecting directly, not through {chosen}",
                url.host
            ));
            return Ok(Route::Direct { notes });
        }
    }
    Ok(Route::Proxy { chosen, notes })
}

/// Whether the `no_proxy` list matches `host` (a name, or an IP address without
/// brackets), by curl's rules (see the module documentation).
pub(super) fn no_proxy_matches(list: &str, host: &str) -> bool {
    if list.trim() == "*" {
        return true;
    }
    let ip = host.parse::<IpAddr>().ok();
    let name = host.strip_suffix('.').unwrap_or(host);
    for entry in list.split(',') {
        let entry = entry.trim_matches([' ', '\t']);
        // Like curl, a blank inside an entry ends the list.
        let (token, last) = match entry.split_once([' ', '\t']) {
            Some((token, _)) => (token, true),
            None => (entry, false),
        };
        let matched = match ip {
            Some(ip) => ip_matches(ip, token),
            None => name_matches(name, token),
        };
        if matched {
            return true;
        }
        if last {
            break;
        }
    }
    false
}

/// `www.example.com` matches `example.com`, `.example.com` and `www.example.com.`.
fn name_matches(name: &str, token: &str) -> bool {
    let token = token.strip_suffix('.').unwrap_or(token);
    let token = token.strip_prefix('.').unwrap_or(token);
    if token.is_empty() || token.len() > name.len() {
        return false;
    }
    let (head, tail) = name.split_at(name.len() - token.len());
    tail.eq_ignore_ascii_case(token) && (head.is_empty() || head.ends_with('.'))
}

/// An address matches an equal address, or a CIDR range (`/0` counts as no range).
fn ip_matches(ip: IpAddr, token: &str) -> bool {
    let token = token.trim_start_matches('[').trim_end_matches(']');
    let (net, bits) = match token.split_once('/') {
        Some((net, bits)) => (net, bits.parse::<u32>().unwrap_or(0)),
        None => (token, 0),
    };
    let net = net.trim_start_matches('[').trim_end_matches(']');
    match (ip, net.parse::<IpAddr>()) {
        (IpAddr::V4(ip), Ok(IpAddr::V4(net))) => {
            let bits = if bits == 0 { 32 } else { bits };
            bits <= 32 && {
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                (u32::from(ip) ^ u32::from(net)) & mask == 0
            }
        }
        (IpAddr::V6(ip), Ok(IpAddr::V6(net))) => {
            let bits = if bits == 0 { 128 } else { bits };
            bits <= 128 && {
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                (u128::from(ip) ^ u128::from(net)) & mask == 0
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
    }

    fn route_of(url: &str, flag: Option<&str>, pairs: &[(&str, &str)]) -> Route {
        route(flag, false, &WsUrl::parse(url).unwrap(), &env(pairs)).unwrap()
    }

    fn source(r: &Route) -> Option<&'static str> {
        r.proxy().map(|c| c.source.name())
    }

    #[test]
    fn variables_are_read_in_curls_order() {
        let all = [
            ("http_proxy", "h:1"),
            ("https_proxy", "s:1"),
            ("HTTPS_PROXY", "S:1"),
            ("all_proxy", "a:1"),
            ("ALL_PROXY", "A:1"),
        ];
        assert_eq!(source(&route_of("ws://t/", None, &all)), Some("http_proxy"));
        assert_eq!(source(&route_of("wss://t/", None, &all)), Some("https_proxy"));
        assert_eq!(source(&route_of("wss://t/", None, &all[2..])), Some("HTTPS_PROXY"));
        assert_eq!(source(&route_of("ws://t/", None, &all[1..])), Some("all_proxy"));
        assert_eq!(source(&route_of("ws://t/", None, &all[4..])), Some("ALL_PROXY"));
        // The flag wins over every variable; an empty variable counts as unset.
        assert_eq!(source(&route_of("ws://t/", Some("f:1"), &all)), Some("--proxy"));
        let empty = [("http_proxy", ""), ("all_proxy", "a:1")];
        assert_eq!(source(&route_of("ws://t/", None, &empty)), Some("all_proxy"));
    }

    #[test]
    fn uppercase_http_proxy_is_ignored_with_a_note() {
        let r = route_of("ws://t/", None, &[("HTTP_PROXY", "h:1")]);
        assert!(r.proxy().is_none());
        assert!(r.notes()[0].contains("HTTP_PROXY=h:1 is ignored"), "{:?}", r.notes());
        // HTTPS_PROXY is not the CGI trap: it is used for wss://.
        let r = route_of("wss://t/", None, &[("HTTPS_PROXY", "h:1")]);
        assert_eq!(source(&r), Some("HTTPS_PROXY"));
    }

    #[test]
    fn no_proxy_sends_matching_hosts_direct_even_with_the_flag() {
        let r = route_of("ws://127.0.0.1:9/", Some("p:1"), &[("no_proxy", "localhost,127.0.0.1")]);
        assert!(r.proxy().is_none());
        assert!(r.notes()[0].starts_with("no_proxy=localhost,127.0.0.1 matches 127.0.0.1"));
        let r = route_of("ws://t/", Some("p:1"), &[("NO_PROXY", "other")]);
        assert_eq!(source(&r), Some("--proxy"));
        let r = route(Some("p:1"), true, &WsUrl::parse("ws://t/").unwrap(), &env(&[])).unwrap();
        assert!(r.proxy().is_none(), "--no-proxy");
    }

    #[test]
    fn a_bad_proxy_variable_names_itself() {
        let url = WsUrl::parse("wss://t/").unwrap();
        let e = route(None, false, &url, &env(&[("https_proxy", "ftp://x")])).unwrap_err();
        let e = format!("{e:#}");
        assert!(e.starts_with("the proxy from $https_proxy cannot be used: ftp://"), "{e}");
    }

    #[test]
    fn no_proxy_matching_table() {
        let cases = [
            ("*", "anything.example", true),
            ("*,x", "anything.example", false),
            ("example.com", "example.com", true),
            ("example.com", "www.example.com", true),
            ("example.com", "notexample.com", false),
            (".example.com", "www.example.com", true),
            (".example.com", "example.com", true),
            ("example.com.", "WWW.Example.COM.", true),
            ("www.example.com", "example.com", false),
            (" a , example.com ", "example.com", true),
            ("a b,example.com", "example.com", false),
            (",,", "example.com", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("127.0.0.0/8", "127.9.9.9", true),
            ("10.0.0.0/8", "127.0.0.1", false),
            ("127.0.0.1/33", "127.0.0.1", false),
            ("::1", "::1", true),
            ("[::1]", "::1", true),
            ("fd00::/8", "fd12::1", true),
            ("fd00::/8", "fe80::1", false),
            ("127.0.0.1", "::1", false),
            ("localhost", "127.0.0.1", false),
        ];
        for (list, host, expected) in cases {
            assert_eq!(no_proxy_matches(list, host), expected, "{list:?} vs {host:?}");
        }
    }
}
