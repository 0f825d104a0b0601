//! The connection targets: a script of peer bytes, split at arbitrary points into a small
//! receive buffer, interleaved with sends, fragments, closes, pings and `poll_transmit`.

use wscodec::{
    CloseCode, CloseFrame, Config, Connection, Event, FrameError, FrameHeader, Message,
    MessageKind, NoInflater, OpCode, Piece, ProtocolError, Role, SendError, State, Status,
    MAX_CONTROL_FRAME,
};

use crate::assert_error_code;

/// `server_connection`: a server [`Connection`] driven by [`connection`].
pub fn server_connection(data: &[u8]) {
    connection(Role::Server, data);
}

/// `client_connection`: a client [`Connection`] driven by [`connection`].
pub fn client_connection(data: &[u8]) {
    connection(Role::Client, data);
}

/// The largest receive buffer the connection targets use.
const RX_CAP: usize = 2048;

/// Reads a script from the fuzzer's bytes.
struct Script<'a>(&'a [u8]);

impl<'a> Script<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

/// What a received close means for the state (for the "only forward" invariant).
fn may_follow(from: State, to: State) -> bool {
    use State::*;
    from == to
        || matches!(
            (from, to),
            (Open, CloseSent | CloseReceived | Failing | Closed)
                | (CloseSent | CloseReceived | Failing, Closed)
        )
}

/// Drives a [`Connection`] the way an adapter does, with a script of operations.
///
/// Input: byte 0 sets the mode (bit 0 streaming) and byte 1 the receive buffer size and
/// message limit, then operations, each an opcode byte and its arguments:
/// - `0 n bytes[n]`: `n` bytes arrive from the peer (any split point);
/// - `1 k len`: send a text or binary message of `len` bytes in an output buffer of `k`;
/// - `2 k len last`: send a fragment;
/// - `3 k`: `poll_transmit` into an output buffer of `k` bytes;
/// - `4 code reason_len`: send a close;
/// - `5 len`: send a ping.
///
/// Invariants after every step: `consumed` and `needed` are consistent with the buffer,
/// an event found by [`Connection::handle_input_span`] is where it says, the state only
/// moves forward, nothing is produced after [`State::Closed`], every
/// protocol error closes with 1002, 1007 or 1009 and makes the connection owe exactly
/// that close frame, output never exceeds the buffer and every frame sent is well formed
/// for this role (masked from a client, unmasked from a server).
pub fn connection(role: Role, data: &[u8]) {
    let mut script = Script(data);
    let (Some(mode), Some(size)) = (script.byte(), script.byte()) else { return };
    let streaming = mode & 1 == 1;
    let cap = 16 + usize::from(size) * 8; // 16..=2056
    let cap = cap.min(RX_CAP);
    let max_message = if mode & 2 == 2 { cap as u64 / 2 } else { cap as u64 };
    // Streaming: pieces as they arrive, or held until half the buffer (as an adapter
    // holds them until its buffer is full).
    let min_piece = if mode & 4 == 4 { cap / 2 } else { 0 };
    let config = Config { max_message, streaming, min_piece };
    let mut conn = Connection::with_config(role, config);
    let mut rx = [0u8; RX_CAP];
    let mut filled = 0usize;
    let mut received_message: u64 = 0;
    let mut key_seed = 0u8;
    while let Some(op) = script.byte() {
        key_seed = key_seed.wrapping_add(op).wrapping_add(1);
        let key = [key_seed, key_seed ^ 0x5a, 3, key_seed.wrapping_mul(7)];
        let before = conn.state();
        match op % 6 {
            0 => {
                let n = usize::from(script.byte().unwrap_or(0));
                let chunk = script.bytes(n);
                let room = cap - filled;
                let take = chunk.len().min(room);
                rx.get_mut(filled..filled + take)
                    .unwrap()
                    .copy_from_slice(chunk.get(..take).unwrap());
                filled += take;
                if !drain_input(&mut conn, &mut rx, &mut filled, cap, &mut received_message) {
                    return;
                }
            }
            1 => {
                let k = usize::from(script.byte().unwrap_or(0)) * 2;
                let len = usize::from(script.byte().unwrap_or(0));
                let payload = &PATTERN[..len.min(PATTERN.len())];
                let message = if op & 8 == 0 {
                    Message::Text(core::str::from_utf8(payload).unwrap())
                } else {
                    Message::Binary(payload)
                };
                send(&mut conn, |c, out| c.encode(message, key, out), k, payload.len(), true);
            }
            2 => {
                let k = usize::from(script.byte().unwrap_or(0)) * 2;
                let len = usize::from(script.byte().unwrap_or(0));
                let last = script.byte().unwrap_or(0) & 1 == 1;
                let payload = &PATTERN[..len.min(PATTERN.len())];
                let kind = if op & 8 == 0 { MessageKind::Text } else { MessageKind::Binary };
                send(
                    &mut conn,
                    |c, out| c.encode_piece(Piece { kind, data: payload, last }, key, out),
                    k,
                    payload.len(),
                    false,
                );
            }
            3 => {
                let k = usize::from(script.byte().unwrap_or(0));
                let owed = conn.wants_transmit();
                let mut out = [0xA5u8; 256];
                let out = out.get_mut(..k).unwrap();
                match conn.poll_transmit(key, out) {
                    Ok(Some(n)) => {
                        assert!(owed && n <= k && n <= MAX_CONTROL_FRAME);
                        assert!(before != State::Closed, "output after Closed");
                        check_frame(role, out.get(..n).unwrap(), true);
                    }
                    Ok(None) => assert!(!owed),
                    Err(SendError::BufferTooSmall { needed }) => {
                        assert!(owed && needed > k && needed <= MAX_CONTROL_FRAME);
                        assert!(out.iter().all(|&b| b == 0xA5), "wrote into a short buffer");
                        assert_eq!(conn.state(), before);
                    }
                    Err(e) => panic!("poll_transmit failed with {e:?}"),
                }
            }
            4 => {
                let code = CloseCode::new(match script.byte().unwrap_or(0) {
                    0 => 1000,
                    1 => 1001,
                    2 => 1005,
                    3 => 4000,
                    4 => 999,
                    b => 1000 + u16::from(b),
                });
                let reason_len = usize::from(script.byte().unwrap_or(0) % 130);
                let reason = core::str::from_utf8(&PATTERN[..reason_len]).unwrap();
                let close = if code.as_u16() == 1005 { None } else { Some((code, reason)) };
                let mut out = [0xA5u8; 256];
                match conn.encode(Message::Close(close), key, &mut out) {
                    Ok(n) => {
                        assert!(before != State::Closed, "output after Closed");
                        check_frame(role, out.get(..n).unwrap(), true);
                    }
                    Err(e) => assert!(matches!(
                        e,
                        SendError::Closed
                            | SendError::InvalidCloseCode(_)
                            | SendError::ControlTooLong(_)
                    )),
                }
            }
            _ => {
                let len = usize::from(script.byte().unwrap_or(0) % 130);
                let mut out = [0xA5u8; 256];
                match conn.encode(Message::Ping(&PATTERN[..len]), key, &mut out) {
                    Ok(n) => {
                        assert!(conn.state() == State::Open && len <= 125);
                        check_frame(role, out.get(..n).unwrap(), true);
                    }
                    Err(e) => {
                        assert!(matches!(e, SendError::Closed | SendError::ControlTooLong(_)))
                    }
                }
            }
        }
        let after = conn.state();
        assert!(may_follow(before, after), "state went from {before:?} to {after:?}");
        if after == State::Closed {
            assert!(!conn.wants_transmit(), "owes output after Closed");
        }
    }
}

