//! `client::parse_response` then `Response::validate` on any bytes and any key.
#![no_std]
#![no_main]

use wscodec::handshake::client::{self, ClientRequest};
use wscodec::handshake::{Header, MAX_HEADERS};
use wscodec::Status;
use wscodec_panic_never::{keep, opaque, opaque_ref, proof};

proof!({
    let (buf, len) = opaque::<1024>();
    let nonce = core::hint::black_box([7u8; 16]);
    let request = ClientRequest { protocols: &["chat"], ..ClientRequest::new("h", "/", nonce) };
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    match client::parse_response(opaque_ref(&buf, len), &mut headers) {
        Ok(Status::Complete { value, consumed }) => {
            keep(consumed);
            match value.validate(&request) {
                Ok(accepted) => keep(accepted.protocol.map(str::len)),
                Err(e) => keep(e.status()),
            }
        }
        Ok(Status::Partial { needed }) => keep(needed),
        Err(e) => keep(e.status()),
    }
});
