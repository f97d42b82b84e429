//! One sender: takes shares of the jobs, sends each share as one batch
//! (or one by one under a rate limit), settles every result, and leaves
//! retries to tasks of their own so the rest keeps moving.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::Instant;

use super::feed::{Feed, Taken};
use super::pacing::Pacing;
use super::{Counts, Job, Journal, Outcome, Recorded};
use crate::delivery::Delivery;
use crate::error::Error;
use crate::message::MessageSource;
use crate::transport::Transport;

pub(super) struct Shared {
    pub transport: Arc<dyn Transport>,
    pub feed: Feed,
    /// Jobs taken and not yet settled, as permits.
    pub pending: Arc<Semaphore>,
    /// Sends under way (first attempts and retries alike).
    pub sends: Arc<Semaphore>,
    pub pacing: Pacing,
    pub journal: Option<Arc<Journal>>,
    pub counts: Arc<Counts>,
    pub stopped: watch::Receiver<bool>,
    pub out: mpsc::Sender<Outcome>,
}

impl Shared {
    fn is_stopped(&self) -> bool {
        *self.stopped.borrow()
    }

    /// Resolves when the run is stopped (never, if it is not).
    async fn stop_requested(&self) {
        let mut stopped = self.stopped.clone();
        if stopped.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    fn send_once(
        &self,
        alone: bool,
        job: &Job,
        message: MessageSource,
    ) -> impl Future<Output = Result<Delivery, Error>> {
        let transport = self.transport.clone();
        let envelope = job.envelope.clone();
        async move {
            if alone {
                transport.send_and_close(&envelope, message).await
            } else {
                transport.send(&envelope, message).await
            }
        }
    }
}

/// Why a job taken before a stop never went out.
fn stopped_error() -> Error {
    Error::NotStarted {
        cause: "the run was stopped before its turn".into(),
    }
}

pub(super) async fn run(shared: Arc<Shared>) {
    loop {
        if shared.is_stopped() {
            return;
        }
        let limit = if shared.pacing.is_rate_limited() {
            1
        } else {
            usize::MAX
        };
        let share = shared.feed.take(limit);
        shared
            .counts
            .skipped
            .fetch_add(share.skipped, Ordering::Relaxed);
        if share.jobs.is_empty() {
            return;
        }
        // Taken jobs are settled whatever happens, so the permits always
        // come back; waiting for them holds no send permit (retries need
        // those to finish).
        if let Ok(p) = shared.pending.acquire_many(share.jobs.len() as u32).await {
            p.forget();
        }
        let mut ready = Vec::with_capacity(share.jobs.len());
        for Taken { index, item } in share.jobs {
            match item {
                Ok(job) => ready.push((index, job)),
                Err(invalid) => {
                    emit(
                        &shared,
                        index,
                        invalid.key,
                        None,
                        0,
                        Err(invalid.error),
                        None,
                    )
                    .await;
                }
            }
        }
        let permit = tokio::select! {
            p = shared.sends.clone().acquire_owned() => p.ok(),
            () = shared.stop_requested() => None,
        };
        if permit.is_none() {
            for (index, job) in ready {
                let pending = Pending::new(index, job);
                pending.report(&shared, 0, Err(stopped_error())).await;
            }
            return;
        }
        shared.pacing.wait().await;
        let started = Instant::now();
        let mut items = Vec::with_capacity(ready.len());
        let mut jobs = Vec::with_capacity(ready.len());
        for (index, job) in ready {
            match job.message.open().await {
                Ok(source) => {
                    items.push((job.envelope.clone(), source));
                    jobs.push((index, job));
                }
                Err(e) => Pending::new(index, job).report(&shared, 1, Err(e)).await,
            }
        }
        let results = if share.alone && items.len() == 1 {
            let (envelope, source) = items.pop().expect("one item");
            vec![shared.transport.send_and_close(&envelope, source).await]
        } else if items.is_empty() {
            vec![]
        } else {
            shared.transport.send_batch(items).await
        };
        drop(permit);
        let mut results = results.into_iter();
        for (index, job) in jobs {
            // One result per item is the contract; a missing one is a
            // message that never had its turn.
            let result = results.next().unwrap_or_else(|| {
                Err(Error::NotStarted {
                    cause: "the transport returned fewer results than messages".into(),
                })
            });
            let pending = Pending {
                index,
                job,
                started,
            };
            settle(&shared, pending, result, 1, share.alone).await;
        }
    }
}

/// A job taken from the feed, on its way to its one outcome.
struct Pending {
    index: u64,
    job: Job,
    /// When its first attempt started: `RetryPolicy::total` counts from here.
    started: Instant,
}

impl Pending {
    /// A job whose first attempt starts now.
    fn new(index: u64, job: Job) -> Pending {
        Pending {
            index,
            job,
            started: Instant::now(),
        }
    }

