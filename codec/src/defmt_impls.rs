//! `defmt::Format` for the types whose derived output would be wrong for a log: payloads
//! are shown as their length (text: the length and its first bytes), close codes with
//! their meaning, HTTP heads with their header count. Every other public type derives
//! `defmt::Format` where it is defined.

use defmt::{write, Format, Formatter};

use crate::handshake::{client, server};
use crate::{CloseCode, Event, Message};

/// How many bytes of a text payload a log line shows.
const TEXT_PREVIEW: usize = 32;

/// The first bytes of `text` (at most [`TEXT_PREVIEW`], cut on a character boundary) and
/// `"…"` if that is not all of it.
fn preview(text: &str) -> (&str, &str) {
    let mut end = text.len().min(TEXT_PREVIEW);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = text.get(..end).unwrap_or("");
    (head, if end < text.len() { "…" } else { "" })
}

#[cfg_attr(docsrs, doc(cfg(feature = "defmt")))]
impl Format for CloseCode {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "{=u16} ({=str})", self.as_u16(), self.meaning());
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "defmt")))]
/// `Text(N bytes: first bytes…)`.
fn text(f: Formatter<'_>, text: &str) {
    let (head, more) = preview(text);
    write!(f, "Text({=usize} bytes: {=str}{=str})", text.len(), head, more);
}

/// `Binary(N bytes)`, `Ping(N bytes)`, …
fn bytes(f: Formatter<'_>, what: &str, data: &[u8]) {
    write!(f, "{=str}({=usize} bytes)", what, data.len());
}

impl Format for Event<'_> {
    fn format(&self, f: Formatter<'_>) {
        match *self {
            Self::Text(t) => text(f, t),
            Self::Binary(data) => bytes(f, "Binary", data),
            Self::Piece { kind, data, first, last } => write!(
                f,
                "Piece {{ kind: {}, {=usize} bytes, first: {=bool}, last: {=bool} }}",
                kind,
                data.len(),
                first,
                last
            ),
            Self::Ping(data) => bytes(f, "Ping", data),
            Self::Pong(data) => bytes(f, "Pong", data),
            // A close reason is at most 123 bytes.
            Self::Close { code, reason } => {
                write!(f, "Close {{ code: {}, reason: {=str} }}", code, reason);
            }
        }
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "defmt")))]
impl Format for Message<'_> {
    fn format(&self, f: Formatter<'_>) {
        match *self {
            Self::Text(t) => text(f, t),
            Self::Binary(data) => bytes(f, "Binary", data),
            Self::Ping(data) => bytes(f, "Ping", data),
            Self::Pong(data) => bytes(f, "Pong", data),
            Self::Close(None) => write!(f, "Close"),
            Self::Close(Some((code, reason))) => {
                write!(f, "Close {{ code: {}, reason: {=str} }}", code, reason);
            }
        }
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "defmt")))]
impl Format for server::Request<'_, '_> {
    fn format(&self, f: Formatter<'_>) {
        write!(
            f,
            "Request {{ method: {=str}, path: {=str}, version: 1.{=u8}, {=usize} headers }}",
            self.method,
            self.path,
            self.version,
            self.headers().len()
        );
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "defmt")))]
impl Format for server::Upgrade<'_> {
    fn format(&self, f: Formatter<'_>) {
        write!(f, "Upgrade {{ host: {=str}, origin: {}, protocols: [", self.host, self.origin);
        for (i, protocol) in self.protocols().enumerate() {
            let comma = if i == 0 { "" } else { ", " };
            write!(f, "{=str}{=str}", comma, protocol);
        }
        write!(f, "], extensions: {} }}", self.extensions_header());
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "defmt")))]
impl Format for client::Response<'_, '_> {
    fn format(&self, f: Formatter<'_>) {
        write!(
            f,
            "Response {{ status: {=u16} {=str}, version: 1.{=u8}, {=usize} headers }}",
            self.status,
            self.reason,
            self.version,
            self.headers().len()
        );
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::format;

    use super::preview;

    #[test]
    fn preview_cuts_on_a_character_boundary() {
        assert_eq!(preview("short"), ("short", ""));
        let long = "a".repeat(40);
        assert_eq!(preview(&long), (&long[..32], "…"));
        // 31 ASCII bytes, then a 3-byte character across the 32-byte mark.
        let text = format!("{}€tail", "b".repeat(31));
        assert_eq!(preview(&text), (&text[..31], "…"));
    }
}
