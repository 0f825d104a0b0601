//! One served connection: the handshake, then the echo, within their deadlines.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};

use wscodec::deflate::{accept_offers, PerMessageDeflate, Setup};
use wscodec::handshake::server::{self, Decision, Outcome, Request, Upgrade};
use wscodec::io::blocking::WebSocket;
use wscodec::io::Options;
use wscodec::io::{Error, StdIo, Unmasked};
use wscodec::{CloseCode, Config, Event, Message, ProtocolError, Status};

use super::http::{linger_close, send_and_close, PAGE};
use super::rx::{GrowingRx, SETTLE};
use super::transport::Transport;
use super::{Accepted, Settings};
use crate::deflate::{describe, Memory};
use crate::timed::{expired, is_timeout, Budget, Expired, Next, Settle, TimedTcp, WriteFailure};

/// The request head must fit this buffer; a larger one is answered with 431.
const HEAD_BUF: usize = 8 * 1024;
/// The transmit buffer: larger messages go out through it in pieces. The handshake's
/// answer is written into it whole, the test page included.
const TX_BUF: usize = 16 * 1024;
/// The payload of the ping sent to an idle client.
const IDLE_PING: &[u8] = b"idle";
/// The reason of the close frame sent when a message missed its deadline.
const TOO_SLOW: &str = "message too slow";

/// The echo's WebSocket.
type Ws<'b> = WebSocket<'b, StdIo<Transport>, Unmasked, GrowingRx>;

/// Handshake, then echo, on one connection; logs how it ended.
pub(super) fn serve_connection(accepted: Accepted, tcp: TcpStream, peer: SocketAddr) {
    if let Err(e) = run(&accepted, tcp, peer) {
        eprintln!("error {peer}: {e}");
    }
}

