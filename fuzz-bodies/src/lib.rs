//! Fuzz target bodies, shared by `fuzz/` (cargo-fuzz, libFuzzer) and `tests/corpus.rs`
//! (which replays the committed seeds and every crash input on stable).
//!
//! Each function takes arbitrary bytes, drives one entry point of the codec through its
//! public API, and asserts its invariants: a failed `assert!` here is a finding. Nothing
//! here allocates. An unpublished crate of its own, so the library carries no test code.
#![no_std]
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod connection;
mod deflate;
mod handshake;

pub use connection::{client_connection, connection, server_connection};

pub use handshake::{
    compare_request_parsers, compare_response_parsers, handshake_request, handshake_response,
    request_parser, REQUEST_PARSER_MAX_HEADERS,
};

pub use deflate::{deflate_inflate, deflate_negotiation};

use wscodec::{
    CloseCode, CloseFrame, Config, Connection, Event, FrameHeader, HandshakeError, Message,
    MessageKind, Piece, ProtocolError, Role, State, Status, MAX_CONTROL_FRAME, MAX_REASON_LEN,
};

/// A close code a protocol error may earn (RFC 6455 section 7.4.1).
pub(crate) fn assert_error_code(code: CloseCode) {
    assert!(code.is_sendable(), "error close code {code:?} may not be sent");
    assert!(
        matches!(code.as_u16(), 1002 | 1007 | 1009),
        "protocol errors close with 1002, 1007 or 1009, not {code:?}"
    );
}

/// An HTTP status a handshake error may earn.
pub(crate) fn assert_status(e: HandshakeError) {
    let status = e.status();
    assert!((400..=599).contains(&status), "{e:?} maps to status {status}");
}

/// `FrameHeader::decode` on arbitrary bytes.
///
/// Checks: `consumed` is the encoded length and within the input; `needed` is at least
/// 1 and never overshoots; every prefix of a complete header is partial (or fails with
/// the same error); decoding what `encode` writes gives the header back; errors map to
/// 1002 or 1009.
pub fn frame_header(data: &[u8]) {
    let result = FrameHeader::decode(data);
    match result {
        Ok(Status::Complete { value, consumed }) => {
            assert!((2..=FrameHeader::MAX_LEN).contains(&consumed) && consumed <= data.len());
            assert!(value.rsv <= 7);
            assert!(value.payload_len >> 63 == 0);
            if value.opcode.is_control() {
                assert!(value.fin && value.payload_len <= 125);
            }
            let mut out = [0u8; FrameHeader::MAX_LEN];
            let n = value.encode(&mut out).expect("MAX_LEN holds every header");
            assert_eq!(n, value.encoded_len());
            assert!(n <= consumed, "the minimal encoding is never longer");
            assert_eq!(
                FrameHeader::decode(out.get(..n).unwrap()),
                Ok(Status::Complete { value, consumed: n })
            );
            for cut in 0..consumed {
                match FrameHeader::decode(data.get(..cut).unwrap()) {
                    Ok(Status::Partial { needed }) => {
                        assert!(needed >= 1 && cut + needed <= consumed)
                    }
                    other => panic!("prefix of {cut} bytes gave {other:?}"),
                }
            }
        }
        Ok(Status::Partial { needed }) => {
            assert!(needed >= 1 && data.len() + needed <= FrameHeader::MAX_LEN);
        }
        Err(e) => {
            assert_error_code(ProtocolError::Frame(e).close_code());
            for cut in 0..data.len().min(FrameHeader::MAX_LEN) {
                match FrameHeader::decode(data.get(..cut).unwrap()) {
                    Ok(Status::Partial { .. }) => {}
                    Err(e2) => assert_eq!(e, e2, "a prefix fails differently"),
                    Ok(Status::Complete { .. }) => panic!("prefix of {cut} bytes complete"),
                }
            }
        }
    }
}

/// `CloseFrame::decode` on an arbitrary close payload.
///
/// Checks: an accepted code is sendable and the reason is the UTF-8 text after it; an
/// accepted close frame can be sent back and decodes to the same; errors map to 1002
/// or 1007.
pub fn close_payload(data: &[u8]) {
    match CloseFrame::decode(data) {
        Ok(frame) => {
            match frame.code {
                None => assert!(data.is_empty()),
                Some(code) => {
                    assert!(code.is_sendable());
                    assert_eq!(data.get(..2), Some(&code.as_u16().to_be_bytes()[..]));
                    assert_eq!(frame.reason.as_bytes(), data.get(2..).unwrap());
                }
            }
            if frame.reason.len() <= MAX_REASON_LEN {
                let mut conn = Connection::new(Role::Server);
                let mut out = [0u8; MAX_CONTROL_FRAME];
                let close = frame.code.map(|c| (c, frame.reason));
                let n = conn.encode(Message::Close(close), [0; 4], &mut out).unwrap();
                let sent = out.get(2..n).unwrap();
                assert_eq!(sent, data);
                assert_eq!(CloseFrame::decode(sent), Ok(frame));
            }
        }
        Err(e) => {
            let e = ProtocolError::from(e);
            assert!(matches!(
                e,
                ProtocolError::BadClosePayload
                    | ProtocolError::BadCloseCode(_)
                    | ProtocolError::InvalidCloseReason
            ));
            assert_error_code(e.close_code());
        }
    }
}

