extern crate std;

use std::vec::Vec;

use super::super::tests::{masked, own, Owned};
use super::*;
use crate::conn::{InflateError, SendError};
use crate::deflate::testing::{mode, noise, text, Bits, Deflater, Growing};
use crate::deflate::{InflateState, PerMessageDeflate};
use crate::NoInflater;
use crate::{CloseCode, Config, Message, Role, State};

/// A server with permessage-deflate agreed as `agreed`, in reassembly or streaming mode.
fn server(agreed: PerMessageDeflate, streaming: bool) -> Connection {
    let mut conn = Connection::with_config(Role::Server, Config { streaming, ..Config::default() });
    conn.set_deflate(Some(agreed));
    conn
}

/// Feeds `wire` `chunk` bytes at a time, as a socket would, draining what is consumed;
/// returns the events (streaming pieces as they come) and how it ended.
fn feed<O: RxBuffer>(
    conn: &mut Connection,
    inflater: &mut Inflater<'_, O>,
    wire: &[u8],
    chunk: usize,
) -> (Vec<Owned>, Result<(), ProtocolError>) {
    let mut buf = Vec::new();
    let mut rest = wire;
    let mut events = Vec::new();
    loop {
        match conn.handle_input_span(&mut buf, inflater) {
            Ok(Status::Complete { value, consumed }) => {
                if let Some(span) = value {
                    match conn.event(span, &buf, inflater) {
                        Ok(e) => events.push(own(e)),
                        Err(e) => return (events, Err(e)),
                    }
                }
                buf.drain(..consumed);
                if conn.state() == State::CloseReceived {
                    return (events, Ok(()));
                }
            }
            Ok(Status::Partial { .. }) if rest.is_empty() => return (events, Ok(())),
            Ok(Status::Partial { .. }) => {
                let take = rest.len().min(chunk);
                buf.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
            }
            Err(e) => return (events, Err(e)),
        }
    }
}

/// Joins streamed pieces back into messages, checking their flags.
fn join(events: &[Owned]) -> Vec<Owned> {
    let mut out = Vec::new();
    let mut open: Option<(MessageKind, Vec<u8>)> = None;
    for e in events {
        match e {
            Owned::Piece(kind, data, first, last) => {
                assert_eq!(*first, open.is_none(), "first flag");
                let (_, bytes) = open.get_or_insert((*kind, Vec::new()));
                bytes.extend_from_slice(data);
                if *last {
                    let (kind, bytes) = open.take().unwrap();
                    out.push(match kind {
                        MessageKind::Text => {
                            Owned::Text(std::string::String::from_utf8(bytes).unwrap())
                        }
                        MessageKind::Binary => Owned::Binary(bytes),
                    });
                }
            }
            other => out.push(other.clone()),
        }
    }
    assert!(open.is_none(), "a message was left open");
    out
}

const RESET: PerMessageDeflate = PerMessageDeflate {
    server_no_context_takeover: false,
    client_no_context_takeover: true,
    server_max_window_bits: None,
    client_max_window_bits: None,
};
const KEEP_12: PerMessageDeflate = PerMessageDeflate {
    server_no_context_takeover: false,
    client_no_context_takeover: false,
    server_max_window_bits: None,
    client_max_window_bits: Some(12),
};

#[test]
fn rfc7692_frames_in_both_modes() {
    // Section 7.2.3.1: "Hello" in one frame, then in two fragments; RSV1 on the first only.
    let one = masked(0xc1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    let two = [masked(0x41, &[0xf2, 0x48, 0xcd]), masked(0x80, &[0xc9, 0xc9, 0x07, 0x00])].concat();
    let wire = [one.clone(), two, masked(0x81, b"plain")].concat();
    for streaming in [false, true] {
        for chunk in [1, 2, 1000] {
            let mut state = InflateState::new();
            let mut window = [0u8; 4096];
            let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 16));
            let agreed = if streaming { KEEP_12 } else { RESET };
            inflater.start(agreed.receive(Role::Server), &mode(streaming)).unwrap();
            let mut conn = server(agreed, streaming);
            let (events, end) = feed(&mut conn, &mut inflater, &wire, chunk);
            assert_eq!(end, Ok(()));
            let hello = Owned::Text("Hello".into());
            assert_eq!(
                join(&events),
                [hello.clone(), hello, Owned::Text("plain".into())],
                "streaming {streaming} chunk {chunk}"
            );
        }
    }
}

