//! `wsc decode`: a frame dissector.
//!
//! `FrameHeader::decode` gives the header fields; the verdict comes from a
//! `wscodec::Connection` of the receiving role fed the same bytes frame by frame (in
//! streaming mode, so every frame yields its own event and no size limit applies), so
//! the dissector reports exactly what the codec would do.

use std::io::{self, Read as _};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::ValueEnum;
use wscodec::mask::apply_mask;
use wscodec::MessageKind;
use wscodec::{
    CloseCode, Config, Connection, Event, FrameHeader, OpCode, ProtocolError, Role, Status,
};

use crate::hex;

/// Payloads are shown up to this many bytes.
const SHOW_BYTES: usize = 64;

/// Options of `wsc decode`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Who sent the frames: a client (its frames must be masked) or a server (its frames
    /// must not be). Without it, the sender is inferred from the MASK bit of the first
    /// frame (set: a client), and the output says so.
    #[arg(long, value_enum)]
    role: Option<Sender>,
    /// The frames as hex (spaces and colons allowed, several arguments are joined);
    /// `-` or nothing reads stdin: hex text, or raw bytes if it is not all hex.
    #[arg(value_name = "HEX")]
    hex: Vec<String>,
}

/// The role of the endpoint that sent the frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Sender {
    Client,
    Server,
}

