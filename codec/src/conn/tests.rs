extern crate std;

use std::vec::Vec;

use super::*;
use crate::frame::{FrameError, FrameHeader};
use crate::utf8::Utf8Validator;
use crate::{CloseCode, Status};

pub(super) const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Feeds `wire` whole, draining as the contract says, and collects owned events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Owned {
    Text(std::string::String),
    Binary(Vec<u8>),
    Piece(MessageKind, Vec<u8>, bool, bool),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<u16>, std::string::String),
}

pub(super) fn own(e: Event<'_>) -> Owned {
    match e {
        Event::Text(t) => Owned::Text(t.into()),
        Event::Binary(b) => Owned::Binary(b.to_vec()),
        Event::Piece { kind, data, first, last } => Owned::Piece(kind, data.to_vec(), first, last),
        Event::Ping(p) => Owned::Ping(p.to_vec()),
        Event::Pong(p) => Owned::Pong(p.to_vec()),
        Event::Close { code, reason } => Owned::Close(code.map(CloseCode::as_u16), reason.into()),
    }
}

fn feed_all(conn: &mut Connection, wire: &[u8]) -> (Vec<Owned>, Result<(), ProtocolError>) {
    let mut buf = wire.to_vec();
    let mut events = Vec::new();
    loop {
        match conn.handle_input(&mut buf) {
            Ok(Status::Complete { value, consumed }) => {
                if let Some(e) = value {
                    events.push(own(e));
                }
                buf.drain(..consumed);
                if conn.is_closed() || conn.state() == State::CloseReceived {
                    return (events, Ok(()));
                }
            }
            Ok(Status::Partial { .. }) => return (events, Ok(())),
            Err(e) => return (events, Err(e)),
        }
    }
}

pub(super) fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    wscodec_test_frames::masked(first, payload, KEY)
}

