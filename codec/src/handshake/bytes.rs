//! Byte classes of HTTP heads: one table of class bits (token, target, base64), and SWAR masks that
//! test a word of a header value at a time (bit tricks on `usize` words: safe, portable
//! code), for the head parser in [`head`](super::head).
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

/// A byte that ends a header value: control characters other than tab, and DEL.
#[inline(always)]
pub(super) const fn is_value_stop(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// RFC 9110 `tchar`: the bytes of a method or header name.
#[inline(always)]
pub(super) fn is_token(b: u8) -> bool {
    is(b, TOKEN)
}

/// Class bit of [`is`]: RFC 9110 `tchar`, the bytes of a method or header name.
pub(super) const TOKEN: u8 = 1;
/// Class bit of [`is`]: the bytes of a request target, `0x21..=0x7E` and `0x80..=0xFF`.
pub(super) const URI: u8 = 2;
/// Class bit of [`is`]: the standard base64 alphabet (`A-Z`, `a-z`, `0-9`, `+`, `/`), the
/// characters of a `Sec-WebSocket-Key` (one table for all three classes: a second
/// 256-byte table for this one cost its 256 bytes of flash).
pub(super) const BASE64: u8 = 4;

/// Whether byte `b` is in `class` (a class bit, or several ORed: any of them).
#[inline(always)]
pub(super) fn is(b: u8, class: u8) -> bool {
    // Bytes from 0x80 on are in the request target's class only: on small cores the table
    // stops there (128 bytes of flash less than a table of all 256), elsewhere every byte
    // has its entry and the test no branch (two instructions less per byte of a method,
    // target or header name: about 340 for Chrome's request on a Cortex-M4).
    CLASSES.get(usize::from(b)).map_or(URI, |&c| c) & class != 0
}

/// The bytes [`CLASSES`] has an entry for.
const CLASSES_LEN: usize = if crate::mask::BYTE_AT_A_TIME { 128 } else { 256 };

// Evaluated at compile time: an index out of range fails the build, never a run.
#[allow(clippy::indexing_slicing)]
static CLASSES: [u8; CLASSES_LEN] = {
    let mut map = [0u8; CLASSES_LEN];
    let mut i = 0;
    while i < CLASSES_LEN {
        let b = i as u8;
        let tchar = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        let uri = matches!(b, 0x21..=0x7e | 0x80..=0xff);
        let base64 = b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
        map[i] = if tchar { TOKEN } else { 0 }
            | if uri { URI } else { 0 }
            | if base64 { BASE64 } else { 0 };
        i += 1;
    }
    map
};

// SWAR: the bytes of a machine word (eight on 64-bit targets, four on 32-bit ones, where
// a `u64` would take two instructions for every operation), little-endian, so the first
// byte of the input is the lowest. The masks are exact per byte (no carry crosses bytes):
// the flag of a byte is its bit 7.

/// Bytes in a word.
const WORD: usize = core::mem::size_of::<usize>();
const LO: usize = usize::MAX / 0xff;
const HI: usize = LO * 0x80;

/// Flags the bytes of `x` that may end a header value: those below 0x20 and 0x7F. Of
/// these only tab does not ([`is_value_stop`] tells); flagging it too takes half the
/// operations of excluding it.
#[inline(always)]
const fn value_stop_candidates(x: usize) -> usize {
    let low = x & !HI;
    // Bit 7 of a byte of `low + LO * 0x60` is set if its low seven bits are 0x20 or more,
    // of `low + LO` if they are 0x7F; `!x` keeps the bytes below 0x80.
    (!(low + LO * 0x60) | (low + LO)) & !x & HI
}

/// The index of the first byte at or after `from` that ends a header value
/// ([`is_value_stop`]), a word at a time.
#[inline(always)]
pub(super) fn value_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    // Where words are assembled from single bytes (no unaligned loads), the byte loop: on
    // thumbv6m 376 bytes of flash less, on riscv32imc 468; a Cortex-M0 takes about 1,900
    // instructions more for Chrome's request (at opt-level 3).
    if !crate::mask::BYTE_AT_A_TIME {
        'words: loop {
            let (words, _) = buf.get(at..)?.as_chunks::<WORD>();
            for word in words {
                let flags = value_stop_candidates(usize::from_le_bytes(*word));
                if flags != 0 {
                    at += (flags.trailing_zeros() / 8) as usize;
                    if buf.get(at).is_some_and(|&b| is_value_stop(b)) {
                        return Some(at);
                    }
                    // A tab: on from the byte after it.
                    at += 1;
                    continue 'words;
                }
                at += WORD;
            }
            break;
        }
    }
    let rest = buf.get(at..)?;
    rest.iter().position(|&b| is_value_stop(b)).map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swar_masks_flag_the_value_stops_and_tab() {
        for b in 0..=255u8 {
            for lane in 0..WORD {
                // The byte under test in one lane, neighbours that stress borrows and carries.
                for fill in [0x00u8, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff, b' ', b':'] {
                    let mut bytes = [fill; WORD];
                    bytes[lane] = b;
                    let x = usize::from_le_bytes(bytes);
                    let flag = (value_stop_candidates(x) >> (lane * 8 + 7)) & 1 == 1;
                    assert_eq!(flag, is_value_stop(b) || b == b'\t', "{b:#x} in {fill:#x}");
                }
            }
        }
    }

    #[test]
    fn classes_are_rfc9110_tchar_and_target_bytes() {
        let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        for b in 0..=255u8 {
            assert_eq!(is_token(b), tchar(b), "{b:#x}");
            assert_eq!(is(b, URI), b > b' ' && b != 0x7f, "{b:#x}");
        }
    }

    #[test]
    fn value_end_reports_the_first_stop_in_words_and_tail() {
        // Tabs (flagged, then passed over) and bytes next to the stops' ranges.
        let buf = b"ab\tc\xffef\x7e gh\x80ij\tklmnop\x7fqrs\r\nt\tu\x00v\x1fw\x20";
        for from in 0..=buf.len() {
            let expect = buf.iter().skip(from).position(|&b| is_value_stop(b)).map(|i| i + from);
            assert_eq!(value_end(buf, from), expect, "from {from}");
        }
        assert_eq!(value_end(buf, buf.len() + 1), None);
    }
}