/// Dissects the frames; exit code 1 if any breaks the protocol.
pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let bytes = if args.hex.is_empty() || args.hex == ["-"] {
        let mut input = Vec::new();
        io::stdin().read_to_end(&mut input).context("cannot read stdin")?;
        if hex::is_hex_text(&input) {
            hex::parse(&String::from_utf8_lossy(&input)).map_err(anyhow::Error::msg)?
        } else {
            input
        }
    } else {
        hex::parse(&args.hex.join(" ")).map_err(anyhow::Error::msg)?
    };
    if bytes.is_empty() {
        bail!("no bytes to decode");
    }
    let sender = match args.role {
        Some(sender) => sender,
        None => {
            let (sender, why) = infer_sender(&bytes);
            println!("{why}");
            sender
        }
    };
    let receiver = match sender {
        Sender::Client => Role::Server,
        Sender::Server => Role::Client,
    };
    let report = dissect(&bytes, receiver);
    print!("{}", report.text);
    Ok(if report.violations > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The sender the first frame's MASK bit points to (a client masks, a server does not),
/// and the line that says so.
fn infer_sender(bytes: &[u8]) -> (Sender, String) {
    match bytes.get(1) {
        Some(&second) if second & 0x80 != 0 => (
            Sender::Client,
            "sender: client, inferred from frame 1's MASK=1 (pass --role server to check the \
             frames as a server's)"
                .to_owned(),
        ),
        Some(_) => (
            Sender::Server,
            "sender: server, inferred from frame 1's MASK=0 (pass --role client to check the \
             frames as a client's)"
                .to_owned(),
        ),
        None => (
            Sender::Client,
            "sender: client, assumed: too few bytes to see frame 1's MASK bit (pass --role)"
                .to_owned(),
        ),
    }
}

/// The dissection of a byte stream.
#[derive(Debug)]
struct Report {
    text: String,
    violations: usize,
}

/// Dissects `bytes` as frames received by an endpoint of role `receiver`.
fn dissect(bytes: &[u8], receiver: Role) -> Report {
    let sender = match receiver {
        Role::Server => "client",
        Role::Client => "server",
    };
    let mut conn = Connection::with_config(
        receiver,
        Config { max_message: u64::MAX, streaming: true, ..Config::default() },
    );
    let mut out = String::new();
    let mut violations = 0;
    let mut failed_at: Option<usize> = None;
    let mut offset = 0;
    let mut index = 0;
    while offset < bytes.len() {
        index += 1;
        let rest = &bytes[offset..];
        let (header, header_len) = match FrameHeader::decode(rest) {
            Ok(Status::Complete { value, consumed }) => (value, consumed),
            Ok(Status::Partial { needed }) => {
                out += &format!(
                    "frame {index} @ {offset}: incomplete header ({} byte(s) present): {needed} more byte(s) needed\n",
                    rest.len()
                );
                break;
            }
            Err(e) => {
                violations += 1;
                out += &format!(
                    "frame {index} @ {offset}: {}\n  violation: {e} -> close {}\n  (the frame length is unknown: dissection stops here)\n",
                    hex::spaced(&rest[..rest.len().min(2)]),
                    e.close_code()
                );
                break;
            }
        };
        let payload_len = header.payload_len;
        out += &format!(
            "frame {index} @ {offset}: FIN={} RSV={:03b} opcode={:#x} ({}) MASK={}{} len={payload_len}\n",
            u8::from(header.fin),
            header.rsv,
            header.opcode.as_u8(),
            opcode_name(header.opcode),
            u8::from(header.mask.is_some()),
            header.mask.map(|k| format!(" key={}", hex::compact(&k))).unwrap_or_default(),
        );
        let available = (rest.len() - header_len) as u64;
        if available < payload_len {
            out += &format!(
                "  incomplete payload ({available} of {payload_len} bytes present): {} more byte(s) needed\n",
                payload_len - available
            );
            break;
        }
        // The whole frame is in `bytes`, so its length fits in usize.
        let total = header_len + payload_len as usize;
        let mut frame = rest[..total].to_vec();
        offset += total;
        if let Some(first) = failed_at {
            out += &format!("  not checked: the receiver failed the connection at frame {first}\n");
            out += &show_unchecked(&unmasked(&frame[header_len..], header.mask), header.opcode);
            continue;
        }
        let mut pos = 0;
        loop {
            match conn.handle_input(&mut frame[pos..]) {
                Ok(Status::Complete { value, consumed }) => {
                    if let Some(event) = value {
                        out += &describe(&event);
                    }
                    pos += consumed;
                    if pos >= total || consumed == 0 {
                        break;
                    }
                }
                Ok(Status::Partial { needed }) => {
                    out += &format!("  incomplete: {needed} more byte(s) needed\n");
                    break;
                }
                Err(e) => {
                    violations += 1;
                    failed_at = Some(index);
                    out += &show_unchecked(
                        &unmasked(&frame[header_len..], header.mask),
                        header.opcode,
                    );
                    out += &violation(e, sender);
                    break;
                }
            }
        }
        // Clear what the receiver owes (a pong, a close reply) so its state moves on.
        let mut owed = [0u8; wscodec::MAX_CONTROL_FRAME];
        while let Ok(Some(_)) = conn.poll_transmit([0; 4], &mut owed) {}
    }
    let frames = if offset < bytes.len() { index - 1 } else { index };
    out += &format!(
        "{frames} complete frame(s), {} byte(s), {violations} violation(s)\n",
        offset.min(bytes.len())
    );
    Report { text: out, violations }
}

fn violation(e: ProtocolError, sender: &str) -> String {
    let rule = match e {
        ProtocolError::AfterClose => " (nothing may follow a close frame)",
        _ => "",
    };
    format!("  violation by the {sender}: {e}{rule} -> close {}\n", e.close_code())
}

fn opcode_name(op: OpCode) -> &'static str {
    match op {
        OpCode::Continuation => "continuation",
        OpCode::Text => "text",
        OpCode::Binary => "binary",
        OpCode::Close => "close",
        OpCode::Ping => "ping",
        OpCode::Pong => "pong",
    }
}

fn unmasked(payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut payload = payload.to_vec();
    if let Some(key) = mask {
        apply_mask(&mut payload, key, 0);
    }
    payload
}

