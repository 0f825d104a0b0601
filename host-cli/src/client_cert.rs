//! Client certificates (mutual TLS) for `wsc connect` and `wsc probe`: `--cert` and
//! `--key`, checked before anything is sent, and what the server asked for during the
//! handshake, so that a refusal can be explained.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{bail, Context as _};
use rustls::client::ResolvesClientCert;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;

use crate::timed::is_closed;
use crate::tls::TlsFailure;

/// `--cert` and `--key` (`wsc connect`, `wsc probe`).
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct CertArgs {
    /// For wss://: present this client certificate when the server asks for one (mutual
    /// TLS). A PEM file: the certificate first, then any intermediates; it may hold the
    /// private key too.
    #[arg(long, value_name = "PEM")]
    pub(crate) cert: Option<PathBuf>,
    /// The private key of --cert (PEM: PKCS#8, PKCS#1 or SEC1, not encrypted); default:
    /// the --cert file.
    #[arg(long, value_name = "PEM", requires = "cert")]
    pub(crate) key: Option<PathBuf>,
}

/// A client certificate chain with its private key, checked to belong together.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    key: Arc<CertifiedKey>,
    /// The certificate file, for messages.
    path: String,
}

impl CertArgs {
    /// Loads and checks the certificate and key, if given.
    ///
    /// # Errors
    /// When a file cannot be read, holds no certificate or key, the key is encrypted or
    /// unusable, or it does not belong to the certificate.
    pub(crate) fn load(&self) -> anyhow::Result<Option<Identity>> {
        let Some(cert) = &self.cert else { return Ok(None) };
        let key = self.key.as_deref().unwrap_or(cert);
        load(cert, key, self.key.is_none()).map(Some)
    }
}

fn load(cert: &Path, key: &Path, key_in_cert: bool) -> anyhow::Result<Identity> {
    let (cert_name, key_name) = (cert.display(), key.display());
    let pem = std::fs::read(cert)
        .with_context(|| format!("cannot read the client certificate {cert_name}"))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{cert_name} is not a PEM certificate file"))?;
    if chain.is_empty() {
        bail!(
            "{cert_name} holds no certificate (no -----BEGIN CERTIFICATE----- block): \
             --cert takes a PEM certificate"
        );
    }
    let key_pem = if key_in_cert {
        pem
    } else {
        std::fs::read(key).with_context(|| format!("cannot read the private key {key_name}"))?
    };
    if key_pem.windows(9).any(|w| w == b"ENCRYPTED") {
        bail!(
            "the private key in {key_name} is encrypted, and wsc does not ask for \
             passphrases: write a decrypted copy with `openssl pkey -in {key_name} -out \
             key.pem` and pass --key key.pem"
        );
    }
    let private = match PrivateKeyDer::from_pem_slice(&key_pem) {
        Ok(private) => private,
        Err(_) if key_in_cert => bail!(
            "{cert_name} holds no private key: pass it with --key KEY.pem (a PEM \
             \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\")"
        ),
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "{key_name} holds no PEM private key (\"PRIVATE KEY\", \"RSA PRIVATE \
                     KEY\" or \"EC PRIVATE KEY\")"
                )
            })
        }
    };
    let key =
        CertifiedKey::from_der(chain, private, &crate::tls::provider()).map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => anyhow::anyhow!(
                "the private key {key_name} does not belong to the certificate {cert_name}: \
                 their public keys differ (compare `openssl x509 -in {cert_name} -noout \
                 -pubkey` with `openssl pkey -in {key_name} -pubout`)"
            ),
            rustls::Error::InvalidCertificate(why) => {
                anyhow::anyhow!("{cert_name} is not a usable X.509 certificate ({why:?})")
            }
            other => anyhow::anyhow!("the private key {key_name} cannot be used: {other}"),
        })?;
    Ok(Identity { key: Arc::new(key), path: cert.display().to_string() })
}

/// What the server of the handshake under way asked for, and what was given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Asked {
    /// The server did not ask for a client certificate (so far).
    #[default]
    Nothing,
    /// It asked, and none was given (no --cert, or one it cannot use).
    NotGiven,
    /// It asked, and this certificate file was sent.
    Sent(String),
}

/// What the server of one handshake asked for, as its resolver records it.
#[derive(Debug, Default)]
pub(crate) struct Record(Mutex<Asked>);

impl Record {
    /// What was asked so far.
    pub(crate) fn asked(&self) -> Asked {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// The resolver for one handshake: presents `identity` when asked, and records in
/// `record` that the server asked.
pub(crate) fn resolver(
    identity: Option<&Identity>,
    record: Arc<Record>,
) -> Arc<dyn ResolvesClientCert> {
    Arc::new(Resolver { identity: identity.cloned(), record })
}

#[derive(Debug)]
struct Resolver {
    identity: Option<Identity>,
    record: Arc<Record>,
}

impl ResolvesClientCert for Resolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let usable =
            self.identity.as_ref().filter(|id| id.key.key.choose_scheme(sigschemes).is_some());
        let asked = usable.map_or(Asked::NotGiven, |id| Asked::Sent(id.path.clone()));
        *self.record.0.lock().unwrap_or_else(PoisonError::into_inner) = asked;
        usable.map(|id| Arc::clone(&id.key))
    }

    fn has_certs(&self) -> bool {
        self.identity.is_some()
    }
}

/// What a TLS alert says about the client certificate the server refused.
pub(crate) fn refusal(alert: &str) -> &'static str {
    match alert {
        "UnknownCA" => "it does not trust the CA that issued it",
        "CertificateExpired" => "it has expired or is not valid yet",
        "CertificateRevoked" => "it was revoked",
        "UnsupportedCertificate" => "its type or key usage does not fit a client certificate",
        "AccessDenied" => "it is valid, but not allowed here",
        "DecryptError" => "the handshake signature made with its key did not verify",
        _ => "it could not verify it",
    }
}

/// The failure a read or write on a [`ClientStream`](crate::tls::ClientStream) reported
/// (`None`: the server closed it), if TLS caused it. Under TLS 1.3 the server judges a client certificate,
/// or its absence, after the client's side of the handshake is over: its verdict arrives
/// as an alert on the first read, or as the end of the connection from a server that
/// sends no alert (Python's asyncio servers, for one). `asked`: what the server asked for
/// in the handshake ([`Session::client_cert`](crate::tls::Session)).
pub(crate) fn late_failure(e: Option<&io::Error>, asked: &Asked) -> Option<TlsFailure> {
    if let Some(tls) = e.and_then(|e| e.get_ref()?.downcast_ref::<rustls::Error>()) {
        return Some(TlsFailure::from_rustls(tls, asked));
    }
    let closed = e.is_none_or(is_closed);
    match asked.clone() {
        _ if !closed => None,
        Asked::Nothing => None,
        Asked::NotGiven => Some(TlsFailure::ClientCertRequired),
        Asked::Sent(cert) => Some(TlsFailure::ClientCertRefused { cert, alert: None }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(cert: Option<&Path>, key: Option<&Path>) -> CertArgs {
        CertArgs { cert: cert.map(Path::to_path_buf), key: key.map(Path::to_path_buf) }
    }

    #[test]
    fn no_cert_is_no_identity() {
        assert!(args(None, None).load().unwrap().is_none());
    }

    #[test]
    fn unreadable_files_are_named() {
        let e = args(Some(Path::new("/nonexistent/client.pem")), None).load().unwrap_err();
        let text = format!("{e:#}");
        assert!(text.starts_with("cannot read the client certificate /nonexistent/client.pem"));
        assert!(text.contains("No such file"), "{text}");
    }
}
