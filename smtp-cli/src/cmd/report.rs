//! Printing outcomes the moment they are known (text, or one JSON line
//! each, flushed), and writing each to the activity log.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use smtp_core::bulk::{Outcome, Summary};
use smtp_core::{Error, RecipientOutcome};
use smtp_queue::{ActivityLog, Attempt};

use crate::exit::{self, Exit};
use crate::setup;

/// One outcome as printed with `--json`. Borrowed from the outcome and
/// written straight into the output buffer: a bulk run prints one per
/// message.
#[derive(Serialize)]
struct Line<'a> {
    message: &'a str,
    /// Position in the input (outcomes come as messages complete).
    index: u64,
    status: &'static str,
    attempts: u32,
    accepted: Accepted<'a>,
    rejected: Rejected<'a>,
    reply: Option<Shown<&'a smtp_core::Reply>>,
    error: Option<String>,
    hint: Option<String>,
    /// The hint's stable code (docs/troubleshooting.md has an entry per code).
    hint_code: Option<&'static str>,
    /// For a transient failure: when another attempt makes sense.
    retry_at: Option<String>,
}

/// A value serialized as the string its `Display` writes.
struct Shown<T>(T);

impl<T: std::fmt::Display> Serialize for Shown<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// The accepted recipients, as `["a@example.com", ...]`.
struct Accepted<'a>(&'a [RecipientOutcome]);

impl Serialize for Accepted<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|r| r.recipient.as_str()))
    }
}

/// The refused recipients, as `[{"recipient": ..., "reply": ...}, ...]`.
struct Rejected<'a>(&'a [RecipientOutcome]);

impl Serialize for Rejected<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct One<'a> {
            recipient: &'a str,
            reply: Shown<&'a smtp_core::Reply>,
        }
        s.collect_seq(self.0.iter().map(|r| One {
            recipient: r.recipient.as_str(),
            reply: Shown(&r.reply),
        }))
    }
}

pub fn status(result: &Result<smtp_core::Delivery, Error>) -> &'static str {
    match result {
        Ok(_) => "sent",
        Err(e) if e.is_unknown_outcome() => "unknown",
        Err(e) if e.is_transient() => "failed-transient",
        Err(_) => "failed-permanent",
    }
}

fn exit_code(result: &Result<smtp_core::Delivery, Error>) -> u8 {
    match result {
        // Sent, but a refused recipient still fails the run: a script must
        // not mistake a typo'd address for success.
        Ok(d) if d.rejected.iter().any(|r| r.reply.is_transient()) => exit::TEMPFAIL,
        Ok(d) if d.rejected.is_empty() => exit::OK,
        Ok(_) => exit::PERMANENT,
        Err(e) => exit::code_for(e),
    }
}

fn line(o: &Outcome) -> Line<'_> {
    let (accepted, rejected) = match &o.result {
        Ok(d) => (d.accepted.as_slice(), d.rejected.as_slice()),
        Err(Error::NoRecipientsAccepted { rejected }) => (&[][..], rejected.as_slice()),
        Err(_) => (&[][..], &[][..]),
    };
    let hint = o.result.as_ref().err().and_then(setup::coded_hint);
    Line {
        message: &o.key,
        index: o.index,
        status: status(&o.result),
        attempts: o.attempts,
        accepted: Accepted(accepted),
        rejected: Rejected(rejected),
        reply: match &o.result {
            Ok(d) => Some(Shown(&d.reply)),
            Err(e) => e.reply().map(Shown),
        },
        error: o.result.as_ref().err().map(setup::describe),
        hint: hint.map(|h| crate::wording::hint_text(&h)),
        hint_code: hint.map(|h| h.code),
        retry_at: o
            .retry_at
            .map(|t| humantime::format_rfc3339_seconds(t).to_string()),
    }
}

/// How outcomes are shown.
pub struct Style {
    pub json: bool,
    /// Messages go to the outbox (no server configured).
    pub outbox: bool,
    /// Say nothing about messages that were sent (sendmail).
    pub quiet_success: bool,
    /// Where the activity log goes, and the server it names.
    pub activity: Option<(ActivityLog, String)>,
}

/// Prints outcomes as they come and keeps what the exit code needs.
pub struct Printer {
    json: bool,
    outbox: bool,
    quiet_success: bool,
    activity: Option<(ActivityLog, String)>,
    progress: Option<indicatif::ProgressBar>,
    seen: u64,
    /// Outcomes by status: sent, failed-permanent, failed-transient, unknown.
    counts: [u64; 4],
    code: u8,
    /// The line being printed, kept for the next one.
    buf: Vec<u8>,
}

impl Printer {
    pub fn new(style: Style) -> Printer {
        let progress = (!style.json && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::no_length();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {pos} done {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar
        });
        Printer {
            json: style.json,
            outbox: style.outbox,
            quiet_success: style.quiet_success,
            activity: style.activity,
            progress,
            seen: 0,
            counts: [0; 4],
            code: exit::OK,
            buf: Vec::new(),
        }
    }

    pub fn print(&mut self, o: &Outcome) {
        self.log(o);
        self.seen += 1;
        self.raise(exit_code(&o.result));
        let l = line(o);
        let slot = ["sent", "failed-permanent", "failed-transient", "unknown"]
            .iter()
            .position(|s| *s == l.status)
            .unwrap_or(3);
        self.counts[slot] += 1;
        let mut text = std::mem::take(&mut self.buf);
        text.clear();
        if self.json {
            // Only an I/O error could fail it, and a Vec never gives one.
            let _ = serde_json::to_writer(&mut text, &l);
            text.push(b'\n');
        } else {
            self.text(&l, &mut text);
        }
        self.out_bytes(&text);
        self.buf = text;
        if let Some(bar) = &self.progress
            && self.seen > 1
        {
            bar.inc(1);
            bar.set_message(l.status);
        }
    }

