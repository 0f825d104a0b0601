//! A served connection's byte stream: plain TCP or TLS, over a [`TimedTcp`] so that
//! every deadline holds below TLS as well.

use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::timed::TimedTcp;

/// A plain or TLS connection accepted by `wsc serve`.
#[derive(Debug)]
pub(super) enum Transport {
    /// `ws://`.
    Plain(TimedTcp),
    /// `wss://`: the TLS handshake runs on the first read or write.
    Tls(Box<StreamOwned<ServerConnection, TimedTcp>>),
}

impl Transport {
    /// Wraps an accepted connection, in TLS when there is a TLS configuration.
    pub(super) fn new(tcp: TimedTcp, tls: Option<&Arc<ServerConfig>>) -> io::Result<Self> {
        let Some(config) = tls else { return Ok(Self::Plain(tcp)) };
        let conn = ServerConnection::new(Arc::clone(config)).map_err(io::Error::other)?;
        Ok(Self::Tls(Box::new(StreamOwned::new(conn, tcp))))
    }

    /// The deadlines under the stream.
    pub(super) fn timed(&mut self) -> &mut TimedTcp {
        match self {
            Self::Plain(tcp) => tcp,
            Self::Tls(tls) => &mut tls.sock,
        }
    }

    /// Ends the sending direction: a TLS `close_notify`, then a TCP half-close.
    pub(super) fn shutdown_write(&mut self) -> io::Result<()> {
        if let Self::Tls(tls) = self {
            tls.conn.send_close_notify();
            tls.flush()?;
        }
        self.timed().shutdown_write()
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.read(buf),
            // rustls reports a TCP end without `close_notify` as UnexpectedEof. For the
            // WebSocket that is a TCP end like any other: a missing close frame says so.
            Self::Tls(tls) => match tls.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                other => other,
            },
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.write(buf),
            Self::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(tcp) => tcp.flush(),
            Self::Tls(tls) => tls.flush(),
        }
    }
}
