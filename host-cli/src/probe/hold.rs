//! The `hold` step of `wsc probe --hold SECS`: after the handshake, send nothing for SECS
//! seconds and watch whether something on the path drops the idle connection, and when.
//!
//! Pings the server sends are answered (by the adapter, as any client does), and counted:
//! they are traffic that keeps a proxy's idle timer from running out.

use std::io;
use std::time::{Duration, Instant};

use serde_json::json;
use wscodec::io::Error;
use wscodec::{CloseCode, Event};

use super::diagnose::lost;
use super::verdict::{Failure, Verdict};
use super::{bound_next_read, Done, Failed, Probe, Probed};
use crate::timed::is_timeout;

/// Idle timeouts that cut WebSockets, with their defaults in seconds.
const CULPRITS: &[(&str, f64)] = &[
    ("Heroku's router (55 s)", 55.0),
    ("nginx `proxy_read_timeout` (60 s; also ingress-nginx)", 60.0),
    ("an AWS Application Load Balancer's idle timeout (60 s)", 60.0),
    ("Cloudflare (100 s)", 100.0),
    ("an Azure Load Balancer's TCP idle timeout (4 min)", 240.0),
];

/// What the list of culprits says when none has this default.
const OTHERS: &str = "HAProxy `timeout tunnel` (without it `timeout client`/`timeout \
                      server`, 50 s in Debian's stock haproxy.cfg)";

impl Probe<'_> {
    pub(super) fn hold(&mut self, ws: &mut Probed<'_>, hold: Duration) -> Result<Done<()>, Failed> {
        let start = Instant::now();
        let end = start + hold;
        let mut pings = 0u32;
        let mut messages = 0u32;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let mut detail = format!("survived {} s idle", secs(hold));
                match (pings, messages) {
                    (0, 0) => detail.push_str(" (nothing sent either way)"),
                    (p, m) => detail.push_str(&format!(
                        " (the server sent {p} ping(s), answered, and {m} message(s): traffic \
                         that keeps idle timers from running out)"
                    )),
                }
                let mut done = Done::new((), detail);
                done.extra.push(("held_s", json!(hold.as_secs_f64())));
                done.extra.push(("server_pings", json!(pings)));
                return Ok(done);
            }
            bound_next_read(ws, left, "holding the connection idle")?;
            let dropped = match ws.read() {
                Ok(Event::Ping(_)) => {
                    pings += 1;
                    continue;
                }
                Ok(Event::Close { code, reason }) => {
                    Ended::Closed(code.unwrap_or(CloseCode::NO_STATUS), reason.to_owned())
                }
                Ok(Event::Pong(_)) => continue,
                Ok(_) => {
                    messages += 1;
                    continue;
                }
                Err(Error::Read(e)) if is_timeout(&e) => continue,
                Err(Error::UnexpectedEof) => Ended::Eof,
                Err(Error::Read(e) | Error::Write(e))
                    if e.kind() == io::ErrorKind::ConnectionReset =>
                {
                    Ended::Reset
                }
                Err(e) => return Err(lost(&e, "holding the connection idle")),
            };
            let by = self.answered_by.as_deref();
            return Err(idle_timeout(start.elapsed(), &dropped, pings, by));
        }
    }
}

/// How the idle connection ended.
enum Ended {
    /// TCP ended without a close frame.
    Eof,
    /// TCP was reset.
    Reset,
    /// The server sent a close frame.
    Closed(CloseCode, String),
}

/// `2.0`, `59.8`, `120`.
fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 100.0 {
        format!("{s:.0}")
    } else {
        format!("{s:.1}")
    }
}