#[test]
fn rfc6455_5_7_examples() {
    // A single-frame unmasked text message, received by a client.
    let mut client = Connection::new(Role::Client);
    let (ev, r) = feed_all(&mut client, &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!((ev, r), (std::vec![Owned::Text("Hello".into())], Ok(())));
    // A single-frame masked text message, received by a server.
    let mut server = Connection::new(Role::Server);
    let wire = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    assert_eq!(feed_all(&mut server, &wire).0, std::vec![Owned::Text("Hello".into())]);
    // A fragmented unmasked text message.
    let mut client = Connection::new(Role::Client);
    let wire = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    assert_eq!(feed_all(&mut client, &wire).0, std::vec![Owned::Text("Hello".into())]);
    // Unmasked ping, and the pong it earns.
    let mut client = Connection::new(Role::Client);
    let wire = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(feed_all(&mut client, &wire).0, std::vec![Owned::Ping(b"Hello".to_vec())]);
    let mut out = [0u8; 32];
    let n = client.poll_transmit(KEY, &mut out).unwrap().unwrap();
    // The RFC's masked pong "Hello" example.
    assert_eq!(&out[..n], &[0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    assert_eq!(client.poll_transmit(KEY, &mut out), Ok(None));
}

#[test]
fn large_binary_headers_from_5_7() {
    for len in [256usize, 65536] {
        let mut server = Connection::new(Role::Server);
        let mut out = std::vec![0u8; len + 14];
        let n = server.encode(Message::Binary(&std::vec![7u8; len]), KEY, &mut out).unwrap();
        let expect: &[u8] = if len == 256 {
            &[0x82, 0x7e, 0x01, 0x00]
        } else {
            &[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]
        };
        assert_eq!(&out[..expect.len()], expect);
        let mut client = Connection::new(Role::Client);
        assert_eq!(
            feed_all(&mut client, &out[..n]).0,
            std::vec![Owned::Binary(std::vec![7u8; len])]
        );
    }
}

#[test]
fn control_frame_inside_a_fragmented_message() {
    let mut wire = masked(0x01, b"Hel");
    wire.extend(masked(0x89, b"ping"));
    wire.extend(masked(0x00, b"l"));
    wire.extend(masked(0x8a, b""));
    wire.extend(masked(0x80, b"o"));
    let mut server = Connection::new(Role::Server);
    let (ev, r) = feed_all(&mut server, &wire);
    assert_eq!(r, Ok(()));
    assert_eq!(
        ev,
        std::vec![
            Owned::Ping(b"ping".to_vec()),
            Owned::Pong(Vec::new()),
            Owned::Text("Hello".into())
        ]
    );
}

#[test]
fn streaming_hands_out_pieces_with_running_mask_offset() {
    let config = Config { max_message: u64::MAX, streaming: true, ..Config::default() };
    let mut server = Connection::with_config(Role::Server, config);
    let payload: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    let wire = masked(0x82, &payload);
    let mut pieces = Vec::new();
    let mut buf = Vec::new();
    for chunk in wire.chunks(37) {
        buf.extend_from_slice(chunk);
        while let Status::Complete { value, consumed } = server.handle_input(&mut buf).unwrap() {
            if let Some(Event::Piece { data, first, last, .. }) = value {
                pieces.push((data.to_vec(), first, last));
            }
            buf.drain(..consumed);
        }
    }
    assert!(pieces.len() > 10);
    assert!(pieces[0].1 && !pieces[1].1);
    assert!(pieces.last().unwrap().2);
    assert_eq!(pieces.concat_data(), payload);
}

trait ConcatData {
    fn concat_data(&self) -> Vec<u8>;
}
impl ConcatData for Vec<(Vec<u8>, bool, bool)> {
    fn concat_data(&self) -> Vec<u8> {
        self.iter().flat_map(|p| p.0.iter().copied()).collect()
    }
}

#[test]
fn too_large_fails_at_the_header_with_1009() {
    let config = Config { max_message: 100, streaming: false, ..Config::default() };
    let mut server = Connection::with_config(Role::Server, config);
    // Only the header of a 10 GiB frame: refused before any payload arrives.
    let mut wire = std::vec![0x82, 0xff, 0, 0, 0, 2, 0x80, 0, 0, 0, 1, 2, 3, 4];
    let err = server.handle_input(&mut wire).unwrap_err();
    assert_eq!(err, ProtocolError::Frame(FrameError::TooLarge { size: 10 << 30, max: 100 }));
    assert_eq!(err.close_code(), CloseCode::MESSAGE_TOO_BIG);
    assert_eq!(server.state(), State::Failing);
    let mut out = [0u8; 32];
    let n = server.poll_transmit(KEY, &mut out).unwrap().unwrap();
    assert_eq!(&out[..4], &[0x88, 17, 0x03, 0xf1]);
    assert_eq!(&out[4..n], b"message too big");
    assert!(server.is_closed());
    assert_eq!(server.handle_input(&mut [0x81, 0x80]), Err(ProtocolError::AfterClose));
}

#[test]
fn fragments_count_against_the_message_limit() {
    let config = Config { max_message: 5, streaming: false, ..Config::default() };
    let mut server = Connection::with_config(Role::Server, config);
    let mut wire = masked(0x01, b"abc");
    wire.extend(masked(0x80, b"def"));
    let (_, r) = feed_all(&mut server, &wire);
    assert_eq!(r, Err(ProtocolError::Frame(FrameError::TooLarge { size: 6, max: 5 })));
}

/// Each bad input with the error and close code it must produce.
#[test]
fn bad_input_table() {
    macro_rules! case {
        ($name:literal, $role:expr, $wire:expr, $err:expr, $code:expr) => {{
            let mut conn = Connection::new($role);
            let (_, r) = feed_all(&mut conn, &$wire);
            assert_eq!(r, Err($err), "{}", $name);
            assert_eq!($err.close_code().as_u16(), $code, "{}", $name);
            assert_eq!(conn.state(), State::Failing, "{}", $name);
        }};
    }
    use FrameError as F;
    use ProtocolError as P;
    let s = Role::Server;
    case!("rsv1 without extension", s, masked(0xc1, b"x"), P::Frame(F::ReservedBits(4)), 1002);
    case!("rsv3", s, masked(0x91, b"x"), P::Frame(F::ReservedBits(1)), 1002);
    case!("reserved opcode 3", s, masked(0x83, b""), P::Frame(F::ReservedOpcode(3)), 1002);
    case!("reserved control opcode", s, masked(0x8b, b""), P::Frame(F::ReservedOpcode(0xb)), 1002);
    case!("ping of 126 bytes", s, masked(0x89, &[0; 126]), P::Frame(F::ControlTooLong(126)), 1002);
    case!("fragmented ping", s, masked(0x09, b""), P::Frame(F::FragmentedControl), 1002);
    case!(
        "64-bit length top bit",
        s,
        [0x82u8, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4],
        P::Frame(F::LengthOverflow),
        1002
    );
    case!("unmasked client frame", s, [0x81u8, 0x00], P::Frame(F::UnmaskedClientFrame), 1002);
    case!(
        "masked server frame",
        Role::Client,
        masked(0x81, b""),
        P::Frame(F::MaskedServerFrame),
        1002
    );
    case!("lone continuation", s, masked(0x80, b"x"), P::UnexpectedContinuation, 1002);
    let mut two_starts = masked(0x01, b"a");
    two_starts.extend(masked(0x81, b"b"));
    case!("text inside fragmented message", s, two_starts, P::ExpectedContinuation, 1002);
    case!("invalid utf-8 text", s, masked(0x81, &[0xce, 0xba, 0xff]), P::InvalidUtf8, 1007);
    case!("text ending mid code point", s, masked(0x81, &[0xe2, 0x82]), P::InvalidUtf8, 1007);
    case!("close with 1 byte", s, masked(0x88, &[0x03]), P::BadClosePayload, 1002);
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        case!(
            "unsendable close code",
            s,
            masked(0x88, &code.to_be_bytes()),
            P::BadCloseCode(code),
            1002
        );
    }
    case!(
        "close reason not utf-8",
        s,
        masked(0x88, &[0x03, 0xe8, 0xff]),
        P::InvalidCloseReason,
        1007
    );
}

#[test]
fn invalid_utf8_fails_at_the_first_bad_fragment() {
    let mut server = Connection::new(Role::Server);
    let mut first = masked(0x01, &[b'o', b'k', 0xff]);
    let r = server.handle_input(&mut first);
    assert_eq!(r, Err(ProtocolError::InvalidUtf8));
}

#[test]
fn closing_handshake_started_by_peer() {
    let mut server = Connection::new(Role::Server);
    let (ev, _) = feed_all(&mut server, &masked(0x88, &[0x0f, 0xa0, b'b', b'y', b'e']));
    assert_eq!(ev, std::vec![Owned::Close(Some(4000), "bye".into())]);
    assert_eq!(server.state(), State::CloseReceived);
    assert_eq!(server.encode(Message::Text("late"), KEY, &mut [0; 16]), Err(SendError::Closed));
    let mut out = [0u8; 16];
    let n = server.poll_transmit(KEY, &mut out).unwrap().unwrap();
    assert_eq!(&out[..n], &[0x88, 0x05, 0x0f, 0xa0, b'b', b'y', b'e']);
    assert!(server.is_closed());
}

#[test]
fn closing_handshake_started_by_us() {
    let mut client = Connection::new(Role::Client);
    let mut out = [0u8; 32];
    let n =
        client.encode(Message::Close(Some((CloseCode::NORMAL, "done"))), KEY, &mut out).unwrap();
    assert_eq!(n, 2 + 4 + 6);
    assert_eq!(client.state(), State::CloseSent);
    assert_eq!(client.encode(Message::Ping(b""), KEY, &mut out), Err(SendError::Closed));
    // Data still arrives until the peer's close.
    let (ev, _) = feed_all(&mut client, &[0x82, 0x01, 9, 0x88, 0x02, 0x03, 0xe8]);
    assert_eq!(ev, std::vec![Owned::Binary(std::vec![9]), Owned::Close(Some(1000), "".into())]);
    assert!(client.is_closed());
    assert_eq!(client.poll_transmit(KEY, &mut out), Ok(None));
}

#[test]
fn empty_close_is_answered_with_an_empty_close() {
    let mut server = Connection::new(Role::Server);
    let (ev, _) = feed_all(&mut server, &masked(0x88, b""));
    assert_eq!(ev, std::vec![Owned::Close(None, "".into())]);
    let mut out = [0u8; 8];
    let n = server.poll_transmit(KEY, &mut out).unwrap().unwrap();
    assert_eq!(&out[..n], &[0x88, 0x00]);
}

#[test]
fn send_side_rules() {
    let mut c = Connection::new(Role::Client);
    let mut out = [0u8; 256];
    assert_eq!(
        c.encode(Message::Ping(&[0; 126]), KEY, &mut out),
        Err(SendError::ControlTooLong(126))
    );
    assert_eq!(
        c.encode(Message::Close(Some((CloseCode::ABNORMAL, ""))), KEY, &mut out),
        Err(SendError::InvalidCloseCode(1006))
    );
    assert_eq!(
        c.encode(Message::Close(Some((CloseCode::NORMAL, &"x".repeat(124)))), KEY, &mut out),
        Err(SendError::ControlTooLong(126))
    );
    assert_eq!(
        c.encode(Message::Text("hello"), KEY, &mut out[..10]),
        Err(SendError::BufferTooSmall { needed: 11 })
    );
    c.encode_piece(Piece { kind: MessageKind::Binary, data: b"a", last: false }, KEY, &mut out)
        .unwrap();
    assert_eq!(c.encode(Message::Text("x"), KEY, &mut out), Err(SendError::MessageInProgress));
    assert_eq!(
        c.encode_piece(Piece { kind: MessageKind::Text, data: b"b", last: true }, KEY, &mut out),
        Err(SendError::MessageInProgress)
    );
    // A ping between fragments is fine.
    c.encode(Message::Ping(b"p"), KEY, &mut out).unwrap();
    let n = c
        .encode_piece(Piece { kind: MessageKind::Binary, data: b"b", last: true }, KEY, &mut out)
        .unwrap();
    assert_eq!(out[0], 0x80); // FIN + continuation
    assert_eq!(n, 2 + 4 + 1);
}

#[test]
fn only_the_latest_ping_is_answered() {
    let mut server = Connection::new(Role::Server);
    let mut wire = Vec::new();
    for i in 0..100u8 {
        wire.extend(masked(0x89, &[i]));
    }
    let (ev, r) = feed_all(&mut server, &wire);
    assert_eq!((ev.len(), r), (100, Ok(())));
    let mut out = [0u8; 8];
    let n = server.poll_transmit(KEY, &mut out).unwrap().unwrap();
    assert_eq!(&out[..n], &[0x8a, 0x01, 99]);
    assert_eq!(server.poll_transmit(KEY, &mut out), Ok(None));
}

#[test]
fn main_types_stay_small() {
    // permessage-deflate adds what was agreed and the inflated-size limit.
    let max = if cfg!(feature = "deflate") { 360 } else { 344 };
    assert!(core::mem::size_of::<Connection>() <= max, "{}", core::mem::size_of::<Connection>());
    assert!(core::mem::size_of::<ProtocolError>() <= 24);
    assert!(core::mem::size_of::<SendError>() <= 16);
}

#[test]
fn text_split_inside_a_code_point_across_fragments() {
    let mut wire = masked(0x01, &[b'a', 0xf0]);
    wire.extend(masked(0x80, &[0x90, 0x80, 0x80, b'b']));
    let mut server = Connection::new(Role::Server);
    assert_eq!(
        feed_all(&mut server, &wire),
        (std::vec![Owned::Text("a\u{10000}b".into())], Ok(()))
    );
}

#[test]
fn print_state_sizes() {
    // Shown with `cargo test -p wscodec print_state_sizes -- --nocapture`; quoted in the README.
    std::println!(
        "Connection {} | FrameHeader {} | ProtocolError {} | SendError {} | Utf8Validator {}",
        core::mem::size_of::<Connection>(),
        core::mem::size_of::<FrameHeader>(),
        core::mem::size_of::<ProtocolError>(),
        core::mem::size_of::<SendError>(),
        core::mem::size_of::<Utf8Validator>(),
    );
    assert!(core::mem::size_of::<FrameHeader>() <= 24);
}

/// Found by the `roundtrip` and `server_connection` fuzz targets: in streaming mode a
/// control frame between fragments was left in the buffer (`consumed` 0, as reassembly
/// does), and the next fragment's payload was then read from the buffer's start.
#[test]
fn streaming_control_frame_between_fragments_is_consumed() {
    let config = Config { max_message: 100, streaming: true, ..Config::default() };
    let mut server = Connection::with_config(Role::Server, config);
    let mut wire = masked(0x01, b"Hel");
    wire.extend(masked(0x89, b"ping"));
    wire.extend(masked(0x80, b"lo"));
    let (ev, r) = feed_all(&mut server, &wire);
    assert_eq!(r, Ok(()));
    assert_eq!(
        ev,
        std::vec![
            Owned::Piece(MessageKind::Text, b"Hel".to_vec(), true, false),
            Owned::Ping(b"ping".to_vec()),
            Owned::Piece(MessageKind::Text, b"lo".to_vec(), false, true),
        ]
    );
}

#[test]
fn invalid_utf8_fails_before_the_frame_has_fully_arrived() {
    // Autobahn 6.4.3: one text frame arriving in chops; the second chop is invalid.
    let mut text = "κόσμε".as_bytes().to_vec();
    text.extend_from_slice(&[0xf4, 0x90, 0x80, 0x80]); // above U+10FFFF
    text.extend_from_slice(b"edited");
    let wire = masked(0x81, &text);
    let first_chop = 2 + 4 + 11; // header + the valid Greek word
    let mut server = Connection::new(Role::Server);
    let mut buf = wire[..first_chop].to_vec();
    // Checked as it arrived: the frame's 9 missing bytes are asked for, and asked again.
    assert_eq!(server.handle_input(&mut buf), Ok(Status::Partial { needed: 9 }));
    assert_eq!(server.handle_input(&mut buf), Ok(Status::Partial { needed: 9 }));
    // The chop with the invalid sequence fails at once, with 6 bytes still missing.
    buf.extend_from_slice(&wire[first_chop..first_chop + 4]);
    assert_eq!(server.handle_input(&mut buf), Err(ProtocolError::InvalidUtf8));
}

#[test]
fn text_checked_ahead_is_delivered_intact() {
    let text = "Grüße, κόσμε — €𝄞".repeat(3);
    let mut wire = masked(0x01, text.as_bytes());
    wire.extend(masked(0x80, text.as_bytes()));
    let mut server = Connection::new(Role::Server);
    let mut buf = Vec::new();
    let mut events = Vec::new();
    for byte in &wire {
        buf.push(*byte);
        while let Ok(Status::Complete { value, consumed }) = server.handle_input(&mut buf) {
            if let Some(e) = value {
                events.push(own(e));
            }
            buf.drain(..consumed);
        }
    }
    assert_eq!(events, std::vec![Owned::Text(text.repeat(2))]);
}

/// Found by the `server_connection` fuzz target (when a separate `next_step` decided when
/// to read): a continuation frame without a message, and a new message inside one, must
/// fail at the header, before their payload has arrived.
#[test]
fn bad_continuations_fail_at_the_header() {
    for (first, second, error) in [
        (None, 0x80u8, ProtocolError::UnexpectedContinuation),
        (Some(0x01u8), 0x81u8, ProtocolError::ExpectedContinuation),
    ] {
        let mut server = Connection::new(Role::Server);
        let mut wire = first.map(|b| masked(b, b"a")).unwrap_or_default();
        let mut next = masked(second, &[0; 100]);
        next.truncate(10); // the header and a few payload bytes
        wire.extend(next);
        if first.is_some() {
            assert_eq!(
                server.handle_input_span(&mut wire, &mut NoInflater),
                Ok(Status::Complete { value: None, consumed: 0 })
            );
        }
        assert_eq!(server.handle_input_span(&mut wire, &mut NoInflater), Err(error));
    }
}

/// The bytes of one unfragmented frame as `role`'s peer sends it (masked towards a server).
pub(super) fn wire_from(role: Role, first: u8, payload: &[u8]) -> Vec<u8> {
    match role {
        Role::Server => masked(first, payload),
        Role::Client => {
            let mut wire = std::vec![first, payload.len() as u8];
            wire.extend_from_slice(payload);
            wire
        }
    }
}

/// Feeds `wire` `chunk` bytes at a time into a buffer of at most `cap` bytes, as an adapter
/// does, and collects the events.
fn feed_in_chunks(conn: &mut Connection, wire: &[u8], chunk: usize, cap: usize) -> Vec<Owned> {
    let mut buf = Vec::new();
    let mut events = Vec::new();
    let mut rest = wire;
    loop {
        match conn.handle_input(&mut buf).unwrap() {
            Status::Complete { value, consumed } => {
                events.extend(value.map(own));
                buf.drain(..consumed);
            }
            Status::Partial { needed } => {
                assert!(needed >= 1);
                let room = cap - buf.len();
                assert!(room > 0, "a piece must be handed out before the buffer is full");
                let take = chunk.min(room).min(rest.len());
                if take == 0 {
                    return events;
                }
                buf.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
            }
        }
    }
}

#[test]
fn streaming_holds_a_frame_that_fits_until_it_is_whole() {
    let config = Config { streaming: true, min_piece: 1000, ..Config::default() };
    let payload: Vec<u8> = (0..900u32).map(|i| i as u8).collect();
    let mut wire = masked(0x82, &payload);
    // A 2500-byte frame: pieces of at least 1000 bytes (or its rest).
    let big: Vec<u8> = (0..2500u32).map(|i| (i * 3) as u8).collect();
    wire.extend(masked(0x82, &big));
    let mut server = Connection::with_config(Role::Server, config);
    let events = feed_in_chunks(&mut server, &wire, 37, 1014);
    assert_eq!(events[0], Owned::Piece(MessageKind::Binary, payload, true, true));
    let sizes: Vec<usize> = events[1..]
        .iter()
        .map(|e| match e {
            Owned::Piece(_, data, ..) => data.len(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(sizes[..sizes.len() - 1].iter().all(|&n| n >= 1000), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), 2500);
    let joined: Vec<u8> = events[1..]
        .iter()
        .flat_map(|e| match e {
            Owned::Piece(_, data, ..) => data.clone(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(joined, big);
}

#[test]
fn streaming_held_text_still_fails_fast_on_bad_utf8() {
    let config = Config { streaming: true, min_piece: 4096, ..Config::default() };
    let mut text = "κόσμε".repeat(50).into_bytes();
    text.extend_from_slice(&[0xc0, 0xaf]); // overlong: never valid
    text.extend(core::iter::repeat_n(b'x', 1000));
    let wire = masked(0x81, &text);
    let mut server = Connection::with_config(Role::Server, config);
    let mut buf = wire[..2 + 4 + 4 + 500 + 2].to_vec();
    let mut result = Ok(());
    for _ in 0..4 {
        let consumed = match server.handle_input_span(&mut buf, &mut NoInflater) {
            Ok(Status::Complete { value: None, consumed }) => consumed,
            Ok(other) => panic!("{other:?}"),
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        buf.drain(..consumed);
    }
    // Held (no piece handed out yet), yet failed as soon as the bad bytes arrived.
    assert_eq!(result, Err(ProtocolError::InvalidUtf8));
}

#[test]
fn streaming_held_text_is_handed_out_intact() {
    let config = Config { streaming: true, min_piece: 64, ..Config::default() };
    let text = "Grüße, κόσμε — €𝄞 ".repeat(20);
    let wire = masked(0x81, text.as_bytes());
    let mut server = Connection::with_config(Role::Server, config);
    let events = feed_in_chunks(&mut server, &wire, 5, 80);
    let joined: Vec<u8> = events
        .iter()
        .flat_map(|e| match e {
            Owned::Piece(MessageKind::Text, data, ..) => data.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(joined, text.as_bytes());
    assert!(events.len() > 5, "{} pieces", events.len());
}