fn run(accepted: &Accepted, tcp: TcpStream, peer: SocketAddr) -> io::Result<()> {
    let s = &*accepted.settings;
    let mut tcp = TimedTcp::new(tcp)?;
    tcp.set_deadline(accepted.handshake_deadline());
    let mut stream = Transport::new(tcp, s.tls.as_ref())?;
    let mut tx = vec![0u8; TX_BUF];
    let mut head = [0u8; HEAD_BUF];
    let mut filled = 0;
    let mut chosen = Chosen::default();
    let (answer, consumed) = loop {
        let chosen = &mut chosen;
        let step = server::handle_request(
            server::Head::new(&head, filled),
            &mut tx,
            move |request, up| {
                let chosen = chosen; // moved in, so that a reason can borrow it for the answer
                decide(s, request, up, chosen)
            },
            |request| negotiate(s, request),
        );
        if let Status::Complete { value, consumed } = step {
            break (value, consumed);
        }
        match stream.read(&mut head[filled..]) {
            Ok(0) => {
                eprintln!("drop  {peer}: disconnected before completing its request");
                return Ok(());
            }
            Ok(n) => filled += n,
            Err(e) if is_timeout(&e) => {
                let secs = s.handshake_timeout.as_secs();
                eprintln!("drop  {peer}: no complete request within {secs} s (handshake timeout)");
                return Ok(());
            }
            Err(e) if s.tls.is_some() => {
                eprintln!("drop  {peer}: TLS handshake failed: {e}");
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    };
    let response = &tx[..answer.written];
    match answer.outcome {
        Outcome::Upgraded => {}
        Outcome::NotUpgraded(status) => {
            match &chosen.reason {
                Some(reason) => eprintln!("reject {peer} status={status} reason={reason:?}"),
                None => eprintln!("http  {peer} {} {} {status}", chosen.method, chosen.path),
            }
            return send_and_close(stream, response);
        }
        Outcome::Failed(e) => {
            eprintln!("reject {peer} status={} error={:?}", e.status(), e.to_string());
            return send_and_close(stream, response);
        }
    }
    if let Err(e) = stream.write_all(response).and_then(|()| stream.flush()) {
        eprintln!("drop  {peer}: the 101 could not be sent: {e}");
        return Ok(());
    }
    let protocol = chosen.protocol.as_deref().unwrap_or("-");
    let agreed = answer.agreed;
    let deflate = agreed.map_or_else(|| "-".to_owned(), |a| describe(&a, wscodec::Role::Server));
    eprintln!("open  {peer} path={} protocol={protocol} deflate={deflate}", chosen.path);
    // permessage-deflate's memory, taken only once it was agreed.
    let mut memory = agreed.map(|_| Memory::new());

    stream.get_mut().set_budget(Budget {
        wait: Some(s.idle_timeout),
        read: Some(s.idle_timeout),
        write: Some(s.write_timeout),
    });
    // Bytes that arrived after the request head already belong to the WebSocket (and
    // start the first message's deadline now).
    let early = &head[consumed..filled];
    stream.get_mut().done(if early.is_empty() { Next::Waiting } else { Next::Arrived });
    let rx = GrowingRx::new(early, rx_max(s.max_message));
    let rx = if s.tls.is_some() {
        rx.busy_while_waiting_in(stream.get_ref().socket())
    } else {
        let settle = Arc::new(Settle::new(SETTLE));
        stream.get_mut().settle_with(Arc::clone(&settle));
        rx.busy_while_settling(settle)
    };
    let config = Config { max_message: s.max_message as u64, ..Config::default() };
    let mut options = Options::new(rx, &mut tx).with_config(config).with_received(early.len());
    if let Some(memory) = memory.as_mut() {
        options = options.with_deflate(deflate_of(memory, s));
    }
    let ws: Ws<'_> = WebSocket::server(StdIo(stream), options);
    let mut ws = match ws.with_deflate(agreed) {
        Ok(ws) => ws,
        // The negotiation only agrees to what the memory can take.
        Err(e) => return Err(io::Error::other(format!("permessage-deflate: {e}"))),
    };
    let (end, msgs, mut stream, wire_out, failure) = if s.split {
        let (end, msgs, stream, written, failure) = echo_split(ws, s)?;
        (end, msgs, stream, Some(written), failure)
    } else {
        let (end, msgs) = echo(&mut ws);
        let mut stream = ws.into_inner().0;
        let failure = stream.get_mut().write_failure().cloned();
        (end, msgs, stream, None, failure)
    };
    let (wire_in, wire_out) = match (stream.get_mut().traffic(), wire_out) {
        ((wire_in, _), Some(wire_out)) => (wire_in, wire_out),
        (traffic, None) => traffic,
    };
    let end = Ended { end, failure: failure.as_ref() };
    eprintln!("close {peer} {end} msgs={msgs} wire_in={wire_in} wire_out={wire_out}");
    // The server closes the TCP connection first (RFC 6455 section 7.1.1), without
    // resetting it, so that a close frame sent last reaches the client.
    linger_close(stream);
    Ok(())
}

/// What [`decide`] saw and chose, kept for the log once the request's bytes are gone.
#[derive(Debug, Default)]
struct Chosen {
    method: String,
    path: String,
    /// The subprotocol selected for an upgrade.
    protocol: Option<String>,
    /// Why the request was refused (the body of the refusal).
    reason: Option<String>,
}

/// The server's answer to a request: an upgrade unless `--allow-origin` refuses the
/// Origin (403), with the first offered subprotocol the server speaks (`--protocol`); for
/// a request without `Upgrade`, the test page at `/` and 404 elsewhere.
fn decide<'r>(
    s: &Settings,
    request: &Request<'_, 'r>,
    upgrade: Option<&Upgrade<'r>>,
    chosen: &'r mut Chosen,
) -> Decision<'r> {
    chosen.method = request.method.to_owned();
    chosen.path = request.path.to_owned();
    let Some(upgrade) = upgrade else {
        return page(request, chosen);
    };
    if let Some(origin) = upgrade.origin {
        if !s.allow_origin.is_empty() && !s.allow_origin.iter().any(|a| a == origin) {
            let reason = format!("origin {origin} is not allowed by this server (--allow-origin)");
            return Decision::Reject { status: 403, reason: chosen.reason.insert(reason) };
        }
    }
    let protocol = upgrade.protocols().find(|p| s.protocols.iter().any(|q| q == p));
    chosen.protocol = protocol.map(str::to_owned);
    Decision::Accept { protocol }
}