/// `roundtrip`: arbitrary messages and fragment sizes, encoded by one end and decoded by
/// the other (both roles, both receive modes), must come out equal.
///
/// Input: byte 0 picks the sender's role (bit 0), text or binary (bit 1), the receive
/// mode (bit 2); byte 1 is the fragment size (0: one frame); byte 2 how many bytes the
/// receiver gets per read (0: all); the rest is the message (made valid UTF-8 for text
/// by replacing non-ASCII bytes).
pub fn roundtrip(data: &[u8]) {
    const MAX: usize = 4096;
    let [flags, frag, chunk, rest @ ..] = data else { return };
    let rest = rest.get(..rest.len().min(MAX)).unwrap();
    let mut message = [0u8; MAX];
    let message = message.get_mut(..rest.len()).unwrap();
    message.copy_from_slice(rest);
    let kind = if flags & 2 == 0 { MessageKind::Binary } else { MessageKind::Text };
    if kind == MessageKind::Text {
        message.iter_mut().for_each(|b| *b &= 0x7f);
    }
    let (sender_role, receiver_role) =
        if flags & 1 == 0 { (Role::Client, Role::Server) } else { (Role::Server, Role::Client) };
    let streaming = flags & 4 != 0;
    let mut sender = Connection::new(sender_role);
    let mut receiver = Connection::with_config(
        receiver_role,
        Config { max_message: MAX as u64, streaming, ..Config::default() },
    );
    // Encode, fragmenting every `frag` bytes and putting a ping between fragments.
    // Worst case: 1-byte fragments, each with a 6-byte header and a 7-byte ping after it.
    let mut wire = [0u8; 14 * MAX + 256];
    let mut len = 0;
    let mut key = [*flags, *frag, *chunk, 0x42];
    let frag = usize::from(*frag);
    if frag == 0 {
        let msg = match kind {
            MessageKind::Text => Message::Text(core::str::from_utf8(message).unwrap()),
            MessageKind::Binary => Message::Binary(message),
        };
        len += sender.encode(msg, key, wire.get_mut(len..).unwrap()).unwrap();
    } else {
        let mut pieces = message.chunks(frag).peekable();
        if pieces.peek().is_none() {
            len +=
                sender.encode_piece(Piece { kind, data: &[], last: true }, key, &mut wire).unwrap();
        }
        while let Some(piece) = pieces.next() {
            let last = pieces.peek().is_none();
            len += sender
                .encode_piece(Piece { kind, data: piece, last }, key, wire.get_mut(len..).unwrap())
                .unwrap();
            key[3] = key[3].wrapping_add(1);
            if !last {
                len +=
                    sender.encode(Message::Ping(b"p"), key, wire.get_mut(len..).unwrap()).unwrap();
            }
        }
    }
    len += sender
        .encode(
            Message::Close(Some((CloseCode::NORMAL, "done"))),
            key,
            wire.get_mut(len..).unwrap(),
        )
        .unwrap();
    assert_eq!(sender.state(), State::CloseSent);
    // Decode, handing the bytes over `chunk` at a time.
    let chunk = if *chunk == 0 { len } else { usize::from(*chunk) };
    let mut rx = [0u8; 14 * MAX + 256];
    let (mut filled, mut fed) = (0, 0);
    let mut got = [0u8; MAX];
    let mut got_len = 0;
    let mut closed = false;
    while !closed {
        let window = rx.get_mut(..filled).unwrap();
        match receiver.handle_input(window).unwrap() {
            Status::Partial { .. } => {
                assert!(fed < len, "the receiver wants more than was sent");
                let n = chunk.min(len - fed);
                rx.get_mut(filled..filled + n)
                    .unwrap()
                    .copy_from_slice(wire.get(fed..fed + n).unwrap());
                filled += n;
                fed += n;
            }
            Status::Complete { value, consumed } => {
                let mut whole: Option<&[u8]> = None;
                match value {
                    None => {}
                    Some(Event::Text(t)) => whole = Some(t.as_bytes()),
                    Some(Event::Binary(b)) => whole = Some(b),
                    Some(Event::Piece { kind: k, data, .. }) => {
                        assert_eq!(k, kind);
                        got.get_mut(got_len..got_len + data.len()).unwrap().copy_from_slice(data);
                        got_len += data.len();
                    }
                    Some(Event::Ping(p)) => assert_eq!(p, b"p"),
                    Some(Event::Close { code, reason }) => {
                        assert_eq!((code, reason), (Some(CloseCode::NORMAL), "done"));
                        closed = true;
                    }
                    Some(other) => panic!("unexpected {other:?}"),
                }
                if let Some(w) = whole {
                    assert!(!streaming);
                    got.get_mut(..w.len()).unwrap().copy_from_slice(w);
                    got_len = w.len();
                }
                rx.copy_within(consumed..filled, 0);
                filled -= consumed;
            }
        }
    }
    assert_eq!(got.get(..got_len).unwrap(), &message[..], "the message changed on the way");
    assert_eq!(fed, len);
    assert_eq!(filled, 0);
}
