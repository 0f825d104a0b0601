//! The one pass over a request's headers that
//! [`Request::validate`](super::server::Request::validate) makes: each header name is
//! classified once (by its length, then one ASCII case-insensitive compare) and the fields
//! the upgrade checks are recorded.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::header::{trim_ows, value_has_token, Header};

/// How many separate `Sec-WebSocket-Protocol` header lines a request may carry.
///
/// RFC 6455 section 11.3.4 allows the header to repeat in a request; each line may hold a
/// comma-separated list. More lines than this fail with
/// [`HandshakeError::DuplicateHeader`](super::HandshakeError::DuplicateHeader).
pub const MAX_PROTOCOL_LINES: usize = 4;

/// A field the upgrade reads: its first value (trimmed of optional whitespace) and whether
/// it appeared more than once.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Single<'b> {
    pub(super) first: Option<&'b [u8]>,
    pub(super) repeated: bool,
}

impl<'b> Single<'b> {
    #[inline]
    fn add(&mut self, value: &'b [u8]) {
        if self.first.is_some() {
            self.repeated = true;
        } else {
            self.first = Some(trim_ows(value));
        }
    }
}

/// What [`Request::validate`](super::server::Request::validate) needs from the headers.
#[derive(Debug, Default)]
pub(super) struct UpgradeFields<'b> {
    pub(super) host: Single<'b>,
    /// Some `Upgrade` header is present (with any value).
    pub(super) upgrade: bool,
    /// Some `Upgrade` header lists the token `websocket`.
    pub(super) upgrade_websocket: bool,
    /// Some `Connection` header lists the token `upgrade`.
    pub(super) connection_upgrade: bool,
    pub(super) version: Single<'b>,
    pub(super) key: Single<'b>,
    pub(super) origin: Single<'b>,
    /// The first [`MAX_PROTOCOL_LINES`] `Sec-WebSocket-Protocol` values, trimmed.
    pub(super) protocol_lines: [Option<&'b [u8]>; MAX_PROTOCOL_LINES],
    /// How many `Sec-WebSocket-Protocol` lines there are (all of them).
    pub(super) protocol_count: usize,
    /// The first `Sec-WebSocket-Extensions` value, untrimmed.
    pub(super) extensions: Option<&'b [u8]>,
}

/// The header names [`UpgradeFields::scan`] records, lowercase, in the order of its arms.
const FIELDS: [&str; 8] = [
    "host",
    "origin",
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
];

