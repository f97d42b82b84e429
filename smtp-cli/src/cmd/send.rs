//! `smtp send`: one message, several raw messages, or one per recipient
//! of a list (bulk). Every message ends as sent, failed-permanent,
//! failed-transient or unknown; nothing is dropped silently.

use std::io::{IsTerminal, Read};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use smtp_core::{Address, Delivery, Envelope, MessageSource, SmtpTransport, Transport};
use tokio::task::JoinSet;

use crate::cli::{GlobalArgs, SendArgs};
use crate::compose::{self, Draft};
use crate::exit::{self, Exit};
use crate::record::Recorder;
use crate::setup::{self, Dest, Setup};

/// One message to send.
pub struct Job {
    pub label: String,
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
}

/// How one message ended.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub message: String,
    pub status: &'static str,
    pub accepted: Vec<String>,
    pub rejected: Vec<Rejected>,
    pub reply: Option<String>,
    pub error: Option<String>,
    pub hint: Option<String>,
    /// The hint's stable code (docs/troubleshooting.md has an entry per code).
    pub hint_code: Option<&'static str>,
    #[serde(skip)]
    pub exit: u8,
}

#[derive(Debug, Serialize)]
pub struct Rejected {
    pub recipient: String,
    pub reply: String,
}

pub async fn run(global: &GlobalArgs, args: SendArgs) -> Result<()> {
    let recorder = Arc::new(Recorder::new(args.transcript.as_deref())?);
    let retry_unknown = [("retry.unknown_outcome", "true")];
    let extra: &[(&str, &str)] = if args.retry_unknown_outcome {
        &retry_unknown
    } else {
        &[]
    };
    let loaded = setup::load_with(global, &args.conn, extra)?;
    let setup = setup::build(&loaded, Some(recorder), Some(args.concurrency.max(1)))?;
    let jobs = jobs(&args, &setup)?;
    let outcomes = deliver(&setup, jobs, args.concurrency.max(1), args.json).await;
    if let Dest::Outbox(outbox) = &setup.dest {
        eprintln!(
            "no server configured: wrote to the local outbox {} (set host, SMTP_HOST or --host to send for real)",
            outbox.dir().display()
        );
    }
    report(&outcomes, args.json, matches!(setup.dest, Dest::Outbox(_)))
}

fn draft(args: &SendArgs, setup: &Setup) -> Result<Draft> {
    let m = &args.message;
    let from = m
        .from
        .clone()
        .or_else(|| setup.message.from.clone())
        .context(
            "no sender: give --from, or set message.from in the config (or SMTP_MESSAGE__FROM)",
        )?;
    let prefix = m
        .subject_prefix
        .clone()
        .or_else(|| setup.message.subject_prefix.clone())
        .unwrap_or_default();
    Ok(Draft {
        from,
        from_name: m
            .from_name
            .clone()
            .or_else(|| setup.message.from_name.clone()),
        to: m.to.clone(),
        cc: m.cc.clone(),
        bcc: m.bcc.clone(),
        reply_to: m.reply_to.clone(),
        subject: format!("{prefix}{}", m.subject),
        body: m.body.clone(),
        body_file: m.body_file.clone(),
        html_file: m.html_file.clone(),
        attach: m.attach.clone(),
        headers: m.header.clone(),
    })
}

