extern crate std;

use std::vec::Vec;

use miniz_oxide::deflate::core::TDEFLFlush;

use super::*;
use crate::deflate::testing::{mode, noise, text, Bits, Deflater, Growing};

const NO_LIMIT: u64 = u64::MAX;

fn incoming(bits: u8, no_context_takeover: bool) -> Direction {
    Direction { max_window_bits: bits, no_context_takeover }
}

/// Inflates `message` fed in `chunk`-byte slices; returns the output (reassembly: the
/// message; streaming: the pieces joined) or the error.
fn run<O: RxBuffer>(
    inflater: &mut Inflater<'_, O>,
    message: &[u8],
    chunk: usize,
    streaming: bool,
    limit: u64,
) -> Result<Vec<u8>, InflateError> {
    inflater.release();
    let mut joined = Vec::new();
    let mut rest = message;
    loop {
        let take = rest.len().min(chunk);
        let end = take == rest.len();
        let step = inflater.inflate(&rest[..take], end, limit, streaming)?;
        rest = &rest[step.consumed..];
        if streaming {
            joined.extend_from_slice(&inflater.window()[step.at..step.at + step.len]);
        }
        if step.done {
            assert!(rest.is_empty(), "done with input left");
            if !streaming {
                joined.extend_from_slice(&inflater.output()[step.at..step.at + step.len]);
            }
            return Ok(joined);
        }
        assert!(step.consumed > 0 || step.len > 0 || take == 0, "no progress");
    }
}

#[test]
fn rfc7692_examples() {
    // Section 7.2.3.1: "Hello", then the same again with context takeover (7.2.3.2).
    let mut state = InflateState::new();
    let mut window = [0u8; 1024];
    let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 16));
    inflater.start(incoming(10, false), &mode(false)).unwrap();
    let first = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    assert_eq!(run(&mut inflater, &first, 100, false, NO_LIMIT).unwrap(), b"Hello");
    let again = [0xf2, 0x00, 0x11, 0x00, 0x00];
    assert_eq!(run(&mut inflater, &again, 100, false, NO_LIMIT).unwrap(), b"Hello");
    // 7.2.3.3: a stored block; 7.2.3.4: BFINAL set; 7.2.3.5: two blocks in one message.
    inflater.start(incoming(15, true), &mode(false)).unwrap();
    for message in [
        &[0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00][..],
        &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
        &[0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00],
    ] {
        for chunk in [1, 3, 100] {
            assert_eq!(run(&mut inflater, message, chunk, false, NO_LIMIT).unwrap(), b"Hello");
        }
    }
}

#[test]
fn every_mode_round_trips_every_size_and_split() {
    for (streaming, no_context_takeover) in
        [(false, true), (false, false), (true, true), (true, false)]
    {
        let mut deflater = Deflater::new(6);
        let mut state = InflateState::new();
        let mut window = std::vec![0u8; 1 << 15];
        let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 20));
        inflater.start(incoming(15, no_context_takeover), &mode(streaming)).unwrap();
        for (i, len) in [0, 1, 5, 300, 4096, 40_000, 100_000].into_iter().enumerate() {
            let data = if i % 2 == 0 { text(len) } else { noise(len, i as u64) };
            if no_context_takeover {
                deflater.reset();
            }
            let message = deflater.message(&data);
            for chunk in [1, 7, 1500, usize::MAX] {
                if chunk == 1 && len > 5000 {
                    continue;
                }
                // The same message again: each inflates the same way only without context.
                if chunk != usize::MAX && !no_context_takeover {
                    continue;
                }
                let got = run(&mut inflater, &message, chunk, streaming, NO_LIMIT).unwrap();
                assert!(
                    got == data,
                    "mode ({streaming}, {no_context_takeover}) len {len} chunk {chunk}"
                );
            }
        }
    }
}

#[test]
fn context_takeover_refers_back_across_messages() {
    let mut deflater = Deflater::new(6);
    let first = text(3000);
    let m1 = deflater.message(&first);
    let m2 = deflater.message(&first);
    assert!(m2.len() < 64, "the second message is a back-reference: {} bytes", m2.len());
    for streaming in [false, true] {
        let mut state = InflateState::new();
        let mut window = [0u8; 1 << 12];
        let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 16));
        inflater.start(incoming(12, false), &mode(streaming)).unwrap();
        assert_eq!(run(&mut inflater, &m1, 64, streaming, NO_LIMIT).unwrap(), first);
        assert_eq!(run(&mut inflater, &m2, 64, streaming, NO_LIMIT).unwrap(), first);
    }
}

