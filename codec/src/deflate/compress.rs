//! The send side of permessage-deflate: a compressor (feature `deflate-compress`, which
//! needs `alloc`).
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use alloc::boxed::Box;
use core::fmt;

use miniz_oxide::deflate::core::{
    compress, create_comp_flags_from_zip_params, CompressionStrategy, CompressorOxide, TDEFLFlush,
    TDEFLStatus,
};

use super::negotiate::{Direction, MAX_WINDOW_BITS};

/// What a compressor state is built for: the compression level and whether it keeps to
/// run-length matches (a window under 32 KiB). Opaque; states are only reused for the
/// same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateKey(u32);

impl StateKey {
    /// Builds a state for this key. It takes about 96 KiB of the calling thread's stack
    /// (miniz_oxide assembles its 64 KiB LZ buffer there before boxing it), which stay
    /// resident for as long as the thread lives: build states on a thread of their own.
    pub fn build(self) -> CompressorState {
        CompressorState { core: Box::new(CompressorOxide::new(self.0)), key: self }
    }
}

/// A compressor's working state: about 312 KiB on the heap, built for one [`StateKey`].
pub struct CompressorState {
    core: Box<CompressorOxide>,
    key: StateKey,
}

impl CompressorState {
    /// What the state was built for.
    pub const fn key(&self) -> StateKey {
        self.key
    }
}

impl fmt::Debug for CompressorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompressorState").field("key", &self.key).finish_non_exhaustive()
    }
}

/// Where a compressor gets a state when it starts a message, and where a state goes when
/// its compressor no longer needs it (each message compressed on its own). A host with
/// many connections shares a few states among them this way, and builds new ones on a
/// thread of its own (see [`StateKey::build`]) instead of on every connection's stack.
#[derive(Debug, Clone, Copy)]
pub struct StatePool {
    /// A state for this key, or `None` to build one on the calling thread.
    pub take: fn(StateKey) -> Option<CompressorState>,
    /// A state no longer needed: keep it for later, or drop it.
    pub give: fn(CompressorState),
}

/// Compresses outgoing messages (RFC 7692 section 7.2.1) with miniz_oxide's compressor.
///
/// The compressor's state lives on the heap while it is needed: about 312 KiB, allocated
/// at the first compressed message. When this end does not carry its context from one
/// message to the next (`*_no_context_takeover` for its side), the state is dropped after
/// each message, so an idle connection holds none.
///
/// miniz_oxide searches a 32 KiB window and cannot be told a smaller one. When the peer
/// asked for a smaller window (`server_max_window_bits` / `client_max_window_bits` below
/// 15), messages are compressed with run-length matches only (distance 1, which every
/// window allows) and Huffman coding: less compression, but every message still goes
/// compressed and no match reaches further back than the peer keeps.
pub struct Compressor {
    core: Option<CompressorState>,
    pool: Option<StatePool>,
    level: u8,
    outgoing: Direction,
    /// The last bytes written, held back until the message is known to go on: the
    /// `00 00 ff ff` that ends a flushed message is not sent (section 7.2.1).
    held: [u8; 4],
    held_len: usize,
    /// The last call filled its output: miniz_oxide holds more of it, and the next call
    /// only hands that out (it takes no input and does not flush).
    draining: bool,
}

impl fmt::Debug for Compressor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compressor")
            .field("level", &self.level)
            .field("outgoing", &self.outgoing)
            .field("allocated", &self.core.is_some())
            .field("pooled", &self.pool.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for Compressor {
    fn drop(&mut self) {
        self.release();
    }
}

/// What one call to [`Compressor::compress`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compressed {
    /// Input bytes taken.
    pub consumed: usize,
    /// Bytes written at the start of the output.
    pub written: usize,
    /// The message is complete: these are its last compressed bytes.
    pub done: bool,
}

impl Compressor {
    /// A compressor at `level` (1, fastest, to 9, smallest; 0 stores), for a connection
    /// whose outgoing messages may use a 32 KiB window with context takeover until
    /// [`start`](Self::start) says otherwise.
    pub const fn new(level: u8) -> Self {
        let outgoing = Direction { max_window_bits: MAX_WINDOW_BITS, no_context_takeover: false };
        Self { core: None, pool: None, level, outgoing, held: [0; 4], held_len: 0, draining: false }
    }

