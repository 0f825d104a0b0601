//! `server::parse_request` then `Request::upgrade` on any bytes.
#![no_std]
#![no_main]

use wscodec::handshake::{server, MAX_HEADERS};
use wscodec::Status;
use wscodec_panic_never::{keep, opaque, opaque_ref, proof};

proof!({
    let (buf, len) = opaque::<1024>();
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match server::parse_request(opaque_ref(&buf, len), &mut headers) {
        Ok(Status::Complete { value, consumed }) => {
            keep(consumed);
            match value.upgrade() {
                Ok(up) => keep((up.key.len(), up.host.len(), up.origin.is_some())),
                Err(e) => keep(e.status()),
            }
        }
        Ok(Status::Partial { needed }) => keep(needed),
        Err(e) => keep(e.status()),
    }
});
