//! The upgrade fields of a request, recorded while it is parsed: each header line's name is
//! classified once (by its length, then one ASCII case-insensitive compare) as
//! [`parse_request`](super::server::parse_request) reads it, and the values
//! [`Request::validate`](super::server::Request::validate) checks are kept, already as text
//! where they are UTF-8.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::head::as_text;
use super::header::{trim_ows, value_has_token};

/// How many separate `Sec-WebSocket-Protocol` header lines a request may carry.
///
/// RFC 6455 section 11.3.4 allows the header to repeat in a request; each line may hold a
/// comma-separated list. More lines than this fail with
/// [`HandshakeError::DuplicateHeader`](super::HandshakeError::DuplicateHeader).
pub const MAX_PROTOCOL_LINES: usize = 4;

/// The header names [`UpgradeFields::record`] classifies, lowercase; a name's index here is
/// its field's index in [`UpgradeFields::lines`].
const FIELDS: [&str; 8] = [
    "host",
    "origin",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
    "upgrade",
    "connection",
];
pub(super) const HOST: usize = 0;
pub(super) const ORIGIN: usize = 1;
pub(super) const KEY: usize = 2;
pub(super) const VERSION: usize = 3;
pub(super) const PROTOCOL: usize = 5;
pub(super) const UPGRADE: usize = 6;
/// The token each of `Upgrade` and `Connection` must list, in the order of [`FIELDS`].
const TOKENS: [&str; 2] = ["websocket", "upgrade"];
/// Bit of [`UpgradeFields::tokens`]: an `Upgrade` line lists `websocket`.
pub(super) const UPGRADE_WEBSOCKET: u8 = 1;
/// Bit of [`UpgradeFields::tokens`]: a `Connection` line lists `upgrade`.
pub(super) const CONNECTION_UPGRADE: u8 = 2;
/// How many values are kept: the first line of each field before `Sec-WebSocket-Protocol`,
/// then up to [`MAX_PROTOCOL_LINES`] of those.
const SLOTS: usize = PROTOCOL + MAX_PROTOCOL_LINES;
/// The bits of [`UpgradeFields::not_utf8`] for the `Sec-WebSocket-Protocol` lines.
pub(super) const PROTOCOL_SLOTS: u16 = ((1 << MAX_PROTOCOL_LINES) - 1) << PROTOCOL;

/// What [`Request::validate`](super::server::Request::validate) needs from the headers.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct UpgradeFields<'b> {
    /// How many lines of each field of [`FIELDS`] there are (at most 255 counted).
    pub(super) lines: [u8; FIELDS.len()],
    /// The kept values as text: the first line of `Host`, `Origin`, `Sec-WebSocket-Key`,
    /// `-Version` and `-Extensions`, then the first [`MAX_PROTOCOL_LINES`]
    /// `Sec-WebSocket-Protocol` lines; `None` if absent or not UTF-8. (Options, so that
    /// the empty record is all zeros.)
    pub(super) values: [Option<&'b str>; SLOTS],
    /// A bit per slot of `values` whose value is not UTF-8.
    pub(super) not_utf8: u16,
    /// [`UPGRADE_WEBSOCKET`] and [`CONNECTION_UPGRADE`].
    pub(super) tokens: u8,
}

impl<'b> UpgradeFields<'b> {
    /// Records one header line; `text` is a UTF-8 prefix of the buffer `value` lies in.
    pub(super) fn record(&mut self, name: &str, value: &'b [u8], text: &'b str) {
        // The names differ in length, so most compares stop at the length.
        let Some(i) = FIELDS.iter().position(|lower| eq_lower(name.as_bytes(), lower.as_bytes()))
        else {
            return;
        };
        let Some(lines) = self.lines.get_mut(i) else { return };
        let n = usize::from(*lines);
        *lines = lines.saturating_add(1);
        let t = i.wrapping_sub(UPGRADE);
        if let Some(token) = TOKENS.get(t) {
            if has_lower_token(value, token) {
                self.tokens |= 1 << t;
            }
        } else if n == 0 || i == PROTOCOL {
            // `Sec-WebSocket-Protocol` lines go to consecutive slots; one past the last
            // is not kept (only counted).
            let slot = i + n;
            if let Some(kept) = self.values.get_mut(slot) {
                *kept = as_text(text, value);
                if kept.is_none() {
                    self.not_utf8 |= 1 << slot;
                }
            }
        }
    }
}

