//! One sender: takes shares of the jobs, sends each share as one batch
//! (or one by one under a rate limit), settles every result, and leaves
//! retries to tasks of their own so the rest keeps moving.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use tokio::sync::{Semaphore, mpsc, watch};

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
                emit(
                    &shared,
                    index,
                    job.key,
                    Some(job.envelope),
                    0,
                    Err(stopped_error()),
                    None,
                )
                .await;
            }
            return;
        }
        shared.pacing.wait().await;
        let mut items = Vec::with_capacity(ready.len());
        let mut jobs = Vec::with_capacity(ready.len());
        for (index, job) in ready {
            match job.message.open().await {
                Ok(source) => {
                    items.push((job.envelope.clone(), source));
                    jobs.push((index, job));
                }
                Err(e) => emit(&shared, index, job.key, Some(job.envelope), 1, Err(e), None).await,
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
            settle(&shared, index, job, result, 1, share.alone).await;
        }
    }
}

/// Reports a result, or hands the job to a retry task.
async fn settle(
    shared: &Arc<Shared>,
    index: u64,
    job: Job,
    result: Result<Delivery, Error>,
    attempt: u32,
    alone: bool,
) {
    let error = match result {
        Ok(d) => {
            return emit(
                shared,
                index,
                job.key,
                Some(job.envelope),
                attempt,
                Ok(d),
                None,
            )
            .await;
        }
        Err(e) => e,
    };
    if shared.is_stopped() && !error.is_not_started() {
        let retry_at = retry_at(shared, &error, attempt);
        return emit(
            shared,
            index,
            job.key,
            Some(job.envelope),
            attempt,
            Err(error),
            retry_at,
        )
        .await;
    }
    let wait = if error.is_not_started() {
        // Nothing of it was accepted: again at once, and it does not
        // count as an attempt.
        Duration::ZERO
    } else if shared.pacing.policy.may_retry(&error, attempt) {
        // Recorded now: a "slow down" reply holds back this sender's
        // next batch too, not only the retry.
        shared.pacing.hold(attempt, error.reply()).await
    } else {
        let retry_at = retry_at(shared, &error, attempt);
        return emit(
            shared,
            index,
            job.key,
            Some(job.envelope),
            attempt,
            Err(error),
            retry_at,
        )
        .await;
    };
    let shared = shared.clone();
    tokio::spawn(async move {
        retry(shared, index, job, error, attempt, wait, alone).await;
    });
}

/// Waits, sends again, and repeats while the policy allows.
async fn retry(
    shared: Arc<Shared>,
    index: u64,
    job: Job,
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
            let at = SystemTime::now() + wait;
            let retry_at = error.is_transient().then_some(at);
            return emit(
                &shared,
                index,
                job.key,
                Some(job.envelope),
                attempt,
                Err(error),
                retry_at,
            )
            .await;
        };
        if !error.is_not_started() {
            attempt += 1;
        }
        shared.pacing.wait().await;
        let result = match job.message.open().await {
            Ok(source) => shared.send_once(alone, &job, source).await,
            Err(e) => Err(e),
        };
        drop(permit);
        error = match result {
            Ok(d) => {
                return emit(
                    &shared,
                    index,
                    job.key,
                    Some(job.envelope),
                    attempt,
                    Ok(d),
                    None,
                )
                .await;
            }
            Err(e) => e,
        };
        let again = !shared.is_stopped()
            && (error.is_not_started() || shared.pacing.policy.may_retry(&error, attempt));
        if !again {
            let retry_at = retry_at(&shared, &error, attempt);
            return emit(
                &shared,
                index,
                job.key,
                Some(job.envelope),
                attempt,
                Err(error),
                retry_at,
            )
            .await;
        }
        wait = if error.is_not_started() {
            Duration::ZERO
        } else {
            shared.pacing.hold(attempt, error.reply()).await
        };
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
