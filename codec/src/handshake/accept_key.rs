//! `Sec-WebSocket-Key` and `Sec-WebSocket-Accept` (RFC 6455 sections 4.1 and 4.2.2).
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// The GUID that RFC 6455 appends to the key before hashing.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The length of a `Sec-WebSocket-Accept` value: base64 of a 20-byte SHA-1 digest.
pub const ACCEPT_KEY_LEN: usize = 28;

/// The length of a `Sec-WebSocket-Key` value: base64 of a 16-byte nonce.
pub const KEY_LEN: usize = 24;

/// Computes `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` value.
///
/// RFC 6455 section 4.2.2: the server takes the key "and concatenate\[s\] this with the
/// Globally Unique Identifier ... taking the SHA-1 hash of this concatenated value to
/// obtain a 20-byte value and base64-encoding" it. `key` is the header value as sent
/// (base64 text, not the decoded nonce), without surrounding whitespace.
///
/// # Examples
///
/// ```
/// // RFC 6455 section 1.3.
/// let accept = wscodec::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ==");
/// assert_eq!(&accept, b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &[u8]) -> [u8; ACCEPT_KEY_LEN] {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key);
    sha.update(GUID.as_bytes());
    let mut out = [0u8; ACCEPT_KEY_LEN];
    // 20 bytes encode to exactly 28 base64 characters, so this always fits.
    let written = STANDARD.encode_slice(sha.digest().bytes(), &mut out);
    debug_assert_eq!(written, Ok(ACCEPT_KEY_LEN));
    out
}

/// Encodes a 16-byte nonce as a `Sec-WebSocket-Key` value.
///
/// RFC 6455 section 4.1: the key "MUST be a nonce consisting of a randomly selected
/// 16-byte value that has been base64-encoded". The caller supplies the random bytes,
/// fresh for every connection.
///
/// # Examples
///
/// ```
/// // RFC 6455 section 1.3: the nonce is the ASCII text "the sample nonce".
/// let key = wscodec::handshake::accept_key::encode_key(*b"the sample nonce");
/// assert_eq!(&key, b"dGhlIHNhbXBsZSBub25jZQ==");
/// ```
pub fn encode_key(nonce: [u8; 16]) -> [u8; KEY_LEN] {
    let mut out = [0u8; KEY_LEN];
    // 16 bytes encode to exactly 24 base64 characters, so this always fits.
    let written = STANDARD.encode_slice(nonce, &mut out);
    debug_assert_eq!(written, Ok(KEY_LEN));
    out
}

/// Whether `key` is the base64 encoding of exactly 16 bytes (canonical, padded).
pub(super) fn is_valid_key(key: &[u8]) -> bool {
    if key.len() != KEY_LEN {
        return false;
    }
    let mut nonce = [0u8; 18];
    matches!(STANDARD.decode_slice(key, &mut nonce), Ok(16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_1_3_accept_key() {
        assert_eq!(&accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn rfc6455_1_3_key_from_nonce() {
        assert_eq!(&encode_key(*b"the sample nonce"), b"dGhlIHNhbXBsZSBub25jZQ==");
    }

    #[test]
    fn key_validity_table() {
        for (key, ok) in [
            (&b"dGhlIHNhbXBsZSBub25jZQ=="[..], true),
            (b"AAAAAAAAAAAAAAAAAAAAAA==", true),
            (b"dGhlIHNhbXBsZSBub25jZQ", false),       // unpadded
            (b"dGhlIHNhbXBsZSBub25jZf==", false),     // non-canonical trailing bits
            (b"dGhlIHNhbXBsZSBub25j", false),         // 15 bytes
            (b"dGhlIHNhbXBsZSBub25jZWU=", false),     // 17 bytes
            (b"dGhlIHNhbXBsZSBub25jZQ==AAAA", false), // longer
            (b"dGhlIHNhbXBsZSBub25jZ!==", false),     // bad alphabet
            (b"", false),
        ] {
            assert_eq!(is_valid_key(key), ok, "{:?}", core::str::from_utf8(key));
        }
    }

    #[test]
    fn encoded_keys_are_valid() {
        for seed in 0..=255u8 {
            assert!(is_valid_key(&encode_key([seed; 16])));
        }
    }
}
