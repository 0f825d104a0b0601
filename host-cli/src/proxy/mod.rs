//! Connecting through a proxy: which one (`--proxy`, or the environment read as curl
//! reads it, see [`env`]), and the tunnel to the target through it: HTTP `CONNECT`
//! ([`http_connect`]) or SOCKS5 ([`socks5`]).
//!
//! Every byte a proxy sends is hostile input: the whole exchange runs against one
//! absolute deadline, an HTTP reply head is bounded in size, and a SOCKS reply is read
//! field by field with lengths checked before they are trusted. What went wrong is a
//! [`Failure`], which explains itself (cause and fix) and says which of four classes it
//! is in ([`Class`]), for `wsc probe`'s verdicts and `wsc connect`'s retry decision.

mod env;
mod explain;
mod failure;
mod http_connect;
mod socks5;
mod url;

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::timed::{is_closed, is_timeout};

pub(crate) use self::env::{Route, Source};
pub(crate) use self::failure::{Class, Failure, FailureKind};
pub(crate) use self::url::{Kind, ProxyUrl};

/// The port of a proxy URL without one (curl's default for every proxy kind).
const DEFAULT_PORT: u16 = 1080;

/// The proxy options of `connect` and `probe`.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct ProxyArgs {
    /// Connect through this proxy: http://[USER:PASS@]HOST:PORT tunnels with HTTP CONNECT
    /// (Basic credentials), socks5://[USER:PASS@]HOST:PORT uses SOCKS5 with the target's
    /// address resolved here, socks5h://... lets the proxy resolve the name. Without this
    /// option the environment is read as curl reads it: http_proxy for ws://,
    /// https_proxy (or HTTPS_PROXY) for wss://, then all_proxy (ALL_PROXY); hosts listed
    /// in no_proxy (NO_PROXY) are reached directly.
    #[arg(long, value_name = "URL")]
    pub(crate) proxy: Option<String>,
    /// Connect directly: no proxy, whatever --proxy or the environment says.
    #[arg(long, conflicts_with = "proxy")]
    pub(crate) no_proxy: bool,
}

impl ProxyArgs {
    /// How to reach `url`: directly or through which proxy, with notes worth showing.
    ///
    /// # Errors
    /// When the proxy URL (from the option or a variable) cannot be used.
    pub(crate) fn route(&self, url: &crate::url::WsUrl) -> anyhow::Result<Route> {
        env::route(self.proxy.as_deref(), self.no_proxy, url, &|name| std::env::var(name).ok())
    }
}

/// A proxy chosen for a connection, and what chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chosen {
    pub(crate) url: ProxyUrl,
    pub(crate) source: Source,
}

impl fmt::Display for Chosen {
    /// `http://127.0.0.1:3128 (from --proxy)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.url, self.source)
    }
}

/// Where the tunnel leads: a name (or IP literal) as in the URL, or an address wsc resolved.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target<'a> {
    Name { host: &'a str, port: u16 },
    Addr(SocketAddr),
}

impl Target<'_> {
    /// `host:port` as a `CONNECT` request names it (IPv6 in brackets).
    pub(crate) fn authority(&self) -> String {
        match *self {
            Self::Name { host, port } if host.parse::<std::net::Ipv6Addr>().is_ok() => {
                format!("[{host}]:{port}")
            }
            Self::Name { host, port } => format!("{host}:{port}"),
            Self::Addr(addr) => addr.to_string(),
        }
    }

    pub(crate) const fn port(&self) -> u16 {
        match *self {
            Self::Name { port, .. } => port,
            Self::Addr(addr) => addr.port(),
        }
    }
}

/// An open tunnel: the stream now leads to the target.
#[derive(Debug)]
pub(crate) struct Tunnel {
    pub(crate) stream: TcpStream,
    /// The proxy's address that answered.
    pub(crate) proxy_addr: SocketAddr,
    /// Where the tunnel leads, `host:port`.
    pub(crate) target: String,
    /// The proxy's answer in one line, e.g. `HTTP/1.1 200 Connection established`.
    pub(crate) answer: String,
    /// The exchange, `> ` for sent lines and `< ` for received ones (secrets masked).
    pub(crate) transcript: Vec<String>,
    /// The reply as JSON (status and headers, or the SOCKS reply code).
    pub(crate) reply: serde_json::Value,
}

