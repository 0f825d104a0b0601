//! The permessage-deflate targets: negotiation on any header bytes, and hostile
//! compressed messages through a connection with an inflater.

use wscodec::deflate::{
    accept_offers, check_response, Direction, InflateState, Inflater, Offer, PerMessageDeflate,
    Setup, MAX_WINDOW_BITS,
};
use wscodec::handshake::ExtensionError;
use wscodec::mask::apply_mask;
use wscodec::{CloseCode, Config, Connection, Event, ProtocolError, Role, State, Status};

/// The largest window the targets lend (32 KiB).
const WINDOW: usize = 1 << 15;

/// The window for `bits` (0: none), a prefix of `window`.
fn window_of(window: &mut [u8; WINDOW], bits: u8) -> &mut [u8] {
    let len = if bits == 0 { 0 } else { 1usize << bits };
    window.get_mut(..len).unwrap()
}

/// An inflater over `window_bits` of window can take what was agreed for `me`'s incoming
/// messages.
fn inflater_takes(agreed: &PerMessageDeflate, me: Role, setup: &Setup) {
    let mut state = InflateState::new();
    let mut window = [0u8; WINDOW];
    let mut out = [0u8; 16];
    let window = window_of(&mut window, setup.window_bits);
    let mut inflater = Inflater::new(&mut state, window, &mut out[..]);
    let started = inflater
        .start(agreed.receive(me), &Config { streaming: setup.streaming, ..Config::default() });
    assert_eq!(started, Ok(()), "agreed {agreed:?} for {me:?} with {setup:?}");
}

/// Negotiation on arbitrary header lines.
///
/// Input: byte 0 sets this end ([`Setup`]: window bits in the low nibble, 0 for none, 8
/// to 15 otherwise; bit 4 streaming; bit 5 `send_no_context_takeover`), the rest is the
/// `Sec-WebSocket-Extensions` values, split at `\n` (several header lines).
///
/// Checks: a server's choice fits its window (an [`Inflater`] over it starts with what
/// was agreed), is written back in at most 128 bytes and accepted again as an offer by a
/// server with a full window; the only server error is [`ExtensionError::Syntax`] (a
/// 400). A client with the offer [`Offer::for_setup`] makes either fails the answer with
/// a 4xx/5xx error or accepts something its inflater can take.
pub fn deflate_negotiation(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let bits = match mode & 0x0f {
        b @ 8..=15 => b,
        _ => 0,
    };
    let setup = Setup {
        window_bits: bits,
        streaming: mode & 0x10 != 0,
        send_no_context_takeover: mode & 0x20 != 0,
    };
    let lines = || rest.split(|&b| b == b'\n');
    match accept_offers(lines(), &setup) {
        Ok(Some(agreed)) => {
            inflater_takes(&agreed, Role::Server, &setup);
            if setup.send_no_context_takeover {
                assert!(agreed.server_no_context_takeover, "{agreed:?}");
            }
            let value = agreed.header_value();
            let text = value.as_str();
            assert!(text.starts_with("permessage-deflate") && text.len() <= 128);
            let full = Setup::new(WINDOW);
            let again = accept_offers([text.as_bytes()], &full).unwrap();
            assert!(again.is_some(), "{text} is not accepted back");
        }
        Ok(None) => {}
        Err(e) => {
            assert_eq!(e, ExtensionError::Syntax);
            assert_eq!(wscodec::HandshakeError::Extension(e).status(), 400);
        }
    }
    let Some(offer) = Offer::for_setup(&setup) else {
        assert!(setup.streaming && bits == 0);
        return;
    };
    assert!(offer.header_value().as_str().len() <= 128);
    match check_response(lines(), &offer, &setup) {
        Ok(Some(agreed)) => inflater_takes(&agreed, Role::Client, &setup),
        Ok(None) => {}
        Err(e) => assert!((400..=599).contains(&e.status()), "{e:?}"),
    }
}

