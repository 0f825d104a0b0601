//! The `proxy` step of `wsc probe`: connect to the proxy and open a tunnel to the server.

use std::net::{SocketAddr, TcpStream};

use serde_json::json;

use super::verdict::{Failure, Verdict};
use super::{Done, Failed, Probe};
use crate::proxy::{self, Chosen, Class, Target};
use crate::url::WsUrl;

impl Probe<'_> {
    /// Opens the tunnel to `url` through `chosen`; `resolved` are the addresses wsc looked
    /// up itself (socks5://), else the proxy gets the host as written.
    pub(super) fn tunnel(
        &mut self,
        url: &WsUrl,
        chosen: &Chosen,
        resolved: Option<&[SocketAddr]>,
    ) -> Result<Done<TcpStream>, Failed> {
        let targets: Vec<Target<'_>> = match resolved {
            Some(addrs) => addrs.iter().copied().map(Target::Addr).collect(),
            None => vec![Target::Name { host: url.bare_host(), port: url.port }],
        };
        let mut extra = vec![
            ("proxy", json!(chosen.url.to_string())),
            ("kind", json!(chosen.url.kind.scheme())),
            ("chosen_by", json!(chosen.source.name())),
        ];
        match proxy::open_first(chosen, &targets, self.timeout) {
            Ok(tunnel) => {
                extra.push(("target", json!(tunnel.target)));
                extra.push(("proxy_address", json!(tunnel.proxy_addr.to_string())));
                extra.push(("reply", tunnel.reply));
                let detail = format!(
                    "{chosen}: connected to {}, CONNECT {} -> {}",
                    tunnel.proxy_addr, tunnel.target, tunnel.answer
                );
                Ok(Done { value: tunnel.stream, detail, transcript: tunnel.transcript, extra })
            }
            Err(failure) => {
                extra.push(("target", json!(failure.target)));
                let verdict = match failure.class() {
                    Class::Unreachable => Verdict::ProxyUnreachable,
                    Class::AuthRequired => Verdict::ProxyAuthRequired,
                    Class::Refused => Verdict::ProxyRefused,
                    Class::Error => Verdict::ProxyError,
                };
                extra.push(("reply", failure.reply.clone()));
                let detail = format!("{chosen}: {}", failure.detail());
                Err(Failed {
                    failure: Box::new(Failure::new(
                        verdict,
                        detail,
                        failure.cause(),
                        failure.fix(),
                    )),
                    transcript: failure.transcript,
                    extra,
                })
            }
        }
    }
}
