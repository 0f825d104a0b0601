//! Steps 3 and 4 of `wsc probe`: the TCP connection and TLS.

use std::io;
use std::net::{SocketAddr, TcpStream};

use super::verdict::{Failure, Verdict};
use super::{Done, Failed, Probe};
use crate::client_cert::Asked;
use crate::timed::short_io;
use crate::tls::{self, ClientStream};
use crate::url::WsUrl;

impl Probe<'_> {
    pub(super) fn connect(
        &mut self,
        url: &WsUrl,
        addrs: &[SocketAddr],
    ) -> Result<Done<TcpStream>, Failed> {
        let mut tried = Vec::new();
        let mut last: Option<(SocketAddr, io::Error)> = None;
        for &addr in addrs {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(tcp) => {
                    let _ = tcp.set_nodelay(true);
                    let mut detail = format!("connected to {addr}");
                    if !tried.is_empty() {
                        detail.push_str(&format!(" (after {})", tried.join("; ")));
                    }
                    return Ok(Done::new(tcp, detail));
                }
                Err(e) => {
                    tried.push(format!("{addr}: {}", short_io(&e)));
                    last = Some((addr, e));
                }
            }
        }
        let Some((addr, e)) = last else {
            return Err(Failure::new(
                Verdict::DnsFailure,
                "no address to connect to",
                format!("{} resolved to no address", url.host),
                "check the DNS records of the host",
            )
            .into());
        };
        let detail = tried.join("; ");
        let secs = self.timeout.as_secs_f64();
        let failure = match e.kind() {
            io::ErrorKind::ConnectionRefused => Failure::new(
                Verdict::ConnectionRefused,
                detail,
                format!(
                    "nothing is listening on {addr}: the host answered, but refused TCP \
                     connections to port {}",
                    url.port
                ),
                format!(
                    "is the server running? is the port right ({})? A server bound to \
                     127.0.0.1 is not reachable from other machines (bind 0.0.0.0); a server \
                     in a container needs its port published (docker run -p {}:{})",
                    url.port, url.port, url.port
                ),
            ),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Failure::new(
                Verdict::ConnectTimeout,
                detail,
                format!(
                    "no answer from {addr} within {secs} s: packets to port {} are dropped \
                     (a firewall), the host is wrong or down, or the server's accept queue is full",
                    url.port
                ),
                format!(
                    "check the host name and port; check firewalls and security groups for \
                     port {}; networks that allow only web traffic need the server on \
                     443 with wss://; raise --timeout for a slow link",
                    url.port
                ),
            ),
            io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::NetworkDown => Failure::new(
                Verdict::Unreachable,
                detail,
                format!("{addr} is unreachable: this machine has no route to it ({e})"),
                "check this machine's network: is it online, is the VPN up, is the address \
                 (or the IPv6/IPv4 family) reachable from here?",
            ),
            _ => Failure::new(
                Verdict::Unreachable,
                detail,
                format!("cannot connect to {addr}: {e}"),
                "check this machine's network and the address",
            ),
        };
        Err(failure.into())
    }

    pub(super) fn tls(
        &mut self,
        url: &WsUrl,
        tcp: TcpStream,
    ) -> Result<Done<ClientStream>, Failed> {
        let tls_error = |cause: String| {
            Failed::from(Failure::new(
                Verdict::TlsError,
                "no TLS configuration",
                cause,
                "check --ca-file, --cert and --key",
            ))
        };
        let identity = self.args.client_cert.load().map_err(|e| tls_error(format!("{e:#}")))?;
        let trust = tls::TrustOptions { identity: identity.as_ref(), ..self.args.tls.trust() };
        let (config, trust) = tls::client_config(trust).map_err(|e| tls_error(format!("{e:#}")))?;
        // --timeout is above zero (`run` checks it): these fail only on a dead socket, which
        // the TLS handshake then reports.
        let _ = tcp.set_read_timeout(Some(self.timeout));
        let _ = tcp.set_write_timeout(Some(self.timeout));
        match tls::handshake(tcp, url.bare_host(), &config) {
            Ok((stream, session)) => {
                let verified = if trust == tls::Trust::Insecure {
                    "certificate NOT verified (--insecure)".to_owned()
                } else {
                    format!("certificate valid for {}, trusted via {trust}", url.host)
                };
                let client = match &session.client_cert {
                    Asked::Nothing => String::new(),
                    Asked::NotGiven => {
                        "; the server asked for a client certificate, none given".to_owned()
                    }
                    Asked::Sent(cert) => format!("; client certificate {cert} sent"),
                };
                self.client_cert = session.client_cert.clone();
                let detail = format!("{}, {}; {verified}{client}", session.version, session.cipher);
                Ok(Done::new(stream, detail))
            }
            Err(failure) => Err(tls_failure(url, &failure).into()),
        }
    }
}

/// The TLS step's verdict on `failure` (also for one that surfaces during the upgrade,
/// see [`crate::client_cert::late_failure`]).
pub(super) fn tls_failure(url: &WsUrl, failure: &tls::TlsFailure) -> Failure {
    let plain = WsUrl { tls: false, ..url.clone() };
    let detail = match failure {
        tls::TlsFailure::PlainText { first_line } => {
            format!("the server answered the TLS hello with {first_line:?}")
        }
        other => format!("{other:?}"),
    };
    Failure::new(
        Verdict::TlsError,
        detail,
        failure.cause(&url.host),
        failure.fix(&plain.to_string()),
    )
}