/// The verdict for a connection that ended after `after` of silence.
/// `answered_by` is the 101's `Via` or `Server` header, which may name the proxy.
fn idle_timeout(after: Duration, how: &Ended, pings: u32, answered_by: Option<&str>) -> Failed {
    let t = secs(after);
    let measured = after.as_secs_f64();
    let (detail, who) = match how {
        Ended::Eof => (
            format!("dropped after {t} s of silence: TCP ended without a close frame (1006)"),
            "something on the path (a reverse proxy, a load balancer, a NAT or a firewall) \
             closed the idle connection without a close frame, which a browser reports as 1006"
                .to_owned(),
        ),
        Ended::Reset => (
            format!("reset after {t} s of silence (1006)"),
            "something on the path reset the idle connection, which a browser reports as 1006"
                .to_owned(),
        ),
        Ended::Closed(code, reason) => (
            format!("the server closed with {code} after {t} s of silence"),
            format!(
                "the server (or a proxy speaking for it) closed the idle connection with \
                 {code}{}",
                if reason.is_empty() { String::new() } else { format!(", reason {reason:?}") }
            ),
        ),
    };
    let matching: Vec<&str> = CULPRITS
        .iter()
        .filter(|(_, default)| (measured - default).abs() <= (default * 0.05).max(1.5))
        .map(|(name, _)| *name)
        .collect();
    let culprits = if matching.is_empty() {
        let all: Vec<&str> = CULPRITS.iter().map(|(name, _)| *name).collect();
        format!(
            "{t} s is no common default, so something is set to about {t} s; the usual \
             culprits and their defaults: {}, {OTHERS}",
            all.join(", ")
        )
    } else {
        format!("{t} s matches the default of {}", matching.join(" and of "))
    };
    let suspect = match answered_by {
        Some(header) if header.to_ascii_lowercase().contains("nginx") => format!(
            "; the 101 came through nginx ({header}): its `proxy_read_timeout` (60 s unless \
             set) is the first suspect"
        ),
        Some(header) => format!("; the 101 names what answered it: {header}"),
        None => String::new(),
    };
    let pinged = if pings > 0 {
        format!("; the server's {pings} ping(s) during the hold did not keep it open")
    } else {
        String::new()
    };
    let every = secs(after / 2);
    Failure::new(
        Verdict::IdleTimeout,
        detail,
        format!("{who}: {culprits}{suspect}{pinged}"),
        format!(
            "send a ping (or any message) at least every {every} s, well within the {t} s \
             cut-off (from the client, or from the server), or raise the timeout: nginx \
             `proxy_read_timeout 3600s; proxy_send_timeout 3600s;`, HAProxy `timeout tunnel \
             1h`, an ALB's `idle_timeout.timeout_seconds`"
        ),
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_at_a_known_default_names_it() {
        let failed = idle_timeout(Duration::from_millis(59_800), &Ended::Eof, 0, None);
        let f = failed.failure;
        assert_eq!(f.verdict, Verdict::IdleTimeout);
        assert!(f.cause.contains("59.8 s matches the default of nginx"), "{}", f.cause);
        assert!(f.cause.contains("and of an AWS Application Load Balancer"), "{}", f.cause);
        assert!(f.hint.contains("at least every 29.9 s"), "{}", f.hint);
    }

    #[test]
    fn an_unusual_cut_lists_the_usual_culprits() {
        let f = idle_timeout(Duration::from_millis(2_050), &Ended::Reset, 3, None).failure;
        assert!(f.detail.starts_with("reset after 2.0 s"), "{}", f.detail);
        assert!(f.cause.contains("something is set to about 2.0 s"), "{}", f.cause);
        assert!(f.cause.contains("Cloudflare (100 s)") && f.cause.contains("HAProxy"));
        assert!(f.cause.ends_with("the server's 3 ping(s) during the hold did not keep it open"));
    }

    #[test]
    fn a_close_frame_names_the_code() {
        let how = Ended::Closed(CloseCode::GOING_AWAY, "idle timeout".into());
        let f = idle_timeout(Duration::from_secs(120), &how, 0, Some("Server: x")).failure;
        assert!(f.detail.starts_with("the server closed with 1001"), "{}", f.detail);
        assert!(f.cause.contains("reason \"idle timeout\""), "{}", f.cause);
        assert!(f.cause.ends_with("the 101 names what answered it: Server: x"), "{}", f.cause);
        let f = idle_timeout(Duration::from_secs(2), &Ended::Eof, 0, Some("Server: nginx/1.22.1"))
            .failure;
        assert!(f.cause.contains("through nginx (Server: nginx/1.22.1)"), "{}", f.cause);
    }
}
