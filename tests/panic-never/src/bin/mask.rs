//! `apply_mask` at any offset, and `mask_into` with equal lengths (its documented
//! contract; unequal lengths are a caller bug it asserts against).
#![no_std]
#![no_main]

use wscodec::mask::{apply_mask, mask_into};
use wscodec_panic_never::{keep, opaque, opaque_mut, opaque_ref, proof};

proof!({
    let (mut buf, len) = opaque::<256>();
    let key = core::hint::black_box([1, 2, 3, 4]);
    apply_mask(opaque_mut(&mut buf, len), key, core::hint::black_box(3));
    let mut out = [0u8; 256];
    mask_into(opaque_mut(&mut out, len), opaque_ref(&buf, len), key);
    keep(out);
});