fn jobs(args: &SendArgs, setup: &Setup) -> Result<Vec<Job>> {
    let d = draft(args, setup)?;
    let sender = Address::new(&d.from)?;
    if !args.raw.is_empty() {
        let mut out = Vec::new();
        for path in &args.raw {
            let bytes = read_raw(path)?;
            let rcpts = if d.to.is_empty() && d.cc.is_empty() && d.bcc.is_empty() {
                crate::cmd::sendmail::header_recipients(&bytes)?
            } else {
                compose::recipients(&d)?
            };
            if rcpts.is_empty() {
                bail!(
                    "{}: no recipients: give --to, or put To/Cc in the message",
                    path.display()
                );
            }
            out.push(Job {
                label: path.display().to_string(),
                envelope: Envelope::new(Some(sender.clone()), rcpts)?,
                bytes,
            });
        }
        return Ok(out);
    }
    if let Some(list) = &args.to_file {
        let text = std::fs::read_to_string(list)
            .with_context(|| format!("cannot read {}", list.display()))?;
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let rcpt = line.trim();
            if rcpt.is_empty() || rcpt.starts_with('#') {
                continue;
            }
            let address =
                Address::new(rcpt).with_context(|| format!("{}:{}", list.display(), n + 1))?;
            let one = Draft {
                to: vec![rcpt.to_string()],
                cc: vec![],
                bcc: vec![],
                ..d.clone()
            };
            out.push(Job {
                label: rcpt.to_string(),
                envelope: Envelope::new(Some(sender.clone()), vec![address])?,
                bytes: compose::build(&one)?,
            });
        }
        if out.is_empty() {
            bail!("{}: no recipients", list.display());
        }
        return Ok(out);
    }
    let rcpts = compose::recipients(&d)?;
    if rcpts.is_empty() {
        bail!("no recipients: give --to (or --cc/--bcc)");
    }
    Ok(vec![Job {
        label: d.subject.clone(),
        envelope: Envelope::new(Some(sender), rcpts)?,
        bytes: compose::build(&d)?,
    }])
}

fn read_raw(path: &Path) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading the message from stdin")?;
        return Ok(buf);
    }
    std::fs::read(path).with_context(|| format!("cannot read message {}", path.display()))
}

/// Sends every job, `concurrency` at a time, and returns one outcome each
/// (in input order).
pub async fn deliver(
    setup: &Setup,
    jobs: Vec<Job>,
    concurrency: usize,
    quiet: bool,
) -> Vec<Outcome> {
    let total = jobs.len();
    let progress = (total > 1 && !quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let route = Arc::new(match &setup.dest {
        // Nothing else will use the connection: QUIT rides with the end of
        // data instead of costing a round trip when the pool closes.
        Dest::Smtp(t) if total == 1 => Route::OneShot(t.clone()),
        Dest::Smtp(t) => Route::Pooled(Arc::new(t.clone())),
        Dest::Outbox(f) => Route::Pooled(Arc::new(f.clone())),
    });
    let limiter = Arc::new(setup.rate.clone());
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut set = JoinSet::new();
    for (i, job) in jobs.into_iter().enumerate() {
        let route = route.clone();
        let permits = permits.clone();
        let limiter = limiter.clone();
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (i, send_one(&route, &limiter, job).await)
        });
    }
    let mut outcomes: Vec<Option<Outcome>> = (0..total).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((i, outcome)) = joined {
            if let Some(bar) = &progress {
                bar.inc(1);
                bar.set_message(outcome.status);
            }
            outcomes[i] = Some(outcome);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Dest::Smtp(t) = &setup.dest {
        t.close().await;
    }
    outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| Outcome {
                message: "?".into(),
                status: "unknown",
                accepted: vec![],
                rejected: vec![],
                reply: None,
                error: Some("the sending task panicked".into()),
                hint: None,
                hint_code: None,
                exit: exit::TEMPFAIL,
            })
        })
        .collect()
}

/// How messages go out.
enum Route {
    /// Through the transport's pool (or to the outbox).
    Pooled(Arc<dyn Transport>),
    /// A lone message: its connection closes with it, so a retry connects
    /// anew ([`SmtpTransport::send_and_close`]).
    OneShot(SmtpTransport),
}

impl Route {
    async fn send(
        &self,
        envelope: &Envelope,
        message: MessageSource,
    ) -> Result<Delivery, smtp_core::Error> {
        match self {
            Route::Pooled(t) => t.send(envelope, message).await,
            Route::OneShot(t) => t.send_and_close(envelope, message).await,
        }
    }
}

