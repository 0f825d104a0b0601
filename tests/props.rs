//! Property tests: round trips, and the same events however the input is split.

use proptest::prelude::*;
use wscodec::io::blocking::WebSocket;
use wscodec::io::Options;
use wscodec::MessageKind;
use wscodec::{Config, Connection, Event, Message, Piece, Role, Status};
use wscodec_tests::{Owned, Script};

#[derive(Debug, Clone)]
enum Sent {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Fragmented(MessageKind, Vec<Vec<u8>>),
}

fn sent() -> impl Strategy<Value = Sent> {
    prop_oneof![
        ".{0,300}".prop_map(Sent::Text),
        prop::collection::vec(any::<u8>(), 0..3000).prop_map(Sent::Binary),
        prop::collection::vec(any::<u8>(), 0..=125).prop_map(Sent::Ping),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 1..6)
            .prop_map(|parts| Sent::Fragmented(MessageKind::Binary, parts)),
        ".{1,100}".prop_map(|s: String| {
            // Split text anywhere, even inside a code point.
            let bytes = s.into_bytes();
            let cut = bytes.len() / 2;
            Sent::Fragmented(MessageKind::Text, vec![bytes[..cut].to_vec(), bytes[cut..].to_vec()])
        }),
    ]
}

/// Encodes `messages` as a client would, and the events a server must report.
fn client_wire(messages: &[Sent], key: [u8; 4]) -> (Vec<u8>, Vec<Owned>) {
    let mut client = Connection::new(Role::Client);
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    let mut out = vec![0u8; 4096];
    for m in messages {
        match m {
            Sent::Text(t) => {
                let n = client.encode(Message::Text(t), key, &mut out).unwrap();
                wire.extend_from_slice(&out[..n]);
                expected.push(Owned::Text(t.clone()));
            }
            Sent::Binary(b) => {
                let n = client.encode(Message::Binary(b), key, &mut out).unwrap();
                wire.extend_from_slice(&out[..n]);
                expected.push(Owned::Binary(b.clone()));
            }
            Sent::Ping(p) => {
                let n = client.encode(Message::Ping(p), key, &mut out).unwrap();
                wire.extend_from_slice(&out[..n]);
                expected.push(Owned::Ping(p.clone()));
            }
            Sent::Fragmented(kind, parts) => {
                for (i, part) in parts.iter().enumerate() {
                    let last = i + 1 == parts.len();
                    let n = client
                        .encode_piece(Piece { kind: *kind, data: part, last }, key, &mut out)
                        .unwrap();
                    wire.extend_from_slice(&out[..n]);
                }
                let whole = parts.concat();
                expected.push(match kind {
                    MessageKind::Text => Owned::Text(String::from_utf8(whole).unwrap()),
                    MessageKind::Binary => Owned::Binary(whole),
                });
            }
        }
    }
    (wire, expected)
}

/// Reads every event the server adapter produces from `wire` handed over `chunk` bytes at a time.
fn server_events(wire: &[u8], chunk: usize, config: Config) -> Vec<Owned> {
    let (mut rx, mut tx) = (vec![0u8; 8192], vec![0u8; 512]);
    let mut ws = WebSocket::server(
        Script::new(wire, chunk),
        Options::new(&mut rx[..], &mut tx).with_config(config),
    );
    let mut events = Vec::new();
    loop {
        match ws.read() {
            Ok(e) => events.push(Owned::from(e)),
            Err(wscodec::io::Error::UnexpectedEof) => return events,
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
}

/// Joins streamed pieces back into messages so both modes can be compared.
fn join_pieces(events: Vec<Owned>) -> Vec<Owned> {
    let mut out = Vec::new();
    let mut acc = Vec::new();
    for e in events {
        match e {
            Owned::Piece { kind, data, last, .. } => {
                acc.extend(data);
                if last {
                    let whole = std::mem::take(&mut acc);
                    out.push(match kind {
                        MessageKind::Text => Owned::Text(String::from_utf8(whole).unwrap()),
                        MessageKind::Binary => Owned::Binary(whole),
                    });
                }
            }
            other => out.push(other),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn binary_roundtrip_through_the_core(payload in prop::collection::vec(any::<u8>(), 0..70_000), key in any::<[u8; 4]>()) {
        let (mut client, mut server) = (Connection::new(Role::Client), Connection::new(Role::Server));
        let mut wire = vec![0; payload.len() + 14];
        let n = client.encode(Message::Binary(&payload), key, &mut wire).unwrap();
        let got = server.handle_input(&mut wire[..n]).unwrap();
        prop_assert_eq!(got, Status::Complete { value: Some(Event::Binary(&payload)), consumed: n });
    }

    #[test]
    fn same_events_however_the_input_is_split(
        messages in prop::collection::vec(sent(), 1..8),
        key in any::<[u8; 4]>(),
        chunk in 1usize..64,
    ) {
        let (wire, expected) = client_wire(&messages, key);
        let whole = server_events(&wire, usize::MAX, Config::default());
        prop_assert_eq!(&whole, &expected);
        prop_assert_eq!(server_events(&wire, chunk, Config::default()), expected.clone());
        let streaming = Config { streaming: true, ..Config::default() };
        prop_assert_eq!(join_pieces(server_events(&wire, chunk, streaming)), expected);
    }
}
