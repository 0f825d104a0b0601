//! [`Header`], one received header field, and the look-ups the handshake makes in a list
//! of them.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use core::fmt;

use super::{HandshakeError, HeaderField};

/// One header field of a parsed HTTP head, borrowed from the received bytes.
///
/// [`server::parse_request`](super::server::parse_request) and
/// [`client::parse_response`](super::client::parse_response) fill a caller's array of
/// these from the front; start it with [`Header::EMPTY`]. The name is a token (RFC 9110
/// section 5.6.2), so it is ASCII; the value is bytes, without the optional whitespace
/// around it, since HTTP allows non-ASCII bytes there.
///
/// # Examples
///
/// ```
/// use wscodec::handshake::{server, Header, MAX_HEADERS};
/// use wscodec::Status;
///
/// let mut headers = [Header::EMPTY; MAX_HEADERS];
/// let wire = b"GET / HTTP/1.1\r\nHost: example.com\r\nX-Id:  7 \r\n\r\n";
/// let Status::Complete { value: request, .. } = server::parse_request(wire, &mut headers)?
/// else { panic!("read more bytes and call again") };
/// assert_eq!(request.headers()[1], Header { name: "X-Id", value: b"7" });
/// # Ok::<(), wscodec::HandshakeError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Header<'b> {
    /// The name as received (compare it ignoring ASCII case).
    pub name: &'b str,
    /// The value, without leading and trailing spaces and tabs.
    pub value: &'b [u8],
}

impl Header<'static> {
    /// An empty header, to fill an array with before parsing.
    pub const EMPTY: Self = Self { name: "", value: b"" };
}

impl fmt::Debug for Header<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Header");
        s.field("name", &self.name);
        match core::str::from_utf8(self.value) {
            Ok(text) => s.field("value", &text),
            Err(_) => s.field("value", &self.value),
        };
        s.finish()
    }
}

/// The first header named `name` (ASCII case-insensitive).
pub(super) fn find<'b>(headers: &[Header<'b>], name: &str) -> Option<&'b [u8]> {
    headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value)
}

/// All values of the headers named `name`, trimmed of optional whitespace.
fn all<'h, 'b>(headers: &'h [Header<'b>], name: &'h str) -> impl Iterator<Item = &'b [u8]> + 'h {
    headers.iter().filter(move |h| h.name.eq_ignore_ascii_case(name)).map(|h| trim_ows(h.value))
}

/// The only value of header `name`: `Ok(None)` if absent, an error if repeated.
pub(super) fn single<'b>(
    headers: &[Header<'b>],
    field: HeaderField,
) -> Result<Option<&'b [u8]>, HandshakeError> {
    let mut values = all(headers, field.name());
    let first = values.next();
    match values.next() {
        Some(_) => Err(HandshakeError::DuplicateHeader(field)),
        None => Ok(first),
    }
}

