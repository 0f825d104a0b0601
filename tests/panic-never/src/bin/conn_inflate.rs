//! `Connection::handle_input_span` and `event` with an `Inflater` (permessage-deflate), for both
//! roles and both receive modes, over any bytes, called repeatedly as an adapter does.
#![no_std]
#![no_main]

use wscodec::deflate::{InflateState, Inflater, PerMessageDeflate};
use wscodec::{Config, Connection, Role, Status};
use wscodec_panic_never::{keep, opaque, opaque_mut, proof};

proof!({
    let (mut buf, len) = opaque::<512>();
    let role = if core::hint::black_box(true) { Role::Server } else { Role::Client };
    let streaming = core::hint::black_box(false);
    let config = Config { max_message: core::hint::black_box(u64::MAX), streaming, min_piece: 0 };
    let agreed = PerMessageDeflate {
        server_no_context_takeover: core::hint::black_box(false),
        client_no_context_takeover: core::hint::black_box(false),
        server_max_window_bits: core::hint::black_box(None),
        client_max_window_bits: core::hint::black_box(None),
    };
    let mut state = InflateState::new();
    let (mut window, _) = opaque::<32768>();
    let (mut out, _) = opaque::<4096>();
    let mut inflater = Inflater::new(&mut state, &mut window, &mut out[..]);
    if inflater.start(agreed.receive(role), &config).is_err() {
        return 0;
    }
    let mut conn = Connection::with_config(role, config);
    conn.set_deflate(Some(agreed));
    conn.set_max_inflated(core::hint::black_box(u64::MAX));
    let mut filled = len;
    for _ in 0..core::hint::black_box(4) {
        let window = opaque_mut(&mut buf, filled);
        let consumed = match conn.handle_input_span(window, &mut inflater) {
            Ok(Status::Complete { consumed, value }) => {
                if let Some(span) = value {
                    keep(conn.event(span, window, &inflater).is_ok());
                }
                consumed
            }
            Ok(Status::Partial { .. }) => 0,
            Err(e) => {
                keep(e.close_code());
                0
            }
        };
        filled -= consumed.min(filled);
    }
});
