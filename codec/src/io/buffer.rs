//! The receive buffer: the window an adapter keeps over the storage it reads into.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

pub(crate) use crate::buffer::RxBuffer;

/// What an adapter reads into: the receive window, or the handshake's head.
pub(crate) trait Fill {
    /// The free room the next read goes into.
    fn room(&mut self) -> &mut [u8];
    /// The first `n` bytes of [`room`](Self::room) were read.
    fn filled(&mut self, n: usize);
}

/// `buf[start..end]` holds received bytes not yet consumed.
#[derive(Debug)]
pub(crate) struct RxBuf<R> {
    buf: R,
    start: usize,
    end: usize,
}

impl<R: RxBuffer> RxBuf<R> {
    /// A window over `buf` whose first `buffered` bytes were already received.
    pub(crate) fn new(buf: R, buffered: usize) -> Self {
        let end = buffered.min(buf.bytes().len());
        Self { buf, start: 0, end }
    }

    pub(crate) fn window(&self) -> &[u8] {
        self.buf.bytes().get(self.start..self.end).unwrap_or(&[])
    }

    pub(crate) fn window_mut(&mut self) -> &mut [u8] {
        self.buf.bytes_mut().get_mut(self.start..self.end).unwrap_or(&mut [])
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

    /// Whether the window fills the whole storage.
    pub(crate) fn is_full(&self) -> bool {
        self.start == 0 && self.end == self.buf.bytes().len()
    }

    /// Free space after the window for the `needed` more bytes the connection waits for.
    ///
    /// When the window is empty the storage may shrink first. When there is no space
    /// after the window, it is moved to the start; if that frees nothing, the storage is
    /// asked to grow to hold the window plus `needed` bytes. `None` when it cannot.
    pub(crate) fn spare(&mut self, needed: usize) -> Option<&mut [u8]> {
        if self.start == self.end {
            self.buf.shrink();
        }
        let len = self.buf.bytes().len();
        if self.end >= len && self.start > 0 {
            crate::buffer::move_down(self.buf.bytes_mut(), self.start, self.end - self.start, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end >= self.buf.bytes().len() {
            let want = self.end.saturating_add(needed.max(1));
            if !self.buf.grow(want) {
                return None;
            }
        }
        match self.buf.bytes_mut().get_mut(self.end..) {
            Some(spare) if !spare.is_empty() => Some(spare),
            _ => None,
        }
    }

    /// The free space after the window, as [`spare`](Self::spare) left it.
    pub(crate) fn free(&mut self) -> &mut [u8] {
        self.buf.bytes_mut().get_mut(self.end..).unwrap_or(&mut [])
    }

    /// Marks `n` bytes of [`spare`](Self::spare) as received.
    pub(crate) fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.bytes().len());
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;

    #[test]
    fn drains_at_the_front_and_in_the_middle_and_compacts() {
        let mut mem = [0u8; 8];
        mem[..6].copy_from_slice(b"abcdef");
        let mut rx = RxBuf::new(&mut mem[..], 6);
        rx.drain(1);
        assert_eq!(rx.window(), b"bcdef");
        rx.truncate(2); // "ef" were moved down by the caller
        assert_eq!(rx.window(), b"bcd");
        assert!(!rx.is_full());
        let spare = rx.spare(1).unwrap();
        assert_eq!(spare.len(), 4);
        spare.copy_from_slice(b"wxyz");
        rx.filled(4);
        assert_eq!(rx.window(), b"bcdwxyz");
        assert_eq!(rx.spare(1).map(|s| s.len()), Some(1)); // compacted to the front
        assert_eq!(rx.window(), b"bcdwxyz");
        rx.filled(1);
        assert!(rx.is_full());
        assert!(rx.spare(1).is_none(), "a lent slice never grows");
        rx.drain(8);
        assert_eq!(rx.window(), b"");
        assert_eq!(rx.spare(1).unwrap().len(), 8);
    }

    /// Grows to what is asked, records when it was asked to shrink.
    struct Growing {
        bytes: Vec<u8>,
        max: usize,
        shrinks: usize,
    }

    impl RxBuffer for Growing {
        fn bytes(&self) -> &[u8] {
            &self.bytes
        }
        fn bytes_mut(&mut self) -> &mut [u8] {
            &mut self.bytes
        }
        fn max_len(&self) -> usize {
            self.max
        }
        fn grow(&mut self, min_len: usize) -> bool {
            if min_len > self.max {
                return false;
            }
            self.bytes.resize(min_len, 0);
            true
        }
        fn shrink(&mut self) {
            self.shrinks += 1;
            self.bytes.truncate(4);
        }
    }

    #[test]
    fn grows_only_when_full_and_shrinks_only_when_empty() {
        let growing = Growing { bytes: Vec::from(*b"abcd"), max: 10, shrinks: 0 };
        let mut rx = RxBuf::new(growing, 4);
        rx.drain(1);
        // Full at the end: the window moves down first, no growth needed.
        assert_eq!(rx.spare(5).map(|s| s.len()), Some(1));
        assert_eq!(rx.window(), b"bcd");
        rx.filled(1);
        // Now full from the start: grows to the window plus what is needed.
        assert_eq!(rx.spare(5).map(|s| s.len()), Some(5));
        assert_eq!(rx.buf.bytes.len(), 9);
        assert_eq!(rx.window(), b"bcdd");
        rx.filled(5);
        // Past the maximum: refused, nothing lost.
        assert!(rx.spare(2).is_none());
        assert_eq!(rx.window().len(), 9);
        assert_eq!(rx.buf.shrinks, 0, "never shrinks while holding bytes");
        rx.drain(9);
        assert_eq!(rx.spare(1).map(|s| s.len()), Some(4));
        assert_eq!(rx.buf.shrinks, 1);
    }
}
