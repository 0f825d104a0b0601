//! The receive side of permessage-deflate: an inflater over memory the caller lends.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use core::fmt;

use miniz_oxide::inflate::core::inflate_flags::{
    TINFL_FLAG_HAS_MORE_INPUT, TINFL_FLAG_STOP_ON_BLOCK_BOUNDARY,
    TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
};
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use super::negotiate::{window_bits, Direction, Setup, MIN_WINDOW_BITS};
use crate::buffer::RxBuffer;
use crate::conn::InflateError;
use crate::handshake::ExtensionError;

/// What RFC 7692 section 7.2.2 appends to every message before inflating it: the end of
/// the empty stored block the sender's flush wrote and then removed.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The inflater's own state (miniz_oxide's `DecompressorOxide`: its Huffman tables and bit
/// buffer), lent to an [`Inflater`]. [`SIZE`](Self::SIZE) bytes: 10 504 on 64-bit
/// targets, a few bytes less on 32-bit ones. Put it in a `static` on a device (it has no
/// `const` constructor: initialise it at start, e.g. with `StaticCell::init_with`) or in a
/// `Box` on a host.
pub struct InflateState {
    core: DecompressorOxide,
}

impl InflateState {
    /// `size_of::<InflateState>()`.
    pub const SIZE: usize = core::mem::size_of::<Self>();

    /// A fresh state.
    pub fn new() -> Self {
        Self { core: DecompressorOxide::new() }
    }
}

impl Default for InflateState {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for InflateState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InflateState").finish_non_exhaustive()
    }
}

/// How messages are inflated, chosen from the agreed parameters by [`Inflater::start`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing agreed yet.
    Off,
    /// Reassembly mode, no context between messages: straight into the output storage,
    /// which is also the history.
    Direct,
    /// Through the window ring, which keeps the history; in reassembly mode each piece is
    /// then copied to the output storage, in streaming mode it is handed out where it is.
    Ring,
}

/// Inflates the compressed messages of one connection, in memory the caller lends.
///
/// - `state`: an [`InflateState`] ([`InflateState::SIZE`] bytes).
/// - `window`: the LZ77 window that keeps the history the peer's messages refer to. Its
///   largest power-of-two prefix is used (so lend a power of two): 2^N bytes take a peer
///   window of N bits. Needed in streaming mode (the pieces handed out are slices of it)
///   and when the peer keeps its context between messages; not needed (lend `&mut []`)
///   in reassembly mode when each message inflates on its own (`*_no_context_takeover`),
///   which a server can always demand. See [`Setup`] and
///   [`accept_offers`](super::accept_offers) for how the window decides what is agreed.
/// - `output`: reassembly mode only: the storage a whole inflated message is handed out
///   from ([`RxBuffer`]: a lent slice, which bounds the largest inflated message, or
///   storage that grows while a large message arrives and shrinks afterwards). In
///   streaming mode lend an empty slice.
///
/// The inflated size is limited by the connection's
/// [`set_max_inflated`](crate::Connection::set_max_inflated) (and, in reassembly mode,
/// by what `output` can hold): a message that inflates to more fails with close code
/// 1009 as soon as the inflater has produced one byte more, whatever its compressed size,
/// so that a "bomb" costs no more time or memory than an honest message of the limit.
pub struct Inflater<'b, O> {
    state: &'b mut InflateState,
    window: &'b mut [u8],
    output: O,
    mode: Mode,
    /// The power-of-two prefix of `window` in use.
    ring_len: usize,
    /// Where the ring writes next.
    ring_pos: usize,
    /// The ring was filled since the history began, so all of it is history. Until then
    /// the history is `window[..ring_pos]`, and the ring is inflated into as a
    /// non-wrapping buffer: miniz_oxide then fails a distance that reaches before its
    /// position, i.e. before the start of the stream (it fails one beyond the ring in
    /// either case).
    ring_full: bool,
    /// Reassembly mode: bytes of the current message in `output`.
    out_len: usize,
    /// Bytes inflated for the current message.
    produced: u64,
    /// How many bytes of [`TAIL`] were fed for the current message.
    tail_fed: usize,
    /// The tail, fully fed, ended a block.
    at_boundary: bool,
    /// The current message ended with a final block.
    ended: bool,
    /// The peer resets its context after each message.
    reset_each_message: bool,
    /// A whole message is in `output`, handed out: drop it at the next step.
    delivered: bool,
}

impl<O: RxBuffer> fmt::Debug for Inflater<'_, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inflater")
            .field("mode", &self.mode)
            .field("window", &self.ring_len)
            .field("output", &self.output.bytes().len())
            .finish_non_exhaustive()
    }
}

/// What one call to [`Inflater::inflate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    /// Payload bytes taken from the input.
    pub(crate) consumed: usize,
    /// Where the bytes to hand out are: in streaming mode a piece of the window, in
    /// reassembly mode (once `done`) the message in the output storage.
    pub(crate) at: usize,
    pub(crate) len: usize,
    /// The message is complete.
    pub(crate) done: bool,
}