#[test]
fn large_fragmented_messages_with_pings_between() {
    // miniz_oxide's compressor uses a 32 KiB window: the inflater must keep one.
    let keep = PerMessageDeflate::default();
    for (streaming, agreed) in [(false, RESET), (false, keep), (true, keep), (true, RESET)] {
        let mut deflater = Deflater::new(6);
        let mut wire = Vec::new();
        let mut expected = Vec::new();
        for (i, len) in [10, 5000, 70_000, 0, 300].into_iter().enumerate() {
            let (data, kind) =
                if i % 2 == 0 { (text(len), 0x1) } else { (noise(len, i as u64), 0x2) };
            if agreed.client_no_context_takeover {
                deflater.reset();
            }
            let compressed = deflater.message(&data);
            let pieces: Vec<&[u8]> = compressed.chunks(1000.min(compressed.len().max(1))).collect();
            let message = if kind == 1 {
                Owned::Text(std::string::String::from_utf8(data).unwrap())
            } else {
                Owned::Binary(data)
            };
            // A ping after the first frame: inside the message if it has more.
            for (j, piece) in pieces.iter().enumerate() {
                let fin = if j + 1 == pieces.len() { 0x80 } else { 0 };
                let first = if j == 0 { 0x40 | kind } else { 0 };
                wire.extend(masked(fin | first, piece));
                if j == 0 {
                    wire.extend(masked(0x89, b"ping"));
                    if pieces.len() == 1 {
                        expected.push(message.clone());
                    }
                    expected.push(Owned::Ping(b"ping".to_vec()));
                }
            }
            if pieces.len() > 1 {
                expected.push(message);
            }
        }
        for chunk in [700, 1 << 20] {
            let mut state = InflateState::new();
            let mut window = std::vec![0u8; 1 << 15];
            let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 20));
            inflater.start(agreed.receive(Role::Server), &mode(streaming)).unwrap();
            let mut conn = server(agreed, streaming);
            let (events, end) = feed(&mut conn, &mut inflater, &wire, chunk);
            assert_eq!(end, Ok(()));
            let got = join(&events);
            let brief = |v: &[Owned]| {
                v.iter()
                    .map(|e| match e {
                        Owned::Text(t) => std::format!("T{}", t.len()),
                        Owned::Binary(b) => std::format!("B{}", b.len()),
                        other => std::format!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(brief(&got), brief(&expected), "streaming {streaming} chunk {chunk}");
            assert!(got == expected, "streaming {streaming} {agreed:?} chunk {chunk}");
        }
    }
}

fn run_one(
    agreed: Option<PerMessageDeflate>,
    streaming: bool,
    wire: &[u8],
) -> (Vec<Owned>, Result<(), ProtocolError>, Connection) {
    let mut state = InflateState::new();
    let mut window = [0u8; 4096];
    let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 16));
    inflater.start(KEEP_12.receive(Role::Server), &mode(streaming)).unwrap();
    let mut conn = Connection::with_config(Role::Server, Config { streaming, ..Config::default() });
    conn.set_deflate(agreed);
    let (events, end) = feed(&mut conn, &mut inflater, wire, 1000);
    (events, end, conn)
}

