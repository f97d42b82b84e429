//! `smtp send`: one message, several raw messages, or one per recipient
//! of a list (bulk). Every message ends as sent, failed-permanent,
//! failed-transient or unknown; nothing is dropped silently.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use smtp_core::{Address, Envelope};

use crate::cli::{GlobalArgs, SendArgs};
use crate::cmd::deliver::{Job, Outcome, deliver};
use crate::compose::{self, Draft};
use crate::exit::{self, Exit};
use crate::record::Recorder;
use crate::setup::{self, Dest, Setup};

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
        let contents = compose::Contents::load(&d)?;
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
                bytes: compose::build_with(&one, &contents)?,
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

/// Prints outcomes and turns them into the exit code: 0 all sent, 75 if
/// any is transient or unknown, else 1 if any failed.
pub fn report(outcomes: &[Outcome], json: bool, outbox: bool) -> Result<()> {
    if json {
        // One write for the whole list, not one per line.
        let mut lines = String::new();
        for o in outcomes {
            lines.push_str(&serde_json::to_string(o)?);
            lines.push('\n');
        }
        if !lines.is_empty() {
            out!("{}", lines.trim_end_matches('\n'));
        }
    }
    for o in outcomes.iter().filter(|_| !json) {
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