/// Compressed messages from a client, hostile or not, through a server connection with an
/// inflater.
///
/// Input: byte 0 sets the mode (bit 0 streaming, bit 1 context takeover, bits 2-3 the
/// window: 256 B, 4 KiB, 32 KiB or none), byte 1 the limit on the inflated size (1 KiB
/// times 1 + the byte, up to 256 KiB) and the receive chunk (bits 6-7: 1, 7, 64 or 1024
/// bytes per read), then messages: `len_hi len_lo flags payload[len]`, where bit 0 of
/// `flags` splits the payload into two frames, bit 1 makes it text, bit 2 sends it
/// without RSV1, bit 3 puts a ping between the frames.
///
/// Checks, besides the connection invariants: nothing panics; every step takes input or
/// gives an event (no loop without progress, whatever the payload inflates to); once the
/// whole wire is in, every message of it was delivered (nothing waits for bytes that will
/// not come); no message or sum of pieces goes over the limit; every error closes with
/// 1002, 1007 or 1009 and the connection owes that close frame.
pub fn deflate_inflate(data: &[u8]) {
    let [mode, limit_byte, rest @ ..] = data else { return };
    let streaming = mode & 1 == 1;
    let keep = mode & 2 == 2;
    let bits = [8, 12, 15, 0][usize::from(mode >> 2 & 3)];
    let limit = 1024 * (1 + u64::from(*limit_byte & 0x3f)) * 4;
    let chunk = [1, 7, 64, 1024][usize::from(*limit_byte >> 6)];
    let agreed = PerMessageDeflate {
        client_no_context_takeover: !keep,
        client_max_window_bits: (bits != 0 && bits < MAX_WINDOW_BITS).then_some(bits),
        ..PerMessageDeflate::default()
    };
    let mut state = InflateState::new();
    let mut window = [0u8; WINDOW];
    let mut out = [0u8; 64 * 1024];
    let mut inflater = Inflater::new(&mut state, window_of(&mut window, bits), &mut out[..]);
    let incoming: Direction = agreed.receive(Role::Server);
    let config = Config { max_message: limit, streaming, min_piece: 0 };
    if inflater.start(incoming, &config).is_err() {
        // Only a window the negotiation would not have agreed to: none, where one is needed.
        assert!(bits == 0 && (streaming || keep));
        return;
    }
    let mut conn = Connection::with_config(Role::Server, config);
    conn.set_deflate(Some(agreed));
    conn.set_max_inflated(limit);

    let mut wire = [0u8; 96 * 1024];
    let (wire_len, messages) = build_wire(rest, &mut wire);
    let wire = wire.get(..wire_len).unwrap();

    let mut buf = [0u8; 4096];
    let (mut filled, mut fed, mut steps) = (0usize, 0usize, 0usize);
    let mut piece_total = 0u64;
    let mut delivered = 0usize;
    let max_steps = 64 * (wire.len() + 16) + 16 * usize::try_from(limit).unwrap();
    loop {
        steps += 1;
        assert!(steps < max_steps, "no progress: {steps} steps for {} bytes", wire.len());
        let window = buf.get_mut(..filled).unwrap();
        let result =
            conn.handle_input_span(window, &mut inflater).and_then(|status| match status {
                Status::Complete { value: Some(span), consumed } => Ok(Status::Complete {
                    value: Some(conn.event(span, window, &inflater)?),
                    consumed,
                }),
                Status::Complete { value: None, consumed } => {
                    Ok(Status::Complete { value: None, consumed })
                }
                Status::Partial { needed } => Ok(Status::Partial { needed }),
            });
        match result {
            Ok(Status::Complete { value, consumed }) => {
                assert!(consumed <= filled);
                match value {
                    Some(Event::Text(t)) => {
                        assert!(t.len() as u64 <= limit);
                        delivered += 1;
                    }
                    Some(Event::Binary(b)) => {
                        assert!(b.len() as u64 <= limit);
                        delivered += 1;
                    }
                    Some(Event::Piece { data, first, last, .. }) => {
                        if first {
                            piece_total = 0;
                        }
                        piece_total += data.len() as u64;
                        assert!(piece_total <= limit, "pieces add up to {piece_total}");
                        delivered += usize::from(last);
                    }
                    Some(Event::Close { .. }) => return,
                    Some(Event::Ping(_) | Event::Pong(_)) | None => {}
                }
                buf.copy_within(consumed..filled, 0);
                filled -= consumed;
            }
            Ok(Status::Partial { needed }) => {
                assert!(needed >= 1);
                if filled == buf.len() {
                    return;
                }
                if fed == wire.len() {
                    assert_eq!(delivered, messages, "the wire is in, {filled} bytes wait");
                    return;
                }
                let take = chunk.min(wire.len() - fed).min(buf.len() - filled);
                buf.get_mut(filled..filled + take).unwrap().copy_from_slice(&wire[fed..fed + take]);
                filled += take;
                fed += take;
            }
            Err(e) => {
                let code = e.close_code().as_u16();
                assert!(matches!(code, 1002 | 1007 | 1009), "{e:?} closes with {code}");
                if let ProtocolError::Inflate(_) = e {
                    assert!(code == 1007 || code == 1009);
                }
                assert_eq!(conn.state(), State::Failing);
                let mut close = [0u8; 131];
                let n = conn.poll_transmit([0; 4], &mut close).unwrap().unwrap();
                assert_eq!(close.get(2..4), Some(&code.to_be_bytes()[..]), "{n}");
                assert_ne!(CloseCode::new(code), CloseCode::NORMAL);
                return;
            }
        }
    }
}

/// Client frames for the messages of the script; returns their length in `wire` and how
/// many messages they hold.
fn build_wire(mut rest: &[u8], wire: &mut [u8]) -> (usize, usize) {
    let mut messages = 0;
    let mut at = 0;
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let frame = |wire: &mut [u8], at: &mut usize, first: u8, payload: &[u8]| -> bool {
        let header_len = if payload.len() < 126 { 6 } else { 8 };
        let end = *at + header_len + payload.len();
        let Some(out) = wire.get_mut(*at..end) else { return false };
        out[0] = first;
        if payload.len() < 126 {
            out[1] = 0x80 | payload.len() as u8;
        } else {
            out[1] = 0x80 | 126;
            out[2..4].copy_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        out[header_len - 4..header_len].copy_from_slice(&key);
        out[header_len..].copy_from_slice(payload);
        apply_mask(&mut out[header_len..], key, 0);
        *at = end;
        true
    };
    while let [hi, lo, flags, tail @ ..] = rest {
        let len = (usize::from(*hi) << 8 | usize::from(*lo)).min(tail.len());
        let (payload, after) = tail.split_at(len);
        rest = after;
        let opcode = if flags & 2 == 2 { 0x1 } else { 0x2 };
        let rsv1 = if flags & 4 == 4 { 0 } else { 0x40 };
        let ok = if flags & 1 == 1 {
            let (a, b) = payload.split_at(payload.len() / 2);
            frame(wire, &mut at, rsv1 | opcode, a)
                && (flags & 8 == 0 || frame(wire, &mut at, 0x89, b"p"))
                && frame(wire, &mut at, 0x80, b)
        } else {
            frame(wire, &mut at, 0x80 | rsv1 | opcode, payload)
        };
        if !ok {
            break;
        }
        messages += 1;
    }
    (at, messages)
}