/// What the receiver got from one frame.
fn describe(event: &Event<'_>) -> String {
    match *event {
        Event::Piece { kind, data, first, last } => {
            let part = match (first, last) {
                (true, true) => String::new(),
                (true, false) => "  (first fragment; the message continues)\n".to_owned(),
                (false, false) => "  (middle fragment)\n".to_owned(),
                (false, true) => "  (last fragment: message complete)\n".to_owned(),
            };
            let op = match kind {
                MessageKind::Text => OpCode::Text,
                MessageKind::Binary => OpCode::Binary,
            };
            format!("{}{part}", show_payload(data, op))
        }
        Event::Text(text) => show_payload(text.as_bytes(), OpCode::Text),
        Event::Binary(data) => show_payload(data, OpCode::Binary),
        Event::Ping(data) => show_payload(data, OpCode::Ping),
        Event::Pong(data) => show_payload(data, OpCode::Pong),
        Event::Close { code: Some(code), reason } => {
            format!("  close: code {code} reason={reason:?}\n")
        }
        Event::Close { code: None, .. } => {
            format!("  close: no code (reported as {})\n", CloseCode::NO_STATUS)
        }
    }
}

/// A payload the receiver did not accept (or never checked): shown as is, and for a
/// close frame also its code and reason as far as they can be read.
fn show_unchecked(payload: &[u8], op: OpCode) -> String {
    let mut out = String::new();
    if op == OpCode::Close {
        out += &match payload {
            [] => format!("  close: no code (reported as {})\n", CloseCode::NO_STATUS),
            [_] => "  close: a 1-byte payload, too short for a code\n".to_owned(),
            [high, low, reason @ ..] => {
                let code = CloseCode::new(u16::from_be_bytes([*high, *low]));
                match std::str::from_utf8(reason) {
                    Ok(reason) => format!("  close: code {code} reason={reason:?}\n"),
                    Err(_) => format!(
                        "  close: code {code} reason (not UTF-8): {}\n",
                        hex::spaced(&reason[..reason.len().min(SHOW_BYTES)])
                    ),
                }
            }
        };
    }
    out + &show_payload(payload, op)
}

