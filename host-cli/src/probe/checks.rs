//! Step 6 of `wsc probe`: the checks a 101 answer must pass (RFC 6455 section 4.1).

use serde_json::json;
use wscodec::deflate::{check_response, PerMessageDeflate};
use wscodec::handshake::client::{ClientRequest, Response};
use wscodec::io::blocking::WebSocket;
use wscodec::io::{MaskKeys, StdIo};
use wscodec::HandshakeError;
use wscodec::{Role, RxBuffer};

use super::verdict::{Failure, Verdict};
use super::{Done, Failed, Probe};
use crate::url::WsUrl;

impl Probe<'_> {
    /// The checks of a 101 `response` to the request sent with `nonce`; the
    /// permessage-deflate agreement, if any.
    pub(super) fn check(
        &self,
        url: &WsUrl,
        response: &Response<'_, '_>,
        nonce: [u8; 16],
    ) -> Result<Done<Option<PerMessageDeflate>>, Failed> {
        let host = url.host_header();
        let protocols = self.args.request.protocols();
        let offer = self.offer();
        let value = offer.map(|(offer, _)| offer.header_value());
        let request = ClientRequest {
            protocols: &protocols,
            extensions: value.as_ref().map(|v| v.as_str()),
            ..ClientRequest::new(&host, "/", nonce)
        };
        let shown =
            |name: &str| response.header(name).map(|v| String::from_utf8_lossy(v).into_owned());
        let proxy_fix = "a proxy in between rewrites the response: configure it to pass \
                         Upgrade and Connection (nginx: `proxy_http_version 1.1; \
                         proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \
                         \"upgrade\";`), or fix the server";
        let expected = String::from_utf8_lossy(&request.expected_accept()).into_owned();
        match response.validate(&request) {
            Ok(accepted) => {
                if accepted.protocol.is_none() && !protocols.is_empty() {
                    return Err(Failure::new(
                        Verdict::SubprotocolMismatch,
                        format!("offered {}, the server selected none", protocols.join(", ")),
                        format!(
                            "the server accepted the upgrade without selecting any of the \
                             offered subprotocols ({}); browsers then fail the connection \
                             (\"Sent non-empty 'Sec-WebSocket-Protocol' header but no response \
                             was received\")",
                            protocols.join(", ")
                        ),
                        "offer a subprotocol the server speaks (--protocol NAME), or make the \
                         server select one of those offered",
                    )
                    .into());
                }
                let protocol = accepted.protocol.unwrap_or("none");
                let lines = response
                    .headers()
                    .iter()
                    .filter(|h| h.name.eq_ignore_ascii_case("Sec-WebSocket-Extensions"))
                    .map(|h| h.value);
                let agreed = match offer {
                    Some((offer, setup)) => check_response(lines, &offer, &setup)
                        .map_err(|e| bad_extension(e, shown("Sec-WebSocket-Extensions")))?,
                    None => None,
                };
                let deflate = match (&agreed, offer) {
                    (Some(agreed), _) => crate::deflate::describe(agreed, Role::Client),
                    (None, Some(_)) => "declined by the server".to_owned(),
                    (None, None) => "not offered (--no-deflate)".to_owned(),
                };
                let extra = deflate_json(agreed.as_ref());
                let mut done = Done::new(
                    agreed,
                    format!(
                        "Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Accept matches, \
                         subprotocol: {protocol}, permessage-deflate: {deflate}"
                    ),
                );
                done.extra.push(("deflate", extra));
                Ok(done)
            }
            Err(
                e @ (HandshakeError::MissingUpgrade
                | HandshakeError::MissingConnectionUpgrade
                | HandshakeError::HttpVersion),
            ) => {
                let what = match e {
                    HandshakeError::MissingUpgrade => format!(
                        "no `Upgrade: websocket` header (Upgrade: {})",
                        shown("Upgrade").unwrap_or_else(|| "absent".into())
                    ),
                    HandshakeError::MissingConnectionUpgrade => format!(
                        "no `Connection: Upgrade` header (Connection: {})",
                        shown("Connection").unwrap_or_else(|| "absent".into())
                    ),
                    _ => "the 101 response is not HTTP/1.1".into(),
                };
                Err(Failure::new(
                    Verdict::MissingUpgrade,
                    what.clone(),
                    format!("the server said 101 Switching Protocols, but {what}"),
                    proxy_fix,
                )
                .into())
            }
            Err(HandshakeError::MissingAccept) => Err(Failure::new(
                Verdict::InvalidAccept,
                "no Sec-WebSocket-Accept header",
                format!("the 101 response has no Sec-WebSocket-Accept (expected {expected})"),
                "the server (or a proxy answering for it) is not a real WebSocket server; \
                 check what is listening on this port",
            )
            .into()),
            Err(HandshakeError::InvalidAccept | HandshakeError::DuplicateHeader(_)) => {
                Err(Failure::new(
                    Verdict::InvalidAccept,
                    format!(
                        "Sec-WebSocket-Accept: {}, expected {expected}",
                        shown("Sec-WebSocket-Accept").unwrap_or_default()
                    ),
                    format!(
                        "the Sec-WebSocket-Accept value is not the SHA-1 of the key we sent (with \
                     the RFC 6455 GUID): expected {expected}"
                    ),
                    "a proxy or cache is replaying another connection's response (101 responses \
                 must never be cached), or the server computes the accept key wrongly \
                 (check it with `wsc accept KEY`)",
                )
                .into())
            }
            Err(e @ (HandshakeError::Extension(_) | HandshakeError::UnofferedExtension)) => {
                Err(bad_extension(e, shown("Sec-WebSocket-Extensions")).into())
            }
            Err(HandshakeError::UnofferedProtocol) => {
                let name = shown("Sec-WebSocket-Protocol").unwrap_or_default();
                let offered =
                    if protocols.is_empty() { "none".to_owned() } else { protocols.join(", ") };
                Err(Failure::new(
                    Verdict::SubprotocolMismatch,
                    format!("the server selected the subprotocol {name:?}; offered: {offered}"),
                    format!(
                        "the server selected a subprotocol that was not offered ({name}); \
                         clients must fail such a connection"
                    ),
                    "offer it with --protocol if you speak it, or fix the server to select \
                     only what the client offers",
                )
                .into())
            }
            Err(e) => Err(Failure::new(
                Verdict::MissingUpgrade,
                format!("invalid 101 response: {e}"),
                format!("the 101 response is not a valid WebSocket answer: {e}"),
                proxy_fix,
            )
            .into()),
        }
    }
}

