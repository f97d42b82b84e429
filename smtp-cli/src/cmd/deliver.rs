//! Hands jobs to the library's bulk sender and prints each outcome the
//! moment it is known (text, or one JSON line each, flushed), so an
//! interrupted run has reported every message the server accepted.
//!
//! On SIGINT or SIGTERM no new message is taken; those in flight finish
//! and are reported; the run then exits 75. With `--journal`, the same
//! command run again sends only what the server has not accepted.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use smtp_core::Error;
use smtp_core::bulk::{BulkSender, InvalidJob, Job, Journal, Outcome, StopHandle, Summary};

use crate::exit::{self, Exit};
use crate::setup::{self, Dest, Setup};

/// How a run is carried out and shown.
pub struct Options<'a> {
    pub concurrency: usize,
    pub json: bool,
    pub journal: Option<&'a Path>,
    /// Say nothing about messages that were sent (sendmail mode).
    pub quiet_success: bool,
}

/// Sends every job and prints its outcome as it completes; the error is
/// the exit code: 0 all sent, 75 if any is transient or unknown or the
/// run was stopped, else 1 (2 for invalid input).
pub async fn deliver<I>(setup: &Setup, jobs: I, opts: &Options<'_>) -> Result<()>
where
    I: Iterator<Item = Result<Job, InvalidJob>> + Send + 'static,
{
    let mut sender = BulkSender::new(setup.dest.transport())
        .concurrency(opts.concurrency)
        .rate_limit(setup.rate_limit)
        .retry(setup.retry.clone());
    if let Some(path) = opts.journal {
        let journal = Journal::open(path)
            .with_context(|| format!("cannot open the journal {}", path.display()))?;
        if !journal.is_empty() {
            eprintln!(
                "journal {}: {} messages already done, sending the rest",
                path.display(),
                journal.len()
            );
        }
        sender = sender.journal(journal);
    }
    let mut run = sender.start(jobs);
    let signals = tokio::spawn(stop_on_signal(run.stop_handle()));
    let outbox = matches!(setup.dest, Dest::Outbox(_));
    let mut printer = Printer::new(opts, outbox);
    while let Some(outcome) = run.next().await {
        printer.print(&outcome);
    }
    signals.abort();
    let summary = run.finish().await;
    printer.finish(&summary, opts.journal)
}

/// The first SIGINT/SIGTERM stops taking messages; a second one exits at
/// once (what is in flight then has an unknown outcome).
async fn stop_on_signal(stop: StopHandle) {
    wait_for_signal().await;
    eprintln!("interrupted: finishing the messages in flight (interrupt again to quit at once)");
    stop.stop();
    wait_for_signal().await;
    std::process::exit(i32::from(exit::TEMPFAIL));
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// One outcome as printed with `--json`.
#[derive(Debug, Serialize)]
struct Line<'a> {
    message: &'a str,
    /// Position in the input (outcomes come as messages complete).
    index: u64,
    status: &'static str,
    attempts: u32,
    accepted: Vec<String>,
    rejected: Vec<Rejected>,
    reply: Option<String>,
    error: Option<String>,
    hint: Option<&'static str>,
    /// The hint's stable code (docs/troubleshooting.md has an entry per code).
    hint_code: Option<&'static str>,
    /// For a transient failure: when another attempt makes sense.
    retry_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct Rejected {
    recipient: String,
    reply: String,
}

fn status(result: &Result<smtp_core::Delivery, Error>) -> &'static str {
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
        accepted: accepted.iter().map(|a| a.recipient.to_string()).collect(),
        rejected: rejected
            .iter()
            .map(|r| Rejected {
                recipient: r.recipient.to_string(),
                reply: r.reply.to_string(),
            })
            .collect(),
        reply: match &o.result {
            Ok(d) => Some(d.reply.to_string()),
            Err(e) => e.reply().map(|r| r.to_string()),
        },
        error: o.result.as_ref().err().map(setup::describe),
        hint: hint.map(|h| h.text),
        hint_code: hint.map(|h| h.code),
        retry_at: o
            .retry_at
            .map(|t| humantime::format_rfc3339_seconds(t).to_string()),
    }
}

/// Prints outcomes as they come and keeps what the exit code needs.
struct Printer {
    json: bool,
    outbox: bool,
    quiet_success: bool,
    progress: Option<indicatif::ProgressBar>,
    seen: u64,
    /// Outcomes by status: sent, failed-permanent, failed-transient, unknown.
    counts: [u64; 4],
    code: u8,
}

impl Printer {
    fn new(opts: &Options<'_>, outbox: bool) -> Printer {
        let progress = (!opts.json && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::no_length();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {pos} done {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar
        });
        Printer {
            json: opts.json,
            outbox,
            quiet_success: opts.quiet_success,
            progress,
            seen: 0,
            counts: [0; 4],
            code: exit::OK,
        }
    }

    fn print(&mut self, o: &Outcome) {
        self.seen += 1;
        let code = exit_code(&o.result);
        self.code = if self.code == exit::TEMPFAIL || code == exit::TEMPFAIL {
            exit::TEMPFAIL
        } else {
            self.code.max(code)
        };
        let l = line(o);
        let slot = ["sent", "failed-permanent", "failed-transient", "unknown"]
            .iter()
            .position(|s| *s == l.status)
            .unwrap_or(3);
        self.counts[slot] += 1;
        let mut text = String::new();
        if self.json {
            text = serde_json::to_string(&l).unwrap_or_default();
            text.push('\n');
        } else {
            self.text(&l, &mut text);
        }
        let write = || -> std::io::Result<()> {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()
        };
        let written = match &self.progress {
            Some(bar) if self.seen > 1 => bar.suspend(write),
            _ => write(),
        };
        if written.is_err() {
            // stdout is gone (a closed pipe): nothing more can be reported.
            std::process::exit(i32::from(exit::TEMPFAIL));
        }
        if let Some(bar) = &self.progress
            && self.seen > 1
        {
            bar.inc(1);
            bar.set_message(l.status);
        }
    }

    fn text(&self, l: &Line<'_>, out: &mut String) {
        use std::fmt::Write as _;
        match l.status {
            "sent" if self.outbox => {
                let path = l
                    .reply
                    .as_deref()
                    .and_then(|r| r.split("written to ").nth(1))
                    .unwrap_or("");
                let _ = writeln!(
                    out,
                    "saved to outbox: {path} (for {})",
                    l.accepted.join(", ")
                );
            }
            "sent" => {
                if !self.quiet_success {
                    for a in &l.accepted {
                        let _ = writeln!(out, "sent: {a}");
                    }
                }
                for r in &l.rejected {
                    let _ = writeln!(out, "rejected: {} ({})", r.recipient, r.reply);
                }
                if let (Some(reply), false) = (&l.reply, self.quiet_success) {
                    let _ = writeln!(out, "  server: {reply}");
                }
            }
            status => {
                for r in &l.rejected {
                    let _ = writeln!(out, "rejected: {} ({})", r.recipient, r.reply);
                }
                // Failures go to stderr, as they happen.
                eprintln!(
                    "{status}: {}: {}",
                    l.message,
                    l.error.as_deref().unwrap_or("")
                );
                if let (Some(h), Some(code)) = (l.hint, l.hint_code) {
                    eprintln!("hint: {h} [{code}]");
                }
                if let Some(at) = &l.retry_at {
                    eprintln!("  retry after {at}");
                }
            }
        }
    }

    fn finish(self, summary: &Summary, journal: Option<&Path>) -> Result<()> {
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
