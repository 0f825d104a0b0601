//! A served connection's byte stream: plain TCP or TLS, over a [`TimedTcp`] so that
//! every deadline holds below TLS as well.

use std::io;
use std::sync::Arc;

use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::timed::TimedTcp;
use crate::tls;

/// A plain or TLS connection accepted by `wsc serve`.
pub(super) type Transport = tls::Stream<TimedTcp, ServerConnection>;

impl Transport {
    /// Wraps an accepted connection, in TLS when there is a TLS configuration (the TLS
    /// handshake then runs on the first read or write).
    pub(super) fn new(tcp: TimedTcp, tls: Option<&Arc<ServerConfig>>) -> io::Result<Self> {
        let Some(config) = tls else { return Ok(Self::Plain(tcp)) };
        let conn = ServerConnection::new(Arc::clone(config)).map_err(io::Error::other)?;
        Ok(Self::Tls(Box::new(StreamOwned::new(conn, tcp))))
    }

    /// Ends the sending direction: a TLS `close_notify`, then a TCP half-close.
    pub(super) fn shutdown_write(&mut self) -> io::Result<()> {
        self.close_notify()?;
        self.get_mut().shutdown_write()
    }
}
