//! A WebSocket over a blocking `embedded_io` stream.
//!
//! [`asynch`](super::asynch) is this module's twin for `embedded_io_async`: both are
//! made from one source, this one without `async` and `.await`.
//!
//! ```
//! use wscodec::io::{blocking::WebSocket, Options};
//! use wscodec::{Event, Message};
//! // An in-memory stream standing in for a socket: a masked "Hi" from a client.
//! # struct Duplex<'a> { input: &'a [u8], output: &'a mut [u8], written: usize }
//! # impl embedded_io::ErrorType for Duplex<'_> { type Error = core::convert::Infallible; }
//! # impl embedded_io::Read for Duplex<'_> {
//! #     fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> { self.input.read(buf).map_err(|e| match e {}) }
//! # }
//! # impl embedded_io::Write for Duplex<'_> {
//! #     fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
//! #         let n = buf.len().min(self.output.len() - self.written);
//! #         self.output[self.written..self.written + n].copy_from_slice(&buf[..n]);
//! #         self.written += n; Ok(n)
//! #     }
//! #     fn flush(&mut self) -> Result<(), Self::Error> { Ok(()) }
//! # }
//! let input = [0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2];
//! let mut output = [0u8; 64];
//! let stream = Duplex { input: &input, output: &mut output, written: 0 };
//! let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
//! // The handshake is done: frames follow.
//! let mut ws = WebSocket::server(stream, Options::new(&mut rx, &mut tx));
//! // The echo goes out straight from the received bytes.
//! let (event, mut sender) = ws.read_for_reply()?;
//! if let Event::Text(text) = event {
//!     sender.send(Message::Text(text))?;
//! }
//! drop(ws);
//! assert_eq!(&output[..4], &[0x81, 0x02, b'H', b'i']);
//! # Ok::<(), wscodec::io::Error<core::convert::Infallible>>(())
//! ```

use bisync_macros::internal_strip_async as bisync;
use embedded_io::{ErrorType, Read, Write};

#[allow(clippy::duplicate_mod)] // The one source of both twins: see `adapter`.
#[path = "adapter/mod.rs"]
mod adapter;
pub use adapter::{Lock, Reader, Sender, Shared, WebSocket, Writer};

/// A `std::sync::Mutex` is the lock of a split connection on a host: one thread reads, others
/// write. A half that panicked while holding it leaves the connection as it was.
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T> Lock for std::sync::Mutex<T> {
    type Target = T;
    type Guard<'a>
        = std::sync::MutexGuard<'a, T>
    where
        T: 'a;

    fn lock(&self) -> Self::Guard<'_> {
        Self::lock(self).unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The blocking twin of the async `pause`: a thread needs none (the OS schedules it).
fn pause() {}