/// Whether the comma-separated list `value` has the item `token` (lowercase ASCII letters),
/// ignoring ASCII case, items trimmed of optional whitespace: [`value_has_token`] with
/// [`eq_lower`]'s compare, exact for a token of letters whatever the value's bytes (only
/// `A`..`Z` and `a`..`z` fold to a lowercase letter). Where words load at any address:
/// about 330 instructions less for Chrome's request on a Cortex-M4, for 132 bytes of flash;
/// on small cores, where its compare is byte by byte anyway and it cost 36 (thumbv6m) to
/// 128 (riscv32imc) bytes, `value_has_token`.
fn has_lower_token(value: &[u8], token: &str) -> bool {
    if crate::mask::BYTE_AT_A_TIME {
        return value_has_token(value, token);
    }
    value.split(|&b| b == b',').any(|item| eq_lower(trim_ows(item), token.as_bytes()))
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
    // Byte by byte where words are assembled from single bytes: on thumbv6m 440 bytes of
    // flash less (and 340 instructions less for Chrome's request), on riscv32imc 500.
    if crate::mask::BYTE_AT_A_TIME {
        return name.iter().zip(lower).all(|(&a, &b)| a | 0x20 == b);
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

    /// The fields of `headers`, recorded in order, as the parser records them.
    fn scan<'b>(headers: &[(&str, &'b [u8])]) -> UpgradeFields<'b> {
        let mut f = UpgradeFields::default();
        for &(name, value) in headers {
            f.record(name, value, "");
        }
        f
    }

    #[test]
    fn fields_are_found_in_any_case_and_repeats_are_counted() {
        let f = scan(&[
            ("HOST", b"a"),
            ("host", b"b"),
            ("Pragma", b"no-cache"),
            ("uPgRaDe", b"h2c, WebSocket"),
            ("User-Agent", b"x"),
            ("connection", b"keep-alive"),
            ("Connection", b"Upgrade"),
            ("sec-websocket-key", b"k"),
            ("SEC-WEBSOCKET-VERSION", b"13"),
            ("Sec-WebSocket-Protocol", b"a"),
            ("Sec-WebSocket-Protocol", b"\xff"),
            ("Sec-WebSocket-Extensions", b"x"),
            ("Sec-WebSocket-Extensions", b"\xff"),
            ("Hosts", b"no"),
        ]);
        assert_eq!(f.lines, [2, 0, 1, 1, 2, 2, 1, 2]);
        let kept = [Some("a"), None, Some("k"), Some("13"), Some("x"), Some("a"), None, None, None];
        assert_eq!(f.values, kept);
        // The second protocol line (slot 6) is not UTF-8; the second extensions line is
        // not kept.
        assert_eq!(f.not_utf8, 1 << 6);
        assert_eq!(f.tokens, UPGRADE_WEBSOCKET | CONNECTION_UPGRADE);
    }

    #[test]
    fn lower_tokens_match_as_value_has_token_does() {
        let values: [&[u8]; 12] = [
            b"upgrade",
            b"UPGRADE",
            b"keep-alive, Upgrade",
            b" \tUpGrAdE\t ,x",
            b"upgraded",
            b"upgrad",
            b"up grade",
            b"upgrade\xff",
            b"\x55PGRADE",
            b"uPGRADE@",
            b",,",
            b"",
        ];
        for value in values {
            for token in TOKENS {
                let expect = value_has_token(value, token);
                assert_eq!(has_lower_token(value, token), expect, "{value:?} {token}");
            }
        }
        // Bytes that differ from a letter in bit 5 only, and are not its other case.
        for b in 0..=255u8 {
            let value = [b'u', b'p', b'g', b'r', b'a', b'd', b];
            let expect = b.eq_ignore_ascii_case(&b'e');
            assert_eq!(has_lower_token(&value, "upgrade"), expect, "{b:#x}");
        }
    }

    #[test]
    fn protocol_lines_past_the_kept_ones_are_counted_only() {
        let line: (&str, &[u8]) = ("Sec-WebSocket-Protocol", b"\xff");
        let f = scan(&[line; MAX_PROTOCOL_LINES + 2]);
        assert_eq!(usize::from(f.lines[PROTOCOL]), MAX_PROTOCOL_LINES + 2);
        assert_eq!(f.not_utf8, PROTOCOL_SLOTS);
    }

    #[test]
    fn values_inside_the_checked_text_are_taken_from_it() {
        let text = "Host: a\r\n";
        let value = &text.as_bytes()[6..7];
        let mut f = UpgradeFields::default();
        f.record("Host", value, text);
        assert_eq!(f.values[HOST].map(str::as_ptr), Some(value.as_ptr()));
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
        let f = scan(&[("Hose", b"x"), ("Upgrad3", b"websocket"), ("Connectio-", b"upgrade")]);
        assert_eq!((f.lines, f.tokens), ([0; 8], 0));
    }
}
