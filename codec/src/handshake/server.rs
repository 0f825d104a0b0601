//! The server side of the opening handshake (RFC 6455 section 4.2).
//!
//! [`handle_request`] does it all in one call on the bytes received so far: it parses the
//! request, checks it, lets the application decide ([`Decision`]: upgrade, refuse, or
//! answer a plain HTTP request such as a page) and writes the `101` or the error
//! response. The adapters' `accept` and `wsc serve` are built on it.
//!
//! Its pieces are public for servers that need another shape: [`parse_request`] reads
//! the HTTP head, [`Request::validate`] checks it is a valid WebSocket upgrade, and
//! [`write_accept`] (or [`write_error`] / [`write_reject`]) writes the answer.
//!
//! ```
//! use wscodec::handshake::{server, Header, MAX_HEADERS};
//! use wscodec::Status;
//!
//! let wire = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
//!     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
//!     Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n\x81\x80";
//! let mut headers = [Header::EMPTY; MAX_HEADERS];
//! let Status::Complete { value: request, consumed } = server::parse_request(wire, &mut headers)?
//! else { panic!("read more bytes and call again") };
//! assert_eq!(&wire[consumed..], b"\x81\x80"); // the first frame is left for the connection
//! let mut out = [0u8; 256];
//! let n = match request.validate() {
//!     Ok(upgrade) => {
//!         let protocol = upgrade.offers_protocol("chat").then_some("chat");
//!         server::write_accept(&upgrade, protocol, &[], &mut out)?
//!     }
//!     Err(e) => server::write_error(e, &mut out)?, // then close the transport
//! };
//! assert!(out[..n].starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
//! # Ok::<(), wscodec::HandshakeError>(())
//! ```
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

mod request;
mod response;
mod step;
#[cfg(test)]
mod tests;

pub use super::fields::MAX_PROTOCOL_LINES;
pub use request::{parse_request, Request, Upgrade};
pub use response::{write_accept, write_error, write_reject, write_version_reject};
pub use step::{handle_request, no_extensions, Answer, Decision, Head, Outcome};
