//! `server::parse_request` then `Request::validate` on any bytes.
#![no_std]
#![no_main]

use wscodec::handshake::{server, Header, MAX_HEADERS};
use wscodec::Status;
use wscodec_panic_never::{keep, opaque, opaque_ref, proof};

proof!({
    let (buf, len) = opaque::<1024>();
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    match server::parse_request(opaque_ref(&buf, len), &mut headers) {
        Ok(Status::Complete { value, consumed }) => {
            keep(consumed);
            match value.validate() {
                Ok(up) => keep((up.key.len(), up.host.len(), up.origin.is_some())),
                Err(e) => keep(e.status()),
            }
        }
        Ok(Status::Partial { needed }) => keep(needed),
        Err(e) => keep(e.status()),
    }
});