    fn text(&self, l: &Line<'_>, out: &mut Vec<u8>) {
        use std::io::Write as _;
        match l.status {
            "sent" if self.outbox && self.quiet_success => {}
            "sent" if self.outbox => {
                let reply = l.reply.as_ref().map(|r| r.0.to_string());
                let path = reply
                    .as_deref()
                    .and_then(|r| r.split("written to ").nth(1))
                    .unwrap_or("");
                let accepted: Vec<&str> =
                    l.accepted.0.iter().map(|r| r.recipient.as_str()).collect();
                let _ = writeln!(out, "saved to outbox: {path} (for {})", accepted.join(", "));
            }
            "sent" => {
                if !self.quiet_success {
                    for a in l.accepted.0 {
                        let _ = writeln!(out, "sent: {}", a.recipient);
                    }
                }
                for r in l.rejected.0 {
                    let _ = writeln!(out, "rejected: {} ({})", r.recipient, r.reply);
                }
                if let (Some(reply), false) = (&l.reply, self.quiet_success) {
                    let _ = writeln!(out, "  server: {}", reply.0);
                }
            }
            status => {
                for r in l.rejected.0 {
                    let _ = writeln!(out, "rejected: {} ({})", r.recipient, r.reply);
                }
                // Failures go to stderr, as they happen.
                eprintln!(
                    "{status}: {}: {}",
                    l.message,
                    l.error.as_deref().unwrap_or("")
                );
                if let (Some(h), Some(code)) = (&l.hint, l.hint_code) {
                    eprintln!("hint: {h} [{code}]");
                }
                if let Some(at) = &l.retry_at {
                    eprintln!("  retry after {at}");
                }
            }
        }
    }

    /// One activity-log line for the outcome; a log that cannot be
    /// written is a warning, never a reason to stop sending.
    fn log(&self, o: &Outcome) {
        let Some((log, server)) = &self.activity else {
            return;
        };
        let (from, to) = match &o.envelope {
            Some(e) => (
                e.from().map(|a| a.as_str()).unwrap_or(""),
                e.to().iter().map(|a| a.as_str()).collect(),
            ),
            None => ("", vec![]),
        };
        let outcome = match (self.outbox, status(&o.result)) {
            (true, "sent") => "queued",
            (_, "failed-transient") => "deferred",
            (_, "failed-permanent") => "failed",
            (_, s) => s,
        };
        let error = o.result.as_ref().err().map(setup::describe);
        let (code, text) = match &o.result {
            Ok(d) => (Some(d.reply.code), d.reply.text()),
            Err(e) => (e.reply().map(|r| r.code), error.unwrap_or_default()),
        };
        let line = Attempt::new(&o.key, from, to, server, outcome)
            .attempts(o.attempts)
            .reply(code, &text);
        if let Err(e) = log.record(&line) {
            eprintln!("warning: {e}");
        }
    }

    /// Writes `text` to stdout now (a closed stdout ends the process).
    pub fn out(&self, text: &str) {
        self.out_bytes(text.as_bytes());
    }

    fn out_bytes(&self, text: &[u8]) {
        let write = || -> std::io::Result<()> {
            let mut out = std::io::stdout().lock();
            out.write_all(text)?;
            out.flush()
        };
        let written = match &self.progress {
            Some(bar) => bar.suspend(write),
            None => write(),
        };
        if written.is_err() {
            std::process::exit(i32::from(exit::TEMPFAIL));
        }
    }

    /// `--json`.
    pub fn json(&self) -> bool {
        self.json
    }

    /// Quiet on success (sendmail).
    pub fn quiet(&self) -> bool {
        self.quiet_success
    }

    /// The activity log and the server it names, if one is configured.
    pub fn activity(&self) -> Option<&(ActivityLog, String)> {
        self.activity.as_ref()
    }

    /// Raises the exit code to at least `code` (75 wins).
    pub fn raise(&mut self, code: u8) {
        self.code = if self.code == exit::TEMPFAIL || code == exit::TEMPFAIL {
            exit::TEMPFAIL
        } else {
            self.code.max(code)
        };
    }

    /// The exit code so far, as the command's result.
    pub fn result(&self) -> Result<()> {
        if self.code == exit::OK {
            Ok(())
        } else {
            Err(Exit(self.code).into())
        }
    }

    pub fn finish(self, summary: &Summary, journal: Option<&Path>) -> Result<()> {
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
        let mut code = self.code;
        let [sent, permanent, transient, unknown] = self.counts;
        let counts = format!(
            "{sent} sent, {permanent} failed-permanent, {transient} failed-transient, {unknown} unknown (of {})",
            self.seen
        );
        let skipped = match summary.skipped {
            0 => String::new(),
            n => format!("; {n} skipped, already sent according to the journal"),
        };
        if summary.stopped {
            code = exit::TEMPFAIL;
            let again = match journal {
                Some(j) => format!(
                    "run the same command again to send the rest (the journal {} skips what was sent)",
                    j.display()
                ),
                None => "add --journal FILE to resume such a run without sending twice".into(),
            };
            eprintln!("stopped: {counts}{skipped}; the rest was not sent: {again}");
        } else if self.seen > 1 || summary.skipped > 0 {
            eprintln!("summary: {counts}{skipped}");
        }
        if code == exit::OK {
            Ok(())
        } else {
            Err(Exit(code).into())
        }
    }
}
