//! The client side shared by `connect`, `probe` and `autobahn-client`: `ws://` and
//! `wss://` URLs, the TCP connection (direct or through a proxy), TLS, and the opening
//! handshake through `WebSocket::connect`.

use std::fmt;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::Context as _;
use wscodec::handshake::client::ClientRequest;
use wscodec::io::blocking::WebSocket;
use wscodec::io::{Deflate, StdIo};
use wscodec::Config;

use crate::url::WsUrl;
use crate::{client_cert, proxy, tls};

/// The options every client subcommand shares (`connect`, `probe`): where to connect and
/// what the opening handshake sends besides the required headers.
#[derive(Debug, clap::Args)]
pub(crate) struct RequestArgs {
    /// The endpoint, e.g. ws://127.0.0.1:9001/ or wss://example.com/socket
    pub(crate) url: String,
    /// Send this Origin header, as a browser would (browsers always send one).
    #[arg(long)]
    pub(crate) origin: Option<String>,
    /// Offer this subprotocol (repeatable, in order of preference).
    #[arg(long = "protocol", value_name = "NAME")]
    pub(crate) protocol: Vec<String>,
    /// Send an extra header (repeatable), e.g. -H 'Authorization: Bearer x'.
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'")]
    pub(crate) header: Vec<String>,
    /// Do not offer permessage-deflate: every message goes uncompressed both ways.
    #[arg(long)]
    pub(crate) no_deflate: bool,
}

impl RequestArgs {
    /// The offered subprotocols, as `ClientRequest` takes them.
    pub(crate) fn protocols(&self) -> Vec<&str> {
        self.protocol.iter().map(String::as_str).collect()
    }

    /// The `-H` options as name/value pairs.
    pub(crate) fn headers(&self) -> anyhow::Result<Vec<(&str, &str)>> {
        parse_headers(&self.header)
    }
}

/// Parses repeated `-H 'Name: value'` options into trimmed name/value pairs.
fn parse_headers(options: &[String]) -> anyhow::Result<Vec<(&str, &str)>> {
    options
        .iter()
        .map(|h| {
            let (name, value) =
                h.split_once(':').with_context(|| format!("header {h:?} is not 'Name: value'"))?;
            Ok((name.trim(), value.trim()))
        })
        .collect()
}

/// A client connection: the blocking adapter over TCP (or TLS over TCP), masking with OS
/// randomness.
pub(crate) type Client<'b> = WebSocket<'b, StdIo<tls::ClientStream>, fn() -> [u8; 4]>;

/// How long the TCP connect and the opening handshake may take.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What to put in the opening handshake besides the URL.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Options<'a> {
    /// An `Origin` header, as a browser sends.
    pub(crate) origin: Option<&'a str>,
    /// Subprotocols to offer, in order of preference.
    pub(crate) protocols: &'a [&'a str],
    /// Extra headers.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    /// The TLS configuration for wss:// (system roots when `None`).
    pub(crate) tls: Option<&'a tls::ClientTls>,
    /// Connect through this proxy (the TLS of wss:// runs inside its tunnel, with the
    /// server's certificate checked against the URL's host).
    pub(crate) proxy: Option<&'a proxy::Chosen>,
}

/// Opens a TCP connection to `url`, runs TLS for wss://, then the client handshake, which
/// offers permessage-deflate with `deflate`'s memory when there is one.
///
/// Returns the connection and the subprotocol the server chose, if any. The socket has
/// `TCP_NODELAY` set and no read timeout.
pub(crate) fn dial<'b>(
    url: &WsUrl,
    options: Options<'_>,
    config: Config,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
    deflate: Option<Deflate<'b, &'b mut [u8]>>,
) -> anyhow::Result<(Client<'b>, Option<String>)> {
    let tcp = match options.proxy {
        None => connect_tcp(url)?,
        Some(chosen) => tunnel(url, chosen)?,
    };
    tcp.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    tcp.set_write_timeout(Some(HANDSHAKE_TIMEOUT))?;
    let (stream, asked) = if url.tls {
        let system;
        let config = match options.tls {
            Some(config) => config,
            None => {
                system = tls::client_config(tls::TrustOptions::default())?.0;
                &system
            }
        };
        let (stream, session) = tls::handshake(tcp, url.bare_host(), config)
            .map_err(|failure| tls_failed(failure, url))?;
        (stream, session.client_cert)
    } else {
        (tls::ClientStream::Plain(tcp), client_cert::Asked::Nothing)
    };
    let host = url.host_header();
    let request = ClientRequest {
        origin: options.origin,
        protocols: options.protocols,
        headers: options.headers,
        ..ClientRequest::new(&host, &url.target, wscodec::random::nonce())
    };
    let mask: fn() -> [u8; 4] = wscodec::random::mask_key;
    let stream = StdIo(stream);
    let mut lent = wscodec::io::Options::new(rx, tx).with_config(config);
    if let Some(deflate) = deflate {
        lent = lent.with_deflate(deflate);
    }
    let (mut ws, chosen) = WebSocket::connect(stream, lent, &request, mask)
        .map_err(|e| upgrade_failed(e, url, &asked))?;
    let protocol = chosen.map(str::to_owned);
    ws.stream_mut().0.set_read_timeout(None)?;
    ws.stream_mut().0.set_write_timeout(None)?;
    Ok((ws, protocol))
}

