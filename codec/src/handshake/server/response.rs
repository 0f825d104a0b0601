//! The responses a server writes: the `101` that accepts an upgrade, the error responses
//! that refuse one, and the page that answers a plain HTTP request.
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

use super::request::Upgrade;
use crate::handshake::accept_key::ACCEPT_KEY_LEN;
use crate::handshake::error::Piece;
use crate::handshake::texts::{total_len, Texts};
use crate::handshake::write::{check_headers, check_token, check_value, decimal, measured};
use crate::handshake::HandshakeError;

/// Writes the `101 Switching Protocols` response that accepts `upgrade`.
///
/// `protocol` is the subprotocol the server selects, which must be one the client
/// offered ([`Upgrade::offers_protocol`]). `extra_headers` are written as given (e.g.
/// `Set-Cookie`). No `Sec-WebSocket-Extensions` is sent: offered extensions such as
/// `permessage-deflate` are declined by omission.
///
/// # Errors
///
/// - [`HandshakeError::UnofferedProtocol`] — `protocol` was not offered;
/// - [`HandshakeError::InvalidHeaderValue`] — `protocol` is not a token, or an extra
///   header name is not a token or its value holds CR, LF or other control bytes;
/// - [`HandshakeError::BufferTooSmall`] — `out` is too short; nothing was written.
///
/// # Examples
///
/// ```
/// use wscodec::handshake::{server, Header, MAX_HEADERS};
/// use wscodec::Status;
///
/// let wire = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///     Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n";
/// let mut headers = [Header::EMPTY; MAX_HEADERS];
/// let Status::Complete { value: request, .. } = server::parse_request(wire, &mut headers)?
/// else { panic!("read more bytes and call again") };
/// let upgrade = request.validate()?;
/// let mut out = [0u8; 256];
/// let n = server::write_accept(&upgrade, Some("chat"), &[("Set-Cookie", "id=1")], &mut out)?;
/// assert_eq!(
///     &out[..n],
///     b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///       Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
///       Sec-WebSocket-Protocol: chat\r\nSet-Cookie: id=1\r\n\r\n"
/// );
/// # Ok::<(), wscodec::HandshakeError>(())
/// ```
pub fn write_accept(
    upgrade: &Upgrade<'_>,
    protocol: Option<&str>,
    extra_headers: &[(&str, &str)],
    out: &mut [u8],
) -> Result<usize, HandshakeError> {
    if let Some(p) = protocol {
        check_token(p)?;
        // 4.2.2: the selected subprotocol must be one of the client's values.
        if !upgrade.offers_protocol(p) {
            return Err(HandshakeError::UnofferedProtocol);
        }
    }
    check_headers(extra_headers)?;
    if protocol.is_none() && extra_headers.is_empty() {
        return write_plain_accept(upgrade, out);
    }
    let accept = upgrade.accept_key();
    measured(out, |c| {
        c.put(ACCEPT_HEAD);
        c.put(&accept);
        c.put(b"\r\n");
        if let Some(p) = protocol {
            c.header("Sec-WebSocket-Protocol", p.as_bytes());
        }
        for (name, value) in extra_headers {
            c.header(name, value.as_bytes());
        }
        c.put(b"\r\n");
    })
}

/// The constant start of every `101` response, up to the accept value.
const ACCEPT_HEAD: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Accept: ";

/// [`write_accept`] without a subprotocol or extra headers: three copies into `out`.
fn write_plain_accept(upgrade: &Upgrade<'_>, out: &mut [u8]) -> Result<usize, HandshakeError> {
    const LEN: usize = ACCEPT_HEAD.len() + ACCEPT_KEY_LEN + 4;
    let Some((response, _)) = out.split_first_chunk_mut::<LEN>() else {
        return Err(HandshakeError::BufferTooSmall { needed: LEN });
    };
    let (head, rest) = response.split_at_mut(ACCEPT_HEAD.len());
    head.copy_from_slice(ACCEPT_HEAD);
    let (accept, end) = rest.split_at_mut(ACCEPT_KEY_LEN);
    accept.copy_from_slice(&upgrade.accept_key());
    end.copy_from_slice(b"\r\n\r\n");
    Ok(LEN)
}

