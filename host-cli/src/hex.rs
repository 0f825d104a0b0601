//! Hex text in and out, for showing binary payloads and reading frames to dissect.

use std::fmt::Write as _;

/// Lower-case hex of `bytes` with a space between bytes (`81 85 37`).
pub(crate) fn spaced(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Lower-case hex of `bytes` with no separators (`37fa213d`).
pub(crate) fn compact(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Whether `text` looks like hex text: only hex digits, whitespace, `:` and `,`.
pub(crate) fn is_hex_text(text: &[u8]) -> bool {
    text.iter().all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace() || b":,".contains(b))
}

/// Parses hex text; whitespace, `:` and `,` separate nothing and are skipped, and an
/// optional `0x` prefix on each word is allowed.
pub(crate) fn parse(text: &str) -> Result<Vec<u8>, String> {
    let mut digits = Vec::with_capacity(text.len());
    for word in text.split(|c: char| c.is_ascii_whitespace() || c == ':' || c == ',') {
        let word = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")).unwrap_or(word);
        for c in word.chars() {
            let d = c.to_digit(16).ok_or_else(|| format!("{c:?} is not a hex digit"))?;
            digits.push(d as u8);
        }
    }
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    Ok(digits.chunks_exact(2).map(|p| (p[0] << 4) | p[1]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_separators_and_prefixes() {
        assert_eq!(parse("81 85:37,fa\n0x21").unwrap(), [0x81, 0x85, 0x37, 0xfa, 0x21]);
        assert_eq!(parse("8185").unwrap(), [0x81, 0x85]);
        assert_eq!(parse("").unwrap(), [0u8; 0]);
        assert!(parse("818").is_err());
        assert!(parse("zz").is_err());
    }

    #[test]
    fn formats_both_ways() {
        assert_eq!(spaced(&[0x81, 0x05]), "81 05");
        assert_eq!(compact(&[0x37, 0xfa]), "37fa");
        assert!(is_hex_text(b"81 85\n"));
        assert!(!is_hex_text(b"\x81\x85"));
    }
}
