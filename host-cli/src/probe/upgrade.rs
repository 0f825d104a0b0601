//! Step 5 of `wsc probe`: the HTTP upgrade. Sends the request, reads the response head
//! and parses it once; what the report and the checks step need of it is taken out then.

use std::io::{self, Read, Write};
use std::time::Instant;

use serde_json::json;
use wscodec::handshake::client::{self, ClientRequest};
use wscodec::handshake::{Header, MAX_HEADERS};
use wscodec::Status;

use super::diagnose::{body_line, closed_early, no_response, not_http};
use super::verdict::{Answer, Failure, Verdict};
use super::{read_body, Done, Failed, Probe, MAX_BODY, MAX_HEAD};
use crate::client_cert;
use crate::timed::short_io;
use crate::tls::ClientStream;
use crate::url::WsUrl;

/// The checks step's verdict on a 101 response.
pub(super) type Checked = Result<Done<Option<wscodec::deflate::PerMessageDeflate>>, Failed>;

/// A connection the server upgraded.
pub(super) struct Upgraded {
    pub(super) stream: ClientStream,
    /// What was read: the response head, then `head.len() - consumed` bytes of WebSocket
    /// frames.
    pub(super) head: Vec<u8>,
    pub(super) consumed: usize,
    pub(super) checks: Checked,
}

/// What the probe keeps of the server's response head once it is parsed.
struct Reply {
    /// Status, reason and headers, for `--json`.
    json: serde_json::Value,
    /// The upgrade step's detail line and the checks step's verdict (a 101), or why the
    /// upgrade failed (any other status).
    upgrade: Result<(String, Checked), Failure>,
    /// `Via` or `Server`: who answered (a proxy names itself), for the idle cut-off's
    /// explanation.
    answered_by: Option<String>,
}

