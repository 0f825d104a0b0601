//! Payload masking (RFC 6455 section 5.3), word at a time, in safe Rust.
//!
//! Masking is an XOR with the 4-byte key repeated; `offset` is how many payload bytes
//! were already processed, so a payload can be unmasked in pieces as it arrives.
//!
//! The payload is processed in 64-byte blocks of sixteen `u32` words (a fixed trip count
//! that LLVM compiles to SIMD XORs with the key splatted: four SSE2 registers per block on
//! x86-64), then 4 bytes at a time, then byte by byte; nothing is built per call. An earlier `u128` version was lowered
//! to pairs of 64-bit scalar XORs and a byte loop over `key.iter().cycle()`, and was slower
//! than fastwebsockets' `u32` loop at every size; the numbers are in `BENCHMARKS.md`.

/// Bytes per block of the main loop.
const BLOCK: usize = 64;

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
#[inline(always)]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate_key(key, offset);
    let word = u32::from_ne_bytes(key);
    let (blocks, tail) = buf.as_chunks_mut::<BLOCK>();
    for block in blocks {
        // A fixed count of words: LLVM splats the key into a vector register and XORs.
        for w in block.as_chunks_mut::<4>().0 {
            *w = (u32::from_ne_bytes(*w) ^ word).to_ne_bytes();
        }
    }
    // Under a block: 4 bytes at a time, then at most 3 single bytes.
    let (words, bytes) = tail.as_chunks_mut::<4>();
    for w in words {
        *w = (u32::from_ne_bytes(*w) ^ word).to_ne_bytes();
    }
    for (byte, k) in bytes.iter_mut().zip(&key) {
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
    let word = u32::from_ne_bytes(key);
    let (dblocks, dtail) = dst.as_chunks_mut::<BLOCK>();
    let (sblocks, stail) = src.as_chunks::<BLOCK>();
    for (d, s) in dblocks.iter_mut().zip(sblocks) {
        for (d, s) in d.as_chunks_mut::<4>().0.iter_mut().zip(s.as_chunks::<4>().0) {
            *d = (u32::from_ne_bytes(*s) ^ word).to_ne_bytes();
        }
    }
    let (dwords, dbytes) = dtail.as_chunks_mut::<4>();
    let (swords, sbytes) = stail.as_chunks::<4>();
    for (d, s) in dwords.iter_mut().zip(swords) {
        *d = (u32::from_ne_bytes(*s) ^ word).to_ne_bytes();
    }
    for ((d, s), k) in dbytes.iter_mut().zip(sbytes).zip(&key) {
        *d = s ^ k;
    }
}

/// The key as seen from payload position `offset`.
#[inline]
const fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    u32::from_be_bytes(key).rotate_left(((offset % 4) * 8) as u32).to_be_bytes()
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
            for len in [0, 1, 3, 4, 5, 15, 16, 17, 31, 33, 63, 64, 65, 67, 127, 128, 130, 200, 259]
            {
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
    fn mask_into_matches_naive_at_every_length_and_alignment() {
        let key = [9, 8, 7, 6];
        let data: Vec<u8> = (0..300u32).map(|i| (i * 13 + 5) as u8).collect();
        for src_start in 0..8 {
            for dst_start in 0..8 {
                for len in 0..200 {
                    let src = &data[src_start..src_start + len];
                    let mut dst = std::vec![0; len + dst_start];
                    mask_into(&mut dst[dst_start..], src, key);
                    let mut expect = src.to_vec();
                    naive(&mut expect, key, 0);
                    assert_eq!(
                        dst[dst_start..],
                        expect[..],
                        "src {src_start} dst {dst_start} len {len}"
                    );
                }
            }
        }
    }
}
