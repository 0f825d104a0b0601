//! One connection of `wsc connect`: send what the input gives, print what arrives, keep
//! the connection alive, and close it when the input and the answers are over.
//!
//! The WebSocket lends its buffers to each event, so it cannot be shared with a reader
//! thread. This thread owns it and alternates: send what is queued, then read with a
//! socket timeout that ends at the next thing due (a stdin poll, a keepalive ping, the end
//! of the wait for answers). A timed-out read leaves the adapter intact (it returns
//! `Error::Read` before touching its buffers), so the next read goes on.

use std::io;
use std::time::{Duration, Instant};

use wscodec::io::Error;
use wscodec::{CloseCode, Event, State};

use super::input::{Input, Next, Payload};
use super::status::Status;
use super::transcript::{Dir, Frame, Transcript};
use crate::dial::Client;
use crate::timed::is_timeout;

/// How often stdin is checked for lines while it is open.
const POLL: Duration = Duration::from_millis(50);
/// How long to wait for the server's reply to our close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(10);
/// How long the close frame sent to a dead peer may take to write.
const LAST_WRITE: Duration = Duration::from_secs(1);

/// Keepalive: a ping after `interval` without a frame from the server; the server is
/// dead when nothing arrived `timeout` after it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keepalive {
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
}

/// How a session runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) keepalive: Option<Keepalive>,
    /// After the input ends: close once no message arrived for this long (`None`: wait
    /// for the server to close).
    pub(crate) wait: Option<Duration>,
    /// Close (and exit 0) after this many messages arrived, over all connections.
    pub(crate) count: Option<u64>,
}

/// How a connection ended.
#[derive(Debug)]
pub(crate) enum End {
    /// The session is over: exit with this status.
    Done(Status),
    /// The connection ended on the server's side: `code` is its close code, `None` when it
    /// dropped without a close frame. `status` is the exit status if it is not made again.
    Lost { code: Option<CloseCode>, status: Status },
    /// The server stopped answering (see [`dead_peer`]).
    Dead,
}

/// Where the session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Sending the input as it comes.
    Sending,
    /// The input ended at this time; reading the answers, the last of which arrived then.
    Draining(Instant),
    /// Our close frame went out at this time: waiting for the reply.
    Closing(Instant),
}

/// One connection's loop.
pub(crate) struct Session<'s, 'b> {
    ws: &'s mut Client<'b>,
    out: &'s mut Transcript,
    settings: Settings,
    phase: Phase,
    /// When the last frame arrived.
    heard: Instant,
    /// When the unanswered keepalive ping went out.
    pinged: Option<Instant>,
    pings: u64,
    /// The `--count` was reached: the close that follows ends a successful session.
    counted: bool,
}

impl<'s, 'b> Session<'s, 'b> {
    pub(crate) fn new(ws: &'s mut Client<'b>, out: &'s mut Transcript, settings: Settings) -> Self {
        let now = Instant::now();
        Self {
            ws,
            out,
            settings,
            phase: Phase::Sending,
            heard: now,
            pinged: None,
            pings: 0,
            counted: false,
        }
    }

    /// Runs the connection until it ends. `received` counts the data messages of the
    /// whole run, for `--count`.
    ///
    /// # Errors
    /// When stdout cannot be written, or the socket's options cannot be set.
    pub(crate) fn run(mut self, input: &mut Input, received: &mut u64) -> anyhow::Result<End> {
        if let Some(keepalive) = self.settings.keepalive {
            // A server that stops reading is as dead as one that stops answering.
            self.ws.stream_mut().0.set_write_timeout(Some(keepalive.timeout))?;
        }
        for payload in input.preamble() {
            if let Some(end) = self.send(payload)? {
                return Ok(end);
            }
        }
        loop {
            if self.phase == Phase::Sending {
                if let Some(end) = self.send_input(input)? {
                    return Ok(end);
                }
            }
            if let Some(end) = self.timers()? {
                return Ok(end);
            }
            let timeout = self.next_due().saturating_duration_since(Instant::now());
            self.ws.stream_mut().0.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
            if let Some(end) = self.receive(received)? {
                return Ok(end);
            }
        }
    }

    /// Sends what the input has now; notes when it ends.
    fn send_input(&mut self, input: &mut Input) -> anyhow::Result<Option<End>> {
        loop {
            match input.next() {
                Next::Send(payload) => {
                    if let Some(end) = self.send(&payload)? {
                        input.unsent(payload);
                        return Ok(Some(end));
                    }
                }
                Next::Idle => return Ok(None),
                Next::Ended => {
                    self.phase = Phase::Draining(Instant::now());
                    return Ok(None);
                }
            }
        }
    }