    /// Takes its states from `pool` and gives them back to it, rather than building and
    /// dropping its own.
    pub const fn with_pool(mut self, pool: StatePool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Gives the state back to the pool (or drops it).
    fn release(&mut self) {
        if let (Some(state), Some(pool)) = (self.core.take(), self.pool) {
            (pool.give)(state);
        }
    }

    /// Prepares for a connection whose outgoing messages are compressed as `outgoing` says
    /// ([`PerMessageDeflate::send`](super::PerMessageDeflate::send)).
    pub fn start(&mut self, outgoing: Direction) {
        self.outgoing = outgoing;
        self.release();
        self.held_len = 0;
        self.draining = false;
    }

    /// Starts the next message from a fresh state (after one was cut short).
    pub fn reset(&mut self) {
        self.start(self.outgoing);
    }

    /// Whether the context is carried from one message to the next.
    const fn keeps_context(&self) -> bool {
        !self.outgoing.no_context_takeover
    }

    /// miniz_oxide's flags: LZ77 over the whole 32 KiB window when the peer allows it,
    /// run-length matches only when it asked for a smaller window.
    fn key(&self) -> StateKey {
        let strategy = if self.outgoing.max_window_bits >= MAX_WINDOW_BITS {
            CompressionStrategy::Default
        } else {
            CompressionStrategy::RLE
        };
        StateKey(create_comp_flags_from_zip_params(
            i32::from(self.level),
            -i32::from(MAX_WINDOW_BITS),
            strategy as i32,
        ))
    }

    /// Compresses the rest of a message, `input` (all of what remains of it), into `out`.
    /// Call again with the input not yet consumed and a fresh `out` until
    /// [`done`](Compressed::done). `out` must hold at least 16 bytes.
    pub fn compress(&mut self, input: &[u8], out: &mut [u8]) -> Compressed {
        let key = self.key();
        if self.core.as_ref().is_some_and(|state| state.key != key) {
            self.release();
        }
        let pool = self.pool;
        let state = self.core.get_or_insert_with(|| {
            let mut state = pool.and_then(|pool| (pool.take)(key)).unwrap_or_else(|| key.build());
            state.core.reset();
            state
        });
        let core = &mut state.core;
        // What was held back goes first: more follows it.
        let held = self.held_len;
        let Some((front, rest)) = out.split_at_mut_checked(held) else {
            return Compressed { consumed: 0, written: 0, done: false };
        };
        front.copy_from_slice(self.held.get(..held).unwrap_or_default());
        let (status, consumed, n) = compress(core, input, rest, TDEFLFlush::Sync);
        let total = held + n;
        // All input taken and flushed, and room to spare: the whole message is out. A call
        // that only handed out what an earlier one left proves nothing.
        let done = !self.draining
            && consumed == input.len()
            && n < rest.len()
            && matches!(status, TDEFLStatus::Okay | TDEFLStatus::Done);
        self.draining = n == rest.len();
        let keep = if done { 4 } else { 4.min(total) };
        let written = total - keep;
        if !done {
            self.held_len = keep;
            if let Some(tail) = out.get(written..total) {
                self.held.get_mut(..keep).unwrap_or_default().copy_from_slice(tail);
            }
        } else {
            self.held_len = 0;
            if !self.keeps_context() {
                // Each message on its own: give the memory back until the next one.
                if self.pool.is_some() {
                    self.release();
                } else {
                    self.core = None;
                }
            }
        }
        Compressed { consumed, written, done }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;
    use crate::deflate::testing::mode;
    use crate::deflate::testing::{noise, text, Growing};
    use crate::deflate::{InflateState, Inflater};

    /// The message as it goes on the wire, written through `out` chunks of `chunk` bytes.
    fn wire(c: &mut Compressor, data: &[u8], chunk: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = data;
        let mut buf = std::vec![0u8; chunk];
        loop {
            let step = c.compress(rest, &mut buf);
            out.extend_from_slice(&buf[..step.written]);
            rest = &rest[step.consumed..];
            if step.done {
                assert!(rest.is_empty());
                return out;
            }
        }
    }

    #[test]
    fn what_it_sends_inflates_back() {
        for (bits, reset) in [(15, false), (15, true), (10, false)] {
            let outgoing = Direction { max_window_bits: bits, no_context_takeover: reset };
            let mut c = Compressor::new(1);
            c.start(outgoing);
            let mut state = InflateState::new();
            let mut window = std::vec![0u8; 1 << 15];
            let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 20));
            inflater.start(outgoing, &mode(false)).unwrap();
            for (i, len) in [0usize, 1, 100, 1000, 1024, 5000, 100_000].into_iter().enumerate() {
                let data = if i % 2 == 0 { text(len) } else { noise(len, 9) };
                for chunk in [16, 1000, 1 << 20] {
                    let message = wire(&mut c, &data, chunk);
                    inflater.release();
                    let step = inflater.inflate(&message, true, u64::MAX, false).unwrap();
                    assert!(step.done && step.consumed == message.len());
                    assert!(
                        inflater.output()[..step.len] == data[..],
                        "{bits} {reset} {len} {chunk}"
                    );
                }
                assert_eq!(c.core.is_some(), !reset, "kept only with context");
            }
        }
    }