#[test]
fn rsv1_where_it_may_not_be_is_1002() {
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let cases = [
        ("ping", Some(KEEP_12), masked(0xc9, b"x"), ProtocolError::CompressedControl),
        ("close", Some(KEEP_12), masked(0xc8, &[3, 232]), ProtocolError::CompressedControl),
        (
            "continuation",
            Some(KEEP_12),
            [masked(0x41, &hello[..3]), masked(0xc0, &hello[3..])].concat(),
            ProtocolError::CompressedContinuation,
        ),
        (
            "not agreed",
            None,
            masked(0xc1, &hello),
            ProtocolError::Frame(FrameError::ReservedBits(4)),
        ),
        (
            "rsv2",
            Some(KEEP_12),
            masked(0xa1, b"x"),
            ProtocolError::Frame(FrameError::ReservedBits(2)),
        ),
        (
            "rsv1 and rsv3",
            Some(KEEP_12),
            masked(0xd1, b"x"),
            ProtocolError::Frame(FrameError::ReservedBits(5)),
        ),
    ];
    for (name, agreed, wire, expected) in cases {
        for streaming in [false, true] {
            let (_, end, mut conn) = run_one(agreed, streaming, &wire);
            assert_eq!(end, Err(expected), "{name}");
            assert_eq!(expected.close_code(), CloseCode::PROTOCOL_ERROR);
            let mut out = [0u8; 64];
            let n = conn.poll_transmit([0; 4], &mut out).unwrap().unwrap();
            assert_eq!(&out[2..4], &1002u16.to_be_bytes(), "{name}");
            assert!(n > 4);
        }
    }
}

#[test]
fn inflated_text_is_checked_for_utf8_and_bad_data_is_1007() {
    let bad_utf8 = Deflater::new(6).message(&[b'a', 0xff, b'b']);
    let cut_utf8 = Deflater::new(6).message("€".as_bytes().split_at(2).0);
    for streaming in [false, true] {
        for payload in [&bad_utf8, &cut_utf8] {
            let (_, end, _) = run_one(Some(KEEP_12), streaming, &masked(0xc1, payload));
            assert_eq!(end, Err(ProtocolError::InvalidUtf8));
        }
        let (_, end, _) = run_one(Some(KEEP_12), streaming, &masked(0xc2, &[0x07, 0x00]));
        assert_eq!(end, Err(ProtocolError::Inflate(InflateError::Corrupt)));
        assert_eq!(
            ProtocolError::Inflate(InflateError::Corrupt).close_code(),
            CloseCode::INVALID_PAYLOAD
        );
    }
}

#[test]
fn the_limit_is_on_the_inflated_size() {
    let data = std::vec![b'z'; 100_000];
    let compressed = Deflater::new(6).message(&data);
    assert!(compressed.len() < 1000);
    for streaming in [false, true] {
        let mut state = InflateState::new();
        let mut window = std::vec![0u8; 1 << 15];
        let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 20));
        inflater.start(RESET.receive(Role::Server), &mode(streaming)).unwrap();
        let mut conn = server(RESET, streaming);
        conn.set_max_inflated(99_999);
        let (_, end) = feed(&mut conn, &mut inflater, &masked(0xc2, &compressed), 1 << 20);
        let too_large = ProtocolError::Inflate(InflateError::TooLarge { max: 99_999 });
        assert_eq!(end, Err(too_large));
        assert_eq!(too_large.close_code(), CloseCode::MESSAGE_TOO_BIG);
        // Exactly the limit is fine.
        let mut conn = server(RESET, streaming);
        conn.set_max_inflated(100_000);
        inflater.start(RESET.receive(Role::Server), &mode(streaming)).unwrap();
        let (events, end) = feed(&mut conn, &mut inflater, &masked(0xc2, &compressed), 1 << 20);
        assert_eq!((join(&events), end), (std::vec![Owned::Binary(data.clone())], Ok(())));
    }
    // The compressed size is bounded too, by the limit plus an eighth and 1 KiB.
    let mut conn = server(RESET, false);
    conn.set_max_inflated(8000);
    let wire = masked(0xc2, &std::vec![0; 10_025]);
    let mut buf = wire[..14].to_vec();
    assert_eq!(
        conn.handle_input_span(&mut buf, &mut NoInflater),
        Err(ProtocolError::Frame(FrameError::TooLarge { size: 10_025, max: 10_024 }))
    );
}