/// The agreement for `--json`: the header value and each direction, or `null`.
fn deflate_json(agreed: Option<&PerMessageDeflate>) -> serde_json::Value {
    let Some(agreed) = agreed else { return serde_json::Value::Null };
    let direction = |d: wscodec::deflate::Direction| json!({ "max_window_bits": d.max_window_bits, "no_context_takeover": d.no_context_takeover });
    json!({
        "extension": agreed.to_string(),
        "client_to_server": direction(agreed.send(Role::Client)),
        "server_to_client": direction(agreed.receive(Role::Client)),
    })
}

/// Turns permessage-deflate on in `ws` with what the checks `agreed`. They accept only
/// what the window can take; should the inflater still refuse the agreement, that is the
/// server's answer (the `header` shows it) failing the checks, not a fault of the probe.
pub(super) fn start_deflate<'b, T, M, R>(
    ws: WebSocket<'b, StdIo<T>, M, R>,
    agreed: Option<PerMessageDeflate>,
    header: impl FnOnce() -> Option<String>,
) -> Result<WebSocket<'b, StdIo<T>, M, R>, Failure>
where
    T: std::io::Read + std::io::Write,
    M: MaskKeys,
    R: RxBuffer,
{
    ws.with_deflate(agreed).map_err(|e| bad_extension(e.into(), header()))
}

/// A `Sec-WebSocket-Extensions` answer the client must fail.
pub(super) fn bad_extension(e: HandshakeError, header: Option<String>) -> Failure {
    let header = header.unwrap_or_default();
    let hint = match e {
        HandshakeError::UnofferedExtension => {
            "the server must not enable extensions the client did not offer"
        }
        _ => {
            "fix the server's permessage-deflate answer (RFC 7692 section 7.1), or probe with \
             --no-deflate to check the rest of the connection"
        }
    };
    Failure::new(
        Verdict::ExtensionMismatch,
        format!("Sec-WebSocket-Extensions: {header}: {e}"),
        format!(
            "the server's extension answer cannot be accepted ({e}); clients must fail such a \
             connection"
        ),
        hint,
    )
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use wscodec::deflate::{InflateState, Inflater};
    use wscodec::io::{Deflate, Options};

    use super::*;

    /// An agreement the checks let through but the inflater refuses (here: the server keeps
    /// a 32 KiB window, the client lent 512 bytes) is the verdict `extension_mismatch`,
    /// with the server's header in the detail.
    #[test]
    fn an_agreement_the_inflater_refuses_is_an_extension_mismatch() {
        let (mut state, mut window, mut output) = (InflateState::new(), [0u8; 512], [0u8; 64]);
        let (mut rx, mut tx) = ([0u8; 512], [0u8; 512]);
        let deflate = Deflate::new(Inflater::new(&mut state, &mut window, &mut output[..]));
        let options = Options::new(&mut rx[..], &mut tx).with_deflate(deflate);
        let mask: fn() -> [u8; 4] = || [1, 2, 3, 4];
        let ws = WebSocket::client(StdIo(Cursor::new(Vec::new())), options, mask);
        let header = "permessage-deflate; client_max_window_bits=9";
        let agreed =
            PerMessageDeflate { client_max_window_bits: Some(9), ..PerMessageDeflate::default() };
        let Err(failure) = start_deflate(ws, Some(agreed), || Some(header.to_owned())) else {
            panic!("a 32 KiB server window through a 512-byte inflater was accepted");
        };
        assert_eq!(failure.verdict, Verdict::ExtensionMismatch);
        assert!(failure.detail.starts_with(&format!("Sec-WebSocket-Extensions: {header}: ")));
        assert!(failure.cause.contains("cannot be accepted"), "{}", failure.cause);
        assert!(failure.hint.contains("--no-deflate"), "{}", failure.hint);

        // The same memory takes a server window that fits it: no verdict.
        let (mut rx, mut tx) = ([0u8; 512], [0u8; 512]);
        let deflate = Deflate::new(Inflater::new(&mut state, &mut window, &mut output[..]));
        let options = Options::new(&mut rx[..], &mut tx).with_deflate(deflate);
        let ws = WebSocket::client(StdIo(Cursor::new(Vec::new())), options, mask);
        let fits = PerMessageDeflate { server_max_window_bits: Some(9), ..agreed };
        let ws = start_deflate(ws, Some(fits), || None).map_err(|f| f.detail).unwrap();
        assert_eq!(ws.deflate(), Some(fits));
    }
}
