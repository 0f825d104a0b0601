//! TLS for `wss://` (client) and `wsc serve --tls-cert` (server), with rustls.
//!
//! The codec never sees TLS: it runs over a [`Stream`], in the clear or under rustls, a
//! client's over TCP, a served connection's over TCP with deadlines. The client
//! handshake runs eagerly in [`handshake`], so that a
//! failure is reported as a TLS problem (certificate expired, wrong name, unknown
//! issuer, a plain-HTTP server on the other end) rather than as a WebSocket one.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::client_cert;
use crate::timed::{is_closed, is_timeout};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, ClientConnection, ConnectionCommon,
    DigitallySignedStruct, RootCertStore, ServerConfig, SideData, SignatureScheme, StreamOwned,
};

/// How many of the server's first bytes are kept to recognise a non-TLS answer.
const FIRST_BYTES: usize = 64;

/// A byte stream in the clear or under TLS: a client's ([`ClientStream`]) or a connection
/// `wsc serve` accepted (over its deadlines, so that they hold below TLS as well).
#[derive(Debug)]
pub(crate) enum Stream<T: Read + Write, C> {
    /// `ws://`.
    Plain(T),
    /// `wss://`: TLS over `T`.
    Tls(Box<StreamOwned<C, T>>),
}

/// A client's stream: plain TCP, or TLS over TCP after [`handshake`].
pub(crate) type ClientStream = Stream<TcpStream, ClientConnection>;

impl<T: Read + Write, C> Stream<T, C> {
    /// The transport underneath.
    pub(crate) fn get_ref(&self) -> &T {
        match self {
            Self::Plain(s) => s,
            Self::Tls(s) => &s.sock,
        }
    }

    /// The transport underneath.
    pub(crate) fn get_mut(&mut self) -> &mut T {
        match self {
            Self::Plain(s) => s,
            Self::Tls(s) => &mut s.sock,
        }
    }
}

impl<T, C, S> Stream<T, C>
where
    T: Read + Write,
    C: DerefMut + Deref<Target = ConnectionCommon<S>>,
    S: SideData,
{
    /// Ends TLS in the sending direction (a `close_notify`); nothing in the clear.
    pub(crate) fn close_notify(&mut self) -> io::Result<()> {
        if let Self::Tls(tls) = self {
            tls.conn.send_close_notify();
            tls.flush()?;
        }
        Ok(())
    }
}

impl<C> Stream<TcpStream, C> {
    /// Sets the TCP read timeout (a timed-out read leaves a TLS stream usable).
    pub(crate) fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.get_ref().set_read_timeout(timeout)
    }

    /// Sets the TCP write timeout.
    pub(crate) fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.get_ref().set_write_timeout(timeout)
    }
}

impl<T, C, S> Read for Stream<T, C>
where
    T: Read + Write,
    C: DerefMut + Deref<Target = ConnectionCommon<S>>,
    S: SideData,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = match self {
            Self::Plain(s) => return s.read(buf),
            Self::Tls(s) => s.read(buf),
        };
        match result {
            // rustls reports a TCP end without `close_notify` as UnexpectedEof. For the
            // WebSocket that is the same as a plain TCP end: the close frame says whether
            // the data was complete, and its absence is a 1006.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
            other => other,
        }
    }
}

impl<T, C, S> Write for Stream<T, C>
where
    T: Read + Write,
    C: DerefMut + Deref<Target = ConnectionCommon<S>>,
    S: SideData,
{
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(buf),
            Self::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.flush(),
            Self::Tls(s) => s.flush(),
        }
    }
}

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Where a client's trust anchors come from.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TrustOptions<'a> {
    /// Trust only the certificates in this PEM file (a private CA or a self-signed cert).
    pub(crate) ca_file: Option<&'a Path>,
    /// Accept any certificate (still encrypted, but anyone can pretend to be the server).
    pub(crate) insecure: bool,
    /// The client certificate to present when the server asks for one.
    pub(crate) identity: Option<&'a client_cert::Identity>,
}

