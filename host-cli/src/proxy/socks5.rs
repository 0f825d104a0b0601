//! A tunnel through a SOCKS5 proxy (RFC 1928), with user name and password
//! authentication (RFC 1929) when the proxy URL has a user name.
//!
//! Every reply is read field by field with a fixed or checked length, before the deadline.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{json, Value};

use super::failure::{socks_reply_text, FailureKind, Stage};
use super::{Kind, ProxyUrl, Target, Wire, WireError};

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0x00;
const USER_PASSWORD: u8 = 0x02;
const NO_ACCEPTABLE: u8 = 0xff;
const CONNECT: u8 = 0x01;
const IPV4: u8 = 0x01;
const DOMAIN: u8 = 0x03;
const IPV6: u8 = 0x04;

type Fail = Box<(FailureKind, Value)>;

fn at(stage: Stage, timeout: Duration) -> impl Fn(WireError) -> Fail {
    move |e| {
        let kind = match e {
            WireError::Timeout { got } => FailureKind::Timeout { stage, got, timeout },
            WireError::Closed { got } => FailureKind::Closed { stage, got },
            WireError::Io(e) => FailureKind::Io(e),
        };
        Box::new((kind, Value::Null))
    }
}

fn invalid(what: impl Into<String>) -> Fail {
    Box::new((FailureKind::Invalid(what.into()), Value::Null))
}

/// The address part of a request: type, address, port.
fn address(proxy: &ProxyUrl, target: &Target<'_>) -> Result<(Vec<u8>, String), Fail> {
    let (ip, name, port) = match *target {
        Target::Addr(addr) => (Some(addr.ip()), "", addr.port()),
        Target::Name { host, port } => (host.parse::<IpAddr>().ok(), host, port),
    };
    let (mut bytes, shown) = match ip {
        Some(IpAddr::V4(v4)) => ([&[IPV4][..], &v4.octets()].concat(), "an IPv4 address"),
        Some(IpAddr::V6(v6)) => ([&[IPV6][..], &v6.octets()].concat(), "an IPv6 address"),
        None => {
            let len = u8::try_from(name.len())
                .map_err(|_| invalid(format!("the host name {name:?} is over 255 bytes")))?;
            let shown = if proxy.kind == Kind::Socks5h {
                "a host name, resolved by the proxy"
            } else {
                "a host name"
            };
            ([&[DOMAIN, len][..], name.as_bytes()].concat(), shown)
        }
    };
    bytes.extend_from_slice(&port.to_be_bytes());
    Ok((bytes, shown.to_owned()))
}

/// Greets, authenticates if asked, and requests the tunnel; `Ok` with a one-line answer
/// and the reply as JSON.
pub(super) fn handshake(
    wire: &mut Wire<'_>,
    proxy: &ProxyUrl,
    target: &Target<'_>,
    transcript: &mut Vec<String>,
) -> Result<(String, Value), Fail> {
    let credentials = match &proxy.user {
        Some(user) => {
            let password = proxy.password.as_deref().unwrap_or_default();
            let user_len = u8::try_from(user.len()).ok().filter(|&n| n > 0);
            let password_len = u8::try_from(password.len()).ok();
            let (Some(user_len), Some(password_len)) = (user_len, password_len) else {
                return Err(invalid(
                    "a SOCKS5 user name must be 1 to 255 bytes, its password at most 255",
                ));
            };
            Some((user.as_str(), user_len, password, password_len))
        }
        None => None,
    };
    let (request_address, shown) = address(proxy, target)?;

    let greeting: &[u8] = if credentials.is_some() {
        &[VERSION, 2, NO_AUTH, USER_PASSWORD]
    } else {
        &[VERSION, 1, NO_AUTH]
    };
    transcript.push(format!(
        "> SOCKS5 greeting, methods: no authentication{}",
        if credentials.is_some() { ", user name/password" } else { "" }
    ));
    wire.write_all(greeting).map_err(at(Stage::Greeting, wire.timeout))?;
    let mut choice = [0u8; 2];
    wire.read_exact(&mut choice).map_err(at(Stage::Greeting, wire.timeout))?;
    if choice[0] != VERSION {
        let mut first = choice.to_vec();
        let mut more = [0u8; 22];
        let n = wire.glimpse(&mut more);
        first.extend_from_slice(&more[..n]);
        return Err(Box::new((FailureKind::NotSocks(first), Value::Null)));
    }
    match (choice[1], credentials) {
        (NO_AUTH, _) => transcript.push("< method 0x00 (no authentication)".to_owned()),
        (USER_PASSWORD, Some((user, user_len, password, password_len))) => {
            transcript.push("< method 0x02 (user name/password)".to_owned());
            let mut auth = vec![1, user_len];
            auth.extend_from_slice(user.as_bytes());
            auth.push(password_len);
            auth.extend_from_slice(password.as_bytes());
            transcript.push(format!("> user {user}, password ***"));
            wire.write_all(&auth).map_err(at(Stage::Auth, wire.timeout))?;
            let mut status = [0u8; 2];
            wire.read_exact(&mut status).map_err(at(Stage::Auth, wire.timeout))?;
            if status[1] != 0 {
                transcript.push(format!("< authentication refused (status {:#04x})", status[1]));
                let reply = json!({ "auth_status": status[1] });
                return Err(Box::new((FailureKind::SocksAuthRejected(status[1]), reply)));
            }
            transcript.push("< authenticated".to_owned());
        }
        (NO_ACCEPTABLE, _) => {
            transcript.push("< method 0xff (no acceptable method)".to_owned());
            let offered_credentials = credentials.is_some();
            return Err(Box::new((
                FailureKind::SocksNoMethod { offered_credentials },
                Value::Null,
            )));
        }
        (method, _) => {
            return Err(Box::new((FailureKind::SocksUnexpectedMethod(method), Value::Null)))
        }
    }

    let mut request = vec![VERSION, CONNECT, 0];
    request.extend_from_slice(&request_address);
    transcript.push(format!("> CONNECT {} ({shown})", target.authority()));
    wire.write_all(&request).map_err(at(Stage::Connect, wire.timeout))?;
    let mut reply = [0u8; 4];
    wire.read_exact(&mut reply).map_err(at(Stage::Connect, wire.timeout))?;
    let [version, code, _, address_type] = reply;
    if version != VERSION {
        let what = format!("the reply starts with version {version}, not 5");
        return Err(Box::new((FailureKind::SocksBadReply(what), Value::Null)));
    }
    let json = json!({ "socks_reply": code, "meaning": socks_reply_text(code) });
    let answer = format!("SOCKS5 reply {code:#04x} ({})", socks_reply_text(code));
    transcript.push(format!("< {answer}"));
    if code != 0 {
        return Err(Box::new((FailureKind::SocksReply(code), json)));
    }
    // The address the proxy bound for the tunnel: read it all, so that the tunnel starts
    // right after it.
    let length = match address_type {
        IPV4 => 4,
        IPV6 => 16,
        DOMAIN => {
            let mut len = [0u8; 1];
            wire.read_exact(&mut len).map_err(at(Stage::Connect, wire.timeout))?;
            usize::from(len[0])
        }
        other => {
            let what = format!("unknown address type {other:#04x} in the reply");
            return Err(Box::new((FailureKind::SocksBadReply(what), json)));
        }
    };
    let mut bound = vec![0u8; length + 2];
    wire.read_exact(&mut bound).map_err(at(Stage::Connect, wire.timeout))?;
    Ok((answer, json))
}
