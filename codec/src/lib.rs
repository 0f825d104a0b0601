// The front page is the crate's README (also shown on crates.io). Its examples are
// doctests; they need the adapters, so the page is used when `std` and `async` are on (as
// on docs.rs, and in the workspace's test run).
#![cfg_attr(all(feature = "std", feature = "async"), doc = include_str!("../README.md"))]
#![cfg_attr(
    not(all(feature = "std", feature = "async")),
    doc = "An embedded-first, `no_std`, allocation-free WebSocket (RFC 6455) codec: a \
           sans-IO [`Connection`], the [`handshake`], and adapters over `embedded-io` \
           (features `blocking`, `async`). Build the docs with features `std` and `async` \
           (as docs.rs does) for the front page with its examples."
)]
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "deflate-compress")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod backoff;
mod buffer;
mod close;
mod conn;
#[cfg(feature = "deflate")]
#[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
pub mod deflate;
#[cfg(feature = "defmt")]
mod defmt_impls;
mod frame;
pub mod handshake;
#[cfg(any(feature = "blocking", feature = "async"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "blocking", feature = "async"))))]
pub mod io;
pub mod mask;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub mod random;
mod status;
pub mod utf8;

pub use buffer::RxBuffer;
pub use close::{CloseCode, CloseFrame, CloseFrameError, MAX_REASON_LEN};
pub use conn::{
    Config, Connection, Event, EventSpan, Inflate, Message, MessageKind, NoInflater, Piece,
    PieceHeader, ProtocolError, Role, SendError, State, MAX_CONTROL_FRAME,
};
pub use frame::{FrameError, FrameHeader, OpCode};
pub use handshake::error::HandshakeError;
pub use status::Status;
