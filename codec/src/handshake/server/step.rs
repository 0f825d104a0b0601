//! The server handshake in one call: [`handle_request`] parses what arrived, checks it,
//! asks the application for a [`Decision`] and writes the answer.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::request::{parse_request, Request, Upgrade};
use super::response::{write_accept, write_error, write_page, write_reject};
use crate::handshake::{HandshakeError, Header, MAX_HEADERS};
use crate::Status;

/// What the server does with a request, decided by the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Decision<'a> {
    /// Upgrade, optionally with one of the offered subprotocols. For a request without
    /// `Upgrade` this is answered with 400 ([`HandshakeError::MissingUpgrade`]).
    Accept {
        /// The chosen subprotocol (must be one the client offered).
        protocol: Option<&'a str>,
    },
    /// Refuse with an HTTP status (e.g. 403 for a refused Origin, 404 for an unknown
    /// path) and a short plain-text reason (see [`write_reject`]).
    Reject {
        /// The HTTP status code, 200–999.
        status: u16,
        /// The reason, sent as the response body.
        reason: &'a str,
    },
    /// Answer without upgrading: `body` as `content_type`, e.g. a page for a plain
    /// `GET`. The whole response, body included, is written into the output buffer, so
    /// that buffer must hold it (a test page of a few KiB needs a transmit buffer of that
    /// size).
    Respond {
        /// The HTTP status code, 200–999.
        status: u16,
        /// The `Content-Type` value, e.g. `text/html; charset=utf-8`.
        content_type: &'a str,
        /// The response body.
        body: &'a [u8],
    },
}

/// The bytes of a request head received so far, in the buffer they are read into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head<'b> {
    bytes: &'b [u8],
    /// The buffer has no room for more: a head still incomplete is answered with 431.
    full: bool,
}

impl<'b> Head<'b> {
    /// The first `filled` bytes of `buf`, the buffer the request is read into. Once it is
    /// full, a head still incomplete is answered with 431
    /// ([`HandshakeError::HeadersTooLarge`]).
    pub fn new(buf: &'b [u8], filled: usize) -> Self {
        Self { bytes: buf.get(..filled).unwrap_or(buf), full: filled >= buf.len() }
    }
}

/// The answer [`handle_request`] wrote for a complete request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Answer<T = core::convert::Infallible> {
    /// How many bytes at the start of the output buffer hold the response: send them all.
    /// Zero only if the buffer could not hold even the error response (then close the
    /// connection without one).
    pub written: usize,
    /// Whether the connection was upgraded.
    pub outcome: Outcome,
    /// What the negotiation agreed on for the `101`'s extensions (none without an upgrade).
    pub agreed: Option<T>,
}

/// The negotiation of a server that takes no extensions, for [`handle_request`]: the `101`
/// carries none.
///
/// # Errors
/// Never.
pub fn no_extensions(
    _: &Request<'_, '_>,
) -> Result<Option<(&'static str, core::convert::Infallible)>, HandshakeError> {
    Ok(None)
}

/// How a request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Outcome {
    /// The `101 Switching Protocols` was written: after it, the connection speaks
    /// WebSocket, starting with the bytes after the request head.
    Upgraded,
    /// A response with this status was written and the connection was not upgraded: a
    /// page or a refusal the application decided. Close the connection after sending it.
    NotUpgraded(u16),
    /// The request failed; the error response (status [`HandshakeError::status`]) was
    /// written. Close the connection after sending it. The application decides nothing:
    /// `decide` was not called, or what it decided could not be written (for example a
    /// subprotocol the client did not offer, or a page larger than the output buffer).
    Failed(HandshakeError),
}

