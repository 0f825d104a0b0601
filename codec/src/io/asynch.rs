//! A WebSocket over an async `embedded_io_async` stream (an `embassy-net` `TcpSocket`
//! plugs straight in).
//!
//! The twin of [`blocking`](super::blocking), expanded from the same source with
//! `.await`: the same types and methods, as `async fn`s.
//!
//! # Cancellation
//! Dropping a `read` future while it waits for input loses nothing: bytes are only
//! taken into the buffer once a read completes. Dropping a future while it writes (a
//! `send`, or a pong or close reply inside `read`) may leave part of a frame on the
//! wire: the next call finds the connection closed.

super::twin::websocket_adapter!(embedded_io_async, async, .await);
super::twin_link::link_adapter!(embedded_io_async, async, .await);
#[cfg(feature = "deflate")]
super::twin_deflate::deflate_adapter!(embedded_io_async, async, .await);
