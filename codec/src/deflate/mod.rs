//! permessage-deflate (RFC 7692): compressed messages, without an allocator.
//!
//! Feature `deflate`. Both roles: negotiation ([`accept_offers`] for a server,
//! [`Offer`] and [`check_response`] for a client), and receiving compressed messages
//! through an [`Inflater`] over memory the caller lends, in reassembly and streaming
//! mode. Feature `deflate-compress` adds a [`Compressor`] for sending (it needs `alloc`);
//! without it every message goes out uncompressed, which RFC 7692 allows at any time
//! (each message's RSV1 bit says whether it is compressed).
//!
//! With the adapters, lend the memory in an [`io::Deflate`](crate::io) to
//! `io::Options::with_deflate`: `accept` and `connect` negotiate with it. With a bare
//! [`Connection`](crate::Connection), negotiate, then
//! [`set_deflate`](crate::Connection::set_deflate), [`Inflater::start`], and receive with
//! [`handle_input_span`](crate::Connection::handle_input_span) and the inflater.
//!
//! # Memory
//!
//! | what | bytes | when |
//! |---|---:|---|
//! | [`InflateState`] | 10 504 (64-bit) | per connection that may agree to deflate |
//! | window | 2^N for a peer window of N bits (256 B to 32 KiB) | streaming mode, or when the peer keeps its context; 0 otherwise |
//! | output storage | the largest inflated message, plus 1 | reassembly mode (a growable [`RxBuffer`](crate::RxBuffer) holds it only while a message arrives) |
//! | [`Connection`](crate::Connection) | +16 | the agreement and the inflated-size limit |
//! | [`Compressor`] (`deflate-compress`) | about 312 KiB of heap | while it keeps a context; dropped after each message otherwise |
//!
//! The window decides what is agreed ([`Setup`]): a server with a window of 2^N bytes
//! asks a client that allows it for `client_max_window_bits=N`, and otherwise, in
//! reassembly mode, demands `client_no_context_takeover` (RFC 7692 section 7.1.1.2 lets
//! a server always do so): each message then inflates into its own storage, which is
//! also its history, so no window is needed at all. A client asks the server for
//! `server_max_window_bits=N` (or `server_no_context_takeover` without a window).
//!
//! # Limits
//!
//! The inflated size is what counts
//! ([`Connection::set_max_inflated`](crate::Connection::set_max_inflated), by default the
//! connection's `max_message`): a message that inflates to more fails with 1009 as soon
//! as one byte too many is inflated, so a "bomb" (DEFLATE inflates at most about 1032:1,
//! so a 1 MiB message may claim 1 GiB) costs no more than an honest message at the limit,
//! and never an allocation. Corrupt data fails with 1007, RSV1 on a control or
//! continuation frame, or without an agreement, with 1002.
//!
//! A back-reference is checked against the history it may use (RFC 1951 section 3.2.1:
//! never before the beginning of the output stream): what was inflated since the start
//! of the connection when the peer keeps its context, since the start of the message when
//! it does not, and never more than the window. One that reaches further fails with 1007,
//! in every mode and whatever window is lent, so a window reused by the next connection
//! can hand it nothing of the last (the window is also cleared by [`Inflater::start`]).

#[cfg(feature = "deflate-compress")]
mod compress;
mod header;
mod inflate;
mod negotiate;
#[cfg(test)]
pub(crate) mod testing;

pub use crate::conn::InflateError;
#[cfg(feature = "deflate-compress")]
pub use compress::{Compressed, Compressor, CompressorState, StateKey, StatePool};
pub use inflate::{InflateState, Inflater};
pub use negotiate::{
    accept_offers, check_response, Direction, HeaderValue, Offer, PerMessageDeflate, Setup,
    MAX_WINDOW_BITS, MIN_WINDOW_BITS, NAME,
};
