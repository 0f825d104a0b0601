//! SHA-1 (FIPS 180-4), written for size: the one hash RFC 6455 needs, for the accept key.
//!
//! The 80 rounds are one loop over a 16-word circular message schedule, so the whole hash
//! is a few hundred bytes of code at opt-level "z" (an unrolled implementation is about
//! 3 KB, and RustCrypto's `sha1` carries an x86 SHA-NI path besides). At opt-level 3 the
//! compiler unrolls the loop itself. The feature `hw-sha1` swaps in RustCrypto's `sha1`,
//! which uses the CPU's SHA instructions where it has them (`BENCHMARKS.md` has both).
//!
//! SHA-1 is broken for collision resistance, which the handshake does not need: the
//! accept key only shows that the server read the client's key (RFC 6455 section 10.2
//! and 4.2.2).
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

/// The digest length in bytes.
pub(crate) const DIGEST_LEN: usize = 20;

/// A SHA-1 computation in progress, over a message of any length (the accept key of a key
/// that is not 24 bytes long, which only [`accept_key`](super::accept_key) is asked for).
#[derive(Debug, Clone)]
pub(crate) struct Sha1 {
    state: [u32; 5],
    block: [u8; 64],
    /// Bytes hashed so far.
    len: u64,
}

/// The initial hash value (FIPS 180-4 section 5.3.1).
const H0: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];

/// The digest of a 24-byte `Sec-WebSocket-Key` followed by `guid`, the accept key's
/// hash: 60 bytes make two blocks, the first the message and the padding's `0x80`, the
/// second zeros and the length. Neither a streaming state nor a 64-bit length: in the
/// minimal firmware server about 200 bytes less than [`Sha1`], and no copy per part.
pub(crate) fn key_digest(key: &[u8; 24], guid: &[u8; 36]) -> [u8; DIGEST_LEN] {
    // The first block's words straight from the key and the GUID (6 and 9 words), then the
    // padding's 0x80; the schedule array is zeroed once for both blocks.
    let mut w = [0u32; 80];
    let (key_words, guid_words) = w.split_at_mut(6);
    for (word, bytes) in key_words.iter_mut().zip(key.as_chunks::<4>().0) {
        *word = u32::from_be_bytes(*bytes);
    }
    for (word, bytes) in guid_words.iter_mut().zip(guid.as_chunks::<4>().0) {
        *word = u32::from_be_bytes(*bytes);
    }
    if let Some(padding) = w.get_mut(15) {
        *padding = 0x8000_0000;
    }
    let mut state = H0;
    compress(&mut state, &mut w);
    // The second: zeros and the length, 480 bits.
    if let Some(first) = w.first_chunk_mut::<16>() {
        *first = [0; 16];
        first[15] = 60 * 8;
    }
    compress(&mut state, &mut w);
    digest(&state)
}

/// The state as the digest's bytes.
fn digest(state: &[u32; 5]) -> [u8; DIGEST_LEN] {
    let mut digest = [0u8; DIGEST_LEN];
    for (out, word) in digest.as_chunks_mut::<4>().0.iter_mut().zip(state) {
        *out = word.to_be_bytes();
    }
    digest
}

impl Sha1 {
    /// A hash of nothing yet.
    pub(crate) const fn new() -> Self {
        Self { state: H0, block: [0; 64], len: 0 }
    }

    /// Hashes `data` after what was hashed before.
    pub(crate) fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let at = (self.len % 64) as usize;
            let take = (64 - at).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(dst) = self.block.get_mut(at..at + take) {
                dst.copy_from_slice(head);
            }
            self.len = self.len.wrapping_add(take as u64);
            if at + take == 64 {
                compress_block(&mut self.state, &self.block);
            }
            data = rest;
        }
    }

    /// Pads the message (FIPS 180-4 section 5.1.1) and returns the digest.
    pub(crate) fn finalize(mut self) -> [u8; DIGEST_LEN] {
        // 0x80, zeros up to 8 bytes before the end of a block, then the length in bits.
        let zeros = (64 + 55 - (self.len % 64) as usize) % 64;
        let mut padding = [0u8; 72];
        if let Some(first) = padding.first_mut() {
            *first = 0x80;
        }
        if let Some(length) = padding.get_mut(zeros + 1..zeros + 9) {
            length.copy_from_slice(&self.len.wrapping_mul(8).to_be_bytes());
        }
        self.update(padding.get(..zeros + 9).unwrap_or_default());
        digest(&self.state)
    }
}

