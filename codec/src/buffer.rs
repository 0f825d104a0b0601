//! [`RxBuffer`]: storage for received bytes that may grow while a large message arrives.
//!
//! The adapters (`io`) read frames into one; the inflater of permessage-deflate
//! (`deflate::Inflater`) hands out inflated messages from another.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

/// Storage for received bytes: an adapter's receive buffer, or an inflater's output.
///
/// A lent `&mut [u8]` is the usual choice on a device: it never grows, so it bounds both
/// memory and, in reassembly mode, the largest message. A host that accepts large
/// messages but wants memory to follow the traffic implements this trait on a growable
/// buffer: the adapter calls [`grow`](Self::grow) only while a frame that needs the room
/// is actually arriving, and [`shrink`](Self::shrink) when it holds nothing.
///
/// ```
/// use wscodec::RxBuffer;
/// /// A buffer of at least 4 KiB that grows up to `max` and shrinks back when idle.
/// struct Growing { bytes: Vec<u8>, max: usize }
/// impl RxBuffer for Growing {
///     fn bytes(&self) -> &[u8] { &self.bytes }
///     fn bytes_mut(&mut self) -> &mut [u8] { &mut self.bytes }
///     fn max_len(&self) -> usize { self.max }
///     fn grow(&mut self, min_len: usize) -> bool {
///         if min_len > self.max { return false; }
///         let len = min_len.max(2 * self.bytes.len()).min(self.max);
///         self.bytes.resize(len, 0);
///         true
///     }
///     fn shrink(&mut self) {
///         self.bytes.truncate(4096);
///         self.bytes.shrink_to_fit();
///     }
/// }
/// ```
pub trait RxBuffer {
    /// The storage.
    fn bytes(&self) -> &[u8];
    /// The storage, writable.
    fn bytes_mut(&mut self) -> &mut [u8];
    /// The most [`bytes`](Self::bytes) can ever hold. In reassembly mode the adapter caps
    /// the connection's largest message at this minus
    /// [`MAX_CONTROL_FRAME`](crate::MAX_CONTROL_FRAME).
    fn max_len(&self) -> usize {
        self.bytes().len()
    }
    /// Makes the storage at least `min_len` bytes long, keeping its contents. Returns
    /// `false` if it cannot (the adapter then fails the frame with close code 1009).
    fn grow(&mut self, min_len: usize) -> bool {
        min_len <= self.bytes().len()
    }
    /// The adapter holds no received bytes: the storage may give memory back, down to
    /// any length of at least `io::MIN_RX_BUF` (256). Its contents need
    /// not be kept.
    fn shrink(&mut self) {}
}

/// Any lent buffer (`&mut [u8]`, `&mut [u8; N]`, `&mut Vec<u8>`): fixed at its length.
impl<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized> RxBuffer for &mut T {
    fn bytes(&self) -> &[u8] {
        (**self).as_ref()
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        (**self).as_mut()
    }
}

/// Moves `len` bytes at `from` down to `to` (`to <= from`) in `buf`; out-of-range
/// arguments move nothing (no panic path for bounds the caller already checked: the
/// `tests/panic-never` link check proves it).
///
/// On bare metal the bytes are moved one at a time by a loop of our own rather than by
/// `copy_within`, which brings in `compiler_builtins`' `memmove`: 1,574 bytes of flash on
/// a Cortex-M4 for a move that happens once per compaction (BENCHMARKS.md, "Footprint").
pub(crate) fn move_down(buf: &mut [u8], from: usize, len: usize, to: usize) {
    let Some(offset) = from.checked_sub(to) else { return };
    let Some(end) = offset.checked_add(len) else { return };
    let Some(span) = buf.get_mut(to..).and_then(|b| b.get_mut(..end)) else { return };
    #[cfg(not(target_os = "none"))]
    span.copy_within(offset..end, 0);
    #[cfg(target_os = "none")]
    {
        let mut at = 0;
        while let Some(&byte) = span.get(at + offset) {
            if let Some(slot) = span.get_mut(at) {
                *slot = byte;
            }
            at += 1;
        }
    }
}
