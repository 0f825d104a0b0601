//! Plain HTTP of `wsc serve`: the test page, the 503 of a server at capacity, and the
//! lingering close that keeps a response from being destroyed by a reset.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use wscodec::handshake::server;

use super::transport::Transport;
use super::Accepted;
use crate::timed::{is_timeout, TimedTcp};

/// The browser test page served at `/`.
pub(super) const PAGE: &str = include_str!("../page.html");
/// How long a closed connection's remaining input is drained, so that the response
/// reaches the client before the socket closes.
const LINGER: Duration = Duration::from_secs(1);

/// Refuses the request with `status` and a plain-text `reason`.
pub(super) fn refuse(
    stream: Transport,
    peer: SocketAddr,
    status: u16,
    reason: &str,
    tx: &mut [u8],
) -> io::Result<()> {
    eprintln!("reject {peer} status={status} reason={reason:?}");
    let n = server::write_reject(status, reason, tx).map_err(io::Error::other)?;
    send_and_close(stream, &tx[..n])
}

/// Answers a client over the connection limit with 503, from a refusal thread. The
/// answer (TLS handshake included) must go out by the handshake deadline, so a silent
/// client cannot hold a refusal thread longer than that.
pub(super) fn refuse_at_capacity(accepted: Accepted, tcp: TcpStream, peer: SocketAddr) {
    let max = accepted.settings.max_connections;
    let reason = format!("server at capacity: {max} connections; try again later");
    let mut out = [0u8; 512];
    let refused = TimedTcp::new(tcp)
        .and_then(|mut tcp| {
            tcp.set_deadline(accepted.handshake_deadline());
            Transport::new(tcp, accepted.settings.tls.as_ref())
        })
        .and_then(|stream| refuse(stream, peer, 503, &reason, &mut out));
    if let Err(e) = refused {
        let secs = accepted.settings.handshake_timeout.as_secs();
        if is_timeout(&e) {
            eprintln!("drop  {peer}: over capacity and silent for {secs} s (handshake timeout)");
        } else {
            eprintln!("drop  {peer}: over capacity, and the 503 could not be sent: {e}");
        }
    }
}

/// Sends a response that does not upgrade, then closes the connection.
pub(super) fn send_and_close(mut stream: Transport, response: &[u8]) -> io::Result<()> {
    stream.write_all(response)?;
    stream.flush()?;
    linger_close(stream);
    Ok(())
}

/// Half-closes the connection and drains what the client still sends for up to
/// [`LINGER`], so that closing a socket with unread input (which resets the connection)
/// cannot destroy the response before the client has read it.
pub(super) fn linger_close(mut stream: Transport) {
    stream.get_mut().set_deadline(Instant::now() + LINGER);
    stream.get_mut().stop_settling();
    // The response is written; a peer already gone makes this fail, and the drain below
    // ends at the deadline either way.
    let _ = stream.shutdown_write();
    let mut sink = [0u8; 1024];
    while stream.read(&mut sink).is_ok_and(|n| n > 0) {}
}
