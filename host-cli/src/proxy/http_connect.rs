//! A tunnel through an HTTP proxy: `CONNECT host:port` (RFC 9110 section 9.3.6), with
//! Basic credentials (RFC 7617) when the proxy URL has a user name.
//!
//! The reply head is read one byte at a time up to its blank line, so that no byte of
//! the tunnel is taken with it, and at most [`MAX_HEAD`] bytes. A refusal's body is read
//! only as far as [`MAX_BODY`] bytes, for its first line.

use base64::Engine as _;
use serde_json::{json, Value};
use wscodec::handshake::client::parse_response;
use wscodec::handshake::Header;
use wscodec::Status;

use super::failure::{FailureKind, Stage};
use super::{ProxyUrl, Target, Wire, WireError};

/// The largest reply head accepted.
pub(super) const MAX_HEAD: usize = 16 * 1024;
/// How much of a refusal's body is read.
const MAX_BODY: usize = 4 * 1024;
/// The most headers a reply may have.
const MAX_HEADERS: usize = 64;

type Fail = Box<(FailureKind, Value)>;

/// Maps a wire error while waiting for the reply.
fn waiting(wire: &Wire<'_>, e: WireError) -> Fail {
    let kind = match e {
        WireError::Timeout { got } => {
            FailureKind::Timeout { stage: Stage::Connect, got, timeout: wire.timeout }
        }
        WireError::Closed { got } => FailureKind::Closed { stage: Stage::Connect, got },
        WireError::Io(e) => FailureKind::Io(e),
    };
    Box::new((kind, Value::Null))
}

/// Sends `CONNECT` and reads the reply; `Ok` with the status line and the reply as JSON
/// for any 2xx.
pub(super) fn handshake(
    wire: &mut Wire<'_>,
    proxy: &ProxyUrl,
    target: &Target<'_>,
    transcript: &mut Vec<String>,
) -> Result<(String, Value), Fail> {
    let authority = target.authority();
    if authority.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        let what = format!("the target {authority:?} contains spaces or control characters");
        return Err(Box::new((FailureKind::Invalid(what), Value::Null)));
    }
    let mut lines = vec![
        format!("CONNECT {authority} HTTP/1.1"),
        format!("Host: {authority}"),
        format!("User-Agent: wsc/{}", env!("CARGO_PKG_VERSION")),
    ];
    transcript.extend(lines.iter().map(|l| format!("> {l}")));
    if let Some(user) = &proxy.user {
        let pair = format!("{user}:{}", proxy.password.as_deref().unwrap_or_default());
        let token = base64::engine::general_purpose::STANDARD.encode(pair);
        lines.push(format!("Proxy-Authorization: Basic {token}"));
        transcript.push(format!("> Proxy-Authorization: Basic *** (user {user})"));
    }
    let request = format!("{}\r\n\r\n", lines.join("\r\n"));
    wire.write_all(request.as_bytes()).map_err(|e| waiting(wire, e))?;

    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD {
            return Err(Box::new((FailureKind::HeadTooLarge(MAX_HEAD), Value::Null)));
        }
        wire.read_some(&mut byte, head.len()).map_err(|e| waiting(wire, e))?;
        head.push(byte[0]);
        if head.len() <= 5 && !b"HTTP/".starts_with(&head) {
            // Show a little more of what this is, if it comes at once.
            let mut more = [0u8; 23];
            let n = wire.glimpse(&mut more);
            head.extend_from_slice(&more[..n]);
            return Err(Box::new((FailureKind::NotHttp(head), Value::Null)));
        }
    }
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    let Ok(Status::Complete { value: response, .. }) = parse_response(&head, &mut headers) else {
        return Err(Box::new((FailureKind::NotHttp(head), Value::Null)));
    };
    let status = response.status;
    let reason = response.reason.to_owned();
    let status_line = format!("HTTP/1.{} {status} {reason}", response.version);
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned()))
        .collect();
    transcript.push(format!("< {status_line}"));
    transcript.extend(headers.iter().map(|(n, v)| format!("< {n}: {v}")));
    let reply = json!({
        "status": status,
        "reason": reason,
        "headers": headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
    });
    if (200..300).contains(&status) {
        return Ok((status_line, reply));
    }
    let body_line = read_body_line(wire, &headers);
    if let Some(line) = &body_line {
        transcript.push(format!("< {line}"));
    }
    let sent_credentials = proxy.user.is_some();
    Err(Box::new((
        FailureKind::Http { status, reason, headers, body_line, sent_credentials },
        reply,
    )))
}

/// The first line of a plain-text refusal body (an HTML error page has no useful first
/// line), read within the deadline and [`MAX_BODY`].
fn read_body_line(wire: &mut Wire<'_>, headers: &[(String, String)]) -> Option<String> {
    let header = |name: &str| {
        headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    };
    if !header("Content-Type")?.trim_start().starts_with("text/plain") {
        return None;
    }
    let length = header("Content-Length")?.trim().parse::<usize>().ok()?.min(MAX_BODY);
    let mut body = vec![0u8; length];
    let mut got = 0;
    while got < length {
        match wire.read_some(&mut body[got..], got) {
            Ok(n) => got += n,
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&body[..got]);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(line.chars().take(200).collect())
}
