//! The receive window the adapters keep over the caller's `rx` buffer.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

/// `buf[start..end]` holds received bytes not yet consumed.
#[derive(Debug)]
pub(crate) struct RxBuf<'b> {
    buf: &'b mut [u8],
    start: usize,
    end: usize,
}

impl<'b> RxBuf<'b> {
    /// A window over `buf` whose first `buffered` bytes were already received.
    pub(crate) fn new(buf: &'b mut [u8], buffered: usize) -> Self {
        let end = buffered.min(buf.len());
        Self { buf, start: 0, end }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn window(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }

    pub(crate) fn window_mut(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.start..self.end).unwrap_or(&mut [])
    }

    /// Removes `len` bytes from the front of the window.
    pub(crate) fn drain(&mut self, len: usize) {
        self.start = (self.start + len).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Forgets the last `len` bytes of the window (they were moved down by the caller).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.end = self.end.saturating_sub(len).max(self.start);
    }

    /// Whether the window fills the whole buffer.
    pub(crate) fn is_full(&self) -> bool {
        self.start == 0 && self.end == self.buf.len()
    }

    /// Free space after the window, compacting first if the window is not at the start.
    /// `None` when the window fills the whole buffer.
    pub(crate) fn spare(&mut self) -> Option<&mut [u8]> {
        if self.end == self.buf.len() && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        match self.buf.get_mut(self.end..) {
            Some(spare) if !spare.is_empty() => Some(spare),
            _ => None,
        }
    }

    /// Marks `n` bytes of [`spare`](Self::spare) as received.
    pub(crate) fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drains_at_the_front_and_in_the_middle_and_compacts() {
        let mut mem = [0u8; 8];
        mem[..6].copy_from_slice(b"abcdef");
        let mut rx = RxBuf::new(&mut mem, 6);
        rx.drain(1);
        assert_eq!(rx.window(), b"bcdef");
        rx.truncate(2); // "ef" were moved down by the caller
        assert_eq!(rx.window(), b"bcd");
        assert!(!rx.is_full());
        let spare = rx.spare().unwrap();
        assert_eq!(spare.len(), 4);
        spare.copy_from_slice(b"wxyz");
        rx.filled(4);
        assert_eq!(rx.window(), b"bcdwxyz");
        assert_eq!(rx.spare().map(|s| s.len()), Some(1)); // compacted to the front
        assert_eq!(rx.window(), b"bcdwxyz");
        rx.drain(7);
        assert_eq!(rx.window(), b"");
        assert_eq!(rx.spare().unwrap().len(), 8);
    }
}
