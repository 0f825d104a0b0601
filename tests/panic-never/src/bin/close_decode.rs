//! `CloseFrame::decode` on any payload.
#![no_std]
#![no_main]

use wscodec::CloseFrame;
use wscodec_panic_never::{keep, opaque, opaque_ref, proof};

proof!({
    let (buf, len) = opaque::<125>();
    keep(CloseFrame::decode(opaque_ref(&buf, len)).map(|c| (c.code, c.reason.len())));
});