/// The answer to a request without `Upgrade`: the test page at `/` (and `/index.html`),
/// 404 elsewhere, 405 for another method than GET.
fn page<'r>(request: &Request<'_, 'r>, chosen: &'r mut Chosen) -> Decision<'r> {
    if request.method != "GET" {
        let reason = format!(
            "method {} not allowed: this server serves its test page and WebSocket \
             upgrades with GET",
            request.method
        );
        return Decision::Reject { status: 405, reason: chosen.reason.insert(reason) };
    }
    let path = request.path.split('?').next().unwrap_or_default();
    if !matches!(path, "/" | "/index.html") {
        let reason = format!(
            "no page at {path}: this server serves its test page at / and echoes WebSocket \
             connections on any path"
        );
        return Decision::Reject { status: 404, reason: chosen.reason.insert(reason) };
    }
    Decision::Respond {
        status: 200,
        content_type: "text/html; charset=utf-8",
        body: PAGE.as_bytes(),
    }
}

/// What a connection lends permessage-deflate: the inflater's memory and output storage
/// (as large as the largest message, taken only while one arrives). The server compresses
/// each message on its own, so that its compressor's memory is taken only while it
/// compresses.
fn deflate_of<'m>(memory: &'m mut Memory, s: &Settings) -> wscodec::io::Deflate<'m, GrowingRx> {
    memory.lend(GrowingRx::new(&[], rx_max(s.max_message)), true)
}

/// permessage-deflate for an upgrade the server accepted: the first offer a 32 KiB
/// window takes (the client keeps its context), the server resetting its own; none
/// with `--no-deflate`. A malformed header is answered with 400.
fn negotiate(
    s: &Settings,
    request: &Request<'_, '_>,
) -> Result<Option<(wscodec::deflate::HeaderValue, PerMessageDeflate)>, wscodec::HandshakeError> {
    if !s.deflate {
        return Ok(None);
    }
    let offers = request
        .headers()
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("Sec-WebSocket-Extensions"))
        .map(|h| h.value);
    let setup = Setup { send_no_context_takeover: true, ..Setup::new(crate::deflate::WINDOW) };
    let agreed = accept_offers(offers, &setup)?;
    Ok(agreed.map(|agreed| (agreed.header_value(), agreed)))
}

/// The receive buffer's ceiling for messages up to `max_message` bytes: room for the
/// message, the frame headers and a control frame between fragments, rounded up to 4 KiB.
fn rx_max(max_message: usize) -> usize {
    max_message.saturating_add(1024).div_ceil(4096).saturating_mul(4096)
}

/// How an echo session ended.
#[derive(Debug)]
enum End {
    /// The client closed (code `None`: its close frame had no code); the adapter replied.
    Closed { code: Option<CloseCode>, reason: String },
    /// The client stayed silent after the idle ping: the server closed with 1001.
    Idle,
    /// A message (or control frame) did not arrive whole within the idle timeout of its
    /// start: the server closed with 1008.
    TooSlow,
    /// The client broke the protocol; the adapter sent the close frame with its code.
    Protocol(ProtocolError),
    /// A write failed (a reply the client did not take within the write timeout, or the
    /// socket's error): dropped without a close frame, since part of a frame may be on
    /// the wire. What was being written.
    WriteFailed(&'static str),
    /// The connection ended without a closing handshake.
    Abnormal(String),
}

/// How a session ended and what went out on the wire, as logged: a close frame sent, or
/// the connection dropped because a write failed, and why.
struct Ended<'a> {
    end: End,
    /// Why the last write failed, if one did ([`TimedTcp::write_failure`]).
    failure: Option<&'a WriteFailure>,
}

impl fmt::Display for Ended<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The close frame the server sent (or replied with), if this end has one.
        let (code, what) = match &self.end {
            End::Closed { code, reason } => {
                let code = code.unwrap_or(CloseCode::NO_STATUS);
                write!(f, "code={code} reason={reason:?}")?;
                return match self.failure {
                    Some(why) => write!(f, " error=\"the close reply was not sent: {why}\""),
                    None => Ok(()),
                };
            }
            End::Idle => (CloseCode::GOING_AWAY, "\"idle timeout\"".to_owned()),
            End::TooSlow => (CloseCode::POLICY_VIOLATION, format!("{TOO_SLOW:?}")),
            End::Protocol(e) => (e.close_code(), format!("{:?}", e.to_string())),
            End::WriteFailed(writing) => {
                let why = self.failure.map_or_else(|| "it failed".to_owned(), ToString::to_string);
                return write!(
                    f,
                    "code={} error=\"{writing} was not sent: {why}\" by=server",
                    CloseCode::ABNORMAL
                );
            }
            End::Abnormal(why) => return write!(f, "code={} error={why:?}", CloseCode::ABNORMAL),
        };
        let label = if matches!(self.end, End::Protocol(_)) { "error" } else { "reason" };
        match self.failure {
            None => write!(f, "code={code} {label}={what} by=server sent=close_frame"),
            Some(why) => write!(
                f,
                "code={} error=\"the close frame ({}, {}) was not sent: {why}\" by=server",
                CloseCode::ABNORMAL,
                code.as_u16(),
                what.trim_matches('"')
            ),
        }
    }
}

