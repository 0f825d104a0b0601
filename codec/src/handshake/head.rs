//! The HTTP head parser behind [`server::parse_request`](super::server::parse_request) and
//! [`client::parse_response`](super::client::parse_response).
//!
//! It accepts and rejects exactly what `httparse` 1.10 (`Request::parse` and
//! `Response::parse`, default `ParserConfig`) accepts and rejects, with the same `consumed`
//! count, request or status line and headers, the same error kind for every malformed head,
//! `Partial` for every head that is correct so far but incomplete, and `TooManyHeaders`
//! only once a header that does not fit the array is complete. `tests/request_parser.rs`
//! (proptests) and the `request_parser` and `handshake_response` fuzz targets check this
//! against `httparse` itself. The grammar:
//!
//! - any number of empty lines (`\r\n` or a bare `\n`) before the first line;
//! - a request line: the method (one or more token characters, RFC 9110 `tchar`), one
//!   space, the target (one or more bytes `0x21..=0x7E` or `0x80..=0xFF`, valid UTF-8), one
//!   space, `HTTP/1.0` or `HTTP/1.1`, a line end;
//! - or a status line: `HTTP/1.0` or `HTTP/1.1`, one space, three digits, then a line end,
//!   or one space and a reason phrase of tabs, spaces, visible ASCII and obs-text
//!   (`0x80..=0xFF`; a reason with obs-text is reported empty) up to the line end;
//! - header lines: a token name, `:`, optional spaces and tabs, a value of tabs and bytes
//!   `0x20..=0x7E` and `0x80..=0xFF` (obs-text) with trailing spaces and tabs trimmed;
//! - an empty line.
//!
//! Every line end is `\r\n` or a bare `\n`. A `\r` followed by anything but `\n` is an
//! error (`NewLine` on the request line and the final empty line, `Status` on the status
//! line, `HeaderValue` after a header value).
//!
//! Speed and size: it mirrors httparse step by step. Methods, targets and header names,
//! which are short, are read byte by byte against one table of byte classes
//! ([`bytes`](super::bytes)), by one function; header values, which are most of a head,
//! are searched a machine word at a time (SWAR). (A fixed-work path for the first 32 bytes of
//! a common header line, which saved a mispredicted loop exit per line, and SWAR searches
//! for names and targets were dropped: together 1,460 bytes in the minimal firmware
//! server; `BENCHMARKS.md` has the trade.) The first 1 KiB of the buffer is checked as
//! UTF-8 once, and the method, target and header names are taken from that `str` (and
//! the values of the fields the upgrade checks, as they are recorded) instead of a check
//! each.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::bytes::{is, is_token, is_value_stop, value_end, TOKEN, URI};
use super::header::Header;
use super::{HandshakeError, HttpErrorKind};

/// A complete request head: the request line, how many headers were filled and where the
/// head ends.
#[derive(Debug)]
pub(super) struct RequestHead<'b> {
    pub(super) method: &'b str,
    pub(super) path: &'b str,
    pub(super) version: u8,
    pub(super) headers: usize,
    pub(super) consumed: usize,
}

/// A complete response head: the status line, how many headers were filled and where the
/// head ends.
#[derive(Debug)]
pub(super) struct ResponseHead<'b> {
    pub(super) version: u8,
    pub(super) status: u16,
    pub(super) reason: &'b str,
    pub(super) headers: usize,
    pub(super) consumed: usize,
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

/// `Ok(None)` for [`Stop::Partial`], the error for [`Stop::Error`].
fn finish<T>(parsed: Result<T, Stop>) -> Result<Option<T>, HandshakeError> {
    match parsed {
        Ok(head) => Ok(Some(head)),
        Err(Stop::Partial) => Ok(None),
        Err(Stop::Error(e)) => Err(e),
    }
}

/// Parses a request head from the start of `buf`, filling `headers` from the front and
/// handing each header line to `record` as it is read: its name, its value and a UTF-8
/// prefix of `buf` (for [`as_text`]).
///
/// `Ok(None)` means partial: read more and call again.
pub(super) fn parse_request<'b>(
    buf: &'b [u8],
    headers: &mut [Header<'b>],
    record: impl FnMut(&'b str, &'b [u8], &'b str),
) -> Result<Option<RequestHead<'b>>, HandshakeError> {
    finish(request(buf, headers, record))
}

