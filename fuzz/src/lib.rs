//! The differential oracles: the same bytes through `wscodec` and through tungstenite
//! (here), and the same compressed messages through `wscodec` and zlib-rs ([`inflate`]).
//!
//! The other targets' bodies live in the `wscodec-fuzz-bodies` crate, so `tests/corpus.rs`
//! replays them on stable; these need tungstenite and zlib-rs, which only this crate
//! depends on.

pub mod inflate;

use std::io::{self, Cursor, Read, Write};

use tungstenite::protocol::{Role as TRole, WebSocket, WebSocketConfig};
use tungstenite::{Error as TError, Message as TMessage};
use wscodec::{Config, Connection, Event, FrameError, ProtocolError, Role, Status};

/// The message limit both sides get.
const MAX: usize = 64 * 1024;

/// What a peer delivered, normalized for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Text(Vec<u8>),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<u16>, Vec<u8>),
}

/// wscodec's reasons for failing at a frame header alone (`ProtocolError::close_reason`).
const HEADER_RULES: &[&str] = &[
    "client frame not masked",
    "server frame masked",
    "reserved opcode",
    "reserved bits set",
    "control frame over 125 bytes",
    "fragmented control frame",
    "continuation without a message",
    "expected a continuation frame",
];

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The input ran out while the connection was open (incomplete or no frame).
    Eof,
    /// The peer's close frame arrived.
    Closed,
    /// The bytes were rejected; the close code the side would send.
    Rejected(u16, &'static str),
}

/// wscodec: a `Connection` in reassembly mode with the whole input buffered.
pub fn run_wscodec(server: bool, wire: &[u8]) -> (Vec<Ev>, End) {
    let role = if server { Role::Server } else { Role::Client };
    let mut conn = Connection::with_config(
        role,
        Config { max_message: MAX as u64, streaming: false, ..Config::default() },
    );
    let mut buf = wire.to_vec();
    let mut filled = buf.len();
    let mut events = Vec::new();
    loop {
        match conn.handle_input(&mut buf[..filled]) {
            Ok(Status::Partial { .. }) => return (events, End::Eof),
            Ok(Status::Complete { value, consumed }) => {
                let mut closed = false;
                match value {
                    None => {}
                    Some(Event::Text(t)) => events.push(Ev::Text(t.as_bytes().to_vec())),
                    Some(Event::Binary(b)) => events.push(Ev::Binary(b.to_vec())),
                    Some(Event::Ping(p)) => events.push(Ev::Ping(p.to_vec())),
                    Some(Event::Pong(p)) => events.push(Ev::Pong(p.to_vec())),
                    Some(Event::Close { code, reason }) => {
                        events
                            .push(Ev::Close(code.map(|c| c.as_u16()), reason.as_bytes().to_vec()));
                        closed = true;
                    }
                    Some(Event::Piece { .. }) => unreachable!("reassembly mode"),
                }
                buf.copy_within(consumed..filled, 0);
                filled -= consumed;
                if closed {
                    return (events, End::Closed);
                }
            }
            Err(e) => return (events, End::Rejected(e.close_code().as_u16(), name(e))),
        }
    }
}

fn name(e: ProtocolError) -> &'static str {
    match e {
        ProtocolError::Frame(FrameError::LengthOverflow) => "length-msb",
        ProtocolError::Frame(FrameError::TooLarge { .. }) => "too-large",
        ProtocolError::InvalidUtf8 => "utf8",
        _ => e.close_reason(),
    }
}

/// The input as a stream; what tungstenite writes back (pongs, the close reply) is dropped.
struct Wire(Cursor<Vec<u8>>);

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// tungstenite: `WebSocket::from_raw_socket` with the same limit, reading until the
/// input ends.
pub fn run_tungstenite(server: bool, wire: &[u8]) -> (Vec<Ev>, End) {
    let role = if server { TRole::Server } else { TRole::Client };
    let config = WebSocketConfig::default().max_message_size(Some(MAX)).max_frame_size(Some(MAX));
    let mut ws = WebSocket::from_raw_socket(Wire(Cursor::new(wire.to_vec())), role, Some(config));
    let mut events = Vec::new();
    loop {
        match ws.read() {
            Ok(TMessage::Text(t)) => events.push(Ev::Text(t.as_bytes().to_vec())),
            Ok(TMessage::Binary(b)) => events.push(Ev::Binary(b.to_vec())),
            Ok(TMessage::Ping(p)) => events.push(Ev::Ping(p.to_vec())),
            Ok(TMessage::Pong(p)) => events.push(Ev::Pong(p.to_vec())),
            Ok(TMessage::Close(c)) => {
                let (code, reason) = match c {
                    Some(c) => (Some(u16::from(c.code)), c.reason.as_bytes().to_vec()),
                    None => (None, Vec::new()),
                };
                events.push(Ev::Close(code, reason));
                return (events, End::Closed);
            }
            Ok(TMessage::Frame(_)) => unreachable!("read never returns raw frames"),
            Err(TError::Protocol(
                tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
            ))
            | Err(TError::Io(_)) => return (events, End::Eof),
            Err(TError::Utf8(_)) => return (events, End::Rejected(1007, "utf8")),
            Err(TError::Capacity(_)) => return (events, End::Rejected(1009, "too-large")),
            Err(TError::Protocol(_)) => return (events, End::Rejected(1002, "protocol")),
            Err(e) => panic!("unexpected tungstenite error {e:?}"),
        }
    }
}