impl<'b, O: RxBuffer> Inflater<'b, O> {
    /// An inflater over lent memory; nothing is agreed yet (see [`start`](Self::start)).
    pub fn new(state: &'b mut InflateState, window: &'b mut [u8], output: O) -> Self {
        Self {
            state,
            window,
            output,
            mode: Mode::Off,
            ring_len: 0,
            ring_pos: 0,
            ring_full: false,
            out_len: 0,
            produced: 0,
            tail_fed: 0,
            at_boundary: false,
            ended: false,
            reset_each_message: false,
            delivered: false,
        }
    }

    /// What this inflater can take, for the negotiation: its window, and whether messages
    /// are received in streaming mode ([`Config::streaming`](crate::Config)).
    pub fn setup(&self, config: &crate::Config) -> Setup {
        Setup { streaming: config.streaming, ..Setup::new(self.window.len()) }
    }

    /// The window length in use once started: a power of two, or 0.
    pub fn window_len(&self) -> usize {
        self.ring_len
    }

    /// Prepares for a connection whose incoming messages are compressed as `incoming`
    /// says ([`PerMessageDeflate::receive`](super::PerMessageDeflate::receive)), received
    /// in reassembly or streaming mode as `config` says. The history starts here: a
    /// back-reference to anything before fails with [`InflateError::Corrupt`], so nothing of
    /// an earlier connection over the same window can be referred to (the window is
    /// cleared too).
    ///
    /// # Errors
    /// [`ExtensionError::WindowUnsupported`] when this needs a window and the one lent is
    /// shorter than the peer's (the negotiation never agrees to that).
    pub fn start(
        &mut self,
        incoming: Direction,
        config: &crate::Config,
    ) -> Result<(), ExtensionError> {
        let streaming = config.streaming;
        let bits = incoming.max_window_bits;
        self.mode =
            if !streaming && incoming.no_context_takeover { Mode::Direct } else { Mode::Ring };
        let ring = window_bits(self.window.len());
        if self.mode == Mode::Ring && (ring < MIN_WINDOW_BITS || ring < bits) {
            self.mode = Mode::Off;
            return Err(ExtensionError::WindowUnsupported { bits });
        }
        // The largest power of two that fits: bigger pieces, fewer wraps.
        self.ring_len = if self.mode == Mode::Ring {
            1 << (usize::BITS - 1 - self.window.len().leading_zeros())
        } else {
            0
        };
        self.window.fill(0);
        self.state.core.init();
        self.reset_each_message = incoming.no_context_takeover;
        self.ring_pos = 0;
        self.ring_full = false;
        self.out_len = 0;
        self.delivered = false;
        self.reset_message();
        Ok(())
    }

    /// The window (streaming pieces are slices of it).
    pub(crate) fn window(&self) -> &[u8] {
        self.window.get(..self.ring_len).unwrap_or_default()
    }

    /// The output storage (a reassembled message is at its start).
    pub(crate) fn output(&self) -> &[u8] {
        self.output.bytes()
    }

    /// Gives back the storage of the message handed out last, if any.
    pub(crate) fn release(&mut self) {
        if core::mem::take(&mut self.delivered) {
            self.out_len = 0;
            self.output.shrink();
        }
    }

    /// Whether [`start`](Self::start) succeeded.
    pub(crate) fn is_started(&self) -> bool {
        self.mode != Mode::Off
    }

    /// Inflates `input`, payload bytes of the current message. `end` says that they are
    /// all the message's payload bytes still to come: then the tail is fed after them.
    /// In streaming mode returns as soon as a piece was inflated; in reassembly mode once
    /// the input is used up (or the message is done). `limit` bounds the inflated message.
    pub(crate) fn inflate(
        &mut self,
        mut input: &[u8],
        end: bool,
        limit: u64,
        streaming: bool,
    ) -> Result<Step, InflateError> {
        let mut consumed = 0;
        let mut stalls = 0;
        loop {
            let feeding_tail = input.is_empty() && end;
            if self.ended {
                return Ok(self.finish(consumed));
            }
            if feeding_tail && self.tail_fed == TAIL.len() {
                if self.at_boundary {
                    return Ok(self.finish(consumed));
                }
                return Err(InflateError::Truncated);
            }
            let feed =
                if feeding_tail { TAIL.get(self.tail_fed..).unwrap_or_default() } else { input };
            if feed.is_empty() {
                return Ok(Step { consumed, at: 0, len: 0, done: false });
            }
            let flags = TINFL_FLAG_HAS_MORE_INPUT
                | if feeding_tail { TINFL_FLAG_STOP_ON_BLOCK_BOUNDARY } else { 0 };
            let (status, used, at, n) = self.run(feed, flags, limit)?;
            if feeding_tail {
                self.tail_fed += used;
            } else {
                input = input.get(used..).unwrap_or_default();
                consumed += used;
            }
            self.produced += n as u64;
            if self.produced > limit {
                return Err(InflateError::TooLarge { max: limit });
            }
            match status {
                TINFLStatus::NeedsMoreInput | TINFLStatus::HasMoreOutput => {
                    self.at_boundary = false;
                }
                TINFLStatus::BlockBoundary => {
                    self.at_boundary = feeding_tail && self.tail_fed == TAIL.len();
                }
                TINFLStatus::Done => {
                    // A block with BFINAL set (RFC 7692 section 7.2.3.3): what follows in
                    // the message, if anything, is a new stream over the same window; the
                    // message may also just end here, before the appended tail.
                    self.state.core.init();
                    self.ended = input.is_empty() && end;
                }
                _ => return Err(InflateError::Corrupt),
            }
            if self.mode == Mode::Ring {
                if streaming {
                    self.ring_pos = at + n;
                    if n > 0 {
                        // The message may end with this piece: look ahead without input.
                        let done = input.is_empty() && end && self.tail_done();
                        if done {
                            self.reset_message_state();
                        }
                        return Ok(Step { consumed, at, len: n, done });
                    }
                } else {
                    self.copy_out(at, n, limit)?;
                    self.ring_pos = at + n;
                }
            }
            // Every round takes input or gives output; guard against a stream that does
            // neither (miniz_oxide never should).
            stalls =
                if used == 0 && n == 0 && status != TINFLStatus::Done { stalls + 1 } else { 0 };
            if stalls > 2 {
                return Err(InflateError::Corrupt);
            }
        }
    }

