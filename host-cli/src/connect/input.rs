//! What `wsc connect` sends: the `--on-connect` preamble after every connection, the
//! `--send` messages once, then stdin's lines. Every message given on the command line is
//! checked before anything is sent.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{self, BufRead};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::thread;

use anyhow::{bail, Context as _};
use wscodec::Message;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Payload {
    Text(String),
    Binary(Vec<u8>),
}

impl Payload {
    pub(crate) fn message(&self) -> Message<'_> {
        match self {
            Self::Text(text) => Message::Text(text),
            Self::Binary(data) => Message::Binary(data),
        }
    }

    /// `bytes` as a text message (checked to be UTF-8) or a binary one; `what` names
    /// the bytes in the error.
    fn new(bytes: Vec<u8>, binary: bool, what: &dyn Fn() -> String) -> anyhow::Result<Self> {
        if binary {
            return Ok(Self::Binary(bytes));
        }
        String::from_utf8(bytes).map(Self::Text).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let byte = e.as_bytes()[at];
            anyhow::anyhow!(
                "{} is not valid UTF-8 (byte 0x{byte:02x} at offset {at}), and a text message \
                 must be: fix it, or pass --binary to send binary messages",
                what()
            )
        })
    }
}

/// What to send next.
#[derive(Debug)]
pub(crate) enum Next {
    Send(Payload),
    /// Nothing now; stdin is still open.
    Idle,
    /// Everything was sent and stdin has ended (or is not read).
    Ended,
}

/// The messages of a `wsc connect` run.
#[derive(Debug)]
pub(crate) struct Input {
    /// Sent after every connection.
    preamble: Vec<Payload>,
    /// `--send` messages not sent yet, and a message whose send failed (at the front).
    queued: VecDeque<Payload>,
    /// Stdin's lines; `None` once it ended or with `--no-stdin`.
    stdin: Option<Receiver<Vec<u8>>>,
    binary: bool,
    /// Lines read from stdin so far, for messages.
    lines: u64,
}

impl Input {
    /// Checks the `--on-connect` and `--send` values and starts reading stdin (unless
    /// `no_stdin`).
    ///
    /// # Errors
    /// When a text message is not UTF-8 or an `@FILE` cannot be read.
    pub(crate) fn new(
        on_connect: &[OsString],
        send: &[OsString],
        binary: bool,
        no_stdin: bool,
    ) -> anyhow::Result<Self> {
        let mut preamble = Vec::new();
        for (i, value) in on_connect.iter().enumerate() {
            let bytes = value.as_encoded_bytes();
            if let Some(file) = bytes.strip_prefix(b"@").filter(|rest| !rest.starts_with(b"@")) {
                let file = Path::new(std::str::from_utf8(file).with_context(|| {
                    format!("--on-connect #{}: the file name is not UTF-8", i + 1)
                })?);
                preamble.extend(read_lines(file, binary)?);
            } else {
                let bytes = bytes.strip_prefix(b"@").unwrap_or(bytes).to_vec();
                let what = || format!("--on-connect #{} ({:?})", i + 1, value);
                preamble.push(Payload::new(bytes, binary, &what)?);
            }
        }
        let queued = send
            .iter()
            .enumerate()
            .map(|(i, value)| {
                let what = || format!("--send #{} ({:?})", i + 1, value);
                Payload::new(value.as_encoded_bytes().to_vec(), binary, &what)
            })
            .collect::<anyhow::Result<_>>()?;
        let stdin = (!no_stdin).then(spawn_stdin_reader);
        Ok(Self { preamble, queued, stdin, binary, lines: 0 })
    }

    /// The messages sent after every (re)connection, before anything else.
    pub(crate) fn preamble(&self) -> &[Payload] {
        &self.preamble
    }

    /// The next message to send, without waiting.
    pub(crate) fn next(&mut self) -> Next {
        if let Some(payload) = self.queued.pop_front() {
            return Next::Send(payload);
        }
        let Some(stdin) = &self.stdin else { return Next::Ended };
        loop {
            let line = match stdin.try_recv() {
                Ok(line) => line,
                Err(TryRecvError::Empty) => return Next::Idle,
                Err(TryRecvError::Disconnected) => {
                    self.stdin = None;
                    return Next::Ended;
                }
            };
            self.lines += 1;
            let what = || format!("line {} of stdin", self.lines);
            match Payload::new(line, self.binary, &what) {
                Ok(payload) => return Next::Send(payload),
                // Once connected, a bad line is reported and skipped, not fatal.
                Err(e) => eprintln!("wsc: not sent: {e}"),
            }
        }
    }

