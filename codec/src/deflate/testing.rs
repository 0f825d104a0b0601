//! Test helpers: compressed messages made with miniz_oxide's compressor, and output
//! storage that grows.
extern crate std;

use std::vec::Vec;

use miniz_oxide::deflate::core::{
    compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
};

use crate::buffer::RxBuffer;

/// A raw DEFLATE compressor that keeps its context between messages unless reset.
pub(crate) struct Deflater(std::boxed::Box<CompressorOxide>);

impl Deflater {
    pub(crate) fn new(level: i32) -> Self {
        Self(std::boxed::Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
            level, -15, 0,
        ))))
    }

    /// One message as RFC 7692 section 7.2.1 sends it: compressed, sync flushed, without
    /// the final `00 00 ff ff`.
    pub(crate) fn message(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = self.flushed(data, TDEFLFlush::Sync);
        assert_eq!(out[out.len() - 4..], [0, 0, 0xff, 0xff]);
        out.truncate(out.len() - 4);
        out
    }

    /// `data` compressed and flushed with `flush`, as it comes out.
    pub(crate) fn flushed(&mut self, data: &[u8], flush: TDEFLFlush) -> Vec<u8> {
        let mut out = std::vec![0u8; data.len() + data.len() / 8 + 1024];
        let (status, used, n) = compress(&mut self.0, data, &mut out, flush);
        assert!(matches!(status, TDEFLStatus::Okay | TDEFLStatus::Done), "{status:?}");
        assert_eq!(used, data.len());
        out.truncate(n);
        out
    }

    pub(crate) fn reset(&mut self) {
        self.0.reset();
    }
}

/// Output storage that grows up to `max` and shrinks back to `idle` bytes.
#[derive(Debug, Default)]
pub(crate) struct Growing {
    pub(crate) bytes: Vec<u8>,
    pub(crate) max: usize,
    pub(crate) shrinks: usize,
}

impl Growing {
    pub(crate) fn new(max: usize) -> Self {
        Self { bytes: Vec::new(), max, shrinks: 0 }
    }
}

impl RxBuffer for Growing {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
    fn max_len(&self) -> usize {
        self.max
    }
    fn grow(&mut self, min_len: usize) -> bool {
        if min_len > self.max {
            return false;
        }
        self.bytes.resize(min_len.max(self.bytes.len()), 0);
        true
    }
    fn shrink(&mut self) {
        self.shrinks += 1;
        self.bytes = Vec::new();
    }
}

/// Text that compresses well but not trivially, exactly `len` bytes of UTF-8.
pub(crate) fn text(len: usize) -> Vec<u8> {
    let words = ["permessage", "deflate", "window", "κόσμε", "frame", "context", "{\"id\":", "42}"];
    let mut out = std::string::String::new();
    let mut i = 0usize;
    while out.len() < len {
        out.push_str(words[i.wrapping_mul(7) % words.len()]);
        out.push(' ');
        i = i.wrapping_mul(31).wrapping_add(7) % 1013;
    }
    let mut cut = len;
    while !out.is_char_boundary(cut) {
        cut -= 1;
    }
    out.truncate(cut);
    while out.len() < len {
        out.push('.');
    }
    out.into_bytes()
}

/// Bytes that do not compress.
pub(crate) fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Writes DEFLATE bits by hand, for streams no compressor makes: fields least significant
/// bit first, Huffman codes most significant bit first (RFC 1951 section 3.1.1).
#[derive(Default)]
pub(crate) struct Bits {
    out: Vec<u8>,
    bit: u32,
}

impl Bits {
    /// A stream whose first block (not final) uses the fixed Huffman codes.
    pub(crate) fn fixed() -> Self {
        let mut bits = Self::default();
        bits.field(0, 1).field(1, 2);
        bits
    }

    pub(crate) fn field(&mut self, value: u32, n: u32) -> &mut Self {
        for i in 0..n {
            if self.bit.is_multiple_of(8) {
                self.out.push(0);
            }
            if value >> i & 1 == 1 {
                *self.out.last_mut().unwrap() |= 1 << (self.bit % 8);
            }
            self.bit += 1;
        }
        self
    }

    pub(crate) fn code(&mut self, code: u32, n: u32) -> &mut Self {
        for i in (0..n).rev() {
            self.field(code >> i & 1, 1);
        }
        self
    }

    /// A fixed-Huffman literal (0..=143).
    pub(crate) fn literal(&mut self, byte: u8) -> &mut Self {
        assert!(byte < 144);
        self.code(0x30 + u32::from(byte), 8)
    }

    /// Fixed-Huffman literals.
    pub(crate) fn literals(&mut self, bytes: &[u8]) -> &mut Self {
        for &b in bytes {
            self.literal(b);
        }
        self
    }

    /// A fixed-Huffman match of length 3 (symbol 257) and distance `dist` (1..=4).
    pub(crate) fn match3(&mut self, dist: u32) -> &mut Self {
        self.matched(3, dist)
    }

    /// A fixed-Huffman match of length `len` (3..=10: symbols 257 to 264) and any
    /// distance (1..=32768: codes 0 to 29 and their extra bits).
    pub(crate) fn matched(&mut self, len: u32, dist: u32) -> &mut Self {
        assert!((3..=10).contains(&len) && (1..=32768).contains(&dist));
        self.code(len - 2, 7);
        let d = dist - 1;
        if d < 4 {
            return self.code(d, 5);
        }
        // Codes 2k and 2k + 1 (k >= 2) cover 2^(k - 1) distances each, with k - 1 extra bits.
        let top = 31 - d.leading_zeros();
        let extra = top - 1;
        let code = 2 * top + (d >> extra & 1);
        self.code(code, 5).field(d & ((1 << extra) - 1), extra)
    }

    /// The end of the block, then the start of the empty stored block of a sync flush
    /// (its `00 00 ff ff` is what the receiver appends).
    pub(crate) fn end_sync(&mut self) -> Vec<u8> {
        self.code(0, 7).field(0, 3);
        self.out.clone()
    }
}

/// The configuration of a connection receiving in streaming mode or not.
pub(crate) fn mode(streaming: bool) -> crate::Config {
    crate::Config { streaming, ..crate::Config::default() }
}