/// Which roots a client config trusts, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Trust {
    /// The system's certificate store (this many roots).
    System(usize),
    /// Mozilla's roots built into `wsc` (the system store was empty or unreadable).
    BuiltIn(usize),
    /// The roots from `--ca-file`.
    CaFile(String),
    /// `--insecure`: no verification.
    Insecure,
}

impl fmt::Display for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::System(n) => write!(f, "the system's {n} trusted roots"),
            Self::BuiltIn(n) => write!(f, "wsc's {n} built-in Mozilla roots"),
            Self::CaFile(path) => write!(f, "the CA file {path}"),
            Self::Insecure => f.write_str("nothing (--insecure: any certificate is accepted)"),
        }
    }
}

/// A client's TLS settings: what it trusts, and the certificate it presents when a server
/// asks for one.
#[derive(Debug, Clone)]
pub(crate) struct ClientTls {
    config: Arc<ClientConfig>,
    identity: Option<client_cert::Identity>,
}

/// A client configuration: system roots (or Mozilla's), `--ca-file`, or `--insecure`.
///
/// # Errors
/// When the CA file cannot be read or holds no certificate.
pub(crate) fn client_config(options: TrustOptions<'_>) -> anyhow::Result<(ClientTls, Trust)> {
    let identity = options.identity.cloned();
    // The client certificate's resolver is [`handshake`]'s, one for each.
    let client_tls = |config| ClientTls { config: Arc::new(config), identity };
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("the TLS provider supports no protocol version")?;
    if options.insecure {
        let verifier = Arc::new(AnyCertificate(provider()));
        let config =
            builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth();
        return Ok((client_tls(config), Trust::Insecure));
    }
    let mut roots = RootCertStore::empty();
    let trust = if let Some(path) = options.ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .with_context(|| format!("cannot read the CA file {}", path.display()))?
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("{} is not a PEM certificate file", path.display()))?;
        let (added, _) = roots.add_parsable_certificates(certs);
        anyhow::ensure!(added > 0, "{} holds no usable PEM certificate", path.display());
        Trust::CaFile(path.display().to_string())
    } else {
        let native = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(native.certs);
        if added > 0 {
            Trust::System(added)
        } else {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            Trust::BuiltIn(roots.len())
        }
    };
    let config = builder.with_root_certificates(roots).with_no_client_auth();
    Ok((client_tls(config), trust))
}

/// A server configuration from a PEM certificate chain and a PEM private key.
///
/// # Errors
/// When a file cannot be read, or the key does not match the certificate.
pub(crate) fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read the certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{} is not a PEM certificate file", cert.display()))?;
    anyhow::ensure!(!chain.is_empty(), "{} holds no PEM certificate", cert.display());
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read a PEM private key from {}", key.display()))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("the TLS provider supports no protocol version")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the private key does not fit the certificate")?;
    Ok(Arc::new(config))
}

/// What a finished client handshake agreed on.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// e.g. `TLSv1_3`.
    pub(crate) version: String,
    /// e.g. `TLS13_AES_256_GCM_SHA384`.
    pub(crate) cipher: String,
    /// Whether the server asked for a client certificate, and what was sent. Under TLS 1.3
    /// its verdict on it comes later (see [`client_cert::late_failure`]).
    pub(crate) client_cert: client_cert::Asked,
}

/// Runs the client TLS handshake over `tcp` for `host` (a name or an IP address).
///
/// The socket's read timeout bounds each wait for the server.
///
/// # Errors
/// A [`TlsFailure`] that says what went wrong in terms a person can act on.
pub(crate) fn handshake(
    tcp: TcpStream,
    host: &str,
    tls: &ClientTls,
) -> Result<(ClientStream, Session), TlsFailure> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| TlsFailure::Other(format!("{host:?} is not a valid TLS server name")))?;
    // This handshake's own resolver, which records what its server asked for (a clone of
    // the configuration shares its session cache).
    let record = Arc::new(client_cert::Record::default());
    let mut config = ClientConfig::clone(&tls.config);
    config.client_auth_cert_resolver =
        client_cert::resolver(tls.identity.as_ref(), Arc::clone(&record));
    let mut conn = ClientConnection::new(Arc::new(config), name)
        .map_err(|e| TlsFailure::Other(e.to_string()))?;
    let mut recorder = Recorder { tcp, first: Vec::new() };
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut recorder) {
            return Err(TlsFailure::classify(&e, &recorder.first, &record.asked()));
        }
    }
    let session = Session {
        version: conn.protocol_version().map(|v| format!("{v:?}")).unwrap_or_default(),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default(),
        client_cert: record.asked(),
    };
    let stream = StreamOwned::new(conn, recorder.tcp);
    Ok((Stream::Tls(Box::new(stream)), session))
}

