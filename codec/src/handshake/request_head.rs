//! The HTTP request-head parser behind [`server::parse_request`](super::server::parse_request).
//!
//! It accepts and rejects exactly what `httparse` 1.10 (`httparse::Request::parse`, default
//! `ParserConfig`) accepts and rejects, with the same `consumed` count, method, path,
//! version and headers, the same error kind for every malformed head, `Partial` for every
//! head that is correct so far but incomplete, and `TooManyHeaders` only once a header that
//! does not fit the array is complete. `tests/request_parser.rs` (a proptest) and the
//! `request_parser` fuzz target check this against `httparse` itself. The grammar:
//!
//! - any number of empty lines (`\r\n` or a bare `\n`) before the request line;
//! - the method: one or more token characters (RFC 9110 `tchar`), then one space;
//! - the target: one or more bytes `0x21..=0x7E` or `0x80..=0xFF`, valid UTF-8, then one
//!   space;
//! - `HTTP/1.0` or `HTTP/1.1`, then a line end;
//! - header lines: a token name, `:`, optional spaces and tabs, a value of tabs and bytes
//!   `0x20..=0x7E` and `0x80..=0xFF` (obs-text) with trailing spaces and tabs trimmed;
//! - an empty line.
//!
//! Every line end is `\r\n` or a bare `\n`. A `\r` followed by anything but `\n` is an
//! error (`NewLine` on the request line and the final empty line, `HeaderValue` after a
//! header value).
//!
//! Speed: it tests eight bytes at a time (SWAR: bit tricks on `u64` words, safe code and
//! portable) instead of one byte per step. A header line of the common shape (a name of
//! letters and `-`, a value without control characters, a complete line end) takes a
//! fixed amount of work on the first 32 bytes of the line (two masks on four words: the
//! first byte that is not a letter or `-`, the first control character), without a loop
//! whose exit would be mispredicted from one line to the next; every other line, and
//! every malformed or partial one, goes through the exact byte-level path, which mirrors
//! httparse step by step. The first 1 KiB of the buffer is checked as UTF-8 once, and the
//! method, target and header names are taken from that `str` (and header values by
//! [`Request::upgrade`](super::server::Request::upgrade)) instead of a check each.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use httparse::Header;

use super::{trim_ows, HandshakeError, HttpErrorKind};

/// A complete request head: the request line, how many headers were filled and where the
/// head ends.
#[derive(Debug)]
pub(super) struct Head<'b> {
    pub(super) method: &'b str,
    pub(super) path: &'b str,
    pub(super) version: u8,
    pub(super) headers: usize,
    pub(super) consumed: usize,
    /// A prefix of the buffer that is UTF-8 (possibly empty, possibly past the head).
    pub(super) text: &'b str,
}

/// Why parsing stopped early.
enum Stop {
    /// The buffer ends before the head does, and nothing so far is wrong.
    Partial,
    /// The head is malformed (or has too many headers).
    Error(HandshakeError),
}

const fn http(kind: HttpErrorKind) -> Stop {
    Stop::Error(HandshakeError::Http(kind))
}

/// Parses a request head from the start of `buf`, filling `headers` from the front.
///
/// `Ok(None)` means partial: read more and call again.
pub(super) fn parse<'b>(
    buf: &'b [u8],
    headers: &mut [Header<'b>],
) -> Result<Option<Head<'b>>, HandshakeError> {
    match head(buf, headers) {
        Ok(head) => Ok(Some(head)),
        Err(Stop::Partial) => Ok(None),
        Err(Stop::Error(e)) => Err(e),
    }
}

/// The byte at `i`, or `Partial` past the end of the buffer.
#[inline(always)]
fn byte(buf: &[u8], i: usize) -> Result<u8, Stop> {
    buf.get(i).copied().ok_or(Stop::Partial)
}

/// `buf[from..to]`; empty if out of range (never, for the indices this module computes).
#[inline(always)]
fn slice(buf: &[u8], from: usize, to: usize) -> &[u8] {
    buf.get(from..to).unwrap_or_default()
}

/// How much of the buffer is checked as UTF-8 in one call, up front: the method, target
/// and header names inside it are then taken from that `str` without a check each.
const TEXT_WINDOW: usize = 1024;

/// The longest prefix of `bytes` that is UTF-8.
fn utf8_prefix(bytes: &[u8]) -> &str {
    match core::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => core::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or_default())
            .unwrap_or_default(),
    }
}

/// `buf[from..to]` as a `str`: from `text` (a UTF-8 prefix of `buf`) if it covers the
/// range, else checked on its own.
#[inline(always)]
fn as_str<'b>(text: &'b str, buf: &'b [u8], from: usize, to: usize) -> Option<&'b str> {
    text.get(from..to).or_else(|| core::str::from_utf8(slice(buf, from, to)).ok())
}

