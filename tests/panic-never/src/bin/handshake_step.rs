//! `server::handle_request` on any bytes, full buffer or not, with a decision that takes
//! every branch (upgrade with a subprotocol, page, refusal) depending on the request.
#![no_std]
#![no_main]

use wscodec::handshake::server::{self, Decision};
use wscodec::Status;
use wscodec_panic_never::{keep, opaque, opaque_ref, proof};

proof!({
    let (buf, len) = opaque::<1024>();
    let full = core::hint::black_box(false);
    let mut out = [0u8; 512];
    let step =
        server::handle_request(opaque_ref(&buf, len), full, &mut out, |request, up| {
            match (up, request.path) {
                (Some(up), _) => Decision::Accept { protocol: up.protocols().next() },
                (None, "/") => Decision::Respond {
                    status: 200,
                    content_type: "text/plain",
                    body: request.path.as_bytes(),
                },
                (None, path) => Decision::Reject { status: 404, reason: path },
            }
        });
    match step {
        Status::Complete { value, consumed } => keep((value.written, value.outcome, consumed)),
        Status::Partial { needed } => keep(needed),
    }
});