async fn send_one(route: &Route, limiter: &setup::Pacing, job: Job) -> Outcome {
    let mut attempt = 0u32;
    loop {
        limiter.wait().await;
        let result = route
            .send(&job.envelope, MessageSource::from_bytes(job.bytes.clone()))
            .await;
        match result {
            Ok(d) => {
                // Sent, but a refused recipient still fails the run: a
                // script must not mistake a typo'd address for success.
                let exit = if d.rejected.iter().any(|r| r.reply.is_transient()) {
                    exit::TEMPFAIL
                } else if d.rejected.is_empty() {
                    exit::OK
                } else {
                    exit::PERMANENT
                };
                return Outcome {
                    message: job.label,
                    status: "sent",
                    accepted: d.accepted.iter().map(|a| a.recipient.to_string()).collect(),
                    rejected: d
                        .rejected
                        .iter()
                        .map(|r| Rejected {
                            recipient: r.recipient.to_string(),
                            reply: r.reply.to_string(),
                        })
                        .collect(),
                    reply: Some(d.reply.to_string()),
                    error: None,
                    hint: None,
                    hint_code: None,
                    exit,
                };
            }
            Err(e) => {
                if limiter.may_retry(&e, attempt) {
                    attempt += 1;
                    limiter.back_off(attempt, e.reply()).await;
                    continue;
                }
                let status = if e.is_unknown_outcome() {
                    "unknown"
                } else if e.is_transient() {
                    "failed-transient"
                } else {
                    "failed-permanent"
                };
                let rejected = match &e {
                    smtp_core::Error::NoRecipientsAccepted { rejected } => rejected
                        .iter()
                        .map(|r| Rejected {
                            recipient: r.recipient.to_string(),
                            reply: r.reply.to_string(),
                        })
                        .collect(),
                    _ => vec![],
                };
                return Outcome {
                    message: job.label,
                    status,
                    accepted: vec![],
                    rejected,
                    reply: e.reply().map(|r| r.to_string()),
                    error: Some(setup::describe(&e)),
                    hint: setup::coded_hint(&e).map(|h| h.text.to_string()),
                    hint_code: setup::coded_hint(&e).map(|h| h.code),
                    exit: exit::code_for(&e),
                };
            }
        }
    }
}

/// Prints outcomes and turns them into the exit code: 0 all sent, 75 if
/// any is transient or unknown, else 1 if any failed.
pub fn report(outcomes: &[Outcome], json: bool, outbox: bool) -> Result<()> {
    for o in outcomes {
        if json {
            out!("{}", serde_json::to_string(o)?);
            continue;
        }
        match o.status {
            "sent" if outbox => {
                let path = o
                    .reply
                    .as_deref()
                    .and_then(|r| r.split("written to ").nth(1))
                    .unwrap_or("");
                out!("saved to outbox: {path} (for {})", o.accepted.join(", "));
            }
            "sent" => {
                for a in &o.accepted {
                    out!("sent: {a}");
                }
                for r in &o.rejected {
                    out!("rejected: {} ({})", r.recipient, r.reply);
                }
                if let Some(reply) = &o.reply {
                    out!("  server: {reply}");
                }
            }
            status => {
                for r in &o.rejected {
                    out!("rejected: {} ({})", r.recipient, r.reply);
                }
                eprintln!(
                    "{status}: {}: {}",
                    o.message,
                    o.error.as_deref().unwrap_or("")
                );
                if let (Some(h), Some(code)) = (&o.hint, o.hint_code) {
                    eprintln!("hint: {h} [{code}]");
                }
            }
        }
    }
    if outcomes.len() > 1 && !json {
        let count = |s: &str| outcomes.iter().filter(|o| o.status == s).count();
        eprintln!(
            "summary: {} sent, {} failed-permanent, {} failed-transient, {} unknown (of {})",
            count("sent"),
            count("failed-permanent"),
            count("failed-transient"),
            count("unknown"),
            outcomes.len()
        );
    }
    let code = if outcomes.iter().any(|o| o.exit == exit::TEMPFAIL) {
        exit::TEMPFAIL
    } else {
        outcomes.iter().map(|o| o.exit).max().unwrap_or(exit::OK)
    };
    if code == exit::OK {
        Ok(())
    } else {
        Err(Exit(code).into())
    }
}