/// ASCII text to send: every prefix is valid UTF-8.
const PATTERN: &[u8; 256] = &{
    let mut p = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        p[i] = b'a' + (i % 26) as u8;
        i += 1;
    }
    p
};

/// Calls `encode` into an output buffer of `k` bytes and checks the result.
fn send(
    conn: &mut Connection,
    encode: impl FnOnce(&mut Connection, &mut [u8]) -> Result<usize, SendError>,
    k: usize,
    payload_len: usize,
    whole: bool,
) {
    let before = conn.state();
    let mut out = [0xA5u8; 512];
    let out = out.get_mut(..k).unwrap();
    match encode(conn, out) {
        Ok(n) => {
            assert!(before == State::Open, "data sent in state {before:?}");
            assert!(n <= k, "wrote {n} bytes into a buffer of {k}");
            assert_eq!(n, conn.frame_len(payload_len));
            assert!(out.get(n..).unwrap().iter().all(|&b| b == 0xA5), "wrote past the frame");
            check_frame(conn.role(), out.get(..n).unwrap(), whole);
        }
        Err(SendError::BufferTooSmall { needed }) => {
            assert!(needed > k);
            assert!(out.iter().all(|&b| b == 0xA5), "wrote into a short buffer");
        }
        Err(SendError::Closed) => assert!(before != State::Open),
        Err(SendError::MessageInProgress) => {}
        Err(e) => panic!("unexpected send error {e:?}"),
    }
    assert_eq!(conn.state(), before, "a data send changed the state");
}

/// A frame this end sent is one well-formed frame of its role.
fn check_frame(role: Role, frame: &[u8], whole: bool) {
    let Ok(Status::Complete { value, consumed }) = FrameHeader::decode(frame) else {
        panic!("sent an undecodable frame {frame:x?}")
    };
    assert_eq!(value.rsv, 0);
    assert_eq!(value.mask.is_some(), role == Role::Client, "masking is wrong for {role:?}");
    assert_eq!(consumed as u64 + value.payload_len, frame.len() as u64);
    if whole {
        assert!(value.fin);
    }
    if value.opcode == OpCode::Close {
        let mut payload = [0u8; 125];
        let src = frame.get(consumed..).unwrap();
        let payload = payload.get_mut(..src.len()).unwrap();
        payload.copy_from_slice(src);
        if let Some(key) = value.mask {
            wscodec::mask::apply_mask(payload, key, 0);
        }
        assert!(CloseFrame::decode(payload).is_ok(), "sent a bad close payload");
    }
}