/// Parses a response head from the start of `buf`, filling `headers` from the front.
///
/// `Ok(None)` means partial: read more and call again.
pub(super) fn parse_response<'b>(
    buf: &'b [u8],
    headers: &mut [Header<'b>],
) -> Result<Option<ResponseHead<'b>>, HandshakeError> {
    finish(response(buf, headers))
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

/// The first [`TEXT_WINDOW`] bytes of `buf` as a `str`, or empty if they are not UTF-8
/// (then each name and kept value is checked on its own: slower, but only for heads with
/// bytes that are not UTF-8, or a character cut at the window's end).
fn utf8_prefix(buf: &[u8]) -> &str {
    core::str::from_utf8(buf.get(..TEXT_WINDOW).unwrap_or(buf)).unwrap_or_default()
}

/// `bytes`, a part of the buffer that `text` is a UTF-8 prefix of, as a `str`: taken from
/// `text` when it lies inside it (found by address: then they are the same memory), else
/// checked on its own.
pub(super) fn as_text<'b>(text: &'b str, bytes: &'b [u8]) -> Option<&'b str> {
    let offset = (bytes.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    match text.get(offset..offset.wrapping_add(bytes.len())) {
        Some(text) => Some(text),
        None => core::str::from_utf8(bytes).ok(),
    }
}

/// `buf[from..to]` as a `str`, through [`as_text`].
#[inline(always)]
fn as_str<'b>(text: &'b str, buf: &'b [u8], from: usize, to: usize) -> Option<&'b str> {
    as_text(text, slice(buf, from, to))
}

fn request<'b>(
    buf: &'b [u8],
    headers: &mut [Header<'b>],
    mut record: impl FnMut(&'b str, &'b [u8], &'b str),
) -> Result<RequestHead<'b>, Stop> {
    let text = utf8_prefix(buf);
    let start = skip_empty_lines(buf)?;
    let (method, at) = method(text, buf, start)?;
    let (path, at) = target(text, buf, at)?;
    let (version, at) = version(buf, at)?;
    let at = line_end(buf, at, HttpErrorKind::NewLine)?;
    let (count, consumed) =
        header_lines(text, buf, at, headers, |name, value| record(name, value, text))?;
    Ok(RequestHead { method, path, version, headers: count, consumed })
}

fn response<'b>(buf: &'b [u8], headers: &mut [Header<'b>]) -> Result<ResponseHead<'b>, Stop> {
    let start = skip_empty_lines(buf)?;
    let (version, at) = version(buf, start)?;
    if byte(buf, at)? != b' ' {
        return Err(http(HttpErrorKind::Version));
    }
    let (status, at) = status_code(buf, at + 1)?;
    // The reason phrase is optional: a line end may follow the code at once.
    let (reason, at) = match byte(buf, at)? {
        b' ' => reason(buf, at + 1)?,
        b'\r' | b'\n' => ("", line_end(buf, at, HttpErrorKind::Status)?),
        _ => return Err(http(HttpErrorKind::Status)),
    };
    let text = utf8_prefix(buf);
    let (count, consumed) = header_lines(text, buf, at, headers, |_, _| {})?;
    Ok(ResponseHead { version, status, reason, headers: count, consumed })
}

/// The header lines from `at` to the empty line that ends the head, into `headers` and
/// through `record` (name and value) as each is read: how many there are and the index
/// after the head.
#[inline(always)]
fn header_lines<'b>(
    text: &'b str,
    buf: &'b [u8],
    mut at: usize,
    headers: &mut [Header<'b>],
    mut record: impl FnMut(&'b str, &'b [u8]),
) -> Result<(usize, usize), Stop> {
    let mut count = 0;
    loop {
        let (colon, value, next) = match byte(buf, at)? {
            b'\r' | b'\n' => return Ok((count, line_end(buf, at, HttpErrorKind::NewLine)?)),
            b if !is_token(b) => return Err(http(HttpErrorKind::HeaderName)),
            _ => header_line(buf, at)?,
        };
        let name = as_str(text, buf, at, colon).ok_or(http(HttpErrorKind::HeaderName))?;
        let slot = headers.get_mut(count).ok_or(Stop::Error(HandshakeError::TooManyHeaders))?;
        *slot = Header { name, value };
        record(name, value);
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
    let end = token_until(buf, start, b' ', HttpErrorKind::Token)?;
    let method = as_str(text, buf, start, end).ok_or(http(HttpErrorKind::Token))?;
    Ok((method, end + 1))
}

/// The request target and the index after the space that ends it.
#[inline(always)]
fn target<'b>(text: &'b str, buf: &'b [u8], start: usize) -> Result<(&'b str, usize), Stop> {
    let end = span(buf, start, URI)?;
    if byte(buf, end)? != b' ' || end == start {
        return Err(http(HttpErrorKind::Token));
    }
    let path = as_str(text, buf, start, end).ok_or(http(HttpErrorKind::Token))?;
    Ok((path, end + 1))
}

/// The end of a token (a method or header name) that starts at `start` and must be
/// followed by `end`: the index of that byte. `kind` is the error for an empty token or
/// any other byte after it.
fn token_until(buf: &[u8], start: usize, end: u8, kind: HttpErrorKind) -> Result<usize, Stop> {
    let at = span(buf, start, TOKEN)?;
    if at == start || byte(buf, at)? != end {
        return Err(http(kind));
    }
    Ok(at)
}

/// The index of the first byte at or after `from` that is not in `class` ([`TOKEN`],
/// [`URI`]); `Partial` if the buffer ends first. Byte by byte: one copy serves the method,
/// the target and every header name, which are short.
fn span(buf: &[u8], from: usize, class: u8) -> Result<usize, Stop> {
    let rest = buf.get(from..).unwrap_or_default();
    match rest.iter().position(|&b| !is(b, class)) {
        Some(i) => Ok(from + i),
        None => Err(Stop::Partial),
    }
}

/// The minor version of `HTTP/1.x` and the index after it.
///
/// Byte by byte: a wrong byte is an error, the end of the buffer before one is partial.
fn version(buf: &[u8], start: usize) -> Result<(u8, usize), Stop> {
    let mut at = start;
    for &expected in b"HTTP/1." {
        if byte(buf, at)? != expected {
            return Err(http(HttpErrorKind::Version));
        }
        at += 1;
    }
    match byte(buf, at)? {
        minor @ (b'0' | b'1') => Ok((minor - b'0', at + 1)),
        _ => Err(http(HttpErrorKind::Version)),
    }
}

/// The three-digit status code and the index after it.
fn status_code(buf: &[u8], start: usize) -> Result<(u16, usize), Stop> {
    let mut code = 0;
    for i in start..start + 3 {
        match byte(buf, i)? {
            d @ b'0'..=b'9' => code = code * 10 + u16::from(d - b'0'),
            _ => return Err(http(HttpErrorKind::Status)),
        }
    }
    Ok((code, start + 3))
}

/// The reason phrase from `start` to its line end, and the index after the line end. A
/// reason with obs-text (bytes `0x80..=0xFF`) is reported empty, as httparse does.
fn reason(buf: &[u8], start: usize) -> Result<(&str, usize), Stop> {
    let mut i = start;
    let mut obs_text = false;
    loop {
        match byte(buf, i)? {
            b'\r' | b'\n' => break,
            b'\t' | b' '..=b'~' => {}
            0x80..=0xff => obs_text = true,
            _ => return Err(http(HttpErrorKind::Status)),
        }
        i += 1;
    }
    let next = line_end(buf, i, HttpErrorKind::Status)?;
    // Tabs, spaces and visible ASCII only: always UTF-8.
    let reason =
        if obs_text { "" } else { core::str::from_utf8(slice(buf, start, i)).unwrap_or("") };
    Ok((reason, next))
}

/// A header line whose first byte, at `start`, is a token byte (the caller checked it):
/// the index of the colon, the trimmed value and the index after the line end.
// Called from the header loop alone: inlined there, 116 bytes less on thumbv7em and 100
// of flash on riscv32imc than a call (thumbv6m +4).
#[inline]
fn header_line(buf: &[u8], start: usize) -> Result<(usize, &[u8], usize), Stop> {
    let colon = span(buf, start + 1, TOKEN)?;
    if byte(buf, colon)? != b':' {
        return Err(http(HttpErrorKind::HeaderName));
    }
    let (value, next) = value(buf, colon + 1)?;
    Ok((colon, value, next))
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
    let end = value_end(buf, i).ok_or(Stop::Partial)?;
    let next = line_end(buf, end, HttpErrorKind::HeaderValue)?;
    let value = slice(buf, i, end);
    let trimmed = match value.iter().rposition(|&b| b != b' ' && b != b'\t') {
        Some(last) => slice(value, 0, last + 1),
        None => value,
    };
    Ok((trimmed, next))
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    /// Version, status, reason and `consumed`, `None` if partial.
    type StatusLine<'b> = Result<Option<(u8, u16, &'b str, usize)>, HandshakeError>;

    /// The status line of `buf`, or where parsing stopped.
    fn status_line(buf: &[u8]) -> StatusLine<'_> {
        let mut headers = [Header::EMPTY; 2];
        let head = parse_response(buf, &mut headers)?;
        Ok(head.map(|h| (h.version, h.status, h.reason, h.consumed)))
    }

    #[test]
    fn status_lines_table() {
        use HttpErrorKind::{Status, Version};
        let error = |kind| Err(HandshakeError::Http(kind));
        let cases: [(&[u8], StatusLine<'_>); 14] = [
            (
                b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
                Ok(Some((1, 101, "Switching Protocols", 36))),
            ),
            (b"\r\n\nHTTP/1.0 404 Not Found\n\n", Ok(Some((0, 404, "Not Found", 27)))),
            (b"HTTP/1.1 200\r\n\r\n", Ok(Some((1, 200, "", 16)))),
            (b"HTTP/1.1 200 \tOK \r\n\r\n", Ok(Some((1, 200, "\tOK ", 21)))),
            (b"HTTP/1.1 200 caf\xc3\xa9\r\n\r\n", Ok(Some((1, 200, "", 22)))),
            (b"HTTP/1.1 20", Ok(None)),
            (b"HTTP/1.", Ok(None)),
            (b"HTTP/1.1 200 OK\r", Ok(None)),
            (b"HTTP/1.1 200 OK\rX", error(Status)),
            (b"HTTP/1.1  200 OK\r\n\r\n", error(Status)),
            (b"HTTP/1.1 2x0 OK\r\n\r\n", error(Status)),
            (b"HTTP/1.1 200 O\x7fK\r\n\r\n", error(Status)),
            (b"HTTP/1.1\t200 OK\r\n\r\n", error(Version)),
            (b"HTTP/2.0 200 OK\r\n\r\n", error(Version)),
        ];
        for (buf, expected) in cases {
            assert_eq!(status_line(buf), expected, "{:?}", core::str::from_utf8(buf));
        }
    }

    #[test]
    fn request_and_response_share_the_header_grammar() {
        let lines = b"Upgrade: websocket\r\nX-Odd_Name.1~: \t v a l \t\r\nEmpty:\r\n\r\n";
        let mut request =
            *b"GET / HTTP/1.1\r\n____________________________________________________________";
        let mut response =
            *b"HTTP/1.1 101 OK\r\n___________________________________________________________";
        for (buf, line_len) in [(&mut request[..], 16), (&mut response[..], 17)] {
            buf[line_len..line_len + lines.len()].copy_from_slice(lines);
            let end = line_len + lines.len();
            let mut headers = [Header::EMPTY; 4];
            let (count, consumed) = if line_len == 16 {
                let mut recorded = std::vec::Vec::new();
                let record = |name, value, _| recorded.push(Header { name, value });
                let head = parse_request(&buf[..end], &mut headers, record).unwrap().unwrap();
                // Each line was recorded as it was read, as it was stored.
                assert_eq!(recorded, headers[..3]);
                (head.headers, head.consumed)
            } else {
                let head = parse_response(&buf[..end], &mut headers).unwrap().unwrap();
                (head.headers, head.consumed)
            };
            assert_eq!((count, consumed), (3, end));
            assert_eq!(headers[1], Header { name: "X-Odd_Name.1~", value: b"v a l" });
            assert_eq!(headers[2], Header { name: "Empty", value: b"" });
        }
    }
}