impl Probe<'_> {
    pub(super) fn upgrade(
        &mut self,
        url: &WsUrl,
        mut stream: ClientStream,
        nonce: [u8; 16],
    ) -> Result<Done<Upgraded>, Failed> {
        let host = url.host_header();
        let protocols = self.args.request.protocols();
        let headers: Vec<(&str, &str)> =
            self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let offer = self.offer().map(|(offer, _)| offer.header_value());
        let request = ClientRequest {
            origin: self.args.request.origin.as_deref(),
            protocols: &protocols,
            headers: &headers,
            extensions: offer.as_ref().map(|v| v.as_str()),
            ..ClientRequest::new(&host, &url.target, nonce)
        };
        let mut out = vec![0u8; 16 * 1024];
        let n = request.encode(&mut out).map_err(|e| {
            Failure::new(
                Verdict::InvalidUrl,
                format!("cannot build the request: {e}"),
                format!("the request cannot be written: {e}"),
                "check the URL path, --origin, --protocol and -H values for control characters",
            )
        })?;
        let mut transcript: Vec<String> = String::from_utf8_lossy(&out[..n])
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| format!("> {l}"))
            .collect();
        let request_text = String::from_utf8_lossy(&out[..n]).into_owned();
        let fail = |failure: Failure, transcript: &[String]| Failed {
            failure: Box::new(failure),
            transcript: transcript.to_vec(),
            extra: vec![("request", json!(request_text))],
        };
        // `run` holds --timeout above zero, so this fails only on a dead socket, which the
        // write below then reports.
        let _ = stream.set_write_timeout(Some(self.timeout));
        if let Err(e) = stream.write_all(&out[..n]).and_then(|()| stream.flush()) {
            let failure = Failure::new(
                Verdict::ClosedBeforeResponse,
                format!("sending the request failed: {}", short_io(&e)),
                "the server closed the connection before the request was sent",
                "look at the server's logs; a server that expects TLS drops plain requests: \
                 try wss://",
            );
            return Err(fail(failure, &transcript));
        }
        let deadline = Instant::now() + self.timeout;
        let mut head = Vec::new();
        let mut chunk = [0u8; 4096];
        // The response is parsed once, as it completes; what the report needs of it is
        // taken out while the parse borrows `head`.
        let (consumed, reply) = loop {
            let mut parsed = [Header::EMPTY; MAX_HEADERS];
            match client::parse_response(&head, &mut parsed) {
                Ok(Status::Complete { value, consumed }) => {
                    // A refusal's body explains it: read it, up to its Content-Length.
                    let mut rest = head[consumed..].to_vec();
                    if value.status != 101 {
                        let length = value
                            .header("Content-Length")
                            .and_then(|v| std::str::from_utf8(v).ok())
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        read_body(&mut stream, &mut rest, length.min(MAX_BODY), deadline);
                    }
                    let reply = self.reply(url, &value, &rest, nonce, &mut transcript);
                    break (consumed, reply);
                }
                Ok(Status::Partial { .. }) if head.len() >= MAX_HEAD => {
                    let failure = Failure::new(
                        Verdict::NotWebsocket,
                        format!("no end of the response head in {MAX_HEAD} bytes"),
                        "the server sent a huge or endless header block",
                        "check that this port serves HTTP/WebSocket",
                    );
                    return Err(fail(failure, &transcript));
                }
                Ok(Status::Partial { .. }) => {}
                Err(e) => {
                    let failure = not_http(&head, e, url);
                    return Err(fail(failure, &transcript));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(fail(no_response(&head, self.timeout), &transcript));
            }
            // `left` is not zero (checked above): this fails only on a dead socket, which the
            // read below then reports.
            let _ = stream.set_read_timeout(Some(left));
            let read = stream.read(&mut chunk);
            if url.tls && head.is_empty() {
                // The server's verdict on a client certificate comes now under TLS 1.3.
                let late = match &read {
                    Ok(0) => client_cert::late_failure(None, &self.client_cert),
                    Err(e) => client_cert::late_failure(Some(e), &self.client_cert),
                    Ok(_) => None,
                };
                if let Some(late) = late {
                    return Err(fail(super::transport::tls_failure(url, &late), &transcript));
                }
            }
            match read {
                Ok(0) => return Err(fail(closed_early(&head, url), &transcript)),
                Ok(n) => head.extend_from_slice(&chunk[..n]),
                Err(e) if crate::timed::is_timeout(&e) => {
                    return Err(fail(no_response(&head, self.timeout), &transcript));
                }
                Err(e) if head.is_empty() || e.kind() == io::ErrorKind::ConnectionReset => {
                    return Err(fail(closed_early(&head, url), &transcript));
                }
                Err(e) => {
                    let failure = Failure::new(
                        Verdict::ClosedBeforeResponse,
                        format!("reading the response failed: {e}"),
                        format!("the connection failed while the server was answering: {e}"),
                        "look at the server's logs",
                    );
                    return Err(fail(failure, &transcript));
                }
            }
        };
        let extra = vec![("request", json!(request_text)), ("response", reply.json)];
        match reply.upgrade {
            Ok((detail, checks)) => {
                self.answered_by = reply.answered_by;
                let value = Upgraded { stream, head, consumed, checks };
                Ok(Done { value, detail, transcript, extra })
            }
            Err(failure) => Err(Failed { failure: Box::new(failure), transcript, extra }),
        }
    }

    /// Takes what the report needs from the server's response head: the transcript
    /// lines, the JSON, and the verdicts of the upgrade step and, for a 101, of the
    /// checks step. `rest` is what followed the head (a refusal's body).
    fn reply(
        &self,
        url: &WsUrl,
        response: &client::Response<'_, '_>,
        rest: &[u8],
        nonce: [u8; 16],
        transcript: &mut Vec<String>,
    ) -> Reply {
        let status_line = format!("{} {}", response.status, response.reason);
        transcript.push(format!("< HTTP/1.{} {status_line}", response.version));
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned()))
            .collect();
        transcript.extend(headers.iter().map(|(name, value)| format!("< {name}: {value}")));
        let json = json!({
            "status": response.status,
            "reason": response.reason,
            "headers": headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
        });
        let answered_by = ["Via", "Server"]
            .iter()
            .find_map(|name| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)))
            .map(|(n, v)| format!("{n}: {v}"));
        if response.status != 101 {
            let text = String::from_utf8_lossy(rest);
            let body = body_line(rest);
            let answer = Answer {
                status: response.status,
                reason: response.reason,
                headers: &headers,
                body_line: body.as_deref(),
                body: &text,
                path: &url.target,
                origin: self.args.request.origin.as_deref(),
                tls: url.tls,
            };
            if let Some(line) = &body {
                transcript.push(format!("< {line}"));
            }
            return Reply { json, upgrade: Err(answer.explain()), answered_by };
        }
        let checks = self.check(url, response, nonce);
        Reply { json, upgrade: Ok((format!("HTTP {status_line}"), checks)), answered_by }
    }
}