/// A space and the standard reason phrase for `status`: its own for the statuses in
/// [`ERROR_STATUSES`] and [`OTHER_STATUSES`], else that of its class (2xx to 4xx; anything
/// above is a server error).
fn reason_phrase(status: u16) -> &'static [u8] {
    // Compared rather than divided by 100 (no divide instruction on a Cortex-M0).
    let class = match status {
        ..=299 => 2,
        300..=399 => 3,
        400..=499 => 4,
        _ => 5,
    };
    match OTHER_STATUSES.iter().position(|&code| code == status || code == class) {
        Some(i) if !ERROR_STATUSES.contains(&status) => OTHER_PHRASES.get(i),
        _ => error_phrase(status),
    }
}

/// [`reason_phrase`] for the statuses of [`HandshakeError::status`]: a server that only
/// accepts or fails upgrades carries these phrases alone, not those of statuses only an
/// application chooses.
///
/// A look-up in one table of texts rather than a `match` that returns each text: at
/// opt-level "z" that is about 200 bytes less code in a firmware image.
fn error_phrase(status: u16) -> &'static [u8] {
    ERROR_STATUSES.iter().position(|&code| code == status).map_or(b"", |i| ERROR_PHRASES.get(i))
}

/// The statuses of [`HandshakeError::status`], in the order of [`ERROR_PHRASES`].
static ERROR_STATUSES: [u16; 7] = [400, 405, 426, 431, 500, 502, 505];

/// The reason phrase of each of [`ERROR_STATUSES`], after a space.
const ERROR_PHRASE_TEXTS: [&str; 7] = [
    " Bad Request",
    " Method Not Allowed",
    " Upgrade Required",
    " Request Header Fields Too Large",
    " Internal Server Error",
    " Bad Gateway",
    " HTTP Version Not Supported",
];

/// [`ERROR_PHRASE_TEXTS`], joined.
static ERROR_PHRASES: Texts<8, { total_len(&ERROR_PHRASE_TEXTS) }> =
    Texts::new(&ERROR_PHRASE_TEXTS);

/// Other statuses with a reason phrase of their own, then the classes 2 to 5, in the order
/// of [`OTHER_PHRASE_TEXTS`].
static OTHER_STATUSES: [u16; 8] = [200, 403, 404, 503, 2, 3, 4, 5];

/// The reason phrase of each of [`OTHER_STATUSES`], after a space.
const OTHER_PHRASE_TEXTS: [&str; 8] = [
    " OK",
    " Forbidden",
    " Not Found",
    " Service Unavailable",
    " Success",
    " Redirection",
    " Client Error",
    " Server Error",
];

/// [`OTHER_PHRASE_TEXTS`], joined.
static OTHER_PHRASES: Texts<9, { total_len(&OTHER_PHRASE_TEXTS) }> =
    Texts::new(&OTHER_PHRASE_TEXTS);

/// Writes a complete HTTP/1.1 error response that refuses the upgrade.
///
/// The status line carries the standard reason phrase for 400, 403, 404, 405, 426,
/// 431, 500, 502, 503 and 505 (a generic one otherwise). The body is `reason` and a
/// newline, as `text/plain; charset=utf-8`, with `Content-Length` and
/// `Connection: close`: close the transport after sending it. A 426 also carries
/// `Upgrade: websocket` and `Sec-WebSocket-Version: 13` (RFC 6455 section 4.4), a 405
/// carries `Allow: GET`.
///
/// # Errors
///
/// - [`HandshakeError::InvalidHeaderValue`] — `status` is not a final status of three
///   digits (200–999);
/// - [`HandshakeError::BufferTooSmall`] — `out` is too short; nothing was written.
///
/// # Examples
///
/// ```
/// let mut out = [0u8; 256];
/// let n = wscodec::handshake::server::write_reject(403, "origin not allowed", &mut out)?;
/// assert_eq!(
///     &out[..n],
///     b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n\
///       Content-Length: 19\r\nConnection: close\r\n\r\norigin not allowed\n"
/// );
/// # Ok::<(), wscodec::HandshakeError>(())
/// ```
pub fn write_reject(status: u16, reason: &str, out: &mut [u8]) -> Result<usize, HandshakeError> {
    write_text(status, reason.as_bytes(), status == 426, out)
}

/// Like [`write_reject`], and always adds `Sec-WebSocket-Version: 13`.
///
/// For servers that answer a version mismatch with 400, as the example in RFC 6455
/// section 4.4 does, rather than with 426.
///
/// # Errors
///
/// As [`write_reject`].
pub fn write_version_reject(
    status: u16,
    reason: &str,
    out: &mut [u8],
) -> Result<usize, HandshakeError> {
    write_text(status, reason.as_bytes(), true, out)
}