/// Runs the server side of the opening handshake on the bytes received so far: parses
/// the request head, checks it, lets `decide` choose the answer, lets `negotiate` answer
/// the extensions of an accepted upgrade, and writes that answer (the `101`, a refusal or
/// a page) or the error response into `out`.
///
/// - `head` holds the bytes read so far, from the first ([`Head::new`]); once its buffer
///   is full, a head still incomplete is answered with 431
///   ([`HandshakeError::HeadersTooLarge`]).
/// - `decide` is called once the head is complete, with the request and, for a valid
///   upgrade, the [`Upgrade`] details; for a request without an `Upgrade` header (a page
///   request) with `None`. It is not called for an upgrade request that fails the checks
///   of [`Request::validate`] nor for a malformed head: those are answered with the
///   error's status. Anything `decide` must keep beyond this call it copies out: the
///   request borrows the received bytes.
/// - `negotiate` answers the request's extensions once `decide` accepted the upgrade: it
///   gives the `Sec-WebSocket-Extensions` value the `101` carries (any `AsRef<str>`, e.g.
///   permessage-deflate's `HeaderValue`) and what was agreed, which comes back in the
///   [`Answer`]; an error of its own, such as a malformed header, is answered with its
///   status. [`no_extensions`] for a server that takes none.
///
/// Returns [`Status::Partial`] while the head is incomplete (read more, then call again
/// with all bytes so far), else the [`Answer`] and, as `consumed`, the length of the head:
/// after an upgrade the bytes after it are the client's first WebSocket frames. For a
/// head that is malformed or too large, `consumed` is the length of what was received.
///
/// It uses [`MAX_HEADERS`] header slots on the stack. Nothing on this path can panic,
/// whatever the bytes (`tests/panic_never.rs` proves it at link time).
///
/// # Examples
///
/// ```
/// use wscodec::handshake::server::{self, Answer, Decision, Head, Outcome};
/// use wscodec::Status;
///
/// let received = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///     Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n\x81\x80";
/// let mut buf = [0u8; 1024]; // what the request is read into
/// buf[..received.len()].copy_from_slice(received);
/// let mut out = [0u8; 512];
/// let head = Head::new(&buf, received.len());
/// let decide = |request: &server::Request<'_, '_>, upgrade: Option<&server::Upgrade<'_>>| {
///     match (request.path, upgrade) {
///         ("/chat", Some(upgrade)) if upgrade.offers_protocol("chat") => {
///             Decision::Accept { protocol: Some("chat") }
///         }
///         ("/", None) => Decision::Respond {
///             status: 200,
///             content_type: "text/plain",
///             body: b"a WebSocket server lives here",
///         },
///         _ => Decision::Reject { status: 404, reason: "nothing here" },
///     }
/// };
/// let step = server::handle_request(head, &mut out, decide, server::no_extensions);
/// let Status::Complete { value: Answer { written, outcome, .. }, consumed } = step else {
///     panic!("read more bytes and call again")
/// };
/// assert_eq!(outcome, Outcome::Upgraded);
/// assert!(out[..written].starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
/// assert_eq!(&received[consumed..], b"\x81\x80"); // the client's first frame
/// ```
///
/// A page request, and a request whose head does not fit the buffer:
///
/// ```
/// # use wscodec::handshake::server::{self, Answer, Decision, Head, Outcome};
/// # use wscodec::{HandshakeError, Status};
/// let mut out = [0u8; 512];
/// let page = |_: &server::Request<'_, '_>, _: Option<&server::Upgrade<'_>>| {
///     Decision::Respond { status: 200, content_type: "text/plain", body: b"hello\n" }
/// };
/// let get = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
/// let step = server::handle_request(Head::new(get, get.len()), &mut out, page, server::no_extensions);
/// let Status::Complete { value: Answer { written, outcome, .. }, .. } = step else { panic!() };
/// assert_eq!(outcome, Outcome::NotUpgraded(200));
/// assert!(out[..written].ends_with(b"\r\n\r\nhello\n"));
///
/// let cut = b"GET / HTTP/1.1\r\nHost: h\r\n"; // and the buffer is full
/// let step = server::handle_request(Head::new(cut, cut.len()), &mut out, page, server::no_extensions);
/// let Status::Complete { value: Answer { written, outcome, .. }, .. } = step else { panic!() };
/// assert_eq!(outcome, Outcome::Failed(HandshakeError::HeadersTooLarge));
/// assert!(out[..written].starts_with(b"HTTP/1.1 431 "));
/// ```
// `handle_request` is not inlined: at opt-level "z", copies inlined into an adapter's read
// loop made the minimal firmware server about 900 bytes larger (`scripts/firmware-budget`).
// One call per connection costs nothing measurable. `answer`, called from here alone, is
// inlined into it: 116 bytes less on thumbv7em, 168 on riscv32imc than a call, and 272
// bytes less stack.
#[inline(never)]
pub fn handle_request<'b, F, N, H, T>(
    head: Head<'b>,
    out: &mut [u8],
    decide: F,
    negotiate: N,
) -> Status<Answer<T>>
where
    F: FnOnce(&Request<'_, 'b>, Option<&Upgrade<'b>>) -> Decision<'b>,
    N: FnOnce(&Request<'_, 'b>) -> Result<Option<(H, T)>, HandshakeError>,
    H: AsRef<str>,
{
    let Head { bytes: received, full } = head;
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    // The request is answered where it lies in the parse result (by reference: a moved
    // copy of it took another 216 bytes of stack).
    let (answered, consumed) = match parse_request(received, &mut headers) {
        Ok(Status::Complete { ref value, consumed }) => {
            (answer(value, out, decide, negotiate), consumed)
        }
        Ok(Status::Partial { needed }) if !full => return Status::Partial { needed },
        Ok(Status::Partial { .. }) => (Err(HandshakeError::HeadersTooLarge), received.len()),
        Err(e) => (Err(e), received.len()),
    };
    let value = match answered {
        Ok(answer) => answer,
        Err(e) => {
            let written = write_error(e, out).unwrap_or(0);
            Answer { written, outcome: Outcome::Failed(e), agreed: None }
        }
    };
    Status::Complete { value, consumed }
}

/// Classifies a complete request, lets `decide` choose, and writes the answer; `negotiate`
/// chooses the extensions of an accepted upgrade.
#[inline]
fn answer<'b, F, N, H, T>(
    request: &Request<'_, 'b>,
    out: &mut [u8],
    decide: F,
    negotiate: N,
) -> Result<Answer<T>, HandshakeError>
where
    F: FnOnce(&Request<'_, 'b>, Option<&Upgrade<'b>>) -> Decision<'b>,
    N: FnOnce(&Request<'_, 'b>) -> Result<Option<(H, T)>, HandshakeError>,
    H: AsRef<str>,
{
    let upgrade = classify(request)?;
    let answered = |written, outcome| Answer { written, outcome, agreed: None };
    // The upgrade by reference, like the request: moved into the tuple it was copied.
    match (decide(request, upgrade.as_ref()), &upgrade) {
        (Decision::Accept { protocol }, Some(upgrade)) => {
            let Some((header, agreed)) = negotiate(request)? else {
                return Ok(answered(write_accept(upgrade, protocol, &[], out)?, Outcome::Upgraded));
            };
            let extension = [("Sec-WebSocket-Extensions", header.as_ref())];
            let written = write_accept(upgrade, protocol, &extension, out)?;
            Ok(Answer { written, outcome: Outcome::Upgraded, agreed: Some(agreed) })
        }
        // There is nothing to upgrade: the client did not ask for WebSocket.
        (Decision::Accept { .. }, None) => Err(HandshakeError::MissingUpgrade),
        (Decision::Reject { status, reason }, _) => {
            Ok(answered(write_reject(status, reason, out)?, Outcome::NotUpgraded(status)))
        }
        (Decision::Respond { status, content_type, body }, _) => {
            let written = write_page(status, content_type, body, out)?;
            Ok(answered(written, Outcome::NotUpgraded(status)))
        }
    }
}

/// What kind of request this is, from the fields recorded while it was parsed: `Ok(None)`
/// for a plain HTTP request (no `Upgrade` header), the [`Upgrade`] for a valid WebSocket
/// upgrade, the error for an upgrade that fails [`Request::validate`].
///
/// Every rule that answers a request with an error before the application sees it lives
/// here, including any for requests without `Upgrade` (before the `Ok(None)`).
fn classify<'b>(request: &Request<'_, 'b>) -> Result<Option<Upgrade<'b>>, HandshakeError> {
    // Without `Upgrade`, a page request; unless `Sec-WebSocket-Key` or `-Version` are what
    // is left of an upgrade after a proxy dropped its hop-by-hop headers, which `validate`
    // answers with `UpgradeStripped` (after the method check).
    if !request.is_upgrade() {
        return Ok(None);
    }
    request.validate().map(Some)
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::{format, string::String, vec::Vec};

    use super::super::tests::{CHROMIUM, PYTHON_WEBSOCKETS};
    use super::*;
    use crate::handshake::accept_key::accept_key;

    /// Runs the step on `received`, recording what `decide` was shown.
    struct Run {
        step: Status<Answer>,
        out: Vec<u8>,
        /// `None` if `decide` was not called, else whether it saw an upgrade.
        saw_upgrade: Option<bool>,
    }

    fn run(received: &[u8], full: bool, out_len: usize, decision: Decision<'static>) -> Run {
        let mut out = std::vec![0u8; out_len];
        let mut saw_upgrade = None;
        let decide = |_: &Request<'_, '_>, upgrade: Option<&Upgrade<'_>>| {
            saw_upgrade = Some(upgrade.is_some());
            decision
        };
        let step = handle_request(Head { bytes: received, full }, &mut out, decide, no_extensions);
        Run { step, out, saw_upgrade }
    }

    impl Run {
        /// The answer, the response as text and `consumed`, for a complete step.
        fn complete(&self) -> (Outcome, String, usize) {
            let Status::Complete { value, consumed } = self.step else {
                panic!("partial: {:?}", self.step)
            };
            let response = String::from_utf8_lossy(&self.out[..value.written]).into_owned();
            (value.outcome, response, consumed)
        }
    }

    const ACCEPT: Decision<'static> = Decision::Accept { protocol: None };
    const PAGE: Decision<'static> =
        Decision::Respond { status: 200, content_type: "text/html", body: b"<p>hi</p>" };

    #[test]
    fn a_valid_upgrade_is_decided_and_accepted() {
        for wire in [CHROMIUM, PYTHON_WEBSOCKETS] {
            let run = run(wire, false, 512, ACCEPT);
            let (outcome, response, consumed) = run.complete();
            assert_eq!(
                (outcome, consumed, run.saw_upgrade),
                (Outcome::Upgraded, wire.len(), Some(true))
            );
            let mut headers = [Header::EMPTY; MAX_HEADERS];
            let Ok(Status::Complete { value: request, .. }) = parse_request(wire, &mut headers)
            else {
                panic!()
            };
            let key = request.header("Sec-WebSocket-Key").unwrap();
            let accept = accept_key(key);
            assert_eq!(
                response,
                format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: \
                     Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                    core::str::from_utf8(&accept).unwrap()
                )
            );
        }
    }

    #[test]
    fn the_client_frames_after_the_head_are_left_unconsumed() {
        let mut wire = CHROMIUM.to_vec();
        wire.extend_from_slice(b"\x81\x80\x01\x02\x03\x04");
        let (outcome, _, consumed) = run(&wire, false, 512, ACCEPT).complete();
        assert_eq!((outcome, consumed), (Outcome::Upgraded, CHROMIUM.len()));
    }

    #[test]
    fn the_chosen_subprotocol_is_answered_and_an_unoffered_one_fails() {
        let wire = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
            Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
            Sec-WebSocket-Protocol: chat, superchat\r\n\r\n";
        let mut out = [0u8; 512];
        let head = Head { bytes: wire, full: false };
        let step = handle_request(
            head,
            &mut out,
            |_, upgrade| {
                let upgrade = upgrade.expect("an upgrade");
                Decision::Accept { protocol: upgrade.protocols().find(|p| *p == "superchat") }
            },
            no_extensions,
        );
        let Status::Complete { value, .. } = step else { panic!() };
        assert_eq!(value.outcome, Outcome::Upgraded);
        assert!(out[..value.written].ends_with(b"\r\nSec-WebSocket-Protocol: superchat\r\n\r\n"));

        let (outcome, response, _) =
            run(wire, false, 512, Decision::Accept { protocol: Some("mqtt") }).complete();
        assert_eq!(outcome, Outcome::Failed(HandshakeError::UnofferedProtocol));
        assert!(response.starts_with("HTTP/1.1 502 "), "{response}");
    }

    #[test]
    fn a_plain_request_is_decided_without_upgrade() {
        let wire = b"GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n";
        let run_page = run(wire, false, 512, PAGE);
        let (outcome, response, consumed) = run_page.complete();
        assert_eq!((outcome, consumed), (Outcome::NotUpgraded(200), wire.len()));
        assert_eq!(run_page.saw_upgrade, Some(false));
        assert_eq!(
            response,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\
             Connection: close\r\n\r\n<p>hi</p>"
        );

        let reject = Decision::Reject { status: 404, reason: "no page here" };
        let (outcome, response, _) = run(wire, false, 512, reject).complete();
        assert_eq!(outcome, Outcome::NotUpgraded(404));
        assert!(response.starts_with("HTTP/1.1 404 Not Found\r\n"), "{response}");
        assert!(response.ends_with("\r\n\r\nno page here\n"), "{response}");

        // Nothing to upgrade: the client did not ask for WebSocket.
        let (outcome, response, _) = run(wire, false, 512, ACCEPT).complete();
        assert_eq!(outcome, Outcome::Failed(HandshakeError::MissingUpgrade));
        assert!(response.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{response}");
    }

    #[test]
    fn an_upgrade_may_be_refused_or_answered_with_a_page() {
        let (outcome, response, _) = run(CHROMIUM, false, 512, PAGE).complete();
        assert_eq!(outcome, Outcome::NotUpgraded(200));
        assert!(response.ends_with("<p>hi</p>"));
        let reject = Decision::Reject { status: 403, reason: "origin not allowed" };
        let (outcome, response, _) = run(CHROMIUM, false, 512, reject).complete();
        assert_eq!(outcome, Outcome::NotUpgraded(403));
        assert!(response.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{response}");
    }

    #[test]
    fn a_broken_upgrade_is_answered_with_its_status_without_asking() {
        let version_8 =
            b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
            Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n";
        let h2c = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n";
        let post = b"POST / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n";
        for (wire, error, status) in [
            (&version_8[..], HandshakeError::UnsupportedVersion, "426"),
            (&h2c[..], HandshakeError::MissingUpgrade, "400"),
            (&post[..], HandshakeError::NotGet, "405"),
        ] {
            let run = run(wire, false, 512, PAGE);
            let (outcome, response, consumed) = run.complete();
            assert_eq!(
                (outcome, consumed, run.saw_upgrade),
                (Outcome::Failed(error), wire.len(), None)
            );
            assert!(response.starts_with(&format!("HTTP/1.1 {status} ")), "{response}");
        }
    }

    #[test]
    fn a_malformed_head_fails_with_all_bytes_consumed() {
        let wire = b"GET / HTTP/1.1\r\nHo st: h\r\n\r\n\x81\x80";
        let run = run(wire, false, 512, ACCEPT);
        let (outcome, response, consumed) = run.complete();
        let error = HandshakeError::Http(crate::handshake::HttpErrorKind::HeaderName);
        assert_eq!(
            (outcome, consumed, run.saw_upgrade),
            (Outcome::Failed(error), wire.len(), None)
        );
        assert!(response.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{response}");
    }

    #[test]
    fn an_incomplete_head_is_partial_until_the_buffer_is_full() {
        for end in 0..CHROMIUM.len() {
            let run = run(&CHROMIUM[..end], false, 512, ACCEPT);
            assert_eq!((run.step, run.saw_upgrade), (Status::Partial { needed: 1 }, None));
            let run = self::run(&CHROMIUM[..end], true, 512, ACCEPT);
            let (outcome, response, consumed) = run.complete();
            assert_eq!(
                (outcome, consumed),
                (Outcome::Failed(HandshakeError::HeadersTooLarge), end)
            );
            assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
        }
    }

    #[test]
    fn what_does_not_fit_the_output_buffer_fails_with_500_or_nothing() {
        let page =
            Decision::Respond { status: 200, content_type: "text/plain", body: &[b'x'; 600] };
        let (outcome, response, _) =
            run(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", false, 512, page).complete();
        let needed = 600
            + "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 600\r\n\
            Connection: close\r\n\r\n"
                .len();
        assert_eq!(outcome, Outcome::Failed(HandshakeError::BufferTooSmall { needed }));
        assert!(response.starts_with("HTTP/1.1 500 "), "{response}");
        // Not even the error response fits.
        let run = run(CHROMIUM, false, 16, ACCEPT);
        let Status::Complete { value, .. } = run.step else { panic!() };
        assert_eq!(value.written, 0);
        assert!(matches!(value.outcome, Outcome::Failed(HandshakeError::BufferTooSmall { .. })));
    }

    #[test]
    fn a_bad_content_type_or_status_is_refused() {
        let wire = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        for decision in [
            Decision::Respond { status: 200, content_type: "text/html\r\nX: y", body: b"" },
            Decision::Respond { status: 101, content_type: "text/html", body: b"" },
            Decision::Reject { status: 99, reason: "" },
        ] {
            let (outcome, response, _) = run(wire, false, 512, decision).complete();
            assert_eq!(outcome, Outcome::Failed(HandshakeError::InvalidHeaderValue));
            assert!(response.starts_with("HTTP/1.1 500 "), "{response}");
        }
    }
}
