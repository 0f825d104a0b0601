//! Payload masking (RFC 6455 section 5.3), word at a time, in safe Rust.
//!
//! Masking is an XOR with the 4-byte key repeated; `offset` is how many payload bytes
//! were already processed, so a payload can be unmasked in pieces as it arrives.
//!
//! The payload is walked as one flat run of 8-byte words (`u64`, the key repeated twice),
//! then at most one 4-byte word and 3 single bytes. A flat loop over consecutive words is
//! the shape every vectoriser handles: LLVM splats the key and XORs whole registers, as
//! wide as the target has (16 bytes with SSE2 or NEON, 32 with AVX2, 64 with AVX-512),
//! with plain loads and stores. Nothing is built per call and there is no `unsafe`.
//! From 1 KiB on, the bytes before the first 64-byte boundary go first, so that the vector
//! loop never splits a load or store across cache lines (with AVX-512 on AMD Zen 4 that
//! alone halves the time of a 64 KiB payload, which behind its frame header is never
//! aligned). With feature `simd` on an x86 CPU that has AVX2 (and a build that does not
//! target it), payloads from 256 bytes on take AVX2's 32-byte vectors, picked at run time;
//! shorter ones the build's own (SSE2 on the x86-64 baseline, from 32 bytes on), where the
//! pick would cost more than it saves. `apply_mask` has no inline hint: with one, each
//! crate that calls it (the codec, and the application that instantiates the generic
//! adapters) compiled a copy of its own, and a firmware image held two. Optimised for
//! speed, LTO still inlines it into the receive paths (its long paths are out of line).
//!
//! An earlier version walked 64-byte blocks of sixteen `u32` words in a nested loop. With
//! the default x86-64 target that became SSE2 XORs, but with AVX-512 available LLVM
//! vectorised the outer loop across blocks, 64 bytes apart, into gathers and scatters:
//! 4 to 8 times slower. `scripts/check-mask-asm` fails the build on any gather or scatter
//! in the codec's code, for each x86-64 level; the numbers are in `BENCHMARKS.md`.

/// The key repeated to fill a `u64`, in memory order (on either endianness: both halves
/// hold the same word).
#[inline(always)]
const fn wide_key(key: [u8; 4]) -> u64 {
    let word = u32::from_ne_bytes(key) as u64;
    word | word << 32
}

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
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate_key(key, offset);
    if BYTE_AT_A_TIME {
        xor_bytes(buf, key);
    } else if buf.len() < WIDE_FROM {
        xor_words(buf, key);
    } else {
        xor_aligned(buf, key);
    }
}

/// [`apply_mask`] at payload position 0 for text that is checked for UTF-8 right after:
/// with run-time dispatch (feature `simd`, x86 without AVX2 in the build), from
/// [`TEXT_WIDE_FROM`] bytes on already in AVX2's 32-byte stores, which simdutf8's 32-byte
/// loads then read back from the store buffer; after the baseline's 16-byte stores each
/// such load waits for two stores to reach the cache. Unmasking and checking a 128-byte
/// multi-byte text, copy included: 23.4 -> 16.4 ns, 64 bytes 16.9 -> 10.5 ns (a loop
/// over the three, median of 31 runs of 200,000, three alternating builds); 9 more
/// instructions (callgrind). Only for text: masking alone, the pick costs more than it
/// saves below [`WIDE_FROM`] (64 bytes 3.0 -> 5.0-6.2 ns).
#[inline(always)]
pub(crate) fn unmask_text(buf: &mut [u8], key: [u8; 4]) {
    if DISPATCH && (TEXT_WIDE_FROM..WIDE_FROM).contains(&buf.len()) {
        xor_wide(buf, key);
    } else {
        apply_mask(buf, key, 0);
    }
}

/// From this many bytes on, [`unmask_text`] takes AVX2 where [`apply_mask`] would not.
const TEXT_WIDE_FROM: usize = 64;