/// The differential target: byte 0 bit 0 picks the role (0: server), the rest is the
/// byte stream from the peer. Both must deliver the same events and agree on whether,
/// and with which close code, the stream is rejected, except for the cases listed in
/// `fuzz/README.md`, each decided by the RFC section named there.
pub fn differential_frames(data: &[u8]) {
    let Some((&flags, wire)) = data.split_first() else { return };
    let server = flags & 1 == 0;
    let (ours, our_end) = run_wscodec(server, wire);
    let (theirs, their_end) = run_tungstenite(server, wire);
    // Every arm below checks how the two event lists relate.
    match (our_end, their_end) {
        (End::Closed, End::Closed) if ours != theirs => {
            // D4: close code 1014 (Bad Gateway), registered in the IANA "WebSocket Close
            // Code Number Registry" that RFC 6455 section 11.7 creates, is a valid code
            // to receive; tungstenite 0.27 does not know it and reports 1002 instead.
            let (Some(Ev::Close(a, _)), Some(Ev::Close(b, _))) = (ours.last(), theirs.last())
            else {
                panic!("both closed, events differ\nours {ours:?}\ntheirs {theirs:?}")
            };
            assert_eq!(ours[..ours.len() - 1], theirs[..theirs.len() - 1]);
            assert!(*a == Some(1014) && *b == Some(1002), "close codes {a:?} and {b:?}");
        }
        (a, b) if a == b => assert_eq!(ours, theirs),
        // D3: a close frame whose code may not be sent (1005, 1006, 1015, 0-999,
        // 1016-2999, 5000+): RFC 6455 7.4.1/7.4.2 forbid these on the wire, so wscodec
        // fails the connection (1002) without an event; tungstenite hands the close to
        // the application with the code rewritten to 1002 and replies 1002. Both tell
        // the peer 1002.
        (End::Rejected(1002, "invalid close code"), End::Closed) => {
            assert_eq!(ours[..], theirs[..theirs.len() - 1]);
            assert!(matches!(theirs.last(), Some(Ev::Close(Some(1002), _))));
        }
        // Same verdict; the close codes compared below.
        (End::Rejected(a, why), End::Rejected(b, _)) => {
            // D2/D5 again: when wscodec fails early, tungstenite may first deliver
            // control frames that follow, then fail too.
            let early = matches!(why, "utf8" | "too-large") || HEADER_RULES.contains(&why);
            if early {
                assert!(theirs.starts_with(&ours), "ours {ours:?}\ntheirs {theirs:?}");
            } else {
                assert_eq!(ours, theirs);
            }
            // D1: a 64-bit length with its top bit set. RFC 6455 5.2: "the most
            // significant bit MUST be 0" -- a protocol error (1002), which wscodec
            // reports; tungstenite only sees a frame over its size limit (1009).
            let d1 = why == "length-msb" && b == 1009;
            // D7: a header that breaks a rule *and* announces more than the limit:
            // wscodec reports the rule (1002), tungstenite the size (1009). Both are
            // failures decided at the header; RFC 6455 sets no order between them.
            let d7 = a == 1002 && b == 1009 && HEADER_RULES.contains(&why);
            // D6: a close frame with both a forbidden code and a reason that is not
            // UTF-8: wscodec checks the code first (1002), tungstenite the reason (1007).
            // RFC 6455 7.4.1 / 8.1 make each a failure and set no order.
            let d6 = why == "invalid close code" && b == 1007;
            // D8: tungstenite accepted the control frame wscodec refused, went on, and
            // failed later for a reason of its own.
            let d8 = why == "control frame over 125 bytes";
            assert!(
                a == b || d1 || d6 || d7 || d8,
                "both reject, wscodec with {a} ({why}), tungstenite with {b}"
            );
        }
        // D2: wscodec fails a text message as soon as a fragment is not UTF-8, or as
        // soon as a fragment header takes the message over the limit; tungstenite may
        // wait for more frames. RFC 6455 8.1 ("MUST _Fail the WebSocket Connection_" on
        // invalid UTF-8) and 10.4 (limits) allow failing as early as it is known.
        (End::Rejected(_, why @ ("utf8" | "too-large")), End::Eof) => {
            assert_eq!(ours, theirs, "wscodec failed early ({why}) after different events");
        }
        // D5: a frame whose header alone breaks a rule (opcode, masking, RSV bits,
        // control frame length or FIN, fragment sequence): wscodec fails as soon as the header is
        // there; tungstenite reads the whole payload first. RFC 6455 5.1, 5.2, 5.4 and
        // 5.5 decide these from the header, and nothing requires reading a payload that
        // will be discarded.
        // D8: a control frame whose length uses the 16- or 64-bit form, even for a
        // value up to 125. wscodec fails it at the second byte; tungstenite reads the
        // extended length and accepts the frame if it is small. RFC 6455 5.5: control
        // frames "MUST have a payload length of 125 bytes or less", and 5.2: "the
        // minimal number of bytes MUST be used to encode the length" -- so a control
        // frame can only use the 7-bit form. tungstenite then goes on with the stream.
        (End::Rejected(1002, "control frame over 125 bytes"), _) => {
            assert!(theirs.starts_with(&ours), "ours {ours:?}\ntheirs {theirs:?}");
        }
        (End::Rejected(1002, why), End::Eof) if HEADER_RULES.contains(&why) => {
            assert_eq!(ours, theirs, "wscodec failed at a header ({why}) after different events");
        }
        (a, b) => panic!(
            "wscodec ended with {a:?}, tungstenite with {b:?}\nours {ours:?}\ntheirs {theirs:?}"
        ),
    }
}
