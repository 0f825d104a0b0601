//! The `Sec-WebSocket-Extensions` grammar (RFC 6455 section 9.1), read without allocating:
//!
//! ```text
//! extension-list = 1#extension
//! extension      = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//! ```
//!
//! with optional whitespace around separators, empty list elements allowed (RFC 9110
//! section 5.6.1) and the header possibly split over several lines. Separators inside a
//! quoted string do not count.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use crate::handshake::ExtensionError;

/// One extension of the list: its name and its raw parameters (after the first `;`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Item<'a> {
    pub(crate) name: &'a [u8],
    params: &'a [u8],
}

/// One parameter: its name and, if it has one, its value (a token, or a quoted string with
/// its quotes removed and its escapes still in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Param<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) value: Option<Value<'a>>,
}

/// A parameter value as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Token(&'a [u8]),
    /// The inside of a quoted string, backslash escapes not yet removed.
    Quoted(&'a [u8]),
}

impl<'a> Value<'a> {
    /// The value's bytes with escapes removed, one at a time.
    pub(crate) fn bytes(self) -> impl Iterator<Item = u8> + Clone + 'a {
        let (raw, quoted) = match self {
            Self::Token(raw) => (raw, false),
            Self::Quoted(raw) => (raw, true),
        };
        let mut escaped = false;
        raw.iter().filter_map(move |&b| {
            if quoted && !escaped && b == b'\\' {
                escaped = true;
                return None;
            }
            escaped = false;
            Some(b)
        })
    }
}

/// Every extension in `lines` (the values of all `Sec-WebSocket-Extensions` headers, in
/// order), each checked for syntax before it is handed out.
pub(crate) fn items<'a, I>(lines: I) -> impl Iterator<Item = Result<Item<'a>, ExtensionError>>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    lines
        .into_iter()
        .flat_map(|line| split(line, b','))
        .map(trim)
        .filter(|element| !element.is_empty())
        .map(item)
}

/// Checks the syntax of the whole list, so that nothing is decided on a malformed header.
pub(crate) fn check<'a, I>(lines: I) -> Result<(), ExtensionError>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    for item in items(lines) {
        for param in item?.params() {
            param?;
        }
    }
    Ok(())
}

impl<'a> Item<'a> {
    /// The parameters, each checked for syntax.
    pub(crate) fn params(&self) -> impl Iterator<Item = Result<Param<'a>, ExtensionError>> {
        // `item` saw a `;` before `params` if there are any: every piece must be a param.
        let none = self.params.is_empty();
        split(self.params, b';').filter(move |_| !none).map(|p| param(trim(p)))
    }
}

fn item(element: &[u8]) -> Result<Item<'_>, ExtensionError> {
    let (name, params) = match element.iter().position(|&b| b == b';') {
        Some(at) => {
            let (name, rest) = element.split_at(at);
            let params = rest.get(1..).unwrap_or_default();
            if trim(params).is_empty() {
                return Err(ExtensionError::Syntax);
            }
            (trim(name), params)
        }
        None => (element, &[][..]),
    };
    if !is_token(name) {
        return Err(ExtensionError::Syntax);
    }
    // Quotes must balance here already: `split` would hide an unterminated one.
    if !quotes_balance(params) {
        return Err(ExtensionError::Syntax);
    }
    Ok(Item { name, params })
}

fn param(p: &[u8]) -> Result<Param<'_>, ExtensionError> {
    let Some(at) = p.iter().position(|&b| b == b'=') else {
        return if is_token(p) {
            Ok(Param { name: p, value: None })
        } else {
            Err(ExtensionError::Syntax)
        };
    };
    let (name, rest) = p.split_at(at);
    let name = trim(name);
    let raw = trim(rest.get(1..).unwrap_or_default());
    if !is_token(name) {
        return Err(ExtensionError::Syntax);
    }
    let value = match raw {
        [b'"', inner @ .., b'"'] if quoted_ok(inner) => Value::Quoted(inner),
        token if is_token(token) => Value::Token(token),
        _ => return Err(ExtensionError::Syntax),
    };
    Ok(Param { name, value: Some(value) })
}

