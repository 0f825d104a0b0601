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
