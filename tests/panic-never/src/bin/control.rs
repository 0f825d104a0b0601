//! The negative control: an index the optimizer cannot check keeps its bounds-check panic,
//! so this binary must fail to link with the undefined panic symbol. It shows that the
//! proofs can fail.
#![no_std]
#![no_main]

use wscodec_panic_never::{keep, opaque, proof};

proof!({
    let (buf, len) = opaque::<16>();
    let bytes: &[u8] = &buf;
    keep(bytes[len]);
});