impl<'b> UpgradeFields<'b> {
    /// Classifies every header once.
    // Not inlined: at opt-level "z" the inlined copy made the minimal firmware server
    // 184 bytes larger (`scripts/firmware-budget`).
    #[inline(never)]
    pub(super) fn scan(headers: &[Header<'b>]) -> Self {
        let mut f = Self::default();
        for h in headers {
            let name = h.name.as_bytes();
            // The names differ in length, so most compares stop at the length.
            let field = FIELDS.iter().position(|lower| eq_lower(name, lower.as_bytes()));
            match field {
                Some(0) => f.host.add(h.value),
                Some(1) => f.origin.add(h.value),
                Some(2) => {
                    f.upgrade = true;
                    f.upgrade_websocket =
                        f.upgrade_websocket || value_has_token(h.value, "websocket");
                }
                Some(3) => {
                    f.connection_upgrade =
                        f.connection_upgrade || value_has_token(h.value, "upgrade");
                }
                Some(4) => f.key.add(h.value),
                Some(5) => f.version.add(h.value),
                Some(6) => {
                    if let Some(slot) = f.protocol_lines.get_mut(f.protocol_count) {
                        *slot = Some(trim_ows(h.value));
                    }
                    f.protocol_count += 1;
                }
                Some(7) => f.extensions = f.extensions.or(Some(h.value)),
                _ => {}
            }
        }
        f
    }
}

/// Whether `name` equals `lower` (lowercase ASCII letters and `-`) ignoring ASCII case,
/// for a `name` of token bytes, as every name from
/// [`parse_request`](super::server::parse_request) is. Setting bit 5 maps `A`..`Z` to
/// `a`..`z` and leaves `-`; among token bytes only those two map to a lowercase letter or
/// `-`, so one OR per word folds case. Compares eight bytes at a time (the last word
/// overlapping), four for names of four to seven bytes.
#[inline(always)]
fn eq_lower(name: &[u8], lower: &[u8]) -> bool {
    const FOLD: u64 = 0x2020_2020_2020_2020;
    let n = lower.len();
    if name.len() != n {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        s.get(at..).and_then(<[u8]>::first_chunk::<8>).map_or(0, |w| u64::from_le_bytes(*w))
    };
    let half = |s: &[u8], at: usize| {
        s.get(at..).and_then(<[u8]>::first_chunk::<4>).map_or(0, |w| u32::from_le_bytes(*w))
    };
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            if word(name, at) | FOLD != word(lower, at) {
                return false;
            }
            at += 8;
        }
        word(name, n - 8) | FOLD == word(lower, n - 8)
    } else if n >= 4 {
        let fold = FOLD as u32;
        half(name, 0) | fold == half(lower, 0) && half(name, n - 4) | fold == half(lower, n - 4)
    } else {
        name.iter().zip(lower).all(|(&a, &b)| a | 0x20 == b)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    fn h<'a>(name: &'a str, value: &'a str) -> Header<'a> {
        Header { name, value: value.as_bytes() }
    }

    #[test]
    fn fields_are_found_in_any_case_and_repeats_are_counted() {
        let headers = [
            h("HOST", " a "),
            h("host", "b"),
            h("Pragma", "no-cache"),
            h("uPgRaDe", "h2c, WebSocket"),
            h("User-Agent", "x"),
            h("connection", "keep-alive"),
            h("Connection", "Upgrade"),
            h("sec-websocket-key", "k"),
            h("SEC-WEBSOCKET-VERSION", " 13"),
            h("Sec-WebSocket-Protocol", "a"),
            h("Sec-WebSocket-Protocol", " b "),
            h("Sec-WebSocket-Extensions", " x "),
            h("Sec-WebSocket-Extensions", "y"),
            h("Hosts", "no"),
        ];
        let f = UpgradeFields::scan(&headers);
        assert_eq!((f.host.first, f.host.repeated), (Some(&b"a"[..]), true));
        assert!(f.upgrade && f.upgrade_websocket && f.connection_upgrade);
        assert_eq!((f.key.first, f.key.repeated), (Some(&b"k"[..]), false));
        assert_eq!(f.version.first, Some(&b"13"[..]));
        assert_eq!(f.origin.first, None);
        assert_eq!(f.protocol_count, 2);
        assert_eq!(f.protocol_lines[..2], [Some(&b"a"[..]), Some(&b"b"[..])]);
        assert_eq!(f.extensions, Some(&b" x "[..]));
    }

    #[test]
    fn eq_lower_matches_eq_ignore_ascii_case_on_tokens() {
        let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        for target in FIELDS {
            let t = target.as_bytes();
            // Every token byte at every position, in a name otherwise equal in mixed case.
            for at in 0..t.len() {
                for b in (0..=255u8).filter(|&b| tchar(b)) {
                    let mut name: std::vec::Vec<u8> = t
                        .iter()
                        .enumerate()
                        .map(|(i, &c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c })
                        .collect();
                    name[at] = b;
                    assert_eq!(eq_lower(&name, t), name.eq_ignore_ascii_case(t), "{name:?}");
                }
            }
            assert!(!eq_lower(&t[1..], t));
        }
    }

    #[test]
    fn names_of_the_right_length_but_other_letters_are_ignored() {
        let headers = [h("Hose", "x"), h("Upgrad3", "websocket"), h("Connectio-", "upgrade")];
        let f = UpgradeFields::scan(&headers);
        assert!(f.host.first.is_none() && !f.upgrade && !f.connection_upgrade);
    }
}