/// A TCP stream that keeps the first bytes the server sent.
struct Recorder {
    tcp: TcpStream,
    first: Vec<u8>,
}

impl Read for Recorder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.tcp.read(buf)?;
        let keep = n.min(FIRST_BYTES.saturating_sub(self.first.len()));
        self.first.extend_from_slice(&buf[..keep]);
        Ok(n)
    }
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// Why a client TLS handshake failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TlsFailure {
    /// The server answered the TLS hello with plain text; `first_line` is what it said.
    PlainText { first_line: String },
    /// The certificate's validity ended (`detail` says when, if known).
    Expired { detail: String },
    /// The certificate's validity has not begun.
    NotValidYet { detail: String },
    /// The certificate is for other names; `presented` lists them if known.
    WrongName { expected: String, presented: Vec<String> },
    /// The certificate chain does not lead to a trusted root.
    UnknownIssuer,
    /// Another certificate problem.
    Certificate(String),
    /// The server sent a TLS alert (it refused something about our hello).
    Alert(String),
    /// The server requires a client certificate and none was given.
    ClientCertRequired,
    /// The server refused the client certificate `cert` with `alert`, or (`None`) closed
    /// the connection right after the handshake that sent it.
    ClientCertRefused { cert: String, alert: Option<String> },
    /// The server sent nothing within the timeout.
    Timeout,
    /// The server closed the connection during the handshake.
    Closed,
    /// Anything else.
    Other(String),
}

