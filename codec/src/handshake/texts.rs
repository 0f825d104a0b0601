//! Tables of texts kept as one string and the end of each, joined at compile time: no
//! address and length per text (and no relocation per address in a position-independent
//! image), and no offsets written by hand. The HTTP reason phrases and the messages of
//! [`HandshakeError`](super::HandshakeError) are kept so.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

/// `B - 1` texts of `L` bytes in all, one after another.
pub(super) struct Texts<const B: usize, const L: usize> {
    bytes: [u8; L],
    /// Where each text starts in `bytes`, then where the last ends: text `i` is
    /// `bounds[i]..bounds[i + 1]`.
    bounds: [u16; B],
}

impl<const B: usize, const L: usize> Texts<B, L> {
    /// `texts` joined; `B` must be one more than their number and `L` their
    /// [`total_len`] (checked when it is evaluated, at compile time for a `static`).
    // Evaluated at compile time: an index out of range fails the build, never a run.
    #[allow(clippy::indexing_slicing)]
    pub(super) const fn new(texts: &[&str]) -> Self {
        assert!(texts.len() + 1 == B);
        let mut bytes = [0u8; L];
        let mut bounds = [0u16; B];
        let (mut i, mut at) = (0, 0);
        while i < texts.len() {
            let text = texts[i].as_bytes();
            let mut j = 0;
            while j < text.len() {
                bytes[at] = text[j];
                at += 1;
                j += 1;
            }
            assert!(at <= u16::MAX as usize);
            bounds[i + 1] = at as u16;
            i += 1;
        }
        assert!(at == L);
        Self { bytes, bounds }
    }

    /// Text `i`; empty past the last.
    #[inline(always)]
    pub(super) fn get(&self, i: usize) -> &[u8] {
        text_at(&self.bytes, &self.bounds, i)
    }
}

/// The total length of `texts`: the `L` of their [`Texts`].
// Evaluated at compile time, as `new`.
#[allow(clippy::indexing_slicing)]
pub(super) const fn total_len(texts: &[&str]) -> usize {
    let (mut i, mut len) = (0, 0);
    while i < texts.len() {
        len += texts[i].len();
        i += 1;
    }
    len
}

/// Text `i` of `bytes` cut at `bounds` (one function for every table).
fn text_at<'a>(bytes: &'a [u8], bounds: &[u16], i: usize) -> &'a [u8] {
    let Some(&[start, end]) = bounds.get(i..).and_then(<[u16]>::first_chunk::<2>) else {
        return b"";
    };
    bytes.get(usize::from(start)..usize::from(end)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: [&str; 4] = ["one", "", "three", "four"];
    static TABLE: Texts<5, { total_len(&WORDS) }> = Texts::new(&WORDS);

    #[test]
    fn each_text_comes_back_and_none_past_the_last() {
        for (i, word) in WORDS.iter().enumerate() {
            assert_eq!(TABLE.get(i), word.as_bytes());
        }
        assert_eq!(TABLE.get(WORDS.len()), b"");
        assert_eq!(TABLE.get(usize::MAX), b"");
    }
}