/// Splits at `sep` outside quoted strings.
fn split(s: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
    let mut in_quotes = false;
    let mut escaped = false;
    s.split(move |&b| {
        if in_quotes {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_quotes = false,
                _ => {}
            }
            false
        } else if b == b'"' {
            in_quotes = true;
            false
        } else {
            b == sep
        }
    })
}

/// Whether every quoted string in `s` is closed.
fn quotes_balance(s: &[u8]) -> bool {
    let (mut in_quotes, mut escaped) = (false, false);
    for &b in s {
        match (in_quotes, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') | (false, _, b'"') => in_quotes = !in_quotes,
            _ => {}
        }
    }
    !in_quotes
}

/// The inside of a quoted string: visible characters, spaces and tabs, `"` and `\` only
/// escaped (RFC 9110 section 5.6.4).
fn quoted_ok(inner: &[u8]) -> bool {
    let mut escaped = false;
    for &b in inner {
        let visible = b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80;
        if !visible {
            return false;
        }
        match (escaped, b) {
            (true, _) => escaped = false,
            (false, b'\\') => escaped = true,
            (false, b'"') => return false,
            _ => {}
        }
    }
    !escaped
}

/// An HTTP token (RFC 9110 section 5.6.2): one or more `tchar`.
fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Strips spaces and tabs from both ends.
fn trim(s: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = s.iter().position(|b| !is_ows(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;

    type Parsed<'a> = Vec<(&'a [u8], Vec<(&'a [u8], Option<Vec<u8>>)>)>;

    fn parse<'a>(lines: &[&'a str]) -> Result<Parsed<'a>, ExtensionError> {
        check(lines.iter().map(|l| l.as_bytes()))?;
        items(lines.iter().map(|l| l.as_bytes()))
            .map(|item| {
                let item = item?;
                let params = item
                    .params()
                    .map(|p| p.map(|p| (p.name, p.value.map(|v| v.bytes().collect()))))
                    .collect::<Result<_, _>>()?;
                Ok((item.name, params))
            })
            .collect()
    }

    #[test]
    fn browser_and_library_offers() {
        let chrome = parse(&["permessage-deflate; client_max_window_bits"]).unwrap();
        assert_eq!(
            chrome,
            [(&b"permessage-deflate"[..], std::vec![(&b"client_max_window_bits"[..], None)])]
        );
        let two = parse(&[
            "permessage-deflate; server_max_window_bits=10 ;client_no_context_takeover,",
            " ,x-webkit-deflate-frame, permessage-deflate ; client_max_window_bits = \"1\\2\"",
        ])
        .unwrap();
        assert_eq!(two.len(), 3);
        assert_eq!(two[0].1[0], (&b"server_max_window_bits"[..], Some(b"10".to_vec())));
        assert_eq!(two[0].1[1], (&b"client_no_context_takeover"[..], None));
        assert_eq!(two[1], (&b"x-webkit-deflate-frame"[..], std::vec![]));
        assert_eq!(two[2].1[0], (&b"client_max_window_bits"[..], Some(b"12".to_vec())));
    }

    #[test]
    fn separators_inside_quotes_do_not_split() {
        let parsed = parse(&["foo; a=\"x, y; z\", bar"]).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].1[0].1.as_deref(), Some(&b"x, y; z"[..]));
    }

    #[test]
    fn malformed_lists_are_syntax_errors() {
        for bad in [
            "permessage-deflate;",
            "permessage-deflate; ",
            "permessage-deflate;;a",
            "; a",
            "permessage deflate",
            "permessage-deflate; a=",
            "permessage-deflate; =1",
            "permessage-deflate; a=\"1",
            "permessage-deflate; a=\"1\"x",
            "permessage-deflate; a=1 2",
            "permessage-deflate; a=\"\\\"",
            "p\u{e9}",
            "x; a=(b)",
        ] {
            assert_eq!(parse(&[bad]), Err(ExtensionError::Syntax), "{bad:?}");
        }
        assert_eq!(parse(&["", " , "]).unwrap(), Parsed::new(), "empty elements are allowed");
    }
}
