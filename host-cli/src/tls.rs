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

mod failure;
pub(crate) use failure::{TlsError, TlsFailure};

use crate::client_cert;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, ConnectionCommon, DigitallySignedStruct, RootCertStore,
    ServerConfig, SideData, SignatureScheme, StreamOwned,
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