fn head<'b>(buf: &'b [u8], headers: &mut [Header<'b>]) -> Result<Head<'b>, Stop> {
    let text = utf8_prefix(buf.get(..TEXT_WINDOW).unwrap_or(buf));
    let start = skip_empty_lines(buf)?;
    let (method, at) = method(text, buf, start)?;
    let (path, at) = target(text, buf, at)?;
    let (version, at) = version(buf, at)?;
    let mut at = line_end(buf, at, HttpErrorKind::NewLine)?;
    let mut count = 0;
    loop {
        // `line` takes only lines that start with a letter; the rest are checked here.
        let (colon, value, next) = match line(buf, at) {
            Some(line) => line,
            None => match byte(buf, at)? {
                b'\r' | b'\n' => {
                    let consumed = line_end(buf, at, HttpErrorKind::NewLine)?;
                    return Ok(Head { method, path, version, headers: count, consumed, text });
                }
                b if !is_token(b) => return Err(http(HttpErrorKind::HeaderName)),
                _ => exact_line(buf, at)?,
            },
        };
        let name = as_str(text, buf, at, colon).ok_or(http(HttpErrorKind::HeaderName))?;
        let slot = headers.get_mut(count).ok_or(Stop::Error(HandshakeError::TooManyHeaders))?;
        *slot = Header { name, value };
        count += 1;
        at = next;
    }
}

/// Skips `\r\n` and `\n` lines; the index of the first other byte.
fn skip_empty_lines(buf: &[u8]) -> Result<usize, Stop> {
    let mut i = 0;
    loop {
        match byte(buf, i)? {
            b'\r' => {
                if byte(buf, i + 1)? != b'\n' {
                    return Err(http(HttpErrorKind::NewLine));
                }
                i += 2;
            }
            b'\n' => i += 1,
            _ => return Ok(i),
        }
    }
}

/// The line end at `i` (`\r\n` or `\n`); the index after it. `kind` is the error for a
/// `\r` not followed by `\n` and for any other byte.
#[inline(always)]
fn line_end(buf: &[u8], i: usize, kind: HttpErrorKind) -> Result<usize, Stop> {
    match byte(buf, i)? {
        b'\r' if byte(buf, i + 1)? == b'\n' => Ok(i + 2),
        b'\n' => Ok(i + 1),
        _ => Err(http(kind)),
    }
}

/// The method and the index after the space that ends it.
#[inline(always)]
fn method<'b>(text: &'b str, buf: &'b [u8], start: usize) -> Result<(&'b str, usize), Stop> {
    if buf.get(start..start + 4) == Some(b"GET ") {
        return Ok(("GET", start + 4));
    }
    if !is_token(byte(buf, start)?) {
        return Err(http(HttpErrorKind::Token));
    }
    let mut i = start + 1;
    loop {
        match byte(buf, i)? {
            b' ' => break,
            b if is_token(b) => i += 1,
            _ => return Err(http(HttpErrorKind::Token)),
        }
    }
    let method = as_str(text, buf, start, i).ok_or(http(HttpErrorKind::Token))?;
    Ok((method, i + 1))
}

/// The request target and the index after the space that ends it.
#[inline(always)]
fn target<'b>(text: &'b str, buf: &'b [u8], start: usize) -> Result<(&'b str, usize), Stop> {
    let end = find(buf, start, uri_stops, |b| b <= b' ' || b == 0x7f).ok_or(Stop::Partial)?;
    if byte(buf, end)? != b' ' || end == start {
        return Err(http(HttpErrorKind::Token));
    }
    let path = as_str(text, buf, start, end).ok_or(http(HttpErrorKind::Token))?;
    Ok((path, end + 1))
}

/// The minor version of `HTTP/1.x` and the index after it.
#[inline(always)]
fn version(buf: &[u8], start: usize) -> Result<(u8, usize), Stop> {
    match buf.get(start..start + 8) {
        Some(b"HTTP/1.1") => Ok((1, start + 8)),
        Some(b"HTTP/1.0") => Ok((0, start + 8)),
        Some(_) => Err(http(HttpErrorKind::Version)),
        // Fewer than 8 bytes: partial if they can still become a version.
        None if b"HTTP/1.".starts_with(buf.get(start..).unwrap_or_default()) => Err(Stop::Partial),
        None => Err(http(HttpErrorKind::Version)),
    }
}