/// One 64-byte block into the state.
fn compress_block(state: &mut [u32; 5], block: &[u8; 64]) {
    let mut w = [0u32; 80];
    for (word, bytes) in w.iter_mut().zip(block.as_chunks::<4>().0) {
        *word = u32::from_be_bytes(*bytes);
    }
    compress(state, &mut w);
}

/// One block, its 16 words at the start of `w`, into the state (FIPS 180-4 section 6.1.2).
///
/// The message schedule first, all 80 words in `w` (320 bytes of stack), then four passes
/// of 20 rounds, one per round function and constant: each round reads its word in order,
/// with no index arithmetic; at opt-level "z" each step is one small loop, at opt-level 3
/// the compiler unrolls each pass into straight code with the variables renamed.
fn compress(state: &mut [u32; 5], w: &mut [u32; 80]) {
    for t in 16..80 {
        let x = at(w, t - 3) ^ at(w, t - 8) ^ at(w, t - 14) ^ at(w, t - 16);
        if let Some(slot) = w.get_mut(t) {
            *slot = x.rotate_left(1);
        }
    }
    let mut v = *state;
    for ((pass, &k), words) in K.iter().enumerate().zip(w.as_chunks::<20>().0) {
        rounds(&mut v, words, pass, k);
    }
    for (h, x) in state.iter_mut().zip(v) {
        *h = h.wrapping_add(x);
    }
}

/// Rounds `20 * pass` to `20 * pass + 19` on their schedule words `w`, with the round
/// constant `k`.
#[inline]
fn rounds(v: &mut [u32; 5], w: &[u32; 20], pass: usize, k: u32) {
    let [mut a, mut b, mut c, mut d, mut e] = *v;
    for &word in w {
        // Rounds 20 to 39 and 60 to 79 share their function.
        let f = match pass {
            0 => (b & c) | (!b & d),
            2 => (b & c) | (b & d) | (c & d),
            _ => b ^ c ^ d,
        };
        let temp = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = temp.wrapping_add(word);
    }
    *v = [a, b, c, d, e];
}

/// The round constants, one for each 20 rounds.
const K: [u32; 4] = [0x5A82_7999, 0x6ED9_EBA1, 0x8F1B_BCDC, 0xCA62_C1D6];

/// `w[i]` (`i < 80` where it is called, so the check is compiled away).
#[inline(always)]
fn at(w: &[u32; 80], i: usize) -> u32 {
    w.get(i).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::vec::Vec;

    fn sha1(data: &[u8]) -> [u8; DIGEST_LEN] {
        let mut h = Sha1::new();
        h.update(data);
        h.finalize()
    }

    fn hex(digest: [u8; DIGEST_LEN]) -> std::string::String {
        digest.iter().map(|b| std::format!("{b:02x}")).collect()
    }

    #[test]
    fn fips_180_and_rfc_3174_vectors() {
        for (input, expect) in [
            (&b""[..], "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            (b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
            ),
            (
                b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "a49b2446a02c645bf419f995b67091253a04a259",
            ),
        ] {
            assert_eq!(hex(sha1(input)), expect, "{:?}", core::str::from_utf8(input));
        }
        let million = std::vec![b'a'; 1_000_000];
        assert_eq!(hex(sha1(&million)), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    }

    #[test]
    fn the_key_digest_is_the_digest_of_key_and_guid() {
        let guid: &[u8; 36] = super::super::GUID.as_bytes().try_into().unwrap();
        for seed in 0..=255u8 {
            let key: [u8; 24] =
                core::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8));
            let expect = sha1_smol::Sha1::from([&key[..], guid].concat()).digest().bytes();
            assert_eq!(key_digest(&key, guid), expect, "seed {seed}");
        }
    }

    #[test]
    fn every_length_and_split_matches_sha1_smol() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
        for len in 0..data.len() {
            let expect = sha1_smol::Sha1::from(&data[..len]).digest().bytes();
            assert_eq!(sha1(&data[..len]), expect, "len {len}");
            for split in [0, 1, 55, 56, 63, 64, 65] {
                let split = split.min(len);
                let mut h = Sha1::new();
                h.update(&data[..split]);
                h.update(&data[split..len]);
                assert_eq!(h.finalize(), expect, "len {len} split {split}");
            }
        }
    }
}
