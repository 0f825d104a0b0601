//! What `wsc connect` prints on stdout: received messages one per line (binary as hex),
//! with `--show-control` the pings, pongs and close frames both ways, or with `--jsonl`
//! one JSON object per event.

use std::io::{self, Write};
use std::time::Instant;

use base64::Engine as _;
use serde_json::{json, Map, Value};
use wscodec::CloseCode;

use super::status::Status;
use crate::hex;

/// Received binary messages are shown up to this many bytes.
const SHOW_BYTES: usize = 64;

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    /// From the server.
    In,
    /// To the server.
    Out,
}

impl Dir {
    const fn name(self) -> &'static str {
        match self {
            Self::In => "in",
            Self::Out => "out",
        }
    }

    /// `<` received, `>` sent (as wscat marks them).
    const fn arrow(self) -> &'static str {
        match self {
            Self::In => "<",
            Self::Out => ">",
        }
    }
}

/// A frame as the transcript shows it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Frame<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
    Ping(&'a [u8]),
    Pong(&'a [u8]),
    Close { code: Option<CloseCode>, reason: &'a str },
}

/// The output of one `wsc connect` run.
#[derive(Debug)]
pub(crate) struct Transcript {
    jsonl: bool,
    show_control: bool,
    /// When the connection opened (before that: when the attempt began).
    since: Instant,
    out: io::Stdout,
}

impl Transcript {
    pub(crate) fn new(jsonl: bool, show_control: bool) -> Self {
        Self { jsonl, show_control, since: Instant::now(), out: io::stdout() }
    }

    /// A connection attempt begins: errors before it opens are timed from now.
    pub(crate) fn attempt(&mut self) {
        self.since = Instant::now();
    }

    /// The connection is open: the clock starts again.
    pub(crate) fn open(
        &mut self,
        url: &str,
        protocol: Option<&str>,
        extensions: Option<String>,
    ) -> io::Result<()> {
        self.since = Instant::now();
        if !self.jsonl {
            return Ok(());
        }
        let mut event = self.event(Dir::Out, "open", 0);
        // The clock starts with this event.
        event.insert("t".into(), json!(0.0));
        event.insert("url".into(), url.into());
        if let Some(protocol) = protocol {
            event.insert("protocol".into(), protocol.into());
        }
        if let Some(extensions) = extensions {
            event.insert("extensions".into(), extensions.into());
        }
        self.emit(event)
    }

    /// A frame received or sent. The human format shows received messages, and control
    /// frames with `--show-control`.
    pub(crate) fn frame(&mut self, dir: Dir, frame: Frame<'_>) -> io::Result<()> {
        if self.jsonl {
            let event = self.frame_event(dir, frame);
            return self.emit(event);
        }
        let line = match frame {
            Frame::Text(text) if dir == Dir::In => text.to_owned(),
            Frame::Binary(data) if dir == Dir::In => describe_binary(data),
            Frame::Text(_) | Frame::Binary(_) => return Ok(()),
            _ if !self.show_control => return Ok(()),
            Frame::Ping(data) => format!("{} ping {}", dir.arrow(), payload(data)),
            Frame::Pong(data) => format!("{} pong {}", dir.arrow(), payload(data)),
            Frame::Close { code: Some(code), reason } => {
                format!("{} close {code} reason={reason:?}", dir.arrow())
            }
            Frame::Close { code: None, .. } => format!("{} close (no code)", dir.arrow()),
        };
        self.line(&line)
    }

    /// The human format's summary of how the connection ended (`closed: ...`).
    pub(crate) fn closed(&mut self, summary: &str) -> io::Result<()> {
        if self.jsonl {
            return Ok(());
        }
        self.line(&format!("closed: {summary}"))
    }

    /// Something went wrong: in JSONL an `error` event (the caller also tells stderr).
    pub(crate) fn error(&mut self, message: &str, status: Status) -> io::Result<()> {
        if !self.jsonl {
            return Ok(());
        }
        let mut event = self.event(Dir::In, "error", 0);
        event.insert("message".into(), message.into());
        event.insert("status".into(), status.code().into());
        self.emit(event)
    }

    fn frame_event(&self, dir: Dir, frame: Frame<'_>) -> Map<String, Value> {
        let base64 = |data: &[u8]| base64::engine::general_purpose::STANDARD.encode(data);
        let (kind, len, extra) = match frame {
            Frame::Text(text) => ("text", text.len(), json!({ "text": text })),
            Frame::Binary(data) => ("binary", data.len(), json!({ "base64": base64(data) })),
            Frame::Ping(data) => ("ping", data.len(), json!({ "base64": base64(data) })),
            Frame::Pong(data) => ("pong", data.len(), json!({ "base64": base64(data) })),
            Frame::Close { code, reason } => {
                // The payload: the 2-byte code and the reason, or nothing.
                let len = code.map_or(0, |_| 2 + reason.len());
                let code = code.map(CloseCode::as_u16);
                ("close", len, json!({ "code": code, "reason": reason }))
            }
        };
        let mut event = self.event(dir, kind, len);
        if let Value::Object(extra) = extra {
            event.extend(extra);
        }
        event
    }

    /// The fields every event has: `t`, `dir`, `type`, `len`.
    fn event(&self, dir: Dir, kind: &str, len: usize) -> Map<String, Value> {
        // Microseconds are plenty, and keep the numbers short.
        let micros = u64::try_from(self.since.elapsed().as_micros()).unwrap_or(u64::MAX);
        let mut event = Map::new();
        event.insert("t".into(), json!(micros as f64 / 1e6));
        event.insert("dir".into(), dir.name().into());
        event.insert("type".into(), kind.into());
        event.insert("len".into(), len.into());
        event
    }

    fn emit(&mut self, event: Map<String, Value>) -> io::Result<()> {
        self.line(&Value::Object(event).to_string())
    }

    fn line(&mut self, line: &str) -> io::Result<()> {
        let mut out = self.out.lock();
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| io::Error::new(e.kind(), format!("cannot write to stdout: {e}")))
    }
}

/// A control payload: quoted when it is text, else hex.
fn payload(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) => format!("{text:?}"),
        Err(_) => format!("<{} bytes: {}>", data.len(), hex::spaced(data)),
    }
}

