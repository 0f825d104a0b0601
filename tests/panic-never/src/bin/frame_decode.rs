//! `FrameHeader::decode` on any bytes.
#![no_std]
#![no_main]

use wscodec::FrameHeader;
use wscodec_panic_never::{keep, opaque, opaque_ref, proof};

proof!({
    let (buf, len) = opaque::<64>();
    keep(FrameHeader::decode(opaque_ref(&buf, len)));
});