/// The common header line, fast: a name of letters and `-`, a value without control
/// characters (tabs aside) and DEL, a complete line end. Returns the index of the colon,
/// the trimmed value and the index after the line end; `None` for anything else (other
/// token bytes, errors, a partial line), which [`name_end`] and [`value`] then parse.
#[inline(always)]
fn line(buf: &[u8], start: usize) -> Option<(usize, &[u8], usize)> {
    // A fixed amount of work for the first 32 bytes of the line, no loop: a loop's exit
    // would be mispredicted from one line to the next.
    let words = words(buf, start);
    // The first byte that is not a letter or `-` must be the colon.
    let name_len = first_flag(&words, not_letter_or_hyphen)?;
    let colon = start + name_len;
    if name_len == 0 || *buf.get(colon)? != b':' {
        return None;
    }
    // Every byte up to the first control character or DEL is a value byte or optional
    // whitespace, so the value is that run, trimmed. (Those bytes are not letters, so
    // none comes before the colon.) A tab stops the search too: the exact path takes such
    // lines.
    let end = match first_flag(&words, ctl_or_del) {
        Some(i) => start + i,
        None => find_ctl(buf, start + 32)?,
    };
    let next = match buf.get(end..end + 2)? {
        [b'\r', b'\n'] => end + 2,
        [b'\n', _] => end + 1,
        _ => return None,
    };
    Some((colon, trim_ows(slice(buf, colon + 1, end)), next))
}

/// The 32 bytes of `buf` from `at` as four little-endian words, zeros past its end.
#[inline(always)]
fn words(buf: &[u8], at: usize) -> [u64; 4] {
    match buf.get(at..).and_then(<[u8]>::first_chunk::<32>) {
        Some(window) => to_words(window),
        None => padded_words(buf.get(at..).unwrap_or_default()),
    }
}

#[inline(always)]
fn to_words(window: &[u8; 32]) -> [u64; 4] {
    let (chunks, _) = window.as_chunks::<8>();
    let word = |i: usize| chunks.get(i).map_or(0, |c| u64::from_le_bytes(*c));
    [word(0), word(1), word(2), word(3)]
}

/// [`words`] near the end of the buffer.
#[cold]
#[inline(never)]
fn padded_words(rest: &[u8]) -> [u64; 4] {
    let mut window = [0u8; 32];
    for (w, r) in window.iter_mut().zip(rest) {
        *w = *r;
    }
    to_words(&window)
}

/// The index of the first byte of the four words that `flags` flags, if any.
#[inline(always)]
fn first_flag(words: &[u64; 4], flags: impl Fn(u64) -> u64) -> Option<usize> {
    let [a, b, c, d] = *words;
    let low = u128::from(flags(a)) | u128::from(flags(b)) << 64;
    let high = u128::from(flags(c)) | u128::from(flags(d)) << 64;
    let bit = if low != 0 { low.trailing_zeros() } else { 128 + high.trailing_zeros() };
    (bit < 256).then_some((bit / 8) as usize)
}

/// A header line the exact way, byte by byte where it matters: for the lines [`line()`]
/// does not take.
#[cold]
#[inline(never)]
fn exact_line(buf: &[u8], start: usize) -> Result<(usize, &[u8], usize), Stop> {
    let colon = name_end(buf, start)?;
    let (value, next) = value(buf, colon + 1)?;
    Ok((colon, value, next))
}

/// The index of the `:` that ends the header name starting at `start` (a token byte).
#[inline(always)]
fn name_end(buf: &[u8], start: usize) -> Result<usize, Stop> {
    let mut at = start + 1;
    // Eight bytes at a time while they are letters and `-`, as almost every name is.
    while let Some((word, _)) = buf.get(at..).and_then(<[u8]>::split_first_chunk::<8>) {
        let flags = not_letter_or_hyphen(u64::from_le_bytes(*word));
        if flags == 0 {
            at += 8;
            continue;
        }
        at += (flags.trailing_zeros() / 8) as usize;
        match byte(buf, at)? {
            b':' => return Ok(at),
            b if is_token(b) => at += 1,
            _ => return Err(http(HttpErrorKind::HeaderName)),
        }
    }
    loop {
        match byte(buf, at)? {
            b':' => return Ok(at),
            b if is_token(b) => at += 1,
            _ => return Err(http(HttpErrorKind::HeaderName)),
        }
    }
}