/// Hands the buffered input to the connection until it needs more; `false` ends the run.
fn drain_input(
    conn: &mut Connection,
    rx: &mut [u8; RX_CAP],
    filled: &mut usize,
    cap: usize,
    received: &mut u64,
) -> bool {
    loop {
        let state = conn.state();
        let window = rx.get_mut(..*filled).unwrap();
        let retained = conn.retained();
        assert!(retained <= *filled);
        let result =
            conn.handle_input_span(window, &mut NoInflater).and_then(|status| match status {
                Status::Complete { value: Some(at), consumed } => {
                    assert!(at.start() + at.len() <= consumed.max(window.len()), "{at:?} outside");
                    assert!(at.start() + at.len() <= window.len(), "{at:?} past the input");
                    let event = conn.event(at, window, &NoInflater)?;
                    Ok(Status::Complete { value: Some(event), consumed })
                }
                Status::Complete { value: None, consumed } => {
                    Ok(Status::Complete { value: None, consumed })
                }
                Status::Partial { needed } => Ok(Status::Partial { needed }),
            });
        let after = conn.state();
        assert!(may_follow(state, after), "state went from {state:?} to {after:?}");
        match result {
            Ok(Status::Partial { needed }) => {
                assert!(needed >= 1);
                if *filled < cap {
                    return true;
                }
                // A full buffer: free the joined frames' headers, as the adapters do.
                let freed = conn.compact(rx.get_mut(..*filled).unwrap());
                assert!(freed <= *filled);
                if freed == 0 {
                    // The adapter fails the message as too big here; stop.
                    return false;
                }
                *filled -= freed;
                assert!(conn.retained() <= *filled);
            }
            Ok(Status::Complete { value: None, consumed }) => {
                drain(rx, filled, consumed);
            }
            Ok(Status::Complete { value: Some(event), consumed }) => {
                let closing = check_event(conn, &event, received);
                drain(rx, filled, consumed);
                if closing {
                    return true;
                }
            }
            Err(e) => {
                assert_error_code(e.close_code());
                if e == ProtocolError::AfterClose {
                    assert!(matches!(state, State::CloseReceived | State::Failing | State::Closed));
                    assert_eq!(after, state);
                    return true;
                }
                // The failure's close frame is owed, unless ours was already out.
                if state == State::CloseSent {
                    assert_eq!(after, State::Closed);
                    assert!(!conn.wants_transmit());
                } else {
                    assert_eq!(after, State::Failing);
                    let mut out = [0u8; MAX_CONTROL_FRAME];
                    let n = conn.poll_transmit([1, 2, 3, 4], &mut out).unwrap().unwrap();
                    assert_eq!(conn.state(), State::Closed);
                    let Ok(Status::Complete { value, consumed }) = FrameHeader::decode(&out) else {
                        panic!("bad close frame")
                    };
                    assert_eq!(value.opcode, OpCode::Close);
                    let payload = out.get_mut(consumed..n).unwrap();
                    if let Some(key) = value.mask {
                        wscodec::mask::apply_mask(payload, key, 0);
                    }
                    let close = CloseFrame::decode(payload).unwrap();
                    assert_eq!(close.code, Some(e.close_code()));
                }
                if let ProtocolError::Frame(FrameError::TooLarge { size, max }) = e {
                    assert!(size > max);
                }
                return false;
            }
        }
    }
}

/// Checks one event; returns whether input handling should stop (the peer closed).
fn check_event(conn: &Connection, event: &Event<'_>, received: &mut u64) -> bool {
    let max = conn.config().max_message;
    match *event {
        Event::Text(t) => assert!(t.len() as u64 <= max),
        Event::Binary(b) => assert!(b.len() as u64 <= max),
        Event::Piece { data, first, last, .. } => {
            if first {
                *received = 0;
            }
            *received += data.len() as u64;
            assert!(*received <= max, "streamed {received} bytes over the limit {max}");
            if last {
                *received = 0;
            }
        }
        Event::Ping(p) | Event::Pong(p) => assert!(p.len() <= 125),
        Event::Close { code, reason } => {
            assert!(code.is_none_or(CloseCode::is_sendable));
            assert!(reason.len() <= 123);
            assert!(matches!(conn.state(), State::CloseReceived | State::Closed));
            return true;
        }
    }
    false
}

/// Removes `len` consumed bytes from the front of the buffer.
fn drain(rx: &mut [u8; RX_CAP], filled: &mut usize, len: usize) {
    assert!(len <= *filled, "consumed {len} of {filled}");
    rx.copy_within(len..*filled, 0);
    *filled -= len;
}
