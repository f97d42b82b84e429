//! `smtp queue ...`: the local queue (smtp-queue) from the command line,
//! and the printing of queue events shared with `send --queue`.

use std::time::Duration;

use anyhow::{Context, Result};
use smtp_queue::{Attempt, Entry, Event, FlushOptions, FlushReport, Queue, State};

use crate::cli::{GlobalArgs, QueueCommand, QueueRunArgs};
use crate::cmd::report::{Printer, Style};
use crate::codes::cli_hints;
use crate::exit::{self, CliError};
use crate::record::Recorder;
use crate::setup::{self, Dest, Setup};

pub async fn run(global: &GlobalArgs, command: QueueCommand) -> Result<()> {
    match command {
        QueueCommand::List { json } => list(&queue(global)?, json),
        QueueCommand::Show { id } => show(&queue(global)?, &id),
        QueueCommand::Remove { id } => {
            let e = queue(global)?.remove(&id)?;
            out!("removed {} (to {})", e.id, e.to.join(", "));
            Ok(())
        }
        QueueCommand::Hold { id } => {
            let e = queue(global)?.hold(&id)?;
            out!("held {}", e.id);
            Ok(())
        }
        QueueCommand::Release { id } => {
            let e = queue(global)?.release(&id)?;
            out!("released {}: due now", e.id);
            Ok(())
        }
        QueueCommand::Flush { run } => flush_once(global, &run, true).await,
        QueueCommand::Run {
            watch,
            interval,
            run,
        } => {
            if !watch {
                return flush_once(global, &run, false).await;
            }
            let interval = humantime::parse_duration(&interval)
                .with_context(|| format!("invalid --interval {interval:?}"))?;
            watch_loop(global, &run, interval).await
        }
    }
}

/// The queue of the configuration, without building a transport.
fn queue(global: &GlobalArgs) -> Result<Queue> {
    let loaded = setup::load(global, &Default::default())?;
    Queue::open(loaded.queue_dir())
        .with_context(|| format!("cannot use the queue {}", loaded.queue_dir().display()))
}

fn list(queue: &Queue, json: bool) -> Result<()> {
    let listing = queue.list()?;
    for error in &listing.corrupt {
        eprintln!("warning: {error} (skipped; inspect or remove it by hand)");
    }
    if json {
        for e in &listing.entries {
            out!("{}", serde_json::to_string(e)?);
        }
        return Ok(());
    }
    if listing.entries.is_empty() {
        eprintln!("the queue {} is empty", queue.dir().display());
        return Ok(());
    }
    for e in &listing.entries {
        let when = match e.state {
            State::Queued => format!("next {}", e.next_attempt_rfc3339()),
            other => other.as_str().to_string(),
        };
        out!(
            "{}  {:<8} {} attempt(s), queued {} ago, {when}  <{}> -> {}",
            e.id,
            e.state.as_str(),
            e.attempts,
            humantime::format_duration(Duration::from_secs(e.age().as_secs())),
            e.from.as_deref().unwrap_or(""),
            e.to.join(", ")
        );
        if let Some(err) = &e.last_error {
            out!("    last error: {err}");
        }
    }
    eprintln!(
        "{} message(s) in {}",
        listing.entries.len(),
        queue.dir().display()
    );
    Ok(())
}

fn show(queue: &Queue, id: &str) -> Result<()> {
    let e = queue.get(id)?;
    out!("id: {}", e.id);
    out!("state: {}", e.state.as_str());
    out!("from: <{}>", e.from.as_deref().unwrap_or(""));
    out!("to: {}", e.to.join(", "));
    out!("size: {} bytes", e.size);
    out!("queued: {}", e.created_rfc3339());
    out!("attempts: {}", e.attempts);
    if e.state == State::Queued {
        out!("next attempt: {}", e.next_attempt_rfc3339());
    }
    if let Some(err) = &e.last_error {
        out!("last error: {err}");
    }
    out!("file: {}", queue.message_path(&e.id).display());
    // The header block, for a person to recognise the message.
    let text = std::fs::read(queue.message_path(&e.id)).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    out!("");
    for line in text.lines().take_while(|l| !l.is_empty()).take(40) {
        out!("{line}");
    }
    Ok(())
}

/// Builds the transport of the configuration; the queue needs a server.
fn sending_setup(global: &GlobalArgs, run: &QueueRunArgs) -> Result<Setup> {
    let loaded = setup::load(global, &run.conn)?;
    let setup = setup::build(
        &loaded,
        None::<std::sync::Arc<Recorder>>,
        Some(run.concurrency.max(1)),
    )?;
    if matches!(setup.dest, Dest::Outbox(_)) {
        return Err(CliError {
            message:
                "no server configured: the queue (the outbox) can only be delivered to a server"
                    .into(),
            hint: cli_hints::NO_SERVER,
        }
        .into());
    }
    Ok(setup)
}

pub fn options(setup: &Setup, run: &QueueRunArgs, ignore_schedule: bool) -> FlushOptions {
    let mut o = setup.flush.clone();
    o.ignore_schedule = ignore_schedule;
    o.retry_unknown |= run.retry_unknown;
    o.concurrency = run.concurrency.max(1);
    o
}