/// The header value after the colon at `start - 1`, without surrounding spaces and tabs,
/// and the index after its line end.
#[inline(always)]
fn value(buf: &[u8], start: usize) -> Result<(&[u8], usize), Stop> {
    let mut i = start;
    loop {
        match byte(buf, i)? {
            b' ' | b'\t' => i += 1,
            b'\r' | b'\n' => {
                let next = line_end(buf, i, HttpErrorKind::HeaderValue)?;
                return Ok((&[], next));
            }
            b if is_value_stop(b) => return Err(http(HttpErrorKind::HeaderValue)),
            _ => break,
        }
    }
    let end = find(buf, i, value_stops, is_value_stop).ok_or(Stop::Partial)?;
    let next = line_end(buf, end, HttpErrorKind::HeaderValue)?;
    let value = slice(buf, i, end);
    let trimmed = match value.iter().rposition(|&b| b != b' ' && b != b'\t') {
        Some(last) => slice(value, 0, last + 1),
        None => value,
    };
    Ok((trimmed, next))
}

/// A byte that ends a header value: control characters other than tab, and DEL.
#[inline(always)]
const fn is_value_stop(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// RFC 9110 `tchar`: the bytes of a method or header name.
#[inline(always)]
pub(super) fn is_token(b: u8) -> bool {
    TOKEN.get(usize::from(b)).copied().unwrap_or(false)
}

// Evaluated at compile time: an index out of range fails the build, never a run.
#[allow(clippy::indexing_slicing)]
static TOKEN: [bool; 256] = {
    let mut map = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        map[i] = b.is_ascii_alphanumeric()
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

/// Bytes that end a request target: controls, space and DEL.
#[inline(always)]
const fn uri_stops(x: u64) -> u64 {
    below(x, 0x21) | equal(x, 0x7f)
}

/// Flags the bytes of `x` that are neither ASCII letters nor `-`.
#[inline(always)]
const fn not_letter_or_hyphen(x: u64) -> u64 {
    // Setting bit 5 maps 'A'..='Z' to 'a'..='z' (and nothing else lands there).
    let low = (x | (LO * 0x20)) & !HI;
    let from_a = low + LO * (0x80 - b'a' as u64); // bit 7: low >= 'a'
    let past_z = low + LO * (0x80 - b'z' as u64 - 1); // bit 7: low > 'z'
    let y = x ^ (LO * b'-' as u64);
    // Bit 7: the byte is not '-'.
    let not_hyphen = ((y & !HI) + !HI) | y;
    // Flag: not a letter (below 'a', past 'z', or a byte >= 0x80) and not '-'.
    (!from_a | past_z | x) & not_hyphen & HI
}

/// Flags control characters (tab included) and DEL: one addition fewer than
/// [`value_stops`], for the fast path, which leaves tabs to the exact one.
#[inline(always)]
const fn ctl_or_del(x: u64) -> u64 {
    let low = x & !HI;
    let at_least_space = low + LO * 0x60; // bit 7: low 7 bits >= 0x20
    let del = low + LO; // bit 7: low 7 bits == 0x7f
    !x & (!at_least_space | del) & HI
}

/// Bytes that end a header value: controls except tab, and DEL.
#[inline(always)]
const fn value_stops(x: u64) -> u64 {
    (below(x, 0x20) & !equal(x, b'\t')) | equal(x, 0x7f)
}

/// The index of the first control character (tab included) or DEL at or after `from`,
/// 16 bytes at a time.
#[inline(always)]
fn find_ctl(buf: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let Some((block, _)) = buf.get(at..)?.split_first_chunk::<16>() else {
            return find(buf, at, ctl_or_del, |b| b < 0x20 || b == 0x7f);
        };
        let [a, b] = block.as_chunks::<8>().0 else { return None };
        let flags = u128::from(ctl_or_del(u64::from_le_bytes(*a)))
            | u128::from(ctl_or_del(u64::from_le_bytes(*b))) << 64;
        if flags != 0 {
            return Some(at + (flags.trailing_zeros() / 8) as usize);
        }
        at += 16;
    }
}

/// The index of the first byte at or after `from` that `stops` flags (`is_stop` is the
/// same test on one byte, for the tail shorter than a word).
#[inline(always)]
fn find(
    buf: &[u8],
    from: usize,
    stops: impl Fn(u64) -> u64,
    is_stop: impl Fn(u8) -> bool,
) -> Option<usize> {
    let rest = buf.get(from..)?;
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
                    assert_eq!(flag(uri_stops(x)), b <= b' ' || b == 0x7f, "{b:#x}");
                    assert_eq!(
                        flag(not_letter_or_hyphen(x)),
                        !(b.is_ascii_alphabetic() || b == b'-'),
                        "{b:#x}"
                    );
                    assert_eq!(flag(value_stops(x)), is_value_stop(b), "{b:#x}");
                    assert_eq!(flag(ctl_or_del(x)), b < 0x20 || b == 0x7f, "{b:#x}");
                }
            }
        }
    }

    #[test]
    fn token_table_is_rfc9110_tchar() {
        let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        for b in 0..=255u8 {
            assert_eq!(is_token(b), tchar(b), "{b:#x}");
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