/// Echoes text and binary messages until the connection ends; returns how it ended and
/// how many messages were echoed.
fn echo(ws: &mut Ws<'_>) -> (End, u64) {
    let mut msgs = 0;
    let mut pinged = false;
    let mut peer_close = None;
    loop {
        // The echo goes out straight from the received bytes: the event borrows the
        // receive buffer, the sender everything else.
        let event = ws.read_for_reply();
        if event.is_ok() {
            pinged = false;
        }
        let sent = match event {
            Ok((Event::Text(text), mut sender)) => {
                msgs += 1;
                sender.send(Message::Text(text))
            }
            Ok((Event::Binary(data), mut sender)) => {
                msgs += 1;
                sender.send(Message::Binary(data))
            }
            Ok((Event::Close { code, reason }, _)) => {
                // The adapter already sent the close reply; the next read says Closed.
                peer_close = Some((code, reason.to_owned()));
                Ok(())
            }
            // Pings are answered by the adapter; pongs only show the client is alive.
            Ok(_) => Ok(()),
            // The receive buffer gives its memory back; the wait goes on.
            Err(Error::Read(e)) if expired(&e) == Some(Expired::Quiet) => continue,
            Err(Error::Read(e)) if expired(&e) == Some(Expired::Read) => {
                let end = match ws.close(CloseCode::POLICY_VIOLATION, TOO_SLOW) {
                    Ok(()) => End::TooSlow,
                    Err(e) => ended(e, "the close frame (1008, message too slow)"),
                };
                return (end, msgs);
            }
            Err(Error::Read(e)) if is_timeout(&e) => {
                if pinged {
                    let end = match ws.close(CloseCode::GOING_AWAY, "idle timeout") {
                        Ok(()) => End::Idle,
                        Err(e) => ended(e, "the close frame (1001, idle timeout)"),
                    };
                    return (end, msgs);
                }
                pinged = true;
                match ws.send(Message::Ping(IDLE_PING)) {
                    Ok(()) => continue,
                    Err(e) => return (ended(e, "the idle ping"), msgs),
                }
            }
            Err(e @ Error::Write(_)) => return (ended(e, "a reply (pong or close)"), msgs),
            Err(Error::Closed) => {
                let end = match peer_close {
                    Some((code, reason)) => End::Closed { code, reason },
                    None => End::Abnormal("closed".to_owned()),
                };
                return (end, msgs);
            }
            Err(Error::Protocol(e)) => return (End::Protocol(e), msgs),
            Err(Error::UnexpectedEof) => {
                return (End::Abnormal("connection dropped without a close frame".into()), msgs)
            }
            Err(e) => return (End::Abnormal(e.to_string()), msgs),
        };
        if let Err(e) = sent {
            return (ended(e, "an echo"), msgs);
        }
        // The event is handled: the next one's deadline starts with its first byte
        // (or now, if that byte is already here); a message still being reassembled
        // keeps its own.
        let next = match (ws.connection().receiving(), ws.buffered()) {
            (Some(_), _) => Next::Continuing,
            (None, 0) => Next::Waiting,
            (None, _) => Next::Arrived,
        };
        ws.stream_mut().0.get_mut().done(next);
    }
}