    /// Sends one message; `Some` when the connection is over.
    fn send(&mut self, payload: &Payload) -> anyhow::Result<Option<End>> {
        match self.ws.send(payload.message()) {
            Ok(()) => {
                let frame = match payload {
                    Payload::Text(text) => Frame::Text(text),
                    Payload::Binary(data) => Frame::Binary(data),
                };
                self.out.frame(Dir::Out, frame)?;
                Ok(None)
            }
            Err(e) => self.failed(e).map(Some),
        }
    }

    /// The close, the wait for answers, the keepalive ping and the dead peer, when due.
    fn timers(&mut self) -> anyhow::Result<Option<End>> {
        let now = Instant::now();
        match self.phase {
            Phase::Draining(last) if self.settings.wait.is_some_and(|w| now - last >= w) => {
                if let Some(end) = self.close()? {
                    return Ok(Some(end));
                }
            }
            Phase::Closing(since) if now - since >= CLOSE_WAIT => {
                let secs = CLOSE_WAIT.as_secs();
                let message = format!("no reply to our close frame within {secs} s");
                self.out.closed(&format!("{} ({message})", CloseCode::ABNORMAL))?;
                return self.done(Status::AbnormalClose, &message).map(Some);
            }
            Phase::Closing(_) => return Ok(None),
            _ => {}
        }
        let Some(keepalive) = self.settings.keepalive else { return Ok(None) };
        match self.pinged {
            Some(at) if now - at >= keepalive.timeout => self.dead(keepalive.timeout).map(Some),
            None if now - self.heard >= keepalive.interval => {
                self.pings += 1;
                let payload = self.pings.to_string();
                match self.ws.send(wscodec::Message::Ping(payload.as_bytes())) {
                    Ok(()) => {
                        self.pinged = Some(now);
                        self.out.frame(Dir::Out, Frame::Ping(payload.as_bytes()))?;
                        Ok(None)
                    }
                    Err(e) => self.failed(e).map(Some),
                }
            }
            _ => Ok(None),
        }
    }

    /// When the next timer is due (the read waits at most until then).
    fn next_due(&self) -> Instant {
        let now = Instant::now();
        let mut due = now + Duration::from_secs(1);
        let mut at = |t: Instant| due = due.min(t);
        match self.phase {
            Phase::Sending => at(now + POLL),
            Phase::Draining(last) => {
                if let Some(wait) = self.settings.wait {
                    at(last + wait);
                }
            }
            Phase::Closing(since) => return due.min(since + CLOSE_WAIT),
        }
        if let Some(keepalive) = self.settings.keepalive {
            match self.pinged {
                Some(sent) => at(sent + keepalive.timeout),
                None => at(self.heard + keepalive.interval),
            }
        }
        due
    }

    /// Reads one event (or times out); `Some` when the connection is over.
    fn receive(&mut self, received: &mut u64) -> anyhow::Result<Option<End>> {
        let open_before = self.ws.connection().state() == State::Open;
        let event = match self.ws.read() {
            Ok(event) => event,
            Err(Error::Read(e)) if is_timeout(&e) => return Ok(None),
            Err(e) => return self.failed(e).map(Some),
        };
        self.heard = Instant::now();
        self.pinged = None;
        let message = match event {
            Event::Text(text) => Some(Frame::Text(text)),
            Event::Binary(data) => Some(Frame::Binary(data)),
            Event::Piece { .. } => None,
            Event::Ping(data) => {
                self.out.frame(Dir::In, Frame::Ping(data))?;
                if open_before {
                    // The adapter sent the pong before handing out the ping.
                    self.out.frame(Dir::Out, Frame::Pong(data))?;
                }
                return Ok(None);
            }
            Event::Pong(data) => {
                self.out.frame(Dir::In, Frame::Pong(data))?;
                return Ok(None);
            }
            Event::Close { code, reason } => {
                let frame = Frame::Close { code, reason };
                self.out.frame(Dir::In, frame)?;
                if !matches!(self.phase, Phase::Closing(_)) {
                    // The adapter answered with the same code and reason.
                    self.out.frame(Dir::Out, frame)?;
                }
                let shown = code.unwrap_or(CloseCode::NO_STATUS);
                self.out.closed(&format!("{shown} reason={reason:?}"))?;
                let normal = code.is_none_or(|c| !c.is_error());
                let status =
                    if normal || self.counted { Status::Normal } else { Status::AbnormalClose };
                return Ok(Some(match self.phase {
                    Phase::Closing(_) => End::Done(status),
                    _ => End::Lost { code: Some(shown), status },
                }));
            }
        };
        let Some(frame) = message else { return Ok(None) };
        self.out.frame(Dir::In, frame)?;
        *received += 1;
        match self.phase {
            Phase::Draining(_) => self.phase = Phase::Draining(self.heard),
            Phase::Closing(_) => return Ok(None),
            Phase::Sending => {}
        }
        if self.settings.count.is_some_and(|count| *received >= count) {
            self.counted = true;
            return self.close();
        }
        Ok(None)
    }

