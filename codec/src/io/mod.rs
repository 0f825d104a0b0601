//! Adapters that run a [`Connection`](crate::Connection) over a byte stream.
//!
//! [`blocking::WebSocket`] works over `embedded_io::{Read, Write}` and
//! [`asynch::WebSocket`] over `embedded_io_async::{Read, Write}` (an `embassy-net`
//! `TcpSocket` plugs straight in). They are twins with the same methods, made from
//! one source. Neither owns memory: both borrow a receive buffer and a transmit buffer
//! from the caller.
//!
//! # Buffer sizes
//! - `rx` must hold at least [`MIN_RX_BUF`] bytes. Without streaming, the largest message
//!   received is `rx.len() - MAX_CONTROL_FRAME` bytes (or the configured limit if
//!   smaller); larger ones are refused with close code 1009. With
//!   [`Config::streaming`](crate::Config) any size is handed out in pieces, a frame that
//!   fits `rx` as one piece.
//! - `tx` must hold at least [`MIN_TX_BUF`] bytes. Messages larger than `tx` are sent
//!   through it in pieces, so `tx` only bounds the size of each write.
//! - For the handshake, `rx` must hold the whole request or response head (a browser's
//!   request is about 500 bytes; 1 KiB is a comfortable minimum).

#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub mod asynch;
#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub mod blocking;
mod buffer;
#[cfg(feature = "deflate")]
mod deflate;
mod error;
mod inbox;
mod negotiation;
mod options;
mod outbox;
#[cfg(feature = "std")]
mod std_io;

#[cfg(feature = "deflate")]
pub use deflate::Deflate;
pub use error::Error;
pub use options::Options;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use std_io::StdIo;

/// The smallest receive buffer the adapters accept.
pub const MIN_RX_BUF: usize = 256;
/// The smallest transmit buffer the adapters accept.
pub const MIN_TX_BUF: usize = 256;

/// Where a client's mask keys come from: one fresh, unpredictable key per frame
/// (RFC 6455 section 5.3). A closure over the device's RNG is one.
pub trait MaskKeys {
    /// Whether every key is `[0; 4]`, with which masking changes nothing (a server's
    /// [`Unmasked`]): the adapters then leave out the masking code, which keeps a server
    /// firmware smaller.
    const ALL_ZERO: bool = false;

    /// The key for the next frame.
    fn next_key(&mut self) -> [u8; 4];
}

impl<F: FnMut() -> [u8; 4]> MaskKeys for F {
    fn next_key(&mut self) -> [u8; 4] {
        self()
    }
}

/// A server's "mask keys": servers send unmasked frames, so they need none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Unmasked;

impl MaskKeys for Unmasked {
    const ALL_ZERO: bool = true;

    fn next_key(&mut self) -> [u8; 4] {
        [0; 4]
    }
}