/// `<binary N bytes: 01 02 ...>`, showing at most [`SHOW_BYTES`] bytes.
pub(crate) fn describe_binary(data: &[u8]) -> String {
    let shown = &data[..data.len().min(SHOW_BYTES)];
    let more = if data.len() > SHOW_BYTES { " ..." } else { "" };
    format!("<binary {} bytes: {}{more}>", data.len(), hex::spaced(shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_is_shown_as_hex_and_truncated() {
        assert_eq!(describe_binary(&[1, 0xff]), "<binary 2 bytes: 01 ff>");
        assert_eq!(describe_binary(&[]), "<binary 0 bytes: >");
        let long = describe_binary(&[0; 100]);
        assert!(long.starts_with("<binary 100 bytes: 00 00") && long.ends_with(" ...>"), "{long}");
    }

    #[test]
    fn events_have_the_fields_in_order() {
        let t = Transcript::new(true, false);
        let text = Value::Object(t.frame_event(Dir::In, Frame::Text("héllo"))).to_string();
        assert!(text.starts_with(r#"{"t":"#), "{text}");
        assert!(text.ends_with(r#","dir":"in","type":"text","len":6,"text":"héllo"}"#), "{text}");
        let bin = Value::Object(t.frame_event(Dir::Out, Frame::Binary(&[0, 255]))).to_string();
        assert!(bin.ends_with(r#""dir":"out","type":"binary","len":2,"base64":"AP8="}"#), "{bin}");
        let close = Frame::Close { code: Some(CloseCode::new(4000)), reason: "bye" };
        let close = Value::Object(t.frame_event(Dir::In, close)).to_string();
        assert!(
            close.ends_with(r#""type":"close","len":5,"code":4000,"reason":"bye"}"#),
            "{close}"
        );
        let empty = Frame::Close { code: None, reason: "" };
        let empty = Value::Object(t.frame_event(Dir::In, empty)).to_string();
        assert!(empty.ends_with(r#""type":"close","len":0,"code":null,"reason":""}"#), "{empty}");
    }

    #[test]
    fn control_payloads_are_quoted_or_hex() {
        assert_eq!(payload(b"ka 1"), "\"ka 1\"");
        assert_eq!(payload(&[0xff, 1]), "<2 bytes: ff 01>");
    }
}