    /// Reports the job's outcome (with a retry time for a transient failure).
    async fn report(self, shared: &Shared, attempts: u32, result: Result<Delivery, Error>) {
        let retry_at = result
            .as_ref()
            .err()
            .and_then(|e| retry_at(shared, e, attempts));
        let Job { key, envelope, .. } = self.job;
        emit(
            shared,
            self.index,
            key,
            Some(envelope),
            attempts,
            result,
            retry_at,
        )
        .await;
    }
}

/// The wait before a failed message goes again, or `None` to report it.
/// A message that never had its turn goes again at once, without counting
/// an attempt; a retry allowed by the policy waits its backoff, recorded
/// now so that a "slow down" holds back every sender, not only the retry.
/// Each retry is logged at `info` with the message's key, the attempt that
/// failed, the reason and the wait; `RetryPolicy::total` stops a retry that
/// would start too late.
async fn again(
    shared: &Shared,
    pending: &Pending,
    error: &Error,
    attempt: u32,
) -> Option<Duration> {
    if shared.is_stopped() {
        return None;
    }
    let key = pending.job.key.as_str();
    if error.is_not_started() {
        tracing::info!(%key, reason = %error, "sending again at once (not started)");
        return Some(Duration::ZERO);
    }
    if !shared.pacing.policy.may_retry(error, attempt) {
        return None;
    }
    if let Some(total) = shared.pacing.policy.total {
        let least = shared.pacing.policy.delay(attempt, error.reply(), 0.0);
        if pending.started.elapsed() + least >= total {
            tracing::info!(
                %key,
                attempt,
                reason = %error,
                total = %human(total),
                "attempt {attempt} failed; not retrying: the next attempt would start after the total time limit"
            );
            return None;
        }
    }
    let wait = shared.pacing.hold(attempt, error.reply()).await;
    tracing::info!(
        %key,
        attempt,
        reason = %error,
        wait = %human(wait),
        "attempt {attempt} failed; retrying in {}",
        human(wait)
    );
    Some(wait)
}

/// `1.5s`, `250ms`: a wait as a person reads it.
fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Reports a result, or hands the job to a retry task.
async fn settle(
    shared: &Arc<Shared>,
    pending: Pending,
    result: Result<Delivery, Error>,
    attempt: u32,
    alone: bool,
) {
    let error = match result {
        Ok(d) => return pending.report(shared, attempt, Ok(d)).await,
        Err(e) => e,
    };
    match again(shared, &pending, &error, attempt).await {
        None => pending.report(shared, attempt, Err(error)).await,
        Some(wait) => {
            let shared = shared.clone();
            tokio::spawn(async move {
                retry(shared, pending, error, attempt, wait, alone).await;
            });
        }
    }
}

/// Waits, sends again, and repeats while the policy allows.
async fn retry(
    shared: Arc<Shared>,
    pending: Pending,
    mut error: Error,
    mut attempt: u32,
    mut wait: Duration,
    alone: bool,
) {
    loop {
        let permit = tokio::select! {
            biased;
            () = shared.stop_requested() => None,
            p = async {
                tokio::time::sleep(wait).await;
                shared.sends.clone().acquire_owned().await
            } => p.ok(),
        };
        let Some(permit) = permit else {
            return pending.report(&shared, attempt, Err(error)).await;
        };
        if !error.is_not_started() {
            attempt += 1;
        }
        shared.pacing.wait().await;
        let result = match pending.job.message.open().await {
            Ok(source) => shared.send_once(alone, &pending.job, source).await,
            Err(e) => Err(e),
        };
        drop(permit);
        error = match result {
            Ok(d) => return pending.report(&shared, attempt, Ok(d)).await,
            Err(e) => e,
        };
        match again(&shared, &pending, &error, attempt).await {
            Some(w) => wait = w,
            None => return pending.report(&shared, attempt, Err(error)).await,
        }
    }
}

/// When a transient failure is worth another try, for whoever keeps the
/// message (a queue).
fn retry_at(shared: &Shared, error: &Error, attempt: u32) -> Option<SystemTime> {
    error
        .is_transient()
        .then(|| SystemTime::now() + shared.pacing.policy.delay(attempt, error.reply(), 0.0))
}

/// Writes the outcome down (journal) and hands it over, at once.
async fn emit(
    shared: &Shared,
    index: u64,
    key: String,
    envelope: Option<crate::address::Envelope>,
    attempts: u32,
    result: Result<Delivery, Error>,
    retry_at: Option<SystemTime>,
) {
    let recorded = match &result {
        Ok(_) => Some(Recorded::Sent),
        Err(e) if e.is_unknown_outcome() => Some(Recorded::Unknown),
        Err(_) => None,
    };
    if let (Some(state), Some(journal)) = (recorded, &shared.journal) {
        if let Err(e) = journal.record(&key, state) {
            tracing::error!(journal = %journal.path().display(), error = %e, %key, "cannot write the journal");
        }
    }
    let counter = match &result {
        Ok(_) => &shared.counts.sent,
        Err(e) if e.is_unknown_outcome() => &shared.counts.unknown,
        Err(_) => &shared.counts.failed,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let _ = shared
        .out
        .send(Outcome {
            index,
            key,
            envelope,
            attempts,
            result,
            retry_at,
        })
        .await;
    shared.pending.add_permits(1);
}
