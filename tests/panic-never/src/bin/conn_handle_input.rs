//! `Connection::handle_input`, `handle_input_span` with `event` (the adapters' path)
//! and `compact`, for both roles and both receive modes, over any bytes, called
//! repeatedly as an adapter does.
#![no_std]
#![no_main]

use wscodec::{Config, Connection, NoInflater, Role, Status};
use wscodec_panic_never::{keep, opaque, opaque_mut, opaque_ref, proof};

proof!({
    let (mut buf, len) = opaque::<512>();
    let role = if core::hint::black_box(true) { Role::Server } else { Role::Client };
    let config = Config {
        max_message: core::hint::black_box(u64::MAX),
        streaming: core::hint::black_box(false),
        min_piece: core::hint::black_box(0),
    };
    let mut conn = Connection::with_config(role, config);
    let mut filled = len;
    for _ in 0..core::hint::black_box(4) {
        if let Ok(Status::Complete { value: Some(at), .. }) =
            conn.handle_input_span(opaque_mut(&mut buf, filled), &mut NoInflater)
        {
            keep(conn.event(at, opaque_ref(&buf, filled), &NoInflater).is_ok());
        }
        let consumed = match conn.handle_input(opaque_mut(&mut buf, filled)) {
            Ok(Status::Complete { consumed, .. }) => consumed,
            Ok(Status::Partial { .. }) => conn.compact(opaque_mut(&mut buf, filled)),
            Err(e) => {
                keep(e.close_code());
                0
            }
        };
        filled -= consumed.min(filled);
    }
});