/// Opens a tunnel to the first of `targets` the proxy reaches: the addresses a name
/// resolved to (for socks5://), tried in order while the proxy answers that one is
/// unreachable or refused (SOCKS5 replies 0x03 to 0x05), as a direct connection tries
/// each address. The transcript holds every attempt.
///
/// # Errors
/// The last attempt's [`Failure`].
///
/// # Panics
/// If `targets` is empty.
pub(crate) fn open_first(
    chosen: &Chosen,
    targets: &[Target<'_>],
    timeout: Duration,
) -> Result<Tunnel, Box<Failure>> {
    let mut transcript = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        match open(chosen, target, timeout) {
            Ok(mut tunnel) => {
                transcript.append(&mut tunnel.transcript);
                return Ok(Tunnel { transcript, ..tunnel });
            }
            Err(mut failure) => {
                transcript.append(&mut failure.transcript);
                let next = matches!(failure.kind, FailureKind::SocksReply(0x03..=0x05));
                if !next || i + 1 == targets.len() {
                    return Err(Box::new(Failure { transcript, ..*failure }));
                }
            }
        }
    }
    panic!("open_first needs at least one target")
}

/// Connects to the proxy and opens a tunnel to `target`.
///
/// Each TCP connect may take `timeout`; the proxy's answers must all arrive within
/// `timeout` of the connection. The returned stream has no timeouts set.
///
/// # Errors
/// A [`Failure`] that says what went wrong and what to do.
pub(crate) fn open(
    chosen: &Chosen,
    target: &Target<'_>,
    timeout: Duration,
) -> Result<Tunnel, Box<Failure>> {
    let fail = |kind: FailureKind, transcript: Vec<String>| Failure {
        kind,
        proxy: chosen.clone(),
        target: target.authority(),
        target_port: target.port(),
        transcript,
        reply: serde_json::Value::Null,
    };
    let proxy = &chosen.url;
    let addrs: Vec<SocketAddr> = match proxy.bare_host().parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, proxy.port)],
        Err(_) => match (proxy.bare_host(), proxy.port).to_socket_addrs() {
            Ok(addrs) => addrs.collect(),
            Err(e) => return Err(Box::new(fail(FailureKind::Resolve(e.to_string()), Vec::new()))),
        },
    };
    let mut last = None;
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                stream = Some((s, addr));
                break;
            }
            Err(e) => last = Some((addr, e)),
        }
    }
    let (mut stream, proxy_addr) = match (stream, last) {
        (Some(found), _) => found,
        (None, Some((addr, error))) => {
            let kind = FailureKind::Connect { addr, error, timeout };
            return Err(Box::new(fail(kind, Vec::new())));
        }
        (None, None) => {
            let error = format!("{} resolves to no address", proxy.host);
            return Err(Box::new(fail(FailureKind::Resolve(error), Vec::new())));
        }
    };
    let _ = stream.set_nodelay(true);
    let mut wire = Wire { stream: &mut stream, deadline: Instant::now() + timeout, timeout };
    let mut transcript = Vec::new();
    let result = match proxy.kind {
        Kind::Http => http_connect::handshake(&mut wire, proxy, target, &mut transcript),
        Kind::Socks5 | Kind::Socks5h => {
            socks5::handshake(&mut wire, proxy, target, &mut transcript)
        }
    };
    match result {
        Ok((answer, reply)) => {
            let io = |e| Box::new(fail(FailureKind::Io(e), Vec::new()));
            stream.set_read_timeout(None).map_err(io)?;
            stream.set_write_timeout(None).map_err(io)?;
            Ok(Tunnel { stream, proxy_addr, target: target.authority(), answer, transcript, reply })
        }
        Err(failed) => {
            let (kind, reply) = *failed;
            Err(Box::new(Failure { reply, ..fail(kind, transcript) }))
        }
    }
}

/// The connection to the proxy, with the deadline of the whole exchange.
struct Wire<'a> {
    stream: &'a mut TcpStream,
    deadline: Instant,
    /// What the deadline was set to, for messages.
    timeout: Duration,
}

/// Why a read or write on the [`Wire`] stopped.
#[derive(Debug)]
enum WireError {
    /// The deadline passed; `got` bytes of what was awaited had arrived.
    Timeout {
        got: usize,
    },
    /// The proxy closed the connection after `got` bytes of what was awaited.
    Closed {
        got: usize,
    },
    Io(io::Error),
}

