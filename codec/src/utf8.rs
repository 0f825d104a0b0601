//! UTF-8 validation of text messages, whole and incremental across fragments (RFC 6455
//! section 8.1).
//!
//! Text messages may be split anywhere, even inside a code point. The validator keeps
//! the (at most 3) bytes of an unfinished code point between pieces, and fails as soon
//! as a piece contains a byte sequence that no continuation could make valid.
//!
//! With feature `simd` (hosts) the checks are simdutf8's: 64 bytes at a time with AVX2 or
//! SSE4.2 (chosen at run time, x86), NEON (aarch64) or SIMD128 (wasm32), `core`'s below 64
//! bytes: a masked 128-byte multi-byte text message is decoded in 436 instructions instead
//! of 1,963 with `core`'s check, which walks such text byte by byte. Without it (firmware) they are `core::str::from_utf8`, which skips ASCII
//! two words at a time wherever the text is word-aligned. (An `is_ascii` pass of its own
//! before it cost 172 bytes of firmware `.text` for work `from_utf8` already does.)
//!
//! `from_utf8` stays on firmware because whole messages are handed out as `&str`, which
//! nothing else gives without `unsafe`: any validator of our own would run besides it.
//! Measured on the Cortex-M4 (`scripts/cortex-m-icount`'s program): one for the pieces of
//! fragmented messages (ASCII eight bytes at a time and each multi-byte sequence checked
//! from one word, at any alignment) took a 128-byte multi-byte piece from 923 to 665
//! instructions but an ASCII one from 203 to 237, for 492 bytes more thumbv7em flash;
//! bstr's `to_str` (a DFA) in place of `from_utf8` made a masked 128-byte multi-byte frame
//! 1,282 instructions instead of 1,057.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

/// Feeds text in pieces and reports the first invalid piece.
///
/// ```
/// use wscodec::utf8::Utf8Validator;
/// let mut v = Utf8Validator::new();
/// let euro = "€".as_bytes(); // e2 82 ac
/// assert!(v.feed(&euro[..1]).is_ok());
/// assert!(v.feed(&euro[1..]).is_ok());
/// assert!(v.is_complete());
/// assert!(v.feed(&[0xff]).is_err()); // fails at once, not at the end of the message
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Utf8Validator {
    partial: [u8; 4],
    partial_len: u8,
}

/// The text is not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Utf8Error;

impl Utf8Validator {
    /// A validator at the start of a message.
    pub const fn new() -> Self {
        Self { partial: [0; 4], partial_len: 0 }
    }

    /// Whether everything fed so far ends on a code point boundary.
    pub const fn is_complete(&self) -> bool {
        self.partial_len == 0
    }

    /// Resets to the start of a new message.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Validates the next piece of the message.
    ///
    /// # Errors
    /// [`Utf8Error`] as soon as the bytes so far cannot be the prefix of valid UTF-8.
    pub fn feed(&mut self, mut piece: &[u8]) -> Result<(), Utf8Error> {
        // First finish the code point the last piece left unfinished, a byte at a time.
        while self.partial_len > 0 {
            let Some((&byte, rest)) = piece.split_first() else { return Ok(()) };
            piece = rest;
            let len = usize::from(self.partial_len);
            *self.partial.get_mut(len).ok_or(Utf8Error)? = byte;
            let unfinished = unfinished_tail(self.partial.get(..=len).ok_or(Utf8Error)?)?;
            self.partial_len = if unfinished == 0 { 0 } else { self.partial_len + 1 };
        }
        let unfinished = unfinished_tail(piece)?;
        let tail = piece.get(piece.len() - unfinished..).ok_or(Utf8Error)?;
        self.partial.get_mut(..unfinished).ok_or(Utf8Error)?.copy_from_slice(tail);
        self.partial_len = unfinished as u8;
        Ok(())
    }
}