    #[test]
    fn every_output_chunk_size_ends_the_message_with_its_flush() {
        // An output that fills exactly as the last input is taken leaves the flush for
        // the next call: the message is not done until it went out.
        let outgoing = Direction { max_window_bits: 15, no_context_takeover: true };
        // Every third byte random, the rest zeros: many short matches, so miniz_oxide's
        // output buffer fills before the input is all matched (found by Autobahn 12.2.9).
        let sparse: Vec<u8> = noise(65_536, 4)
            .iter()
            .enumerate()
            .map(|(i, b)| if i % 3 == 0 { *b } else { 0 })
            .collect();
        let samples = [sparse, noise(200_000, 6), [text(70_000), noise(70_000, 7)].concat()];
        for (data, chunk) in samples.iter().flat_map(|d| [(d, 16_370), (d, 4_083), (d, 1_000)]) {
            let mut c = Compressor::new(1);
            c.start(outgoing);
            let message = wire(&mut c, data, chunk);
            let mut state = InflateState::new();
            let mut inflater = Inflater::new(&mut state, &mut [], Growing::new(1 << 20));
            inflater.start(outgoing, &mode(false)).unwrap();
            let step = inflater.inflate(&message, true, u64::MAX, false);
            assert!(step.is_ok_and(|s| s.done && s.len == data.len()), "chunk {chunk}: {step:?}");
            assert!(inflater.output()[..data.len()] == data[..], "chunk {chunk}");
            inflater.release();
        }
    }

    #[test]
    fn a_small_window_gets_run_lengths_only() {
        // Matches further back than the window would fail an inflater keeping 256 bytes.
        let data = [text(3000), text(3000), std::vec![7u8; 5000]].concat();
        let outgoing = Direction { max_window_bits: 8, no_context_takeover: false };
        let mut c = Compressor::new(9);
        c.start(outgoing);
        let mut state = InflateState::new();
        let mut window = [0u8; 256];
        let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 20));
        inflater.start(outgoing, &mode(true)).unwrap();
        for _ in 0..3 {
            let message = wire(&mut c, &data, 4096);
            assert!(message.len() < data.len() * 3 / 4, "{} bytes", message.len());
            let mut got = Vec::new();
            let mut rest = &message[..];
            loop {
                let step = inflater.inflate(rest, true, u64::MAX, true).unwrap();
                got.extend_from_slice(&inflater.window()[step.at..step.at + step.len]);
                rest = &rest[step.consumed..];
                if step.done {
                    break;
                }
            }
            assert!(got == data);
        }
    }

    #[test]
    fn context_takeover_makes_a_repeat_small() {
        let mut c = Compressor::new(1);
        let data = noise(2000, 3);
        let first = wire(&mut c, &data, 4096);
        let second = wire(&mut c, &data, 4096);
        assert!(second.len() * 4 < first.len(), "{} then {}", first.len(), second.len());
        c.start(Direction { max_window_bits: 15, no_context_takeover: true });
        let first = wire(&mut c, &data, 4096);
        let second = wire(&mut c, &data, 4096);
        assert_eq!(first, second);
    }

    #[test]
    fn an_empty_message_is_one_byte() {
        // RFC 7692 section 7.2.3.6.
        let mut c = Compressor::new(6);
        assert_eq!(wire(&mut c, b"", 64), [0x00]);
    }

    #[test]
    fn a_pooled_compressor_takes_its_state_and_gives_it_back() {
        use std::sync::Mutex;
        static POOL: Mutex<Vec<CompressorState>> = Mutex::new(Vec::new());
        fn take(key: StateKey) -> Option<CompressorState> {
            let mut pool = POOL.lock().unwrap();
            let at = pool.iter().position(|s| s.key() == key)?;
            Some(pool.swap_remove(at))
        }
        fn give(state: CompressorState) {
            POOL.lock().unwrap().push(state);
        }
        let outgoing = Direction { max_window_bits: 15, no_context_takeover: true };
        let mut c = Compressor::new(1).with_pool(StatePool { take, give });
        c.start(outgoing);
        let data = text(5000);
        let first = wire(&mut c, &data, 4096);
        assert_eq!(POOL.lock().unwrap().len(), 1, "given back after the message");
        let second = wire(&mut c, &data, 4096);
        assert_eq!(first, second, "a state from the pool starts afresh");
        assert_eq!(POOL.lock().unwrap().len(), 1, "the same state, taken and given back");
        // Another key (run lengths only, for a small window) is not served that state.
        c.start(Direction { max_window_bits: 10, no_context_takeover: true });
        wire(&mut c, &data, 4096);
        assert_eq!(POOL.lock().unwrap().len(), 2);
        drop(c);
        assert_eq!(POOL.lock().unwrap().len(), 2);
    }
}
