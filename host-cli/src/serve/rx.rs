//! The receive buffer of a served connection: small while idle, as large as the message
//! arriving while one does.

use wscodec::RxBuffer;

/// What an idle connection keeps: enough for every small message and control frame.
pub(super) const IDLE_RX: usize = 4 * 1024;

/// A heap buffer that grows (doubling, up to `max`) only when a frame that needs the room
/// is arriving, and goes back to [`IDLE_RX`] bytes whenever it holds nothing.
///
/// So memory follows the traffic: `--max-message` bounds what one connection may take,
/// not what every connection takes.
#[derive(Debug)]
pub(super) struct GrowingRx {
    bytes: Vec<u8>,
    max: usize,
}

impl GrowingRx {
    /// An idle buffer that holds `buffered` (bytes that came with the handshake) and may
    /// grow to `max` bytes.
    pub(super) fn new(buffered: &[u8], max: usize) -> Self {
        let mut bytes = vec![0; IDLE_RX.max(buffered.len())];
        bytes[..buffered.len()].copy_from_slice(buffered);
        Self { bytes, max: max.max(IDLE_RX) }
    }
}

impl RxBuffer for GrowingRx {
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
        let len = min_len.max(self.bytes.len().saturating_mul(2)).min(self.max);
        if len > self.bytes.len() {
            self.bytes.reserve_exact(len - self.bytes.len());
            self.bytes.resize(len, 0);
        }
        true
    }

    fn shrink(&mut self) {
        if self.bytes.len() > IDLE_RX {
            self.bytes.truncate(IDLE_RX);
            self.bytes.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_by_doubling_up_to_the_maximum_and_shrinks_back() {
        let mut rx = GrowingRx::new(b"abc", 100_000);
        assert_eq!(rx.bytes().len(), IDLE_RX);
        assert_eq!(&rx.bytes()[..3], b"abc");
        assert!(rx.grow(IDLE_RX + 1));
        assert_eq!(rx.bytes().len(), 2 * IDLE_RX, "doubles rather than creeping up");
        assert!(rx.grow(50_000));
        assert_eq!(rx.bytes().len(), 50_000);
        assert!(rx.grow(99_000));
        assert_eq!(rx.bytes().len(), 100_000, "capped at the maximum");
        assert_eq!(&rx.bytes()[..3], b"abc", "contents kept");
        assert!(!rx.grow(100_001));
        rx.shrink();
        assert_eq!(rx.bytes().len(), IDLE_RX);
        assert!(rx.bytes.capacity() < 2 * IDLE_RX, "memory given back");
    }

    #[test]
    fn bytes_that_came_with_the_handshake_fit_even_if_many() {
        let early = vec![7u8; 3 * IDLE_RX];
        let rx = GrowingRx::new(&early, 1 << 20);
        assert_eq!(&rx.bytes()[..early.len()], &early[..]);
    }
}