/// `bytes` as text, if they are UTF-8 (the whole message: nothing may be left unfinished).
#[inline(always)]
pub(crate) fn text(bytes: &[u8]) -> Result<&str, Utf8Error> {
    #[cfg(feature = "simd")]
    return simdutf8::basic::from_utf8(bytes).map_err(|_| Utf8Error);
    #[cfg(not(feature = "simd"))]
    core::str::from_utf8(bytes).map_err(|_| Utf8Error)
}

/// How many bytes at the end of `bytes` start a code point that is not finished yet
/// (0 to 3), when all before them is valid UTF-8.
fn unfinished_tail(bytes: &[u8]) -> Result<usize, Utf8Error> {
    #[cfg(feature = "simd")]
    let checked = simdutf8::compat::from_utf8(bytes);
    #[cfg(not(feature = "simd"))]
    let checked = core::str::from_utf8(bytes);
    match checked {
        Ok(_) => Ok(0),
        Err(e) if e.error_len().is_none() => Ok(bytes.len() - e.valid_up_to()),
        Err(_) => Err(Utf8Error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_everywhere(bytes: &[u8]) -> bool {
        let whole = core::str::from_utf8(bytes).is_ok();
        for a in 0..=bytes.len() {
            for b in a..=bytes.len() {
                let mut v = Utf8Validator::new();
                let ok = v.feed(&bytes[..a]).is_ok()
                    && v.feed(&bytes[a..b]).is_ok()
                    && v.feed(&bytes[b..]).is_ok()
                    && v.is_complete();
                assert_eq!(ok, whole, "{bytes:x?} split at {a},{b}");
            }
        }
        whole
    }

    #[test]
    fn agrees_with_core_for_every_three_way_split() {
        assert!(split_everywhere("κόσμε €𝄞 ok".as_bytes()));
        assert!(!split_everywhere(&[
            0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80
        ]));
        assert!(!split_everywhere(&[0xf4, 0x90, 0x80, 0x80])); // above U+10FFFF
        assert!(!split_everywhere(&[0xe2, 0x82])); // truncated at the end
        assert!(!split_everywhere(&[0xc0, 0xaf])); // overlong
    }

    /// Past 64 bytes (where simdutf8 takes whole vectors with feature `simd`): a long text
    /// with one bad byte put at every position, fed in two pieces split at every position,
    /// against `core`; and the whole-message check against `core` for every prefix.
    #[test]
    fn long_texts_agree_with_core_wherever_split_and_wherever_broken() {
        extern crate std;
        let good = "JSON {\"k\":\"κόσμε €𝄞\"} ".repeat(6).into_bytes();
        assert!(good.len() > 150);
        for end in 0..=good.len() {
            let whole = &good[..end];
            assert_eq!(text(whole).ok(), core::str::from_utf8(whole).ok(), "prefix {end}");
        }
        for bad_at in (0..good.len()).step_by(7) {
            for bad in [0xff, 0x80, 0xc0] {
                let mut bytes = good.clone();
                bytes[bad_at] = bad;
                let whole = core::str::from_utf8(&bytes).is_ok();
                assert_eq!(text(&bytes).is_ok(), whole, "{bad:x} at {bad_at}");
                for split in 0..=bytes.len() {
                    let mut v = Utf8Validator::new();
                    let (a, b) = bytes.split_at(split);
                    let first = v.feed(a);
                    // Fails no later than the piece that holds the bad byte.
                    if !whole && bad_at < split {
                        let prefix_ok = core::str::from_utf8(a)
                            .map(|_| true)
                            .unwrap_or_else(|e| e.error_len().is_none());
                        assert_eq!(first.is_ok(), prefix_ok, "{bad:x} at {bad_at}, split {split}");
                    }
                    let ok = first.is_ok() && v.feed(b).is_ok() && v.is_complete();
                    assert_eq!(ok, whole, "{bad:x} at {bad_at}, split {split}");
                }
            }
        }
    }

    #[test]
    fn fails_fast_on_the_first_bad_piece() {
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"hello").is_ok());
        // 0xed 0xa0 is a surrogate prefix: invalid before the third byte arrives.
        assert_eq!(v.feed(&[0xed]), Ok(()));
        assert_eq!(v.feed(&[0xa0]), Err(Utf8Error));
    }
}
/// The validator against `core::str::from_utf8` on every short sequence and on random text:
/// fed whole or in two pieces, a piece fails exactly when no continuation could make the
/// bytes so far valid, and the message is complete exactly when `core` takes it.
#[cfg(test)]
mod agreement {
    extern crate std;

