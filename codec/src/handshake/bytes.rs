//! Byte classes of HTTP heads: one table of class bits (token, target, base64), and SWAR masks that
//! test eight bytes of a header value at a time (bit tricks on `u64` words: safe, portable
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
    // Bytes from 0x80 on are in the request target's class only: the table stops there
    // (128 bytes of flash less than a table of all 256).
    CLASSES.get(usize::from(b)).map_or(URI, |&c| c) & class != 0
}

// Evaluated at compile time: an index out of range fails the build, never a run.
#[allow(clippy::indexing_slicing)]
static CLASSES: [u8; 128] = {
    let mut map = [0u8; 128];
    let mut i = 0;
    while i < 128 {
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

// SWAR: eight bytes in a `u64`, little-endian, so the first byte of the input is the
// lowest. Every mask below is exact per byte (no borrow or carry crosses bytes): the
// flag of a byte is its bit 7.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Flags the bytes of `x` below `n` (`n <= 0x80`).
#[inline(always)]
const fn below(x: u64, n: u8) -> u64 {
    !(((x & !HI) + LO * (0x80 - n as u64)) | x) & HI
}

/// Flags the bytes of `x` equal to `c`.
#[inline(always)]
const fn equal(x: u64, c: u8) -> u64 {
    let y = x ^ (LO * c as u64);
    !(((y & !HI) + !HI) | y) & HI
}

/// Bytes that end a header value: controls except tab, and DEL.
#[inline(always)]
pub(super) const fn value_stops(x: u64) -> u64 {
    (below(x, 0x20) & !equal(x, b'\t')) | equal(x, 0x7f)
}

/// The index of the first byte at or after `from` that `stops` flags (`is_stop` is the
/// same test on one byte, for the tail shorter than a word).
#[inline(always)]
pub(super) fn find(
    buf: &[u8],
    from: usize,
    stops: impl Fn(u64) -> u64,
    is_stop: impl Fn(u8) -> bool,
) -> Option<usize> {
    let rest = buf.get(from..)?;
    // Where words are assembled from single bytes (no unaligned loads) and every 64-bit
    // operation is two, the byte loop: on thumbv6m 376 bytes of flash less, on riscv32imc
    // 468; a Cortex-M0 takes about 1,900 instructions more for Chrome's request (at
    // opt-level 3).
    if crate::mask::BYTE_AT_A_TIME {
        return rest.iter().position(|&b| is_stop(b)).map(|i| from + i);
    }
    let (words, tail) = rest.as_chunks::<8>();
    let mut at = from;
    for word in words {
        let flags = stops(u64::from_le_bytes(*word));
        if flags != 0 {
            return Some(at + (flags.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    tail.iter().position(|&b| is_stop(b)).map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swar_masks_match_the_byte_tests() {
        for b in 0..=255u8 {
            for lane in 0..8 {
                // The byte under test in one lane, neighbours that stress borrows and carries.
                for fill in [0x00u8, 0x7f, 0x80, 0xff, b' ', b':'] {
                    let mut bytes = [fill; 8];
                    bytes[lane] = b;
                    let x = u64::from_le_bytes(bytes);
                    let flag = |m: u64| (m >> (lane * 8 + 7)) & 1 == 1;
                    assert_eq!(flag(below(x, 0x21)), b < 0x21, "{b:#x}");
                    assert_eq!(flag(equal(x, b':')), b == b':', "{b:#x}");
                    assert_eq!(flag(value_stops(x)), is_value_stop(b), "{b:#x}");
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
    fn find_reports_the_first_stop_in_words_and_tail() {
        let buf = b"abcdefghijklmnop\rqrs";
        for from in 0..buf.len() {
            let expect = buf.iter().skip(from).position(|&b| b == b'\r').map(|i| i + from);
            assert_eq!(find(buf, from, value_stops, is_value_stop), expect, "from {from}");
        }
        assert_eq!(find(buf, buf.len() + 1, value_stops, is_value_stop), None);
    }
}