    /// Starts the closing handshake with 1000.
    fn close(&mut self) -> anyhow::Result<Option<End>> {
        let frame = Frame::Close { code: Some(CloseCode::NORMAL), reason: "" };
        match self.ws.close(CloseCode::NORMAL, "") {
            Ok(()) => {
                self.out.frame(Dir::Out, frame)?;
                self.phase = Phase::Closing(Instant::now());
                Ok(None)
            }
            Err(e) => self.failed(e).map(Some),
        }
    }

    /// The server stopped answering: say so, tell it with a 1011 (as far as it still
    /// reads), and drop the connection.
    fn dead(&mut self, timeout: Duration) -> anyhow::Result<End> {
        let message = dead_peer(timeout);
        eprintln!("wsc: {message}");
        self.out.error(&message, Status::DeadPeer)?;
        let reason = "keepalive ping timeout";
        self.ws.stream_mut().0.set_write_timeout(Some(LAST_WRITE))?;
        if self.ws.close(CloseCode::new(1011), reason).is_ok() {
            let frame = Frame::Close { code: Some(CloseCode::new(1011)), reason };
            self.out.frame(Dir::Out, frame)?;
        }
        self.out.closed(&format!("{} error={message:?} (sent by wsc)", CloseCode::new(1011)))?;
        Ok(End::Dead)
    }

    /// A read or write failed: the connection is over.
    fn failed(&mut self, e: Error<io::Error>) -> anyhow::Result<End> {
        match e {
            // Writes time out only under --ping-timeout: the server stopped reading.
            Error::Write(e) if is_timeout(&e) => {
                let timeout = self.settings.keepalive.map_or(Duration::ZERO, |k| k.timeout);
                let message =
                    format!("dead peer: it took none of what was sent for {}", seconds(timeout));
                eprintln!("wsc: {message}");
                self.out.error(&message, Status::DeadPeer)?;
                self.out.closed(&format!("{} ({message})", CloseCode::ABNORMAL))?;
                Ok(End::Dead)
            }
            Error::UnexpectedEof | Error::Read(_) | Error::Write(_) | Error::Closed => {
                let message = "the connection dropped without a close frame";
                self.out.closed(&CloseCode::ABNORMAL.to_string())?;
                self.out.error(&format!("{message} (1006)"), Status::AbnormalClose)?;
                Ok(match self.phase {
                    Phase::Closing(_) if self.counted => End::Done(Status::Normal),
                    Phase::Closing(_) => End::Done(Status::AbnormalClose),
                    _ => End::Lost { code: None, status: Status::AbnormalClose },
                })
            }
            Error::Protocol(e) => {
                // The adapter sent the close frame that says so.
                let (code, reason) = (e.close_code(), e.close_reason());
                self.out.frame(Dir::Out, Frame::Close { code: Some(code), reason })?;
                let message = e.to_string();
                self.out.closed(&format!("{code} error={message:?} (sent by wsc)"))?;
                self.out.error(
                    &format!("the server broke the protocol: {message}"),
                    Status::Protocol,
                )?;
                // Our own complaint about the server: retrying would meet the same bug.
                Ok(match self.phase {
                    Phase::Closing(_) => End::Done(Status::Protocol),
                    _ => End::Lost { code: Some(code), status: Status::Protocol },
                })
            }
            other => Err(other.into()),
        }
    }

    fn done(&mut self, status: Status, message: &str) -> anyhow::Result<End> {
        if self.counted {
            return Ok(End::Done(Status::Normal));
        }
        self.out.error(message, status)?;
        Ok(End::Done(status))
    }
}

/// `dead peer: no answer to a ping in 5.0 s`.
pub(crate) fn dead_peer(timeout: Duration) -> String {
    format!("dead peer: no answer to a ping in {}", seconds(timeout))
}

/// `5.0 s`, `0.25 s`: one decimal at least, more when needed.
pub(crate) fn seconds(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if (secs * 10.0).fract() == 0.0 {
        format!("{secs:.1} s")
    } else {
        format!("{secs} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dead_peer_message_says_how_long() {
        assert_eq!(dead_peer(Duration::from_secs(5)), "dead peer: no answer to a ping in 5.0 s");
        assert_eq!(seconds(Duration::from_millis(250)), "0.25 s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
    }
}