    use super::*;

    /// Whether `bytes` can still begin valid UTF-8 (valid, or cut inside a code point).
    fn may_continue(bytes: &[u8]) -> bool {
        core::str::from_utf8(bytes).map_or_else(|e| e.error_len().is_none(), |_| true)
    }

    fn agrees_when_split_at(bytes: &[u8], split: usize) -> Result<(), std::string::String> {
        let (a, b) = bytes.split_at(split);
        let mut v = Utf8Validator::new();
        let first = v.feed(a).is_ok();
        if first != may_continue(a) {
            return Err(std::format!("{bytes:02x?}: first piece {split} bytes: {first}"));
        }
        if !first {
            return Ok(());
        }
        let second = v.feed(b).is_ok();
        if second != may_continue(bytes) {
            return Err(std::format!("{bytes:02x?} split at {split}: second piece {second}"));
        }
        let whole = core::str::from_utf8(bytes).is_ok();
        if second && v.is_complete() != whole {
            return Err(std::format!("{bytes:02x?} split at {split}: complete {}", !whole));
        }
        Ok(())
    }

    fn agrees_wherever_split(bytes: &[u8]) {
        for split in 0..=bytes.len() {
            if let Err(e) = agrees_when_split_at(bytes, split) {
                panic!("{e}");
            }
        }
    }

    #[test]
    fn every_sequence_of_one_two_and_three_bytes() {
        for a in 0..=255u8 {
            agrees_wherever_split(&[a]);
            for b in 0..=255u8 {
                agrees_wherever_split(&[a, b]);
                // Whole three-byte sequences (splits of these are the two-byte cases'
                // prefixes, checked above).
                for c in 0..=255u8 {
                    if let Err(e) = agrees_when_split_at(&[a, b, c], 0) {
                        panic!("{e}");
                    }
                }
            }
        }
    }

    /// Bytes that sit on the boundaries RFC 3629 draws (ASCII, continuation ranges, leads).
    fn edge_byte() -> impl proptest::strategy::Strategy<Value = u8> {
        proptest::prop_oneof![
            proptest::num::u8::ANY,
            proptest::sample::select(
                &[
                    0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0,
                    0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
                ][..]
            ),
        ]
    }

    proptest::proptest! {
        #[test]
        fn four_bytes_and_longer(bytes in proptest::collection::vec(edge_byte(), 4..24)) {
            agrees_wherever_split(&bytes);
        }

        #[test]
        fn valid_text_split_anywhere_and_broken_anywhere(
            text in "\\PC{0,40}",
            split in proptest::num::usize::ANY,
            broken in proptest::option::of((proptest::num::usize::ANY, edge_byte())),
        ) {
            let mut bytes = std::vec::Vec::from(text.as_bytes());
            if let (Some((at, byte)), false) = (broken, bytes.is_empty()) {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            let split = split % (bytes.len() + 1);
            if let Err(e) = agrees_when_split_at(&bytes, split) {
                proptest::prop_assert!(false, "{}", e);
            }
        }
    }
}

#[cfg(test)]
mod regression {
    use super::*;
    #[test]
    fn four_byte_sequence_split_after_its_lead_byte() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[b'a', 240]), Ok(()));
        assert_eq!(v.feed(&[144, 128, 128, b'b']), Ok(()));
        assert!(v.is_complete());
        let mut v = Utf8Validator::new();
        for b in [b'a', 240, 144, 128, 128, 194, 161] {
            assert_eq!(v.feed(&[b]), Ok(()), "{b}");
        }
        assert!(v.is_complete());
    }
}