/// Cores without unaligned loads and stores (ARMv6-M: Cortex-M0 and M0+; RISC-V without
/// the Zicclsm extension): there the word loops below become byte loads and stores with
/// the bytes shifted into words and out again, and LLVM builds the doubled key with a
/// 64-bit multiply (a call on ARMv6-M). Four bytes at a time, each XORed with its key
/// byte, is smaller and faster: on thumbv6m 376 bytes less flash, unmasking 1 KiB 5,283
/// -> 3,557 instructions (`scripts/firmware-budget`, QEMU `-icount` on mps2-an385); on
/// riscv32imc 584 bytes less. Stable Rust has no `cfg` for unaligned access; among the
/// Arm targets, the lack of compare-and-swap singles ARMv6-M out. The head parser's word
/// loops ([`handshake`](crate::handshake)) go byte by byte there too.
pub(crate) const BYTE_AT_A_TIME: bool =
    cfg!(any(all(target_arch = "arm", not(target_has_atomic = "32")), target_arch = "riscv32"));

/// The masking loop of [`BYTE_AT_A_TIME`] cores: four bytes per step, each XORed with its
/// key byte, then at most 3 single bytes.
#[inline(always)]
fn xor_bytes(buf: &mut [u8], key: [u8; 4]) {
    let (quads, tail) = buf.as_chunks_mut::<4>();
    let [k0, k1, k2, k3] = key;
    for [a, b, c, d] in quads {
        *a ^= k0;
        *b ^= k1;
        *c ^= k2;
        *d ^= k3;
    }
    for (byte, k) in tail.iter_mut().zip(key) {
        *byte ^= k;
    }
}

/// From this many bytes on, [`apply_mask`] takes the widest vectors the CPU has (AVX2,
/// picked at run time with feature `simd`) instead of the build's own (SSE2 on the x86-64
/// baseline, from 32 bytes on). Below it the pick costs more than it saves (callgrind,
/// instructions per call, SSE2 against AVX2: 64 bytes 55 against 82, 125 bytes 79 against
/// 102, 256 bytes 109 against 94, 512 bytes 181 against 116). Builds without run-time
/// dispatch have nothing wider to pick: there it equals [`ALIGN_FROM`], so the branch is
/// not compiled.
const WIDE_FROM: usize = if DISPATCH { 256 } else { ALIGN_FROM };
/// Whether [`xor_wide`] picks wider vectors at run time than the build targets.
const DISPATCH: bool = cfg!(all(
    feature = "simd",
    any(target_arch = "x86", target_arch = "x86_64"),
    not(target_feature = "avx2")
));

/// From this many bytes on, [`apply_mask`] first brings the buffer to a 64-byte boundary
/// (one call, up to 63 bytes word by word), so that the vector loop never splits a load or
/// store across two cache lines. A payload behind a frame header is rarely aligned (it
/// starts 6, 8 or 14 bytes into the receive buffer). Below 1 KiB the extra pass costs
/// more than it saves.
const ALIGN_FROM: usize = 1024;
/// A cache line, and the widest vector register (AVX-512).
const ALIGN: usize = 64;

/// From [`WIDE_FROM`] bytes on: [`xor_wide`], from [`ALIGN_FROM`] on from the first 64-byte
/// boundary, the bytes before it first. Out of line: one copy of the long loops serves
/// every caller, and [`apply_mask`] stays small enough to be inlined into the receive path.
#[inline(never)]
fn xor_aligned(buf: &mut [u8], key: [u8; 4]) {
    // Without run-time dispatch `WIDE_FROM == ALIGN_FROM`: no second copy of the loop.
    if DISPATCH && buf.len() < ALIGN_FROM {
        xor_wide(buf, key);
        return;
    }
    let head = (buf.as_ptr().addr().wrapping_neg() % ALIGN).min(buf.len());
    let (head, body) = buf.split_at_mut(head);
    // Under 64 bytes: `apply_mask`'s own short path, not a second copy of the loop.
    apply_mask(head, key, 0);
    xor_wide(body, rotate_key(key, head.len()));
}

/// [`xor_words`] at the build's own vector width.
#[cfg(not(all(
    feature = "simd",
    any(target_arch = "x86", target_arch = "x86_64"),
    not(target_feature = "avx2")
)))]
#[inline(always)]
fn xor_wide(buf: &mut [u8], key: [u8; 4]) {
    xor_words(buf, key);
}

#[cfg(all(
    feature = "simd",
    any(target_arch = "x86", target_arch = "x86_64"),
    not(target_feature = "avx2")
))]
use wide::xor_wide;

/// The AVX2 copy of the long loop (feature `simd`, x86 and x86_64 builds whose target CPU
/// lacks AVX2), run when the CPU has AVX2.
#[cfg(all(
    feature = "simd",
    any(target_arch = "x86", target_arch = "x86_64"),
    not(target_feature = "avx2")
))]
mod wide {
    use super::{wide_key, xor_words};