/// The error for a failed TLS handshake with `url`'s server.
fn tls_failed(failure: tls::TlsFailure, url: &WsUrl) -> anyhow::Error {
    let plain = WsUrl { tls: false, ..url.clone() };
    let error = tls::TlsError { failure, host: url.host.clone(), plain_url: plain.to_string() };
    anyhow::Error::new(error).context(format!("TLS with {url} failed"))
}

/// The error for a failed opening handshake: a TLS failure when the server's verdict on
/// a client certificate (it `asked` for one in the TLS handshake) came late (see
/// [`crate::client_cert::late_failure`]).
fn upgrade_failed(
    e: wscodec::io::Error<std::io::Error>,
    url: &WsUrl,
    asked: &client_cert::Asked,
) -> anyhow::Error {
    use wscodec::io::Error;
    let late = match &e {
        Error::Read(io) | Error::Write(io) if url.tls => client_cert::late_failure(Some(io), asked),
        Error::UnexpectedEof if url.tls => client_cert::late_failure(None, asked),
        _ => None,
    };
    if let Some(failure) = late {
        return tls_failed(failure, url);
    }
    anyhow::Error::new(e).context(format!("WebSocket handshake with {url} failed"))
}

/// A TCP stream to `url`'s server through the proxy `chosen`.
fn tunnel(url: &WsUrl, chosen: &proxy::Chosen) -> anyhow::Result<TcpStream> {
    let host = url.bare_host();
    let targets: Vec<proxy::Target<'_>> =
        if chosen.url.kind == proxy::Kind::Socks5 && host.parse::<IpAddr>().is_err() {
            // socks5:// (not socks5h://): the name is resolved here, the proxy gets addresses.
            let addrs: Vec<_> = (host, url.port)
                .to_socket_addrs()
                .with_context(|| Unreachable::Resolve(url.host.clone()))?
                .map(proxy::Target::Addr)
                .collect();
            if addrs.is_empty() {
                return Err(Unreachable::NoAddress(url.host.clone()).into());
            }
            addrs
        } else {
            vec![proxy::Target::Name { host, port: url.port }]
        };
    let tunnel = proxy::open_first(chosen, &targets, HANDSHAKE_TIMEOUT).map_err(|failure| {
        anyhow::Error::new(*failure).context(format!("cannot reach {url} through the proxy"))
    })?;
    tunnel.stream.set_nodelay(true)?;
    Ok(tunnel.stream)
}

fn connect_tcp(url: &WsUrl) -> anyhow::Result<TcpStream> {
    let addrs = (url.bare_host(), url.port)
        .to_socket_addrs()
        .with_context(|| Unreachable::Resolve(url.host.clone()))?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, HANDSHAKE_TIMEOUT) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(e) => last = Some((addr, e)),
        }
    }
    match last {
        Some((addr, e)) => Err(e).context(Unreachable::Connect(addr)),
        None => Err(Unreachable::NoAddress(url.host.clone()).into()),
    }
}

/// Why the server could not be reached (the context of the error `dial` returns), so that
/// `wsc connect` can tell DNS from TCP in its exit status.
#[derive(Debug)]
pub(crate) enum Unreachable {
    /// The host name did not resolve.
    Resolve(String),
    /// The host name resolved to no address.
    NoAddress(String),
    /// TCP to this address failed (the last one tried).
    Connect(SocketAddr),
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Resolve(host) => write!(f, "cannot resolve {host}"),
            Self::NoAddress(host) => write!(f, "{host} resolves to no address"),
            Self::Connect(addr) => write!(f, "cannot connect to {addr}"),
        }
    }
}

impl std::error::Error for Unreachable {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_options_are_split_at_the_first_colon_and_trimmed() {
        let options = ["Authorization: Bearer a:b".to_owned(), "X-Empty:".to_owned()];
        assert_eq!(
            parse_headers(&options).unwrap(),
            [("Authorization", "Bearer a:b"), ("X-Empty", "")]
        );
        let err = parse_headers(&["nocolon".to_owned()]).unwrap_err();
        assert_eq!(err.to_string(), "header \"nocolon\" is not 'Name: value'");
    }
}