async fn flush_once(global: &GlobalArgs, run: &QueueRunArgs, ignore_schedule: bool) -> Result<()> {
    let setup = sending_setup(global, run)?;
    let queue = setup.queue()?;
    queue.clean()?;
    let mut printer = printer(&setup, run.json);
    let report = queue
        .flush(
            setup.dest.transport(),
            &options(&setup, run, ignore_schedule),
            None,
            |event| print_event(&mut printer, &event, false),
        )
        .await?;
    summary(&report);
    printer.result()
}

/// Flushes what is due, sleeps until the next message is due (at most
/// `interval`), again, until SIGTERM or SIGINT.
async fn watch_loop(global: &GlobalArgs, run: &QueueRunArgs, interval: Duration) -> Result<()> {
    let setup = sending_setup(global, run)?;
    let queue = setup.queue()?;
    let mut printer = printer(&setup, run.json);
    let options = options(&setup, run, false);
    let stop = tokio::spawn(crate::cmd::deliver::wait_for_signal());
    tokio::pin!(stop);
    eprintln!("queue runner: watching {}", queue.dir().display());
    loop {
        queue.clean()?;
        let mut handle = None;
        let flush = queue.flush(
            setup.dest.transport(),
            &options,
            Some(&mut handle),
            |event| print_event(&mut printer, &event, false),
        );
        let report = flush.await?;
        let now = smtp_queue::now_unix();
        let wait = report
            .next_due
            .map(|due| Duration::from_secs(due.saturating_sub(now)).max(Duration::from_secs(1)))
            .unwrap_or(interval)
            .min(interval);
        tokio::select! {
            _ = &mut stop => {
                eprintln!("queue runner: stopping");
                return Ok(());
            }
            () = tokio::time::sleep(wait) => {}
        }
    }
}

pub fn printer(setup: &Setup, json: bool) -> Printer {
    Printer::new(Style {
        json,
        outbox: false,
        quiet_success: false,
        activity: setup.activity.clone().map(|log| (log, setup.server())),
    })
}

fn summary(r: &FlushReport) {
    eprintln!(
        "queue: {} sent, {} deferred, {} failed, {} unknown, {} busy (another runner), {} unreadable; {} left",
        r.sent, r.deferred, r.failed, r.unknown, r.busy, r.corrupt, r.remaining
    );
}

/// Prints one queue event, writes its activity-log line, and raises the
/// exit code: 0 sent, 75 deferred or unknown (still queued), 1 failed.
/// `queued_is_ok`: a message kept in the queue counts as done
/// (`send --queue`, `queue.on_failure = "queue"`).
pub fn print_event(printer: &mut Printer, event: &Event, queued_is_ok: bool) {
    let kept = if queued_is_ok {
        exit::OK
    } else {
        exit::TEMPFAIL
    };
    let (entry, outcome, code, text, exit_code) = match event {
        Event::Sent { entry, delivery } => {
            if !printer.json() && !printer.quiet() {
                printer.out(&format!(
                    "sent: {} ({})\n  server: {}\n",
                    entry.to.join(", "),
                    entry.id,
                    delivery.reply
                ));
            }
            (
                entry,
                "sent",
                Some(delivery.reply.code),
                delivery.reply.to_string(),
                exit::OK,
            )
        }
        Event::Deferred { entry, error } => {
            eprintln!(
                "queued: {} for {} ({error}); next attempt {}",
                entry.id,
                entry.to.join(", "),
                entry.next_attempt_rfc3339()
            );
            (
                entry,
                "deferred",
                error.reply().map(|r| r.code),
                error.to_string(),
                kept,
            )
        }
        Event::Unknown { entry, detail } => {
            eprintln!(
                "unknown: {} for {}: {detail}; it may have been delivered: check before `smtp queue release {}`",
                entry.id,
                entry.to.join(", "),
                entry.id
            );
            (entry, "unknown", None, detail.clone(), kept)
        }
        Event::Failed { entry, error } => {
            eprintln!("failed: {} for {}: {error}", entry.id, entry.to.join(", "));
            if let Some(h) = setup::coded_hint(error) {
                eprintln!("hint: {}", crate::wording::hint_line(&h));
            }
            (
                entry,
                "failed",
                error.reply().map(|r| r.code),
                error.to_string(),
                exit::PERMANENT,
            )
        }
        Event::Expired { entry } => {
            let why = entry.last_error.clone().unwrap_or_default();
            eprintln!("expired: {} for {}: {why}", entry.id, entry.to.join(", "));
            (entry, "expired", None, why, exit::PERMANENT)
        }
        Event::Corrupt { error } => {
            eprintln!("warning: {error} (skipped; inspect or remove it by hand)");
            return;
        }
        _ => return,
    };
    if printer.json() {
        printer.out(&json_line(entry, outcome, &text));
    }
    printer.raise(exit_code);
    if let Some((log, server)) = printer.activity() {
        let to: Vec<&str> = entry.to.iter().map(String::as_str).collect();
        let line = Attempt::new(
            &entry.id,
            entry.from.as_deref().unwrap_or(""),
            to,
            server,
            outcome,
        )
        .attempts(entry.attempts)
        .reply(code, &text);
        if let Err(e) = log.record(&line) {
            eprintln!("warning: {e}");
        }
    }
}

fn json_line(entry: &Entry, outcome: &str, reply: &str) -> String {
    let mut line = serde_json::json!({
        "id": entry.id,
        "status": outcome,
        "from": entry.from,
        "to": entry.to,
        "attempts": entry.attempts,
        "reply": reply,
    })
    .to_string();
    line.push('\n');
    line
}