    /// [`xor_blocks`] compiled for AVX2 as well, and run that way when the CPU has it.
    /// pulp checks the CPU (cached by `std`) and calls the AVX2 copy through its safe
    /// interface; 32-byte vectors mask a 64 KiB payload in about 0.7 µs instead of 1.1 µs
    /// with the baseline's 16-byte SSE2.
    #[inline(always)]
    pub(super) fn xor_wide(buf: &mut [u8], key: [u8; 4]) {
        /// The CPU's features, detected once (`Arch::new` checks a dozen on each call).
        static ARCH: std::sync::OnceLock<pulp::Arch> = std::sync::OnceLock::new();
        ARCH.get_or_init(pulp::Arch::new).dispatch(Blocks { buf, key });
    }

    /// [`xor_blocks`] as pulp calls it, inside the function compiled for the CPU's
    /// features. A struct rather than a closure: pulp inlines `with_simd` there, while a
    /// closure's `call_once` stayed a function of its own, compiled for the baseline, once
    /// its body was the block loop (13,209 instructions for 64 KiB instead of 5,007).
    struct Blocks<'a> {
        buf: &'a mut [u8],
        key: [u8; 4],
    }

    impl pulp::WithSimd for Blocks<'_> {
        type Output = ();

        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) {
            xor_blocks(self.buf, self.key);
        }
    }

    /// [`BLOCK`]-byte blocks, each eight AVX2 XORs and stores, then [`xor_words`] for the
    /// rest. LLVM unrolls [`xor_words`] four vectors deep; a block halves the loop's own
    /// instructions: 64 KiB in 5,007 instructions instead of 5,760 (callgrind). Only in
    /// this copy: a build for an AVX2 CPU keeps the one loop, [`xor_words`].
    #[inline(always)]
    fn xor_blocks(buf: &mut [u8], key: [u8; 4]) {
        let wide = wide_key(key);
        let (blocks, rest) = buf.as_chunks_mut::<BLOCK>();
        for block in blocks {
            for w in block.as_chunks_mut::<8>().0 {
                *w = (u64::from_ne_bytes(*w) ^ wide).to_ne_bytes();
            }
        }
        // A block is a whole number of key lengths: the key is where it was.
        xor_words(rest, key);
    }

    /// [`xor_blocks`]'s block: eight AVX2 registers.
    const BLOCK: usize = 256;
}

/// The masking loop: 8-byte words, then at most one 4-byte word and 3 single bytes.
#[inline(always)]
fn xor_words(buf: &mut [u8], key: [u8; 4]) {
    let wide = wide_key(key);
    let (words, tail) = buf.as_chunks_mut::<8>();
    for w in words {
        *w = (u64::from_ne_bytes(*w) ^ wide).to_ne_bytes();
    }
    xor_tail(tail, key);
}

/// Under 8 bytes: at most one 4-byte word, then at most 3 single bytes, written out.
/// (As a loop over the bytes, LLVM turns the last 3 into AVX-512 masked loads and stores,
/// whose key load from the stack cannot be forwarded: about 10 ns per call on AMD Zen 4.)
#[inline(always)]
fn xor_tail(tail: &mut [u8], key: [u8; 4]) {
    let (word, bytes) = tail.as_chunks_mut::<4>();
    if let [w, ..] = word {
        *w = (u32::from_ne_bytes(*w) ^ u32::from_ne_bytes(key)).to_ne_bytes();
    }
    let [k0, k1, k2, _] = key;
    match bytes {
        [a, b, c, ..] => {
            *a ^= k0;
            *b ^= k1;
            *c ^= k2;
        }
        [a, b] => {
            *a ^= k0;
            *b ^= k1;
        }
        [a] => *a ^= k0,
        [] => {}
    }
}

