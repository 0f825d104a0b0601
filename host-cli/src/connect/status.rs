//! `wsc connect`'s exit status: which stage ended the session. The table in `--help`
//! and in docs/wsc.md are both rendered from [`Status::ALL`].

use std::io;
use std::process::ExitCode;

use wscodec::io::Error;
use wscodec::HandshakeError;

use crate::{dial, proxy, tls};

/// How `wsc connect` ended, as its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Normal,
    Other,
    Usage,
    Dns,
    Tcp,
    Tls,
    Proxy,
    Upgrade,
    Protocol,
    DeadPeer,
    AbnormalClose,
}

impl Status {
    /// Every status, in the order of their numbers.
    pub(crate) const ALL: [Self; 11] = [
        Self::Normal,
        Self::Other,
        Self::Usage,
        Self::Dns,
        Self::Tcp,
        Self::Tls,
        Self::Proxy,
        Self::Upgrade,
        Self::Protocol,
        Self::DeadPeer,
        Self::AbnormalClose,
    ];

    /// The exit status.
    pub(crate) const fn code(self) -> u8 {
        match self {
            Self::Normal => 0,
            Self::Other => 1,
            Self::Usage => 2,
            Self::Dns => 3,
            Self::Tcp => 4,
            Self::Tls => 5,
            Self::Proxy => 6,
            Self::Upgrade => 7,
            Self::Protocol => 8,
            Self::DeadPeer => 9,
            Self::AbnormalClose => 10,
        }
    }

    /// What the status means, for the tables.
    pub(crate) const fn meaning(self) -> &'static str {
        match self {
            Self::Normal => {
                "the connection closed normally (1000 or 1001, or our close was answered), \
                 or --count messages arrived"
            }
            Self::Other => "anything else (e.g. stdout could not be written)",
            Self::Usage => {
                "usage: a bad option or URL, an unreadable file, certificate or key, a key \
                 that does not match its certificate, a --send or --on-connect text that \
                 is not UTF-8"
            }
            Self::Dns => "DNS: the host name does not resolve",
            Self::Tcp => "TCP: the connection was refused or timed out, or the host is unreachable",
            Self::Tls => {
                "TLS: the handshake failed (the server's certificate, a client certificate \
                 refused or required, a server that does not speak TLS)"
            }
            Self::Proxy => {
                "proxy: the proxy is unreachable, wants credentials, or refused or failed \
                 the tunnel"
            }
            Self::Upgrade => {
                "upgrade: the server refused the WebSocket upgrade (its HTTP status is \
                 printed) or did not answer it"
            }
            Self::Protocol => {
                "protocol error by the peer: an invalid handshake answer or frame (wsc \
                 closed with 1002, 1007 or 1009)"
            }
            Self::DeadPeer => "dead peer: no answer to a ping within --ping-timeout",
            Self::AbnormalClose => {
                "abnormal close by the peer: dropped without a close frame (1006), closed \
                 with an error code (not 1000 or 1001), or our close went unanswered"
            }
        }
    }

    /// The table for `wsc connect --help`.
    pub(crate) fn help_table() -> String {
        let mut table = String::from("Exit status:\n");
        for status in Self::ALL {
            table.push_str(&format!("  {:>2}  {}\n", status.code(), status.meaning()));
        }
        table
    }

    /// The same table in Markdown, as docs/wsc.md shows it (a test checks it is there).
    #[cfg(test)]
    pub(crate) fn markdown_table() -> String {
        let mut table = String::from("| exit status | meaning |\n|---|---|\n");
        for status in Self::ALL {
            table.push_str(&format!("| {} | {} |\n", status.code(), status.meaning()));
        }
        table
    }

    /// The status of an error out of a connection attempt (see [`dial::dial`]).
    pub(crate) fn of_dial_error(e: &anyhow::Error) -> Self {
        if e.downcast_ref::<proxy::Failure>().is_some() {
            return Self::Proxy;
        }
        if e.downcast_ref::<tls::TlsError>().is_some() {
            return Self::Tls;
        }
        if let Some(unreachable) = e.downcast_ref::<dial::Unreachable>() {
            return match unreachable {
                dial::Unreachable::Resolve(_) | dial::Unreachable::NoAddress(_) => Self::Dns,
                dial::Unreachable::Connect(_) => Self::Tcp,
            };
        }
        match e.downcast_ref::<Error<io::Error>>() {
            Some(
                Error::Handshake(HandshakeError::UnexpectedStatus(_))
                | Error::NotUpgraded(_)
                | Error::Read(_)
                | Error::Write(_)
                | Error::UnexpectedEof,
            ) => Self::Upgrade,
            Some(Error::Handshake(_) | Error::Protocol(_)) => Self::Protocol,
            _ => Self::Other,
        }
    }
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        Self::from(status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_numbered_in_order_and_distinct() {
        for (i, status) in Status::ALL.iter().enumerate() {
            assert_eq!(usize::from(status.code()), i, "{status:?}");
        }
    }

    #[test]
    fn the_wsc_guide_shows_the_table_as_generated() {
        let guide = include_str!("../../../docs/wsc.md");
        let table = Status::markdown_table();
        assert!(
            guide.contains(&table),
            "docs/wsc.md must contain the exit status table of `wsc connect` exactly as \
             generated:\n{table}"
        );
    }

    #[test]
    fn help_table_lists_every_status() {
        let table = Status::help_table();
        assert!(table.starts_with("Exit status:\n   0  the connection closed normally"));
        assert_eq!(table.lines().count(), 12, "{table}");
        assert!(table.contains("\n   9  dead peer: no answer to a ping within --ping-timeout\n"));
    }
}