impl TlsFailure {
    /// The failure `e` of a handshake in which the server sent `first` and asked for
    /// `asked`.
    fn classify(e: &io::Error, first: &[u8], asked: &client_cert::Asked) -> Self {
        if looks_like_plain_text(first) {
            let text = String::from_utf8_lossy(first);
            let first_line = text.lines().next().unwrap_or_default().trim().to_owned();
            return Self::PlainText { first_line };
        }
        if let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
            return Self::from_rustls(tls, asked);
        }
        if is_timeout(e) {
            Self::Timeout
        } else if is_closed(e) && *asked == client_cert::Asked::NotGiven {
            Self::ClientCertRequired
        } else if is_closed(e) {
            Self::Closed
        } else {
            Self::Other(e.to_string())
        }
    }

    /// The failure rustls reported as `e`, in a handshake whose server asked for `asked`.
    pub(crate) fn from_rustls(e: &rustls::Error, asked: &client_cert::Asked) -> Self {
        match e {
            rustls::Error::InvalidCertificate(cert) => match cert {
                CertificateError::Expired => Self::Expired { detail: String::new() },
                CertificateError::ExpiredContext { time, not_after } => Self::Expired {
                    detail: format!(
                        "it expired {} ago",
                        human_age(time.as_secs().saturating_sub(not_after.as_secs()))
                    ),
                },
                CertificateError::NotValidYet => Self::NotValidYet { detail: String::new() },
                CertificateError::NotValidYetContext { time, not_before } => Self::NotValidYet {
                    detail: format!(
                        "it becomes valid in {}",
                        human_age(not_before.as_secs().saturating_sub(time.as_secs()))
                    ),
                },
                CertificateError::NotValidForName => {
                    Self::WrongName { expected: String::new(), presented: Vec::new() }
                }
                CertificateError::NotValidForNameContext { expected, presented } => {
                    let expected = match expected {
                        ServerName::DnsName(name) => name.as_ref().to_owned(),
                        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
                        other => format!("{other:?}"),
                    };
                    Self::WrongName { expected, presented: presented.clone() }
                }
                CertificateError::UnknownIssuer => Self::UnknownIssuer,
                other => Self::Certificate(format!("{other:?}")),
            },
            rustls::Error::AlertReceived(alert) => Self::from_alert(*alert, asked.clone()),
            other => Self::Other(other.to_string()),
        }
    }

    fn from_alert(alert: AlertDescription, asked: client_cert::Asked) -> Self {
        use AlertDescription as A;
        match (alert, asked) {
            (A::CertificateRequired, _) | (A::HandshakeFailure, client_cert::Asked::NotGiven) => {
                Self::ClientCertRequired
            }
            (
                A::BadCertificate
                | A::UnsupportedCertificate
                | A::CertificateRevoked
                | A::CertificateExpired
                | A::CertificateUnknown
                | A::UnknownCA
                | A::AccessDenied
                | A::DecryptError
                | A::HandshakeFailure,
                client_cert::Asked::Sent(cert),
            ) => Self::ClientCertRefused { cert, alert: Some(format!("{alert:?}")) },
            _ => Self::Alert(format!("{alert:?}")),
        }
    }

    /// The cause, in one sentence.
    pub(crate) fn cause(&self, host: &str) -> String {
        match self {
            Self::PlainText { first_line } => format!(
                "the server spoke plain text, not TLS: it answered the TLS hello with \
                 {first_line:?}, so this port serves ws:// (or http://), not wss://"
            ),
            Self::Expired { detail } if detail.is_empty() => {
                "the server's certificate has expired".to_owned()
            }
            Self::Expired { detail } => format!("the server's certificate has expired: {detail}"),
            Self::NotValidYet { detail } if detail.is_empty() => {
                "the server's certificate is not valid yet".to_owned()
            }
            Self::NotValidYet { detail } => {
                format!("the server's certificate is not valid yet: {detail}")
            }
            Self::WrongName { presented, .. } if presented.is_empty() => {
                format!("the server's certificate is not valid for {host}")
            }
            Self::WrongName { presented, .. } => format!(
                "the server's certificate is not valid for {host}: it names {}",
                presented.join(", ")
            ),
            Self::UnknownIssuer => format!(
                "the certificate of {host} is not signed by a trusted authority \
                 (self-signed, or issued by a private CA)"
            ),
            Self::Certificate(what) => format!("the server's certificate was rejected: {what}"),
            Self::Alert(alert) => {
                format!("the server aborted the TLS handshake with the alert {alert}")
            }
            Self::ClientCertRequired => "the server requires a client certificate (mutual \
                TLS), and none was given"
                .into(),
            Self::ClientCertRefused { cert, alert: Some(alert) } => format!(
                "the server refused the client certificate {cert} (TLS alert {alert}: {})",
                client_cert::refusal(alert)
            ),
            Self::ClientCertRefused { cert, alert: None } => format!(
                "the server closed the connection right after the TLS handshake in which \
                 the client certificate {cert} was sent, without a word (no TLS alert): it \
                 most likely refused the certificate"
            ),
            Self::Timeout => "TCP connected, but the server never answered the TLS hello".into(),
            Self::Closed => "the server closed the connection during the TLS handshake".into(),
            Self::Other(what) => format!("TLS handshake failed: {what}"),
        }
    }

    /// A concrete fix.
    pub(crate) fn fix(&self, plain_url: &str) -> String {
        match self {
            Self::PlainText { .. } => format!(
                "use ws:// not wss:// ({plain_url}), or put TLS in front of the server \
                 (e.g. a reverse proxy that terminates TLS, or `wsc serve --tls-cert/--tls-key`)"
            ),
            Self::Expired { .. } => "renew the certificate on the server (e.g. `certbot renew` \
                 and reload the server); check the client's clock if the date looks wrong"
                .into(),
            Self::NotValidYet { .. } => "check the clocks: this machine's date, or the date \
                 the certificate was issued for"
                .into(),
            Self::WrongName { .. } => "connect with a host name the certificate lists, or \
                 issue a certificate that includes this name (a subjectAltName entry)"
                .into(),
            Self::UnknownIssuer => "pass the CA (or the self-signed certificate) with \
                 --ca-file ca.pem, or --insecure for a quick test; browsers need the CA \
                 installed, or a certificate from a public CA such as Let's Encrypt; if the \
                 server sends no intermediate certificates, configure its full chain"
                .into(),
            Self::Certificate(_) => "fix the server's certificate, or try --insecure to see \
                 whether the rest works"
                .into(),
            Self::Alert(_) => "the server may require a client certificate, a TLS version or \
                 a server name (SNI) this client did not offer: check the server's TLS settings"
                .into(),
            Self::ClientCertRequired => "pass the certificate the server expects with \
                 --cert client.pem --key client-key.pem (one issued by a CA the server trusts)"
                .into(),
            Self::ClientCertRefused { cert, .. } => format!(
                "use a certificate issued by a CA the server trusts for clients (its client \
                 CA setting, e.g. nginx's ssl_client_certificate); check this one's issuer and \
                 dates with `openssl x509 -in {cert} -noout -issuer -dates`"
            ),
            Self::Timeout => "the port is open but does not speak TLS promptly: check the \
                 port, or whether something in between swallows the connection"
                .into(),
            Self::Closed => "the server (or a proxy) refused the TLS hello: check that this \
                 port serves TLS, and the server's TLS logs"
                .into(),
            Self::Other(_) => "check the server's TLS configuration".into(),
        }
    }
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cause("the server"))
    }
}

