//! Payload masking (RFC 6455 section 5.3), word at a time, in safe Rust.
//!
//! Masking is an XOR with the 4-byte key repeated; `offset` is how many payload bytes
//! were already processed, so a payload can be unmasked in pieces as it arrives.

/// XORs `buf` in place with `key`, starting at payload position `offset`.
///
/// Applying the same key and offset twice restores the input.
///
/// ```
/// use wscodec::mask::apply_mask;
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut data = *b"Hello";
/// apply_mask(&mut data, key, 0);
/// assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]); // RFC 6455 section 5.7
/// // Unmask in two pieces with a running offset.
/// let (a, b) = data.split_at_mut(3);
/// apply_mask(a, key, 0);
/// apply_mask(b, key, 3);
/// assert_eq!(&data, b"Hello");
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate_key(key, offset);
    let wide = u128::from_ne_bytes(repeat_key::<16>(key));
    let (chunks, tail) = buf.as_chunks_mut::<16>();
    for chunk in chunks {
        *chunk = (u128::from_ne_bytes(*chunk) ^ wide).to_ne_bytes();
    }
    for (byte, k) in tail.iter_mut().zip(key.iter().cycle()) {
        *byte ^= k;
    }
}

/// Copies `src` into `dst` (same length) while masking it, starting at payload position 0.
///
/// # Panics
/// If `dst.len() != src.len()` (a caller contract; never depends on peer input).
#[inline]
pub fn mask_into(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    assert_eq!(dst.len(), src.len(), "mask_into: dst and src lengths differ");
    let wide = u128::from_ne_bytes(repeat_key::<16>(key));
    let (dchunks, dtail) = dst.as_chunks_mut::<16>();
    let (schunks, stail) = src.as_chunks::<16>();
    for (d, s) in dchunks.iter_mut().zip(schunks) {
        *d = (u128::from_ne_bytes(*s) ^ wide).to_ne_bytes();
    }
    for ((d, s), k) in dtail.iter_mut().zip(stail).zip(key.iter().cycle()) {
        *d = s ^ k;
    }
}

/// The key as seen from payload position `offset`.
#[inline]
const fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    u32::from_be_bytes(key).rotate_left(((offset % 4) * 8) as u32).to_be_bytes()
}

#[inline]
const fn repeat_key<const N: usize>(key: [u8; 4]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = key[i % 4];
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(i + offset) % 4];
        }
    }

    #[test]
    fn matches_naive_at_every_length_offset_and_alignment() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for start in 0..16 {
            for len in [0, 1, 3, 4, 5, 15, 16, 17, 31, 33, 64, 127, 200] {
                for offset in 0..8 {
                    let mut fast = data[start..start + len].to_vec();
                    let mut slow = fast.clone();
                    apply_mask(&mut fast, key, offset);
                    naive(&mut slow, key, offset);
                    assert_eq!(fast, slow, "start {start} len {len} offset {offset}");
                }
            }
        }
    }

    #[test]
    fn mask_into_matches_apply_mask() {
        let key = [9, 8, 7, 6];
        for len in 0..70 {
            let src: Vec<u8> = (0..len as u8).collect();
            let mut dst = std::vec![0; len];
            mask_into(&mut dst, &src, key);
            let mut expect = src.clone();
            apply_mask(&mut expect, key, 0);
            assert_eq!(dst, expect);
        }
    }
}