/// Copies `src` into `dst` (same length) while masking it, starting at payload position 0.
///
/// # Panics
/// If `dst.len() != src.len()` (a caller contract; never depends on peer input).
#[inline]
pub fn mask_into(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    assert_eq!(dst.len(), src.len(), "mask_into: dst and src lengths differ");
    if BYTE_AT_A_TIME {
        dst.copy_from_slice(src);
        apply_mask(dst, key, 0);
        return;
    }
    let wide = wide_key(key);
    let (dwords, dtail) = dst.as_chunks_mut::<8>();
    let (swords, stail) = src.as_chunks::<8>();
    for (d, s) in dwords.iter_mut().zip(swords) {
        *d = (u64::from_ne_bytes(*s) ^ wide).to_ne_bytes();
    }
    // The tail as in `xor_tail`, written out for the same reason.
    let (dword, dbytes) = dtail.as_chunks_mut::<4>();
    let (sword, sbytes) = stail.as_chunks::<4>();
    if let ([d, ..], [s, ..]) = (dword, sword) {
        *d = (u32::from_ne_bytes(*s) ^ u32::from_ne_bytes(key)).to_ne_bytes();
    }
    let [k0, k1, k2, _] = key;
    match (dbytes, sbytes) {
        ([d0, d1, d2, ..], [s0, s1, s2, ..]) => {
            *d0 = s0 ^ k0;
            *d1 = s1 ^ k1;
            *d2 = s2 ^ k2;
        }
        ([d0, d1, ..], [s0, s1, ..]) => {
            *d0 = s0 ^ k0;
            *d1 = s1 ^ k1;
        }
        ([d0, ..], [s0, ..]) => *d0 = s0 ^ k0,
        _ => {}
    }
}

/// The key as seen from payload position `offset`.
#[inline]
const fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    // In little-endian order the bytes move down by a right rotation: no byte swaps on a
    // little-endian core (riscv32 has no instruction for them: 82 bytes less there).
    u32::from_le_bytes(key).rotate_right(((offset % 4) * 8) as u32).to_le_bytes()
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
        let data: Vec<u8> = (0..1100u32).map(|i| (i * 7 + 3) as u8).collect();
        let lengths = [0, 1, 3, 4, 5, 15, 16, 17, 31, 33, 63, 64, 65, 67, 127, 128, 130, 200];
        // Around `WIDE_FROM` (AVX2 picked at run time with feature `simd`) and below 1 KiB.
        let wide = [255, 256, 257, 259, 300, 511, 512, 1000, 1023];
        for start in 0..16 {
            for len in lengths.into_iter().chain(wide) {
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
    fn unmask_text_matches_naive_at_every_length_and_alignment() {
        // Around `TEXT_WIDE_FROM` and `WIDE_FROM`, where text takes AVX2 before the rest.
        let key = [0x5a, 0x01, 0xc3, 0x7e];
        let data: Vec<u8> = (0..400u32).map(|i| (i * 29 + 7) as u8).collect();
        for start in 0..8 {
            for len in 0..300 {
                let mut fast = data[start..start + len].to_vec();
                let mut slow = fast.clone();
                unmask_text(&mut fast, key);
                naive(&mut slow, key, 0);
                assert_eq!(fast, slow, "start {start} len {len}");
            }
        }
    }

    #[test]
    fn byte_loop_matches_naive_at_every_length_and_offset() {
        // The loop `apply_mask` runs on cores without unaligned access, tested on every
        // target.
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..70 {
            for offset in 0..4 {
                let data: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(31)).collect();
                let (mut ours, mut expect) = (data.clone(), data);
                xor_bytes(&mut ours, rotate_key(key, offset));
                naive(&mut expect, key, offset);
                assert_eq!(ours, expect, "len {len} offset {offset}");
            }
        }
    }

    #[test]
    fn long_buffers_match_naive_at_every_alignment_and_offset() {
        // From `ALIGN_FROM` bytes on, the bytes before the first 64-byte boundary take
        // their own pass: every distance to that boundary, around the threshold and well
        // above it.
        let key = [0xa1, 0x5e, 0x07, 0xf3];
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 11 + 1) as u8).collect();
        for start in 0..ALIGN + 1 {
            for len in [ALIGN_FROM - 1, ALIGN_FROM, ALIGN_FROM + 1, ALIGN_FROM + 67, 4097] {
                for offset in 0..5 {
                    let mut fast = data[start..start + len].to_vec();
                    // `to_vec` may align differently from `data`: mask a slice of `data` too.
                    let mut slice = data.clone();
                    let mut slow = fast.clone();
                    apply_mask(&mut fast, key, offset);
                    apply_mask(&mut slice[start..start + len], key, offset);
                    naive(&mut slow, key, offset);
                    assert_eq!(fast, slow, "start {start} len {len} offset {offset}");
                    assert_eq!(slice[start..start + len], slow[..], "in place, start {start}");
                    assert_eq!(slice[..start], data[..start], "before, start {start}");
                    assert_eq!(slice[start + len..], data[start + len..], "after, start {start}");
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
