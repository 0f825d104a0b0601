//! Step 6 of `wsc probe`: the checks a 101 answer must pass (RFC 6455 section 4.1).

use wscodec::handshake::client::{ClientRequest, Response};
use wscodec::handshake::HandshakeError;

use super::verdict::{Failure, Verdict};
use super::{Done, Failed, Probe};
use crate::dial::WsUrl;

impl Probe<'_> {
    /// The checks of a 101 `response` to the request sent with `nonce`.
    pub(super) fn check(
        &self,
        url: &WsUrl,
        response: &Response<'_, '_>,
        nonce: [u8; 16],
    ) -> Result<Done<()>, Failed> {
        let host = url.host_header();
        let protocols = self.args.request.protocols();
        let request =
            ClientRequest { protocols: &protocols, ..ClientRequest::new(&host, "/", nonce) };
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
                Ok(Done::new(
                    (),
                    format!(
                        "Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Accept matches, \
                         subprotocol: {protocol}"
                    ),
                ))
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
            Err(e @ (HandshakeError::UnofferedProtocol | HandshakeError::UnofferedExtension)) => {
                let (what, name) = if e == HandshakeError::UnofferedProtocol {
                    ("subprotocol", shown("Sec-WebSocket-Protocol").unwrap_or_default())
                } else {
                    ("extension", shown("Sec-WebSocket-Extensions").unwrap_or_default())
                };
                let offered = if protocols.is_empty() || what == "extension" {
                    "none".to_owned()
                } else {
                    protocols.join(", ")
                };
                Err(Failure::new(
                    Verdict::SubprotocolMismatch,
                    format!("the server selected the {what} {name:?}; offered: {offered}"),
                    format!(
                        "the server selected a {what} that was not offered ({name}); clients \
                         must fail such a connection"
                    ),
                    if what == "subprotocol" {
                        "offer it with --protocol if you speak it, or fix the server to select \
                         only what the client offers"
                    } else {
                        "the server must not enable extensions the client did not offer"
                    },
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
