//! Hands jobs to the library's bulk sender and prints each outcome the
//! moment it is known (text, or one JSON line each, flushed), so an
//! interrupted run has reported every message the server accepted.
//!
//! On SIGINT or SIGTERM no new message is taken; those in flight finish
//! and are reported; the run then exits 75. With `--journal`, the same
//! command run again sends only what the server has not accepted.

use std::path::Path;

use anyhow::{Context, Result};
use smtp_core::bulk::{BulkSender, InvalidJob, Job, Journal, StopHandle};

use crate::cli::QueueRunArgs;
use crate::cmd::queue;
use crate::cmd::report::{Printer, Style};
use crate::exit;
use crate::setup::{Dest, Setup};
use smtp_config::OnFailure;

/// How a run is carried out and shown.
pub struct Options<'a> {
    pub concurrency: usize,
    pub json: bool,
    pub journal: Option<&'a Path>,
    /// Say nothing about messages that were sent (sendmail mode).
    pub quiet_success: bool,
    /// `--queue`: keep what cannot go now (also `queue.on_failure`).
    pub queue: bool,
}

/// Sends every job and prints its outcome as it completes; the error is
/// the exit code: 0 all sent, 75 if any is transient or unknown or the
/// run was stopped, else 1 (2 for invalid input).
pub async fn deliver<I>(setup: &Setup, jobs: I, opts: &Options<'_>) -> Result<()>
where
    I: Iterator<Item = Result<Job, InvalidJob>> + Send + 'static,
{
    let sign = setup.job_signer();
    let jobs = jobs.map(move |job| job.map(&sign));
    let queue_mode = opts.queue || setup.on_failure == OnFailure::Queue;
    if queue_mode && matches!(setup.dest, Dest::Smtp(_)) {
        return deliver_through_queue(setup, jobs, opts).await;
    }
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
    let mut printer = Printer::new(Style {
        json: opts.json,
        outbox: matches!(setup.dest, Dest::Outbox(_)),
        quiet_success: opts.quiet_success,
        activity: setup.activity.clone().map(|log| (log, setup.server())),
    });
    while let Some(outcome) = run.next().await {
        printer.print(&outcome);
    }
    signals.abort();
    let summary = run.finish().await;
    printer.finish(&summary, opts.journal)
}

/// Queue on failure (msmtpq's way): every message is stored in the queue
/// first (on disk, flushed), then sent from there at once; what cannot go
/// now stays queued for `smtp queue run`, and the command says so and
/// exits 0. A crash or a dead server loses nothing, and a message read
/// from a pipe can still be retried later.
async fn deliver_through_queue<I>(setup: &Setup, jobs: I, opts: &Options<'_>) -> Result<()>
where
    I: Iterator<Item = Result<Job, InvalidJob>>,
{
    let queue = setup.queue()?;
    let mut printer = Printer::new(Style {
        json: opts.json,
        outbox: false,
        quiet_success: opts.quiet_success,
        activity: setup.activity.clone().map(|log| (log, setup.server())),
    });
    // Invalid jobs are reported as they are met; the others are stored
    // one by one (a long list is never held in memory).
    let mut invalid_code = exit::OK;
    let valid = jobs.filter_map(|item| match item {
        Ok(job) => Some(job),
        Err(invalid) => {
            eprintln!("failed-permanent: {}: {}", invalid.key, invalid.error);
            invalid_code = invalid_code.max(exit::code_for(&invalid.error));
            None
        }
    });
    let run = QueueRunArgs {
        concurrency: opts.concurrency,
        ..QueueRunArgs::default()
    };
    queue
        .store_and_send(
            valid,
            setup.dest.transport(),
            &queue::options(setup, &run, true),
            |event| queue::print_event(&mut printer, &event, true),
        )
        .await?;
    printer.raise(invalid_code);
    printer.result()
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
pub async fn wait_for_signal() {
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
pub async fn wait_for_signal() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