    /// `payload` could not be sent (the connection dropped): it goes first next time.
    pub(crate) fn unsent(&mut self, payload: Payload) {
        self.queued.push_front(payload);
    }
}

/// The lines of `file` as messages (without line endings).
fn read_lines(file: &Path, binary: bool) -> anyhow::Result<Vec<Payload>> {
    let name = file.display();
    let bytes =
        std::fs::read(file).with_context(|| format!("cannot read the --on-connect file {name}"))?;
    if bytes.is_empty() {
        bail!("the --on-connect file {name} is empty: it must hold one message per line");
    }
    split_lines(&bytes)
        .enumerate()
        .map(|(i, line)| {
            let what = || format!("line {} of the --on-connect file {name}", i + 1);
            Payload::new(line.to_vec(), binary, &what)
        })
        .collect()
}

/// Splits at `\n`, drops a `\r` before it, and has no empty line after a final `\n`.
fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes.split(|&b| b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line))
}

/// Reads stdin lines (without the line ending) into a channel; the channel closes at EOF.
fn spawn_stdin_reader() -> Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        loop {
            let mut line = Vec::new();
            match stdin.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if line.last() == Some(&b'\n') {
                        line.pop();
                        if line.last() == Some(&b'\r') {
                            line.pop();
                        }
                    }
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });
    receiver
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStringExt as _;

    use super::*;

    fn make(on_connect: &[OsString], send: &[OsString], binary: bool) -> anyhow::Result<Input> {
        Input::new(on_connect, send, binary, true)
    }

    #[test]
    fn send_comes_after_the_preamble_in_order() {
        let mut input =
            make(&["login".into(), "@@literal".into()], &["a".into(), "b".into()], false).unwrap();
        let preamble = [Payload::Text("login".into()), Payload::Text("@literal".into())];
        assert_eq!(input.preamble(), preamble);
        let mut sent = Vec::new();
        while let Next::Send(payload) = input.next() {
            sent.push(payload);
        }
        assert_eq!(sent, [Payload::Text("a".into()), Payload::Text("b".into())]);
        assert!(matches!(input.next(), Next::Ended));
        input.unsent(Payload::Text("again".into()));
        assert!(matches!(input.next(), Next::Send(Payload::Text(t)) if t == "again"));
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_before_anything_is_sent() {
        let bad = OsString::from_vec(b"ok\xffno".to_vec());
        let e = make(&[], &["fine".into(), bad.clone()], false).unwrap_err().to_string();
        assert!(
            e.starts_with("--send #2 (\"ok\\xFFno\") is not valid UTF-8 (byte 0xff at offset 2)"),
            "{e}"
        );
        assert!(e.contains("pass --binary"), "{e}");
        let e = make(std::slice::from_ref(&bad), &[], false).unwrap_err().to_string();
        assert!(e.starts_with("--on-connect #1"), "{e}");
        // As binary it is fine.
        let input = make(&[], &[bad], true).unwrap();
        assert_eq!(input.queued[0], Payload::Binary(b"ok\xffno".to_vec()));
    }

    #[test]
    fn on_connect_files_give_one_message_per_line() {
        let dir = std::env::temp_dir().join(format!("wsc-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("preamble.txt");
        std::fs::write(&file, "{\"op\":\"login\"}\r\n\n{\"op\":\"sub\"}\n").unwrap();
        let at = OsString::from(format!("@{}", file.display()));
        let input = make(&[at.clone(), "last".into()], &[], false).unwrap();
        let texts = ["{\"op\":\"login\"}", "", "{\"op\":\"sub\"}", "last"];
        assert_eq!(input.preamble(), texts.map(|t| Payload::Text(t.into())));
        std::fs::write(&file, b"fine\nbad \xc3\n").unwrap();
        let e = make(&[at], &[], false).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("line 2 of the --on-connect file {}", file.display())),
            "{e}"
        );
        let missing = OsString::from(format!("@{}", dir.join("missing").display()));
        let e = format!("{:#}", make(&[missing], &[], false).unwrap_err());
        assert!(
            e.starts_with("cannot read the --on-connect file") && e.contains("No such file"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