#[test]
fn a_window_smaller_than_the_peers_is_refused() {
    let mut state = InflateState::new();
    let mut window = [0u8; 4096];
    let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 16));
    assert_eq!(
        inflater.start(incoming(13, false), &mode(false)),
        Err(ExtensionError::WindowUnsupported { bits: 13 })
    );
    assert!(!inflater.is_started());
    assert_eq!(
        inflater.start(incoming(13, false), &mode(true)),
        Err(ExtensionError::WindowUnsupported { bits: 13 })
    );
    // Without context takeover in reassembly mode, no window is needed at all.
    assert_eq!(inflater.start(incoming(15, true), &mode(false)), Ok(()));
    assert_eq!(inflater.window_len(), 0);
    assert_eq!(inflater.start(incoming(12, true), &mode(true)), Ok(()));
    assert_eq!(inflater.window_len(), 4096);
}

/// 1 MiB of compressed data that inflates to 1 GiB: one sync-flushed megabyte of zeros,
/// repeated (each copy refers only to itself).
fn bomb() -> Vec<u8> {
    let mut deflater = Deflater::new(9);
    let unit = deflater.flushed(&std::vec![0u8; 1 << 20], TDEFLFlush::Full);
    let mut out = Vec::new();
    while out.len() < 1 << 20 {
        out.extend_from_slice(&unit);
    }
    out
}

#[test]
fn a_bomb_fails_at_the_limit_having_read_little() {
    let bomb = bomb();
    for (streaming, no_context_takeover, limit) in [
        (false, true, 1 << 20),
        (false, false, 1 << 20),
        (true, false, 16 << 20),
        (true, true, 16 << 20),
    ] {
        let mut state = InflateState::new();
        let mut window = std::vec![0u8; 1 << 15];
        let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 30));
        inflater.start(incoming(15, no_context_takeover), &mode(streaming)).unwrap();
        let mut fed = 0;
        let err = loop {
            match inflater.inflate(&bomb[fed..], true, limit, streaming) {
                Ok(step) => fed += step.consumed,
                Err(e) => break e,
            }
            assert!(fed < bomb.len());
        };
        assert_eq!(err, InflateError::TooLarge { max: limit });
        let size = inflater.produced;
        assert!(size <= limit + (1 << 15) + 258, "inflated {size} bytes before failing");
        assert!(fed <= 64 * 1024, "read {fed} bytes to inflate {size}");
        assert!(inflater.output.bytes.len() <= limit as usize + 1, "storage bounded");
    }
}

#[test]
fn a_fixed_output_buffer_bounds_the_message() {
    let data = text(5000);
    let message = Deflater::new(6).message(&data);
    let mut state = InflateState::new();
    let mut out = [0u8; 4999];
    let mut inflater = Inflater::new(&mut state, &mut [], &mut out[..]);
    inflater.start(incoming(15, true), &mode(false)).unwrap();
    assert!(matches!(
        run(&mut inflater, &message, 100, false, NO_LIMIT),
        Err(InflateError::TooLarge { max: NO_LIMIT, .. })
    ));
    // An exact fit is fine.
    let mut state = InflateState::new();
    let mut out = [0u8; 5000];
    let mut inflater = Inflater::new(&mut state, &mut [], &mut out[..]);
    inflater.start(incoming(15, true), &mode(false)).unwrap();
    assert_eq!(run(&mut inflater, &message, 100, false, 5000).unwrap(), data);
    assert!(matches!(
        run(&mut inflater, &message, 100, false, 4999),
        Err(InflateError::TooLarge { max: 4999, .. })
    ));
}

#[test]
fn hand_made_streams_inflate_as_rfc1951_says() {
    // 'a', 'b', then a match of distance 2: "ababa".
    let ok =
        Bits::default().field(0, 1).field(1, 2).literal(b'a').literal(b'b').match3(2).end_sync();
    let mut state = InflateState::new();
    let mut window = [0u8; 1 << 15];
    let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 16));
    for (streaming, reset) in [(false, true), (false, false), (true, true)] {
        inflater.start(incoming(15, reset), &mode(streaming)).unwrap();
        assert_eq!(run(&mut inflater, &ok, 1, streaming, NO_LIMIT).unwrap(), b"ababa");
    }
}

