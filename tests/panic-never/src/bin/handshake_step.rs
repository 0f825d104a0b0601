//! `server::handle_request` on any bytes, full buffer or not, with a decision that takes
//! every branch (upgrade with a subprotocol, page, refusal) depending on the request.
#![no_std]
#![no_main]

use wscodec::handshake::server::{self, Decision};
use wscodec::Status;
use wscodec_panic_never::{keep, opaque, opaque_ref, proof};

proof!({
    let (buf, len) = opaque::<1024>();
    // A full buffer or not: the head is the first `len` bytes of `buf` or all of them.
    let filled = if core::hint::black_box(false) { buf.len() } else { len };
    let mut out = [0u8; 512];
    let head = server::Head::new(opaque_ref(&buf, buf.len()), filled);
    let step = server::handle_request(
        head,
        &mut out,
        |request, up| match (up, request.path) {
            (Some(up), _) => Decision::Accept { protocol: up.protocols().next() },
            (None, "/") => Decision::Respond {
                status: 200,
                content_type: "text/plain",
                body: request.path.as_bytes(),
            },
            (None, path) => Decision::Reject { status: 404, reason: path },
        },
        server::no_extensions,
    );
    match step {
        Status::Complete { value, consumed } => keep((value.written, value.outcome, consumed)),
        Status::Partial { needed } => keep(needed),
    }
});
