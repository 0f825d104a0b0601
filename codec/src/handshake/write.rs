//! A byte cursor for writing HTTP heads into a lent buffer, and checks on what is written.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::bytes::is_token;
use super::HandshakeError;

/// Writes into a borrowed buffer, counting every byte even when the buffer is full.
///
/// Bytes that do not fit are dropped, never written past the end; [`len`](Self::len)
/// still grows, so one pass over an empty buffer measures a message exactly.
#[derive(Debug)]
pub(super) struct Cursor<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Appends `bytes` (or only counts them if they do not fit).
    pub(super) fn put(&mut self, bytes: &[u8]) {
        // `get_mut(..len)` of the rest: a slice of exactly `bytes.len()`, so the copy
        // keeps no length check (and no panic path).
        let dst = self.buf.get_mut(self.pos..).and_then(|rest| rest.get_mut(..bytes.len()));
        if let Some(dst) = dst {
            dst.copy_from_slice(bytes);
        }
        self.pos = self.pos.saturating_add(bytes.len());
    }

    /// Appends a decimal number.
    pub(super) fn put_usize(&mut self, n: usize) {
        self.put(decimal(n, &mut [0; 20]));
    }

    /// Appends `name: value\r\n`.
    pub(super) fn header(&mut self, name: &str, value: &[u8]) {
        self.put(name.as_bytes());
        self.put(b": ");
        self.put(value);
        self.put(b"\r\n");
    }

    /// How many bytes were appended (or would have been).
    pub(super) const fn len(&self) -> usize {
        self.pos
    }
}

#[cfg(test)]
impl core::fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.put(s.as_bytes());
        Ok(())
    }
}

/// Runs `emit` once to measure and, if the result fits, once more to write into `out`.
///
/// `emit` must write the same bytes each time. On [`HandshakeError::BufferTooSmall`],
/// `out` is left untouched.
pub(super) fn measured(
    out: &mut [u8],
    emit: impl Fn(&mut Cursor<'_>),
) -> Result<usize, HandshakeError> {
    let mut probe = Cursor::new(&mut []);
    emit(&mut probe);
    let needed = probe.len();
    if needed > out.len() {
        return Err(HandshakeError::BufferTooSmall { needed });
    }
    let mut cursor = Cursor::new(out);
    emit(&mut cursor);
    Ok(cursor.len())
}

/// `n` in decimal: the start of `digits`.
///
/// By subtracting powers of ten rather than dividing by ten: a Cortex-M0 has no divide
/// instruction, and the runtime's divide routine is about 400 bytes of flash
/// (`scripts/firmware-budget`).
pub(super) fn decimal(mut n: usize, digits: &mut [u8; 20]) -> &[u8] {
    let mut len = 0;
    for &unit in &POWERS_OF_TEN {
        let mut digit = b'0';
        while n >= unit {
            n -= unit;
            digit += 1;
        }
        // No leading zeros; the last digit always.
        if digit != b'0' || len > 0 || unit == 1 {
            if let Some(slot) = digits.get_mut(len) {
                *slot = digit;
            }
            len += 1;
        }
    }
    digits.get(..len).unwrap_or_default()
}

/// The powers of ten that fit a `usize`, the largest first.
// Evaluated at compile time: an index out of range fails the build, never a run.
#[allow(clippy::indexing_slicing)]
const POWERS_OF_TEN: [usize; usize::MAX.ilog10() as usize + 1] = {
    let mut powers = [1; usize::MAX.ilog10() as usize + 1];
    let mut i = powers.len() - 1;
    while i > 0 {
        powers[i - 1] = powers[i] * 10;
        i -= 1;
    }
    powers
};

/// A header name or subprotocol: an HTTP token (RFC 9110 section 5.6.2), not empty.
pub(super) fn check_token(s: &str) -> Result<(), HandshakeError> {
    if !s.is_empty() && s.bytes().all(is_token) {
        Ok(())
    } else {
        Err(HandshakeError::InvalidHeaderValue)
    }
}

/// A header value: visible characters, spaces, tabs and non-ASCII bytes; no CR, LF, NUL
/// or other control characters.
pub(super) fn check_value(s: &str) -> Result<(), HandshakeError> {
    if s.bytes().all(|b| b == b'\t' || (b >= b' ' && b != 0x7f)) {
        Ok(())
    } else {
        Err(HandshakeError::InvalidHeaderValue)
    }
}

/// A value without any whitespace (host, path): visible ASCII only, not empty.
pub(super) fn check_visible(s: &str) -> Result<(), HandshakeError> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(HandshakeError::InvalidHeaderValue)
    }
}

/// Caller-supplied extra headers: token names, clean values.
pub(super) fn check_headers(headers: &[(&str, &str)]) -> Result<(), HandshakeError> {
    headers.iter().try_for_each(|&(name, value)| {
        check_token(name)?;
        check_value(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_counts_past_the_end_without_writing() {
        let mut buf = [b'.'; 4];
        let mut c = Cursor::new(&mut buf);
        c.put(b"ab");
        c.put(b"cde");
        c.put(b"f");
        assert_eq!(c.len(), 6);
        // "cde" did not fit and was dropped whole; the position is now past the end,
        // so "f" is only counted too.
        assert_eq!(&buf, b"ab..");
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for (n, s) in [
            (0usize, "0"),
            (7, "7"),
            (10, "10"),
            (431, "431"),
            (usize::MAX, "18446744073709551615"),
        ] {
            assert_eq!(decimal(n, &mut [0; 20]), s.as_bytes());
        }
    }

    #[test]
    fn measured_leaves_a_short_buffer_untouched() {
        let mut out = [b'.'; 3];
        let r = measured(&mut out, |c| c.put(b"abcd"));
        assert_eq!(r, Err(HandshakeError::BufferTooSmall { needed: 4 }));
        assert_eq!(&out, b"...");
        let mut out = [b'.'; 4];
        assert_eq!(measured(&mut out, |c| c.put(b"abcd")), Ok(4));
        assert_eq!(&out, b"abcd");
    }

    #[test]
    fn value_checks_reject_injection() {
        for bad in ["a\r\nX: y", "a\n", "a\r", "a\0", "\x7f", "\x01"] {
            assert_eq!(check_value(bad), Err(HandshakeError::InvalidHeaderValue));
            assert_eq!(check_visible(bad), Err(HandshakeError::InvalidHeaderValue));
            assert_eq!(check_token(bad), Err(HandshakeError::InvalidHeaderValue));
        }
        assert_eq!(check_value("text/plain; q=1\tx é"), Ok(()));
        assert_eq!(check_value(""), Ok(()));
        assert_eq!(check_visible("/chat?x=1"), Ok(()));
        assert_eq!(check_visible("a b"), Err(HandshakeError::InvalidHeaderValue));
        assert_eq!(check_visible(""), Err(HandshakeError::InvalidHeaderValue));
        assert_eq!(check_token("chat.v2"), Ok(()));
        assert_eq!(check_token("a b"), Err(HandshakeError::InvalidHeaderValue));
        assert_eq!(check_token("a,b"), Err(HandshakeError::InvalidHeaderValue));
        assert_eq!(check_token(""), Err(HandshakeError::InvalidHeaderValue));
    }
}