/// Writes the response that refuses a request failing with `error`.
///
/// Equivalent to [`write_reject`]`(error.status(), <error text>, out)`; version errors get
/// 426 with `Sec-WebSocket-Version: 13`, header overflows 431.
///
/// # Errors
///
/// [`HandshakeError::BufferTooSmall`] if `out` is too short; nothing was written.
///
/// # Examples
///
/// ```
/// use wscodec::{handshake::server, HandshakeError};
/// let mut out = [0u8; 256];
/// let n = server::write_error(HandshakeError::UnsupportedVersion, &mut out)?;
/// let response = core::str::from_utf8(&out[..n]).unwrap();
/// assert!(response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
/// assert!(response.contains("\r\nSec-WebSocket-Version: 13\r\n"));
/// # Ok::<(), wscodec::HandshakeError>(())
/// ```
// Left to the compiler: a server calls it from the handshake step alone, where inlined it
// is 52 bytes less on thumbv7em and 104 of flash on riscv32imc than a call
// (`scripts/firmware-budget`).
#[inline]
pub fn write_error(error: HandshakeError, out: &mut [u8]) -> Result<usize, HandshakeError> {
    let (lead, value, tail) = error.message();
    let mut digits = [0; 20];
    let value = match value {
        Piece::Text(text) => text,
        Piece::Number(n) => decimal(n, &mut digits),
    };
    let version = matches!(error, HandshakeError::UnsupportedVersion);
    let body = [lead, value, tail, b"\n"];
    let status = error.status();
    write_response(status, error_phrase(status), TEXT_PLAIN, body, version, out)
}

/// Writes a response with `body` as `content_type` (the answer to a plain HTTP request).
///
/// # Errors
///
/// [`HandshakeError::InvalidHeaderValue`] for a status outside 200–999 or a content type
/// with control characters; [`HandshakeError::BufferTooSmall`] if the whole response does
/// not fit `out` (nothing was written).
pub(super) fn write_page(
    status: u16,
    content_type: &str,
    body: &[u8],
    out: &mut [u8],
) -> Result<usize, HandshakeError> {
    check_value(content_type)?;
    let body = [body, b"", b"", b""];
    write_response(status, reason_phrase(status), content_type.as_bytes(), body, false, out)
}

/// The content type of the plain-text answers.
const TEXT_PLAIN: &[u8] = b"text/plain; charset=utf-8";

/// A plain-text response whose body is `text` and a line end.
fn write_text(
    status: u16,
    text: &[u8],
    version: bool,
    out: &mut [u8],
) -> Result<usize, HandshakeError> {
    let body = [text, b"\n", b"", b""];
    write_response(status, reason_phrase(status), TEXT_PLAIN, body, version, out)
}

/// A response that does not upgrade: status line (with `phrase`), `Content-Type`, `Content-Length`,
/// `Connection: close`, the headers a 405 or 426 needs (and `Sec-WebSocket-Version: 13`
/// if `version`), then `body`, the concatenation of its parts. Nothing is written if it
/// does not fit `out`.
fn write_response(
    status: u16,
    phrase: &[u8],
    content_type: &[u8],
    body: [&[u8]; 4],
    version: bool,
    out: &mut [u8],
) -> Result<usize, HandshakeError> {
    // 1xx responses have no body and never end an exchange.
    if !(200..=999).contains(&status) {
        return Err(HandshakeError::InvalidHeaderValue);
    }
    let body_len = body.iter().fold(0, |sum: usize, part| sum.saturating_add(part.len()));
    measured(out, |c| {
        c.put(b"HTTP/1.1 ");
        c.put_usize(usize::from(status));
        c.put(phrase);
        c.put(b"\r\nContent-Type: ");
        c.put(content_type);
        c.put(b"\r\nContent-Length: ");
        c.put_usize(body_len);
        c.put(b"\r\nConnection: close\r\n");
        if status == 405 {
            c.put(b"Allow: GET\r\n");
        }
        if status == 426 {
            c.put(b"Upgrade: websocket\r\n");
        }
        // The last header, if any, and the empty line.
        c.put(if version { b"Sec-WebSocket-Version: 13\r\n\r\n" } else { b"\r\n" });
        for part in &body {
            c.put(part);
        }
    })
}