    /// Whether the tail was fed whole and closed a block (or the message ended with a
    /// final block), so that the message is complete.
    fn tail_done(&self) -> bool {
        self.ended || (self.tail_fed == TAIL.len() && self.at_boundary)
    }

    /// One call to the decompressor: returns its status, the input it used, and where
    /// (`at`, `n` bytes) it wrote.
    fn run(
        &mut self,
        feed: &[u8],
        flags: u32,
        limit: u64,
    ) -> Result<(TINFLStatus, usize, usize, usize), InflateError> {
        match self.mode {
            Mode::Direct => {
                let cap = self.capacity(limit);
                if self.out_len >= self.output.bytes().len() && self.out_len < cap {
                    let want = self.out_len.saturating_mul(2).max(self.out_len + 4096).min(cap);
                    // A buffer that cannot grow is full: found below if more output comes.
                    let _ = self.output.grow(want);
                }
                let out = self.output.bytes_mut();
                let out = out.get_mut(..cap.min(out.len())).unwrap_or_default();
                let full = self.out_len >= out.len();
                let flags = flags | TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
                let at = self.out_len;
                let (status, used, n) = decompress(&mut self.state.core, feed, out, at, flags);
                if status == TINFLStatus::HasMoreOutput && (full || n == 0) {
                    // More to come and no room for it.
                    return Err(InflateError::TooLarge { max: limit });
                }
                self.out_len += n;
                Ok((status, used, at, n))
            }
            Mode::Ring => {
                if self.ring_pos >= self.ring_len {
                    self.ring_pos = 0;
                    self.ring_full = true;
                }
                let ring = self.window.get_mut(..self.ring_len).unwrap_or_default();
                let at = self.ring_pos;
                let flags = if self.ring_full {
                    flags
                } else {
                    flags | TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF
                };
                let (status, used, n) = decompress(&mut self.state.core, feed, ring, at, flags);
                Ok((status, used, at, n))
            }
            Mode::Off => Err(InflateError::Corrupt),
        }
    }

    /// Reassembly mode: the most the output storage may hold for a message of at most
    /// `limit` bytes (one more, to tell an exact fit from an overflow).
    fn capacity(&self, limit: u64) -> usize {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX).saturating_add(1);
        self.output.max_len().min(limit)
    }

    /// Reassembly through the ring: appends the `n` bytes inflated at `at` to the output.
    fn copy_out(&mut self, at: usize, n: usize, limit: u64) -> Result<(), InflateError> {
        if n == 0 {
            return Ok(());
        }
        let end = self.out_len + n;
        if end > self.output.bytes().len() {
            let want = end.max(self.out_len.saturating_mul(2)).min(self.capacity(limit));
            if want < end || !self.output.grow(want) {
                return Err(InflateError::TooLarge { max: limit });
            }
        }
        // Both are `n` bytes long (checked here, so the copy keeps no panic path).
        let src = self.window.get(at..at + n);
        if let (Some(src), Some(dst)) = (src, self.output.bytes_mut().get_mut(self.out_len..end)) {
            dst.copy_from_slice(src);
        }
        self.out_len = end;
        Ok(())
    }

    /// The message is complete: what to hand out, and the state for the next one.
    fn finish(&mut self, consumed: usize) -> Step {
        let len = match self.mode {
            Mode::Direct | Mode::Ring => self.out_len,
            Mode::Off => 0,
        };
        self.reset_message_state();
        self.delivered = len > 0;
        Step { consumed, at: 0, len, done: true }
    }

    /// Between messages: a new stream if the peer resets its context (or ended its
    /// stream), the same one otherwise.
    fn reset_message_state(&mut self) {
        if self.reset_each_message {
            self.state.core.init();
            self.ring_pos = 0;
            self.ring_full = false;
        }
        self.reset_message();
    }

    fn reset_message(&mut self) {
        self.produced = 0;
        self.tail_fed = 0;
        self.at_boundary = false;
        self.ended = false;
    }
}

#[cfg(test)]
mod tests;
