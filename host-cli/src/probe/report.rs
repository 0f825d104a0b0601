//! What a probe found, printed for people (with colour on a terminal) or as JSON.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::verdict::{Failure, Verdict};

/// One step of the probe.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) name: &'static str,
    pub(crate) ok: bool,
    pub(crate) ms: f64,
    /// One line: what the step did or saw.
    pub(crate) detail: String,
    /// Lines shown under the step (the request sent, the response received).
    pub(crate) transcript: Vec<String>,
    /// Extra JSON fields for this step.
    pub(crate) extra: Vec<(&'static str, Value)>,
}

/// The whole probe.
#[derive(Debug, Clone, Default)]
pub(crate) struct Report {
    pub(crate) url: String,
    pub(crate) steps: Vec<Step>,
    pub(crate) failure: Option<Failure>,
    /// Things worth knowing even when every step passed (mixed content, for instance).
    pub(crate) notes: Vec<String>,
}

impl Report {
    pub(crate) fn verdict(&self) -> Verdict {
        self.failure.as_ref().map_or(Verdict::Ok, |f| f.verdict)
    }

    fn failed_step(&self) -> Option<&'static str> {
        self.steps.iter().find(|s| !s.ok).map(|s| s.name)
    }

    /// The `--json` object.
    pub(crate) fn to_json(&self) -> Value {
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                let mut step = json!({
                    "name": s.name,
                    "ok": s.ok,
                    "ms": (s.ms * 10.0).round() / 10.0,
                    "detail": s.detail,
                });
                for (key, value) in &s.extra {
                    step[*key] = value.clone();
                }
                step
            })
            .collect();
        let (cause, hint) = match &self.failure {
            Some(f) => (Value::from(f.cause.as_str()), Value::from(f.hint.as_str())),
            None => (Value::Null, Value::Null),
        };
        json!({
            "url": self.url,
            "verdict": self.verdict().code(),
            "failed_step": self.failed_step(),
            "steps": steps,
            "cause": cause,
            "hint": hint,
            "notes": self.notes,
        })
    }

    /// The human report; `colour` adds ANSI colours.
    pub(crate) fn to_text(&self, colour: bool) -> String {
        let paint = |code: &str, text: &str| {
            if colour {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        // Written to a String, which cannot fail: each `let _ =` below drops an `Ok(())`.
        let mut out = String::new();
        let _ = writeln!(out, "{} {}\n", paint("1", "wsc probe"), self.url);
        for step in &self.steps {
            let mark = if step.ok { paint("32", "ok  ") } else { paint("1;31", "FAIL") };
            let time = if step.ms >= 10_000.0 {
                format!("{:.1} s", step.ms / 1000.0)
            } else if step.ms >= 1000.0 {
                format!("{:.0} ms", step.ms)
            } else {
                format!("{:.1} ms", step.ms)
            };
            let _ = writeln!(out, "  {mark}  {:<9} {time:>8}  {}", step.name, step.detail);
            for line in &step.transcript {
                let _ = writeln!(out, "{:>28}{}", "", paint("2", line));
            }
        }
        out.push('\n');
        match &self.failure {
            None => {
                let _ = writeln!(out, "{} {}", paint("1;32", "verdict:"), paint("1;32", "ok"));
                let _ = writeln!(out, "         every step passed: this endpoint speaks WebSocket");
            }
            Some(f) => {
                let step = self.failed_step().unwrap_or("-");
                let _ = writeln!(
                    out,
                    "{} {} (step {step})",
                    paint("1;31", "verdict:"),
                    paint("1;31", f.verdict.code())
                );
                let _ = writeln!(out, "{}   {}", paint("1", "cause:"), f.cause);
                let _ = writeln!(out, "{}     {}", paint("1", "fix:"), f.hint);
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "{}    {note}", paint("33", "note:"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            url: "ws://h/".into(),
            steps: vec![
                Step {
                    name: "url",
                    ok: true,
                    ms: 0.04,
                    detail: "fine".into(),
                    transcript: vec![],
                    extra: vec![],
                },
                Step {
                    name: "tcp",
                    ok: false,
                    ms: 1.26,
                    detail: "refused".into(),
                    transcript: vec!["> GET / HTTP/1.1".into()],
                    extra: vec![("addresses", json!(["127.0.0.1:1"]))],
                },
            ],
            failure: Some(Failure::new(Verdict::ConnectionRefused, "refused", "why", "how")),
            notes: vec!["a note".into()],
        }
    }

    #[test]
    fn json_has_the_documented_shape() {
        let v = report().to_json();
        assert_eq!(v["verdict"], "connection_refused");
        assert_eq!(v["failed_step"], "tcp");
        assert_eq!(v["steps"][1]["ms"], 1.3);
        assert_eq!(v["steps"][1]["ok"], false);
        assert_eq!(v["steps"][1]["addresses"][0], "127.0.0.1:1");
        assert_eq!((v["cause"].as_str(), v["hint"].as_str()), (Some("why"), Some("how")));
    }

    #[test]
    fn text_is_plain_without_colour() {
        let text = report().to_text(false);
        assert!(!text.contains('\x1b'), "{text}");
        assert!(text.contains("  FAIL  tcp         1.3 ms  refused\n"), "{text}");
        assert!(text.contains("verdict: connection_refused (step tcp)\n"), "{text}");
        assert!(text.contains("fix:     how\n"), "{text}");
        assert!(report().to_text(true).contains("\x1b[1;31mFAIL\x1b[0m"));
    }
}