#[test]
fn without_an_inflater_a_compressed_message_is_1011() {
    let mut conn = server(KEEP_12, false);
    let mut wire = masked(0xc1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    let Ok(Status::Complete { value: None, consumed }) = conn.handle_input(&mut wire) else {
        panic!()
    };
    assert_eq!(conn.handle_input(&mut wire[consumed..]), Err(ProtocolError::NoInflater));
    assert_eq!(ProtocolError::NoInflater.close_code(), CloseCode::INTERNAL_ERROR);
    // An inflater that was not started is no better.
    let mut conn = server(KEEP_12, false);
    let mut state = InflateState::new();
    let mut inflater = Inflater::new(&mut state, &mut [], &mut [][..]);
    let (_, end) = feed(&mut conn, &mut inflater, &wire, 100);
    assert_eq!(end, Err(ProtocolError::NoInflater));
}

#[test]
fn compressed_frames_carry_rsv1_on_the_first_frame_only() {
    let mut conn = Connection::new(Role::Server);
    let mut out = [0u8; 16];
    assert_eq!(
        conn.encode_compressed_header(
            PieceHeader { kind: MessageKind::Text, len: 3, last: true },
            [0; 4],
            &mut out
        ),
        Err(SendError::NotNegotiated)
    );
    conn.set_deflate(Some(PerMessageDeflate::default()));
    let n = conn
        .encode_compressed_header(
            PieceHeader { kind: MessageKind::Text, len: 3, last: false },
            [0; 4],
            &mut out,
        )
        .unwrap();
    assert_eq!(&out[..n], &[0x41, 0x03]);
    let n = conn
        .encode_compressed_header(
            PieceHeader { kind: MessageKind::Text, len: 2, last: true },
            [0; 4],
            &mut out,
        )
        .unwrap();
    assert_eq!(&out[..n], &[0x80, 0x02]);
    let n = conn.encode(Message::Text("hi"), [0; 4], &mut out).unwrap();
    assert_eq!(&out[..n], b"\x81\x02hi", "uncompressed messages stay allowed");
    let mut client = Connection::new(Role::Client);
    client.set_deflate(Some(PerMessageDeflate::default()));
    let n = client
        .encode_compressed_header(
            PieceHeader { kind: MessageKind::Binary, len: 7, last: true },
            [1, 2, 3, 4],
            &mut out,
        )
        .unwrap();
    assert_eq!(&out[..n], &[0xc2, 0x87, 1, 2, 3, 4]);
}

#[test]
fn a_client_inflates_unmasked_server_frames() {
    let mut deflater = Deflater::new(6);
    let data = text(9000);
    let compressed = deflater.message(&data);
    let mut wire = std::vec![0xc1, 126];
    wire.extend_from_slice(&(compressed.len() as u16).to_be_bytes());
    wire.extend_from_slice(&compressed);
    let mut conn = Connection::new(Role::Client);
    conn.set_deflate(Some(PerMessageDeflate::default()));
    let mut state = InflateState::new();
    let mut window = std::vec![0u8; 1 << 15];
    let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 16));
    inflater.start(PerMessageDeflate::default().receive(Role::Client), &mode(false)).unwrap();
    let (events, end) = feed(&mut conn, &mut inflater, &wire, 333);
    assert_eq!(
        (events, end),
        (std::vec![Owned::Text(std::string::String::from_utf8(data).unwrap())], Ok(()))
    );
}

