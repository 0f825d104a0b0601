//! `Sec-WebSocket-Key` and `Sec-WebSocket-Accept` (RFC 6455 sections 4.1 and 4.2.2).
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::bytes::{is, BASE64};

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
    match key.try_into() {
        Ok(key) => accept_of(key),
        Err(_) => encode_digest(digest(key)),
    }
}

/// [`accept_key`] of a key of the one length a valid key has, which the handshakes use:
/// the hash of two blocks without a streaming state (not without feature `hw-sha1`).
pub(super) fn accept_of(key: &[u8; KEY_LEN]) -> [u8; ACCEPT_KEY_LEN] {
    #[cfg(not(feature = "hw-sha1"))]
    let digest = super::sha1::key_digest(key, GUID_BYTES);
    #[cfg(feature = "hw-sha1")]
    let digest = digest(key);
    encode_digest(digest)
}

/// [`GUID`] as the bytes [`super::sha1::key_digest`] takes.
#[cfg(not(feature = "hw-sha1"))]
const GUID_BYTES: &[u8; 36] = match GUID.as_bytes().first_chunk::<36>() {
    Some(guid) => guid,
    None => panic!("the GUID is 36 bytes"),
};

/// SHA-1 of `key` and the GUID: the crate's own, small SHA-1.
#[cfg(not(feature = "hw-sha1"))]
fn digest(key: &[u8]) -> [u8; 20] {
    let mut sha = super::sha1::Sha1::new();
    sha.update(key);
    sha.update(GUID.as_bytes());
    sha.finalize()
}

/// SHA-1 of `key` and the GUID: RustCrypto's `sha1`, with the CPU's SHA instructions
/// where it has them (feature `hw-sha1`).
#[cfg(feature = "hw-sha1")]
fn digest(key: &[u8]) -> [u8; 20] {
    use sha1::{Digest as _, Sha1};
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID.as_bytes());
    sha.finalize().into()
}

/// The standard base64 alphabet (RFC 4648 section 4).
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard, padded base64 of a 20-byte digest: 27 characters of six bits each (the last
/// two bits zero), then one `=`. (What `base64`'s `STANDARD.encode_slice` writes, without
/// its generic length handling; `tests::digest_encoding_matches_the_base64_crate` checks
/// it.)
fn encode_digest(digest: [u8; 20]) -> [u8; ACCEPT_KEY_LEN] {
    // Seven groups of three bytes make four characters each, the last group with a zero
    // byte added; its last character is then the `=`.
    let mut bytes = [0u8; 21];
    if let Some((head, _)) = bytes.split_first_chunk_mut::<20>() {
        *head = digest;
    }
    let mut out = [0u8; ACCEPT_KEY_LEN];
    for (&[a, b, c], quad) in bytes.as_chunks::<3>().0.iter().zip(out.as_chunks_mut::<4>().0) {
        let n = u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c);
        for (j, char) in quad.iter_mut().enumerate() {
            *char = ALPHABET.get((n >> (18 - 6 * j) & 63) as usize).copied().unwrap_or(b'=');
        }
    }
    if let Some(last) = out.last_mut() {
        *last = b'=';
    }
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
/// let key = wscodec::handshake::encode_key(*b"the sample nonce");
/// assert_eq!(&key, b"dGhlIHNhbXBsZSBub25jZQ==");
/// ```
pub fn encode_key(nonce: [u8; 16]) -> [u8; KEY_LEN] {
    let mut out = [0u8; KEY_LEN];
    // 16 bytes encode to exactly 24 base64 characters, so this always fits.
    let written = STANDARD.encode_slice(nonce, &mut out);
    debug_assert_eq!(written, Ok(KEY_LEN));
    out
}

/// `key` as the array it is if it is the base64 encoding of exactly 16 bytes (canonical,
/// padded), else `None`.
///
/// That is 22 characters of the standard alphabet, the last of which carries only two
/// bits (`A`, `Q`, `g` or `w`: the low four bits of its sextet must be zero), then `==`:
/// exactly what `base64`'s `STANDARD.decode_slice` decodes to 16 bytes from 24 characters
/// (`tests::key_check_matches_the_base64_crate` checks it).
pub(super) fn valid_key(key: &[u8]) -> Option<&[u8; KEY_LEN]> {
    let whole: &[u8; KEY_LEN] = key.try_into().ok()?;
    let (data, b"==") = whole.split_first_chunk::<22>()? else { return None };
    let (last, rest) = data.split_last()?;
    // No early exit: a fixed 21 table look-ups, no branch per byte.
    let in_alphabet = |b: &u8| is(*b, BASE64);
    let valid = rest.iter().fold(true, |all, b| all & in_alphabet(b))
        && matches!(last, b'A' | b'Q' | b'g' | b'w');
    valid.then_some(whole)
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
            assert_eq!(valid_key(key).is_some(), ok, "{:?}", core::str::from_utf8(key));
        }
    }

    #[test]
    fn digest_encoding_matches_the_base64_crate() {
        for seed in 0..=255u8 {
            let digest: [u8; 20] = core::array::from_fn(|i| {
                seed.wrapping_mul(31).wrapping_add((i as u8).wrapping_mul(97))
            });
            let mut expect = [0u8; ACCEPT_KEY_LEN];
            assert_eq!(STANDARD.encode_slice(digest, &mut expect), Ok(ACCEPT_KEY_LEN));
            assert_eq!(encode_digest(digest), expect);
        }
    }

    proptest::proptest! {
        #[test]
        fn key_check_matches_the_base64_crate(
            key in proptest::collection::vec(proptest::sample::select(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ !\xff".to_vec()
            ), 20..28)
        ) {
            let mut nonce = [0u8; 18];
            let base64 = key.len() == KEY_LEN && matches!(STANDARD.decode_slice(&key, &mut nonce), Ok(16));
            proptest::prop_assert_eq!(valid_key(&key).is_some(), base64);
        }

        #[test]
        fn near_valid_keys_match_the_base64_crate(nonce in proptest::array::uniform16(0u8..), at in 0usize..24, byte in proptest::num::u8::ANY) {
            let mut key = encode_key(nonce);
            key[at] = byte;
            let mut out = [0u8; 18];
            let base64 = matches!(STANDARD.decode_slice(key, &mut out), Ok(16));
            proptest::prop_assert_eq!(valid_key(&key).is_some(), base64);
        }
    }

    #[test]
    fn encoded_keys_are_valid() {
        for seed in 0..=255u8 {
            assert!(valid_key(&encode_key([seed; 16])).is_some());
        }
    }
}