/// [`echo`] through the halves of the split connection: the reader reads, the writer
/// echoes and pings; the reader answers pings and the close through the writing side
/// they share. Returns how it ended, how many messages were echoed, the reading stream
/// and the bytes the writing one wrote.
fn echo_split(
    mut ws: Ws<'_>,
    s: &Settings,
) -> io::Result<(End, u64, Transport, u64, Option<WriteFailure>)> {
    let Transport::Plain(timed) = &mut ws.stream_mut().0 else {
        return Err(io::Error::other("--split serves ws:// only"));
    };
    let mut writing = TimedTcp::new(timed.try_clone_tcp()?)?;
    writing.set_budget(Budget { wait: None, read: None, write: Some(s.write_timeout) });
    writing.end_writes_at_flush();
    let shared = Mutex::new(None);
    let (mut reader, mut writer) =
        ws.split(&shared, |reading| (reading, StdIo(Transport::Plain(writing))));
    let mut msgs = 0;
    let mut pinged = false;
    let mut peer_close = None;
    let end = loop {
        let event = reader.read();
        if event.is_ok() {
            pinged = false;
        }
        let sent = match event {
            Ok(Event::Text(text)) => {
                msgs += 1;
                writer.send(Message::Text(text))
            }
            Ok(Event::Binary(data)) => {
                msgs += 1;
                writer.send(Message::Binary(data))
            }
            Ok(Event::Close { code, reason }) => {
                peer_close = Some((code, reason.to_owned()));
                Ok(())
            }
            Ok(_) => Ok(()),
            // The receive buffer gives its memory back; the wait goes on.
            Err(Error::Read(e)) if expired(&e) == Some(Expired::Quiet) => continue,
            Err(Error::Read(e)) if expired(&e) == Some(Expired::Read) => {
                break match writer.close(CloseCode::POLICY_VIOLATION, TOO_SLOW) {
                    Ok(()) => End::TooSlow,
                    Err(e) => ended(e, "the close frame (1008, message too slow)"),
                };
            }
            Err(Error::Read(e)) if is_timeout(&e) => {
                if pinged {
                    break match writer.close(CloseCode::GOING_AWAY, "idle timeout") {
                        Ok(()) => End::Idle,
                        Err(e) => ended(e, "the close frame (1001, idle timeout)"),
                    };
                }
                pinged = true;
                if let Err(e) = writer.send(Message::Ping(IDLE_PING)) {
                    break ended(e, "the idle ping");
                }
                Ok(())
            }
            Err(Error::Closed) => {
                break match peer_close.take() {
                    Some((code, reason)) => End::Closed { code, reason },
                    None => End::Abnormal("closed".to_owned()),
                };
            }
            Err(e) => break ended(e, "a reply (pong or close)"),
        };
        if let Err(e) = sent {
            break ended(e, "an echo");
        }
        let next = match (reader.receiving(), reader.buffered()) {
            (Some(_), _) => Next::Continuing,
            (None, 0) => Next::Waiting,
            (None, _) => Next::Arrived,
        };
        reader.stream_mut().0.get_mut().done(next);
    };
    let StdIo(stream) = reader.into_inner();
    let (written, failure) = match shared.into_inner().unwrap_or_else(PoisonError::into_inner) {
        Some(shared) => {
            let mut writing = shared.into_parts().0 .0;
            let timed = writing.get_mut();
            (timed.traffic().1, timed.write_failure().cloned())
        }
        None => (0, None),
    };
    Ok((end, msgs, stream, written, failure))
}

/// How an error from a read or a send ended the echo; `writing` says what was being
/// written, in case a write failed.
fn ended(e: Error<io::Error>, writing: &'static str) -> End {
    match e {
        Error::Write(_) => End::WriteFailed(writing),
        Error::Protocol(e) => End::Protocol(e),
        Error::UnexpectedEof => End::Abnormal("connection dropped without a close frame".into()),
        e => End::Abnormal(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rx_holds_the_largest_message_and_rounds_to_pages() {
        assert_eq!(rx_max(1000), 4096);
        assert_eq!(rx_max(16 * 1024 * 1024), 16 * 1024 * 1024 + 4096);
        assert_eq!(rx_max(usize::MAX), usize::MAX); // saturates rather than wrapping
        assert!(rx_max(0) >= wscodec::io::MIN_RX_BUF);
    }

    #[test]
    fn the_page_opens_a_websocket_to_its_own_host() {
        let page = PAGE;
        assert!(page.contains(
            "new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.host+'/')"
        ));
        for id in ["msg", "send", "log", "close", "code", "reason", "status", "extensions"] {
            assert!(page.contains(&format!("id=\"{id}\"")), "#{id}");
        }
    }
}