#[test]
fn a_distance_before_the_stream_is_1007_in_both_roles_over_a_reused_window() {
    let secret = text(3000);
    let hostile = [
        Bits::fixed().match3(1).end_sync(),
        Bits::fixed().literal(b'a').match3(2).end_sync(),
        Bits::fixed().literals(b"ab").matched(10, 4096).end_sync(),
    ];
    // A frame from the peer of `role`: masked to a server, unmasked to a client.
    let frame = |role: Role, payload: &[u8]| match role {
        Role::Server => masked(0xc1, payload),
        Role::Client => wscodec_test_frames::unmasked(0xc1, payload),
    };
    // One window and one state for every connection in turn: the first of each pair
    // leaves its plaintext in the window, the second refers back before its own start.
    let mut state = InflateState::new();
    let mut window = [0u8; 4096];
    for role in [Role::Server, Role::Client] {
        for streaming in [false, true] {
            for no_context_takeover in [false, true] {
                let agreed = PerMessageDeflate {
                    server_no_context_takeover: no_context_takeover,
                    client_no_context_takeover: no_context_takeover,
                    server_max_window_bits: Some(12),
                    client_max_window_bits: Some(12),
                };
                let config = Config { streaming, ..Config::default() };
                for payload in &hostile {
                    let case = std::format!("{role:?} streaming {streaming} agreed {agreed:?}");
                    let mut first = Connection::with_config(role, config);
                    first.set_deflate(Some(agreed));
                    let mut inflater =
                        Inflater::new(&mut state, &mut window, Growing::new(1 << 16));
                    inflater.start(agreed.receive(role), &mode(streaming)).unwrap();
                    let wire = frame(role, &Deflater::new(6).message(&secret));
                    let (events, end) = feed(&mut first, &mut inflater, &wire, 1000);
                    assert_eq!(end, Ok(()), "{case}");
                    let secret = std::string::String::from_utf8(secret.clone()).unwrap();
                    assert_eq!(join(&events), [Owned::Text(secret)], "{case}");
                    drop(inflater);

                    let mut next = Connection::with_config(role, config);
                    next.set_deflate(Some(agreed));
                    let mut inflater =
                        Inflater::new(&mut state, &mut window, Growing::new(1 << 16));
                    inflater.start(agreed.receive(role), &mode(streaming)).unwrap();
                    let (events, end) = feed(&mut next, &mut inflater, &frame(role, payload), 1);
                    assert_eq!(end, Err(ProtocolError::Inflate(InflateError::Corrupt)), "{case}");
                    // Streaming may hand out the literals before the match: only those.
                    let pieces: Vec<u8> = events
                        .iter()
                        .flat_map(|e| match e {
                            Owned::Piece(_, data, _, _) => data.clone(),
                            other => panic!("{case}: {other:?}"),
                        })
                        .collect();
                    assert!(b"ab".starts_with(&pieces), "{case}: {pieces:?}");
                    let mut out = [0u8; 64];
                    next.poll_transmit([0; 4], &mut out).unwrap().unwrap();
                    let code = if role == Role::Server { &out[2..4] } else { &out[6..8] };
                    assert_eq!(code, &1007u16.to_be_bytes(), "{case}");
                }
            }
        }
    }
}

#[test]
fn empty_frames_inside_a_compressed_message_are_passed_over() {
    // Found by inflate_differential: an empty frame that did not end a compressed
    // message left the connection waiting for payload it had none of, and everything
    // after it was never read.
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let cases = [
        // An empty first frame, then the whole message.
        (
            [masked(0x42, b""), masked(0x80, &hello)].concat(),
            Ok(std::vec![Owned::Binary(b"Hello".to_vec())]),
        ),
        // Empty frames between and after the message's bytes.
        (
            [
                masked(0x42, &hello[..3]),
                masked(0x00, b""),
                masked(0x00, &hello[3..]),
                masked(0x80, b""),
            ]
            .concat(),
            Ok(std::vec![Owned::Binary(b"Hello".to_vec())]),
        ),
        // An empty message in two empty frames: not a DEFLATE stream (the tail alone
        // starts a block it does not end).
        (
            [masked(0x42, b""), masked(0x80, b"")].concat(),
            Err(ProtocolError::Inflate(InflateError::Truncated)),
        ),
    ];
    for (wire, expected) in cases {
        for streaming in [false, true] {
            for chunk in [1, 1000] {
                let mut state = InflateState::new();
                let mut window = std::vec![0u8; 1 << 15];
                let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 16));
                inflater.start(RESET.receive(Role::Server), &mode(streaming)).unwrap();
                let mut conn = server(RESET, streaming);
                let wire = [wire.clone(), masked(0x81, b"after")].concat();
                let (events, end) = feed(&mut conn, &mut inflater, &wire, chunk);
                let got = end.map(|()| join(&events));
                let expected = expected.clone().map(|mut e| {
                    e.push(Owned::Text("after".into()));
                    e
                });
                assert_eq!(got, expected, "streaming {streaming} chunk {chunk}");
            }
        }
    }
}
