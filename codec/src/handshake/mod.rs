//! The opening handshake (RFC 6455 section 4): HTTP/1.1 Upgrade requests and responses.
//!
//! Both sides are sans-IO and allocation-free, like the rest of the crate. Parsing borrows
//! the caller's bytes and an array of [`Header`]s (size it with [`MAX_HEADERS`]); writing
//! fills the caller's output buffer and reports the exact size needed when it is too
//! small.
//!
//! - A **server** hands the bytes received so far to [`server::handle_request`], which
//!   parses the request, checks it, asks the application what to do (a
//!   [`server::Decision`]: upgrade, refuse, or answer a plain HTTP request with a page)
//!   and writes the `101` or the error response, in one call. Its pieces are public too:
//!   [`server::parse_request`], [`server::Request::validate`], [`server::write_accept`],
//!   [`server::write_reject`] and [`server::write_error`].
//! - A **client** builds a [`client::ClientRequest`], writes it with
//!   [`encode`](client::ClientRequest::encode), parses the reply with
//!   [`client::parse_response`] and checks it with [`client::Response::validate`].
//!
//! In both directions, bytes after the blank line that ends the HTTP head are not part of
//! the handshake: `consumed` tells where the first WebSocket frame may begin.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

mod accept_key;
mod bytes;
pub mod client;
pub(crate) mod error;
#[cfg(feature = "deflate")]
mod extensions;
mod fields;
mod head;
mod header;
pub mod server;
#[cfg(any(test, not(feature = "hw-sha1")))]
mod sha1;
mod texts;
mod write;

pub use accept_key::{accept_key, encode_key, ACCEPT_KEY_LEN, GUID, KEY_LEN};
pub(crate) use error::HandshakeError;
pub use error::{HeaderField, HttpErrorKind};
#[cfg(feature = "deflate")]
pub use extensions::ExtensionError;
pub use header::Header;

/// The recommended length of the [`Header`] array given to [`server::parse_request`] and
/// [`client::parse_response`], and the one [`server::handle_request`] uses.
///
/// Browsers send 10 to 15 headers in an upgrade request; 32 leaves room for proxies and
/// cookies. A request with more headers than the array holds fails with
/// [`HandshakeError::TooManyHeaders`] (answered with 431). Each entry costs four words
/// of stack.
pub const MAX_HEADERS: usize = 32;

#[cfg(test)]
mod proptests {
    extern crate std;

    use proptest::prelude::*;
    use std::{vec, vec::Vec};

    use super::{client, server, Header, MAX_HEADERS};
    use crate::Status;

    /// Bytes that look like an upgrade head often enough to reach the deeper checks.
    fn head() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(&b"GET / HTTP/1.1\r\n"[..]),
            Just(&b"HTTP/1.1 101 Switching Protocols\r\n"[..]),
            Just(&b"Host: h\r\n"[..]),
            Just(&b"Upgrade: websocket\r\n"[..]),
            Just(&b"Connection: Upgrade\r\n"[..]),
            Just(&b"Sec-WebSocket-Version: 13\r\n"[..]),
            Just(&b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"[..]),
            Just(&b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"[..]),
            Just(&b"Sec-WebSocket-Protocol: chat, \xff\r\n"[..]),
            Just(&b"\r\n"[..]),
            Just(&b"\xff\x00 :,"[..]),
        ];
        prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn request_parsing_never_panics(bytes in prop_oneof![head(), any::<Vec<u8>>()]) {
            let mut headers = [Header::EMPTY; MAX_HEADERS];
            match server::parse_request(&bytes, &mut headers) {
                Ok(Status::Complete { value, consumed }) => {
                    prop_assert!(consumed <= bytes.len());
                    let mut out = [0u8; 512];
                    match value.validate() {
                        Ok(up) => {
                            let p = up.protocols().next();
                            prop_assert!(server::write_accept(&up, p, &[], &mut out).is_ok());
                        }
                        Err(e) => prop_assert!(server::write_error(e, &mut out).is_ok()),
                    }
                }
                Ok(Status::Partial { needed }) => prop_assert_eq!(needed, 1),
                Err(e) => prop_assert!(e.status() >= 400),
            }
        }

        #[test]
        fn response_parsing_never_panics(bytes in prop_oneof![head(), any::<Vec<u8>>()]) {
            let request = client::ClientRequest {
                protocols: &["chat"],
                ..client::ClientRequest::new("h", "/", *b"the sample nonce")
            };
            let mut headers = [Header::EMPTY; MAX_HEADERS];
            if let Ok(Status::Complete { value, consumed }) = client::parse_response(&bytes, &mut headers) {
                prop_assert!(consumed <= bytes.len());
                let _ = value.validate(&request);
            }
        }
    }
}