/// The payload as a quoted string (text, or control payloads that are UTF-8) or as hex.
fn show_payload(payload: &[u8], op: OpCode) -> String {
    let shown = &payload[..payload.len().min(SHOW_BYTES)];
    let more = match payload.len().saturating_sub(SHOW_BYTES) {
        0 => String::new(),
        n => format!(" ... ({n} more bytes)"),
    };
    let as_text = match op {
        OpCode::Text | OpCode::Continuation => true,
        OpCode::Ping | OpCode::Pong => std::str::from_utf8(payload).is_ok(),
        OpCode::Binary | OpCode::Close => false,
    };
    if payload.is_empty() {
        "  payload: (empty)\n".to_owned()
    } else if as_text {
        format!("  payload: {:?}{more}\n", String::from_utf8_lossy(shown))
    } else {
        format!("  payload: {}{more}\n", hex::spaced(shown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(hex: &str, receiver: Role) -> Report {
        dissect(&hex::parse(hex).unwrap(), receiver)
    }

    #[test]
    fn rfc6455_5_7_masked_hello() {
        let r = run("81 85 37 fa 21 3d 7f 9f 4d 51 58", Role::Server);
        assert_eq!(r.violations, 0, "{}", r.text);
        assert!(
            r.text.contains("FIN=1 RSV=000 opcode=0x1 (text) MASK=1 key=37fa213d len=5"),
            "{}",
            r.text
        );
        assert!(r.text.contains("payload: \"Hello\""), "{}", r.text);
    }

    #[test]
    fn rfc6455_5_7_fragmented_unmasked_hello_from_a_server() {
        let r = run("01 03 48 65 6c 80 02 6c 6f", Role::Client);
        assert_eq!(r.violations, 0, "{}", r.text);
        assert!(r.text.contains("\"Hel\"") && r.text.contains("\"lo\""), "{}", r.text);
        assert!(r.text.contains("message complete"), "{}", r.text);
        assert!(r.text.contains("2 complete frame(s), 9 byte(s)"), "{}", r.text);
    }

    #[test]
    fn unmasked_client_frame_earns_1002() {
        let r = run("81 05 48 65 6c 6c 6f", Role::Server);
        assert_eq!(r.violations, 1);
        assert!(r.text.contains("client frame is not masked"), "{}", r.text);
        assert!(r.text.contains("1002 (protocol error)"), "{}", r.text);
    }

    #[test]
    fn close_frame_shows_code_meaning_and_reason() {
        let r = run("88 05 03 e8 62 79 65", Role::Client);
        assert_eq!(r.violations, 0, "{}", r.text);
        assert!(r.text.contains("close: code 1000 (normal closure) reason=\"bye\""), "{}", r.text);
    }

    #[test]
    fn frames_after_close_and_after_failure() {
        let r = run("88 00 81 00", Role::Client);
        assert_eq!(r.violations, 1, "{}", r.text);
        assert!(r.text.contains("nothing may follow a close frame"), "{}", r.text);
        let r = run("82 80 00 00 00 00 81 00", Role::Client);
        assert_eq!(r.violations, 1, "{}", r.text);
        assert!(r.text.contains("not checked"), "{}", r.text);
    }

    #[test]
    fn invalid_utf8_earns_1007_and_reserved_opcode_1002() {
        let r = run("81 02 c3 28", Role::Client);
        assert!(r.text.contains("1007"), "{}", r.text);
        let r = run("83 00", Role::Client);
        assert!(r.text.contains("reserved opcode 0x3") && r.text.contains("1002"), "{}", r.text);
    }

    #[test]
    fn a_close_frame_shows_its_code_and_reason_beside_the_violation() {
        // Server close with 1005, which may not be sent, and reason "gone".
        let r = run("88 06 03 ed 67 6f 6e 65", Role::Client);
        assert_eq!(r.violations, 1, "{}", r.text);
        assert!(r.text.contains("close: code 1005 (no status code received) reason=\"gone\""));
        assert!(r.text.contains("violation by the server"), "{}", r.text);
        // A masked close frame from a server: the code is shown unmasked.
        let r = run("88 82 00 00 00 00 03 e8", Role::Client);
        assert!(r.text.contains("close: code 1000 (normal closure)"), "{}", r.text);
        assert!(r.text.contains("violation"), "{}", r.text);
        // After a failure, a close frame is not checked but still read.
        let r = run("81 02 c3 28 88 02 0f a0", Role::Client);
        assert!(r.text.contains("not checked"), "{}", r.text);
        assert!(r.text.contains("close: code 4000 (private application code)"), "{}", r.text);
    }

    #[test]
    fn the_sender_is_inferred_from_the_first_mask_bit() {
        let (sender, why) = infer_sender(&[0x81, 0x85]);
        assert_eq!(sender, Sender::Client);
        assert!(why.starts_with("sender: client, inferred from frame 1's MASK=1"), "{why}");
        let (sender, why) = infer_sender(&[0x81, 0x05]);
        assert_eq!(sender, Sender::Server);
        assert!(why.contains("--role client"), "{why}");
        let (sender, why) = infer_sender(&[0x81]);
        assert_eq!(sender, Sender::Client);
        assert!(why.contains("assumed"), "{why}");
    }

    #[test]
    fn truncated_input_says_what_is_missing() {
        let r = run("81", Role::Client);
        assert!(r.text.contains("1 more byte(s) needed"), "{}", r.text);
        let r = run("81 05 48 65", Role::Client);
        assert!(r.text.contains("3 more byte(s) needed"), "{}", r.text);
        assert_eq!(r.violations, 0);
    }

    #[test]
    fn long_payloads_are_truncated() {
        let mut frame = vec![0x82, 0x7e, 0x00, 0x64];
        frame.extend([0xab; 100]);
        let r = dissect(&frame, Role::Client);
        assert!(r.text.contains("(36 more bytes)"), "{}", r.text);
    }
}