#[test]
fn hostile_streams_fail_precisely() {
    let mut state = InflateState::new();
    let mut window = [0u8; 1 << 15];
    let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 16));
    let hello = Deflater::new(6).message(b"Hello, Hello, Hello");
    let fixed = || {
        let mut bits = Bits::default();
        bits.field(0, 1).field(1, 2);
        bits
    };
    let cases: [(&str, Vec<u8>, InflateError); 5] = [
        // 'a' then a match of distance 4, before the start of the message.
        ("distance too far", fixed().literal(b'a').match3(4).end_sync(), InflateError::Corrupt),
        (
            "distance code 30",
            fixed().literal(b'a').code(1, 7).code(30, 5).end_sync(),
            InflateError::Corrupt,
        ),
        ("block type 3", std::vec![0x07, 0x00], InflateError::Corrupt),
        (
            "stored length mismatch",
            std::vec![0x00, 0x05, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5],
            InflateError::Corrupt,
        ),
        // RFC 7692's stored-block example without its last byte: the tail then starts a
        // block it does not finish.
        (
            "no empty block",
            std::vec![0x00, 0x05, 0x00, 0xfa, 0xff, b'H', b'e', b'l', b'l', b'o'],
            InflateError::Truncated,
        ),
    ];
    for (name, message, expected) in cases {
        for chunk in [1, 1000] {
            inflater.start(incoming(15, true), &mode(false)).unwrap();
            assert_eq!(
                run(&mut inflater, &message, chunk, false, NO_LIMIT),
                Err(expected),
                "{name}"
            );
        }
    }
    // A message cut short: what the tail then reads as is garbage or incomplete.
    for cut in 1..hello.len() {
        inflater.start(incoming(15, true), &mode(false)).unwrap();
        let result = run(&mut inflater, &hello[..cut], 1000, false, NO_LIMIT);
        assert!(
            matches!(result, Err(InflateError::Corrupt | InflateError::Truncated))
                || cut == hello.len() - 1,
            "cut at {cut}: {result:?}"
        );
    }
    // Whatever follows a final block is a new stream: here not a valid one.
    let after_final = [&[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00][..], b"junk"].concat();
    inflater.start(incoming(15, true), &mode(false)).unwrap();
    assert!(run(&mut inflater, &after_final, 1000, false, NO_LIMIT).is_err());
}

#[test]
fn the_output_is_given_back_once_handed_out() {
    let data = text(20_000);
    let message = Deflater::new(6).message(&data);
    let mut state = InflateState::new();
    let mut inflater = Inflater::new(&mut state, &mut [], Growing::new(1 << 16));
    inflater.start(incoming(15, true), &mode(false)).unwrap();
    assert_eq!(run(&mut inflater, &message, 999, false, NO_LIMIT).unwrap(), data);
    assert!(inflater.output.bytes.len() >= 20_000);
    inflater.release();
    assert_eq!((inflater.output.bytes.len(), inflater.output.shrinks), (0, 1));
    inflater.release();
    assert_eq!(inflater.output.shrinks, 1, "once per message");
}

/// Every way an inflater can be set up: (streaming, peer resets its context, window).
/// The windows: none (reassembly without context only), the smallest ring, one that is
/// not a power of two (its 4 KiB prefix is used), and the largest.
const SETUPS: [(bool, bool, usize); 9] = [
    (false, true, 0),
    (false, true, 256),
    (false, false, 256),
    (false, false, 5000),
    (false, false, 1 << 15),
    (true, true, 256),
    (true, false, 256),
    (true, false, 5000),
    (true, true, 1 << 15),
];

/// Runs `messages` in order on an inflater set up as `setup` (fresh state, a window
/// filled with `b's'` after `start`, as a reused window that was never cleared would be);
/// returns each message's result.
fn messages_through(
    setup: (bool, bool, usize),
    chunk: usize,
    messages: &[&[u8]],
) -> Vec<Result<Vec<u8>, InflateError>> {
    let (streaming, reset, window_len) = setup;
    let mut state = InflateState::new();
    let mut window = std::vec![0u8; window_len];
    let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 16));
    inflater.start(incoming(8, reset), &mode(streaming)).unwrap();
    inflater.window.fill(b's');
    let mut results = Vec::new();
    for message in messages {
        let result = run(&mut inflater, message, chunk, streaming, NO_LIMIT);
        let failed = result.is_err();
        results.push(result);
        if failed {
            break;
        }
    }
    results
}

