//! A WebSocket over an async `embedded_io_async` stream (an `embassy-net` `TcpSocket`
//! plugs straight in).
//!
//! The twin of [`blocking`](super::blocking), made from the same source with
//! `.await`: the same types and methods, as `async fn`s.
//!
//! # Cancellation
//! Dropping a `read` future while it waits for input loses nothing: bytes are only
//! taken into the buffer once a read completes. Dropping a future while it writes (a
//! `send`, or a pong or close reply inside `read`) may leave part of a frame on the
//! wire: the next call finds the connection closed.

use bisync_macros::internal_noop as bisync;
use embedded_io_async::{ErrorType, Read, Write};

#[allow(clippy::duplicate_mod)] // The one source of both twins: see `adapter`.
#[path = "adapter/mod.rs"]
mod adapter;
pub use adapter::{Lock, Reader, Sender, Shared, WebSocket, Writer};

/// An `embassy_sync` mutex is the lock of a split connection in an embassy firmware
/// (`NoopRawMutex` for two tasks on one executor).
#[cfg(feature = "embassy-sync")]
#[cfg_attr(docsrs, doc(cfg(feature = "embassy-sync")))]
impl<M: embassy_sync::blocking_mutex::raw::RawMutex, T> Lock for embassy_sync::mutex::Mutex<M, T> {
    type Target = T;
    type Guard<'a>
        = embassy_sync::mutex::MutexGuard<'a, M, T>
    where
        Self: 'a;

    async fn lock(&self) -> Self::Guard<'_> {
        Self::lock(self).await
    }
}

/// Lets the executor run its other tasks once: the split's writer, between two messages.
async fn pause() {
    let mut paused = false;
    core::future::poll_fn(|cx| {
        if core::mem::replace(&mut paused, true) {
            core::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            core::task::Poll::Pending
        }
    })
    .await
}