impl std::error::Error for TlsFailure {}

/// The TLS options shared by `connect`, `probe` and `autobahn-client`.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct TlsArgs {
    /// For wss://: trust the certificates in this PEM file (a private CA, or the server's
    /// self-signed certificate) instead of the system's roots.
    #[arg(long, value_name = "PEM")]
    pub(crate) ca_file: Option<std::path::PathBuf>,
    /// For wss://: accept any certificate (self-signed, expired, other name). The
    /// connection is still encrypted, but anyone in between could pretend to be the server.
    #[arg(long)]
    pub(crate) insecure: bool,
}

impl TlsArgs {
    /// The options as [`client_config`] takes them.
    pub(crate) fn trust(&self) -> TrustOptions<'_> {
        TrustOptions { ca_file: self.ca_file.as_deref(), insecure: self.insecure, identity: None }
    }
}

/// A [`TlsFailure`] with what is needed to explain it: the error `dial` returns.
#[derive(Debug)]
pub(crate) struct TlsError {
    /// What failed.
    pub(crate) failure: TlsFailure,
    /// The host as in the URL.
    pub(crate) host: String,
    /// The same URL with ws://, for the plain-text case.
    pub(crate) plain_url: String,
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; {}", self.failure.cause(&self.host), self.failure.fix(&self.plain_url))
    }
}

impl std::error::Error for TlsError {}

/// Whether the server's first bytes are text rather than a TLS record.
fn looks_like_plain_text(first: &[u8]) -> bool {
    first.len() >= 4
        && (first.starts_with(b"HTTP/")
            || first
                .iter()
                .take(16)
                .all(|&b| b.is_ascii_graphic() || b == b' ' || b == b'\r' || b == b'\n'))
}

/// `3 days`, `5 h`, `12 min`, `40 s`.
fn human_age(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7_199 => format!("{} min", secs / 60),
        7_200..=172_799 => format!("{} h", secs / 3_600),
        _ => format!("{} days", secs / 86_400),
    }
}

/// `--insecure`: accepts any certificate, but still checks the handshake signatures.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_answers_are_recognised() {
        assert!(looks_like_plain_text(b"HTTP/1.1 400 Bad Request\r\n"));
        assert!(looks_like_plain_text(b"SSH-2.0-OpenSSH_9.2\r\n"));
        // A TLS alert record: content type 21, version 3.3.
        assert!(!looks_like_plain_text(&[21, 3, 3, 0, 2, 2, 40]));
        assert!(!looks_like_plain_text(b"HT"));
    }

    #[test]
    fn ages_are_readable() {
        assert_eq!(human_age(5), "5 s");
        assert_eq!(human_age(600), "10 min");
        assert_eq!(human_age(3 * 3_600), "3 h");
        assert_eq!(human_age(40 * 86_400), "40 days");
    }
}