#[test]
fn a_distance_before_the_start_of_the_stream_is_corrupt_in_every_setup() {
    // The cases: a match as the very first symbol; "a" then length 3 at distance
    // 2; and the same distances just inside the history, which must work.
    let first = Bits::fixed().match3(1).end_sync();
    let a_then_2 = Bits::fixed().literal(b'a').match3(2).end_sync();
    let ab_then_2 = Bits::fixed().literals(b"ab").match3(2).end_sync();
    let far = Bits::fixed().literals(b"ab").matched(10, 32768).end_sync();
    for setup in SETUPS {
        for chunk in [1, 1000] {
            let case = std::format!("setup {setup:?} chunk {chunk}");
            for hostile in [&first, &a_then_2, &far] {
                let got = messages_through(setup, chunk, &[hostile]);
                assert_eq!(got, [Err(InflateError::Corrupt)], "{case}");
            }
            let got = messages_through(setup, chunk, &[&ab_then_2]);
            assert_eq!(got, [Ok(b"ababa".to_vec())], "{case}");
        }
    }
}

#[test]
fn with_context_the_history_is_the_connections_and_without_the_messages() {
    let ab = Bits::fixed().literals(b"ab").end_sync();
    let back_2 = Bits::fixed().match3(2).end_sync();
    let back_3 = Bits::fixed().match3(3).end_sync();
    for setup @ (_, reset, _) in SETUPS {
        for chunk in [1, 1000] {
            let case = std::format!("setup {setup:?} chunk {chunk}");
            // "ab", then a message that only refers back: into the first message with
            // context takeover, before the start of its own stream without.
            let got = messages_through(setup, chunk, &[&ab, &back_2]);
            let expected = if reset {
                [Ok(b"ab".to_vec()), Err(InflateError::Corrupt)]
            } else {
                [Ok(b"ab".to_vec()), Ok(b"aba".to_vec())]
            };
            assert_eq!(got, expected, "{case}");
            // One byte further back than the connection has sent: always corrupt.
            let got = messages_through(setup, chunk, &[&ab, &back_3]);
            assert_eq!(got, [Ok(b"ab".to_vec()), Err(InflateError::Corrupt)], "{case}");
        }
    }
}

#[test]
fn once_the_ring_is_full_all_of_it_is_history_and_no_more() {
    // 300 bytes through a 256-byte ring, then matches: the whole ring back works (the
    // bytes the peer sent that far back), one byte further is beyond the window.
    let sent: Vec<u8> = (0..300u32).map(|i| (i % 131) as u8 + 10).collect();
    let mut bits = Bits::fixed();
    bits.literals(&sent);
    let fill = bits.end_sync();
    let back_256 = Bits::fixed().matched(3, 256).end_sync();
    let back_257 = Bits::fixed().matched(3, 257).end_sync();
    for setup in [(false, false, 256), (true, false, 256), (true, false, 300)] {
        for chunk in [1, 7, 1000] {
            let case = std::format!("setup {setup:?} chunk {chunk}");
            let got = messages_through(setup, chunk, &[&fill, &back_256]);
            assert_eq!(got, [Ok(sent.clone()), Ok(sent[44..47].to_vec())], "{case}");
            let got = messages_through(setup, chunk, &[&fill, &back_257]);
            assert_eq!(got, [Ok(sent.clone()), Err(InflateError::Corrupt)], "{case}");
        }
    }
}

#[test]
fn a_window_reused_for_the_next_connection_gives_it_nothing_of_the_last() {
    let secret = text(40_000);
    let first = Deflater::new(6).message(&secret);
    let mut state = InflateState::new();
    let mut window = std::vec![0u8; 1 << 15];
    for streaming in [false, true] {
        // The first connection keeps its context: its plaintext is in the window.
        let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 16));
        inflater.start(incoming(15, false), &mode(streaming)).unwrap();
        assert_eq!(run(&mut inflater, &first, 1000, streaming, NO_LIMIT).unwrap(), secret);
        drop(inflater);
        // The next one, over the same memory, refers back into it at once, or after one
        // byte of its own: at every distance that would reach the first's bytes.
        let mut inflater = Inflater::new(&mut state, &mut window, Growing::new(1 << 16));
        for dist in [1, 2, 3, 100, 4096, 32767, 32768] {
            for prefix in [&b""[..], b"x"] {
                for reset in [false, true] {
                    inflater.start(incoming(15, reset), &mode(streaming)).unwrap();
                    // As if `start` had not cleared it: the check alone must hold.
                    inflater.window.copy_from_slice(&secret[..1 << 15]);
                    let message = Bits::fixed().literals(prefix).matched(3, dist).end_sync();
                    let got = run(&mut inflater, &message, 1000, streaming, NO_LIMIT);
                    if dist <= prefix.len() as u32 {
                        assert_eq!(got, Ok(b"xxxx".to_vec()));
                    } else {
                        assert_eq!(got, Err(InflateError::Corrupt), "distance {dist}");
                    }
                }
            }
        }
    }
}
