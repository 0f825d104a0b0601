//! Why a client TLS handshake failed, in the words of the person who has to fix it: the
//! cause (an expired or misnamed certificate, an unknown issuer, a plain-HTTP server on
//! the other end, ...) and what to do about it.

use std::fmt;
use std::io;

use rustls::pki_types::ServerName;
use rustls::{AlertDescription, CertificateError};

use crate::client_cert;
use crate::timed::{is_closed, is_timeout};

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
    pub(super) fn classify(e: &io::Error, first: &[u8], asked: &client_cert::Asked) -> Self {
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