/// Whether any header `name` has `token` in its comma-separated list (case-insensitive).
pub(super) fn has_token(headers: &[Header<'_>], name: &str, token: &str) -> bool {
    all(headers, name).any(|v| value_has_token(v, token))
}

/// Whether the comma-separated list `value` has the item `token` (ASCII case-insensitive,
/// items trimmed of optional whitespace).
pub(super) fn value_has_token(value: &[u8], token: &str) -> bool {
    value.split(|&b| b == b',').any(|t| trim_ows(t).eq_ignore_ascii_case(token.as_bytes()))
}

/// Strips spaces and horizontal tabs (HTTP "optional whitespace") from both ends.
#[inline]
pub(super) fn trim_ows(v: &[u8]) -> &[u8] {
    let (start, end) = ows_bounds(v);
    v.get(start..end).unwrap_or_default()
}

/// Strips HTTP optional whitespace from a `str`.
pub(super) fn trim_ows_str(v: &str) -> &str {
    let (start, end) = ows_bounds(v.as_bytes());
    v.get(start..end).unwrap_or_default()
}

/// Where `v` starts and ends without optional whitespace around it.
#[inline]
fn ows_bounds(v: &[u8]) -> (usize, usize) {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = v.iter().position(|b| !is_ows(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    (start, end)
}

/// The items of the comma-separated list `list` (RFC 9110 section 5.6.1), trimmed of
/// optional whitespace, empty ones skipped.
///
/// Split by hand rather than with `str::split`, whose search keeps a panic path that
/// the optimizer cannot remove (`tests/panic_never.rs`).
pub(super) fn list_items(list: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(list);
    core::iter::from_fn(move || loop {
        let current = rest?;
        let (item, tail) = match current.bytes().position(|b| b == b',') {
            Some(comma) => (current.get(..comma)?, current.get(comma + 1..)),
            None => (current, None),
        };
        rest = tail;
        let item = trim_ows_str(item);
        if !item.is_empty() {
            return Some(item);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h<'a>(name: &'a str, value: &'a str) -> Header<'a> {
        Header { name, value: value.as_bytes() }
    }

    #[test]
    fn token_lists_are_case_and_whitespace_tolerant() {
        let headers = [h("connection", "keep-alive,\tUpgrade "), h("Upgrade", "WebSocket")];
        assert!(has_token(&headers, "Connection", "upgrade"));
        assert!(has_token(&headers, "UPGRADE", "websocket"));
        assert!(!has_token(&headers, "Connection", "close"));
        assert!(!has_token(&headers, "Missing", "x"));
        // A token is a whole list item, not a substring.
        assert!(!has_token(&[h("Connection", "upgraded")], "Connection", "upgrade"));
    }

    #[test]
    fn token_may_be_in_a_later_header_line() {
        let headers = [h("Connection", "keep-alive"), h("Connection", "upgrade")];
        assert!(has_token(&headers, "connection", "Upgrade"));
    }

    #[test]
    fn trim_ows_table() {
        for (input, expected) in
            [("", ""), (" ", ""), ("\t a \t", "a"), ("a b", "a b"), ("  x", "x"), ("x  ", "x")]
        {
            assert_eq!(trim_ows(input.as_bytes()), expected.as_bytes(), "{input:?}");
            assert_eq!(trim_ows_str(input), expected, "{input:?}");
        }
    }

    #[test]
    fn list_items_are_trimmed_and_empty_ones_skipped() {
        extern crate std;
        use std::vec::Vec;
        for (list, items) in [
            ("", &[][..]),
            (" , ,\t", &[]),
            ("chat", &["chat"]),
            ("chat,  superchat ,", &["chat", "superchat"]),
            (",a,,b c\t,", &["a", "b c"]),
            ("é, ü", &["é", "ü"]),
        ] {
            assert_eq!(list_items(list).collect::<Vec<_>>(), items, "{list:?}");
        }
    }

    #[test]
    fn single_rejects_repeats_and_finds_first() {
        let headers = [h("Host", "a"), h("host", "b"), h("Origin", " o ")];
        assert_eq!(
            single(&headers, HeaderField::Host),
            Err(HandshakeError::DuplicateHeader(HeaderField::Host))
        );
        assert_eq!(single(&headers, HeaderField::Origin), Ok(Some(&b"o"[..])));
        assert_eq!(single(&headers, HeaderField::SecWebSocketKey), Ok(None));
        assert_eq!(find(&headers, "HOST"), Some(&b"a"[..]));
    }

    #[test]
    fn debug_shows_values_as_text_when_they_are_utf8() {
        extern crate std;
        use std::format;
        assert_eq!(
            format!("{:?}", h("Host", "example.com")),
            r#"Header { name: "Host", value: "example.com" }"#
        );
        let raw = Header { name: "X", value: b"\xff" };
        assert_eq!(format!("{raw:?}"), r#"Header { name: "X", value: [255] }"#);
    }
}