impl Wire<'_> {
    fn left(&self) -> Option<Duration> {
        Some(self.deadline.saturating_duration_since(Instant::now())).filter(|d| !d.is_zero())
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        let left = self.left().ok_or(WireError::Timeout { got: 0 })?;
        self.stream.set_write_timeout(Some(left)).map_err(WireError::Io)?;
        match self.stream.write_all(bytes) {
            Ok(()) => Ok(()),
            Err(e) if is_timeout(&e) => Err(WireError::Timeout { got: 0 }),
            Err(e) if is_closed(&e) => Err(WireError::Closed { got: 0 }),
            Err(e) => Err(WireError::Io(e)),
        }
    }

    /// Reads at most `buf.len()` bytes (at least one) before the deadline.
    fn read_some(&mut self, buf: &mut [u8], got: usize) -> Result<usize, WireError> {
        loop {
            let left = self.left().ok_or(WireError::Timeout { got })?;
            self.stream.set_read_timeout(Some(left)).map_err(WireError::Io)?;
            match self.stream.read(buf) {
                Ok(0) => return Err(WireError::Closed { got }),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => return Err(WireError::Timeout { got }),
                Err(e) if is_closed(&e) => return Err(WireError::Closed { got }),
                Err(e) => return Err(WireError::Io(e)),
            }
        }
    }

    /// Reads what else arrives within a moment (at most 200 ms, never past the deadline),
    /// to show more of an unexpected answer; 0 if nothing does.
    fn glimpse(&mut self, buf: &mut [u8]) -> usize {
        let deadline = self.deadline.min(Instant::now() + Duration::from_millis(200));
        let mut short = Wire { stream: &mut *self.stream, deadline, timeout: self.timeout };
        short.read_some(buf, 0).unwrap_or(0)
    }

    /// Fills `buf` before the deadline.
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), WireError> {
        let mut got = 0;
        while got < buf.len() {
            got += self.read_some(&mut buf[got..], got)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(kind: Kind, host: &str, port: u16) -> ProxyUrl {
        ProxyUrl { kind, host: host.into(), port, user: None, password: None }
    }

    /// A proxy on loopback that runs `script` on the first connection.
    fn peer(kind: Kind, script: impl FnOnce(TcpStream) + Send + 'static) -> Chosen {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            script(stream);
        });
        Chosen { url: url(kind, "127.0.0.1", port), source: Source::Flag }
    }

    /// Reads what the client sent first (one read: the greeting or the request head).
    fn read_request(stream: &mut TcpStream) {
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf);
    }

    const TARGET: Target<'static> = Target::Name { host: "127.0.0.1", port: 9 };

    fn open_fails(chosen: &Chosen, timeout: Duration) -> FailureKind {
        open(chosen, &TARGET, timeout).expect_err("the tunnel must fail").kind
    }

    #[test]
    fn a_trickled_reply_ends_at_the_deadline_not_per_read() {
        let chosen = peer(Kind::Http, |mut s| {
            read_request(&mut s);
            for _ in 0..200 {
                if s.write_all(b"X").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let start = Instant::now();
        let kind = open_fails(&chosen, Duration::from_millis(300));
        assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
        assert!(matches!(kind, FailureKind::NotHttp(_) | FailureKind::Timeout { .. }), "{kind:?}");
        let chosen = peer(Kind::Http, |mut s| {
            read_request(&mut s);
            s.write_all(b"HTTP/1.1 200 OK\r\n").unwrap();
            for _ in 0..200 {
                if s.write_all(b"X-Slow: 1\r\n").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let start = Instant::now();
        let kind = open_fails(&chosen, Duration::from_millis(300));
        assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
        assert!(matches!(kind, FailureKind::Timeout { got, .. } if got > 17), "{kind:?}");
    }

    #[test]
    fn an_endless_reply_head_is_cut_at_the_limit() {
        let chosen = peer(Kind::Http, |mut s| {
            read_request(&mut s);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
            let _ = s.write_all(&b"X-Junk: aaaaaaaa\r\n".repeat(2000));
        });
        let kind = open_fails(&chosen, Duration::from_secs(5));
        assert!(matches!(kind, FailureKind::HeadTooLarge(http_connect::MAX_HEAD)), "{kind:?}");
    }

    #[test]
    fn bytes_after_the_reply_head_belong_to_the_tunnel() {
        let chosen = peer(Kind::Http, |mut s| {
            read_request(&mut s);
            s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\nfirst tunnel bytes").unwrap();
        });
        let mut tunnel = open(&chosen, &TARGET, Duration::from_secs(5)).unwrap();
        assert_eq!(tunnel.answer, "HTTP/1.1 200 Connection established");
        let mut got = Vec::new();
        tunnel.stream.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"first tunnel bytes");
    }

    #[test]
    fn wrong_protocols_are_named() {
        let chosen = peer(Kind::Http, |mut s| {
            read_request(&mut s);
            s.write_all(&[5, 0xff]).unwrap();
        });
        let kind = open_fails(&chosen, Duration::from_secs(5));
        assert!(matches!(&kind, FailureKind::NotHttp(b) if b[..] == [5, 0xff]), "{kind:?}");
        let chosen = peer(Kind::Socks5, |mut s| {
            read_request(&mut s);
            s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").unwrap();
        });
        let failure = open(&chosen, &TARGET, Duration::from_secs(5)).unwrap_err();
        assert!(matches!(failure.kind, FailureKind::NotSocks(_)), "{:?}", failure.kind);
        assert!(failure.cause().ends_with("it answered in HTTP"), "{}", failure.cause());
        assert_eq!(failure.class(), Class::Unreachable);
    }

    #[test]
    fn malformed_socks_replies_are_refused() {
        type Check = fn(&FailureKind) -> bool;
        let cases: [(&[u8], Check); 3] = [
            (&[4, 0, 0, 1], |k| matches!(k, FailureKind::SocksBadReply(_))),
            (&[5, 0, 0, 9], |k| matches!(k, FailureKind::SocksBadReply(_))),
            // A 255-byte bound name announced, then the connection ends.
            (&[5, 0, 0, 3, 255, b'a'], |k| matches!(k, FailureKind::Closed { got: 1, .. })),
        ];
        for (reply, check) in cases {
            let chosen = peer(Kind::Socks5, move |mut s| {
                read_request(&mut s);
                s.write_all(&[5, 0]).unwrap();
                read_request(&mut s);
                s.write_all(reply).unwrap();
            });
            let kind = open_fails(&chosen, Duration::from_secs(5));
            assert!(check(&kind), "{reply:?}: {kind:?}");
        }
    }

    /// A SOCKS5 proxy that answers the n-th CONNECT with `codes[n]`.
    fn socks_replying(codes: &'static [u8]) -> Chosen {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for &code in codes {
                let (mut s, _) = listener.accept().unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                read_request(&mut s);
                s.write_all(&[5, 0]).unwrap();
                read_request(&mut s);
                s.write_all(&[5, code, 0, 1, 127, 0, 0, 1, 0, 80]).unwrap();
            }
        });
        Chosen { url: url(Kind::Socks5, "127.0.0.1", port), source: Source::Flag }
    }

    #[test]
    fn the_next_address_is_tried_when_the_proxy_cannot_reach_one() {
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        let v4: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let targets = [Target::Addr(v6), Target::Addr(v4)];
        let tunnel =
            open_first(&socks_replying(&[5, 0]), &targets, Duration::from_secs(5)).unwrap();
        assert_eq!(tunnel.target, "127.0.0.1:9");
        let replies: Vec<&String> =
            tunnel.transcript.iter().filter(|l| l.contains("reply")).collect();
        assert_eq!(replies.len(), 2, "{:?}", tunnel.transcript);
        // A refusal by the rules is final: the next address is not tried.
        let failure =
            open_first(&socks_replying(&[2]), &targets, Duration::from_secs(5)).unwrap_err();
        assert!(matches!(failure.kind, FailureKind::SocksReply(2)), "{:?}", failure.kind);
        assert_eq!(failure.target, "[::1]:9");
    }

    #[test]
    fn targets_name_ipv6_in_brackets() {
        assert_eq!(Target::Name { host: "::1", port: 9 }.authority(), "[::1]:9");
        assert_eq!(Target::Name { host: "h", port: 9 }.authority(), "h:9");
        let addr: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(Target::Addr(addr).authority(), "[::1]:80");
    }
}
