//! Getting jobs to the server: each ends as exactly one [`Outcome`].
//!
//! Bulk sends without a rate limit go in pipelined batches, one batch per
//! connection at a time ([`SmtpTransport::send_batch`]): the next message
//! rides behind the previous one's end of data, or with CHUNKING a window
//! of messages is in flight, instead of two round trips per message. A
//! rate limit spaces messages one by one instead; a lone message closes its
//! connection with `QUIT` in the same write as its end of data.

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use smtp_core::{Delivery, Envelope, MessageSource, Phase, SmtpTransport, Transport};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::JoinSet;

use crate::exit;
use crate::setup::{self, Dest, Pacing, Setup};

/// One message to send.
pub struct Job {
    pub label: String,
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
}

impl Job {
    fn source(&self) -> MessageSource {
        MessageSource::from_bytes(self.bytes.clone())
    }
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

/// The longest batch a connection takes at once. Each batch's end costs a
/// round trip (nothing rides behind its last message), so batches are
/// long; but a connection that is slower than the others must not hold
/// much of the list, so they are not too long either. The engine keeps
/// `pool.pipeline_window` of a batch in flight, and a batch never carries
/// a connection past `pool.max_messages_per_connection`.
const BATCH_CAP: usize = 100;

type Finished = UnboundedSender<(usize, Outcome)>;
type Queue = Arc<Mutex<VecDeque<(usize, Job)>>>;

/// Sends every job over at most `concurrency` connections and returns one
/// outcome each, in input order.
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
    let pacing = Arc::new(setup.rate.clone());
    let (done, mut finished) = unbounded_channel();
    let mut tasks = JoinSet::new();
    match &setup.dest {
        Dest::Smtp(t) if total == 1 => {
            let route = Arc::new(Route::OneShot(t.clone()));
            spawn_each(&mut tasks, jobs, route, &pacing, &done, 1);
        }
        Dest::Smtp(t) if !pacing.is_rate_limited() => {
            let queue: Queue = Arc::new(Mutex::new(jobs.into_iter().enumerate().collect()));
            let workers = concurrency.clamp(1, total.max(1));
            for _ in 0..workers {
                let batches = Batches {
                    transport: t.clone(),
                    queue: queue.clone(),
                    workers,
                    pacing: pacing.clone(),
                    done: done.clone(),
                };
                tasks.spawn(batches.run());
            }
        }
        Dest::Smtp(t) => {
            let route = Arc::new(Route::Pooled(Arc::new(t.clone())));
            spawn_each(&mut tasks, jobs, route, &pacing, &done, concurrency);
        }
        Dest::Outbox(f) => {
            let route = Arc::new(Route::Pooled(Arc::new(f.clone())));
            spawn_each(&mut tasks, jobs, route, &pacing, &done, concurrency);
        }
    }
    // Every sender (tasks and the retries they spawn) holds a clone; the
    // channel closes when the last one is done or has panicked.
    drop(done);
    let mut outcomes: Vec<Option<Outcome>> = (0..total).map(|_| None).collect();
    while let Some((i, outcome)) = finished.recv().await {
        if let Some(bar) = &progress {
            bar.inc(1);
            bar.set_message(outcome.status);
        }
        outcomes[i] = Some(outcome);
    }
    while tasks.join_next().await.is_some() {}
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Dest::Smtp(t) = &setup.dest {
        t.close().await;
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(lost))
        .collect()
}

/// What a job whose task panicked ends as: unknown, never silently gone.
fn lost() -> Outcome {
    Outcome {
        message: "?".into(),
        status: "unknown",
        accepted: vec![],
        rejected: vec![],
        reply: None,
        error: Some("the sending task panicked".into()),
        hint: None,
        hint_code: None,
        exit: exit::TEMPFAIL,
    }
}

/// One task per job, `concurrency` sending at once.
fn spawn_each(
    tasks: &mut JoinSet<()>,
    jobs: Vec<Job>,
    route: Arc<Route>,
    pacing: &Arc<Pacing>,
    done: &Finished,
    concurrency: usize,
) {
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    for (i, job) in jobs.into_iter().enumerate() {
        let (route, permits, pacing, done) =
            (route.clone(), permits.clone(), pacing.clone(), done.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            pacing.wait().await;
            let first = route.send(&job.envelope, job.source()).await;
            let _ = done.send((i, settle(&route, &pacing, job, first).await));
        });
    }
}

/// One connection's worth of work: takes batches off the shared queue
/// until it is empty.
struct Batches {
    transport: SmtpTransport,
    queue: Queue,
    workers: usize,
    pacing: Arc<Pacing>,
    done: Finished,
}

impl Batches {
    async fn run(self) {
        let retries = Arc::new(Route::Pooled(Arc::new(self.transport.clone())));
        loop {
            let batch = self.take();
            if batch.is_empty() {
                return;
            }
            // Honours a pause a rate-limiting server asked for.
            self.pacing.wait().await;
            let items = batch
                .iter()
                .map(|(_, job)| (job.envelope.clone(), job.source()))
                .collect();
            let mut results = self.transport.send_batch(items).await.into_iter();
            for (i, job) in batch {
                // One result per item is the contract; a missing one is a
                // message that was not sent, so it is retried like one.
                let result = results
                    .next()
                    .unwrap_or(Err(smtp_core::Error::ConnectionClosed {
                        phase: Phase::Mail,
                    }));
                if let Ok(d) = &result {
                    let _ = self.done.send((i, sent(job.label, d)));
                    continue;
                }
                // Retries wait out their backoff on their own, so the rest
                // of the queue keeps moving meanwhile. A message that never
                // had its turn gets a first attempt of its own, not a retry.
                let (retries, pacing, done) =
                    (retries.clone(), self.pacing.clone(), self.done.clone());
                tokio::spawn(async move {
                    let result = match result {
                        Err(e) if e.is_not_started() => {
                            pacing.wait().await;
                            retries.send(&job.envelope, job.source()).await
                        }
                        other => other,
                    };
                    let _ = done.send((i, settle(&retries, &pacing, job, result).await));
                });
            }
        }
    }

    /// The next batch: an even share of what is left across the
    /// connections, at least one message and at most [`BATCH_CAP`].
    fn take(&self) -> Vec<(usize, Job)> {
        let Ok(mut queue) = self.queue.lock() else {
            return vec![];
        };
        let share = queue.len().div_ceil(self.workers).clamp(1, BATCH_CAP);
        let n = share.min(queue.len());
        queue.drain(..n).collect()
    }
}

/// How messages go out one at a time.
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

/// Turns a first attempt's result into the job's outcome, retrying as the
/// pacing's policy allows.
async fn settle(
    route: &Route,
    pacing: &Pacing,
    job: Job,
    mut result: Result<Delivery, smtp_core::Error>,
) -> Outcome {
    let mut attempt = 0u32;
    loop {
        match result {
            Ok(d) => return sent(job.label, &d),
            Err(e) if pacing.may_retry(&e, attempt) => {
                attempt += 1;
                pacing.back_off(attempt, e.reply()).await;
                pacing.wait().await;
                result = route.send(&job.envelope, job.source()).await;
            }
            Err(e) => return failed(job.label, &e),
        }
    }
}

fn sent(label: String, d: &Delivery) -> Outcome {
    // Sent, but a refused recipient still fails the run: a script must
    // not mistake a typo'd address for success.
    let exit = if d.rejected.iter().any(|r| r.reply.is_transient()) {
        exit::TEMPFAIL
    } else if d.rejected.is_empty() {
        exit::OK
    } else {
        exit::PERMANENT
    };
    Outcome {
        message: label,
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
    }
}

fn failed(label: String, e: &smtp_core::Error) -> Outcome {
    let status = if e.is_unknown_outcome() {
        "unknown"
    } else if e.is_transient() {
        "failed-transient"
    } else {
        "failed-permanent"
    };
    let rejected = match e {
        smtp_core::Error::NoRecipientsAccepted { rejected } => rejected
            .iter()
            .map(|r| Rejected {
                recipient: r.recipient.to_string(),
                reply: r.reply.to_string(),
            })
            .collect(),
        _ => vec![],
    };
    let hint = setup::coded_hint(e);
    Outcome {
        message: label,
        status,
        accepted: vec![],
        rejected,
        reply: e.reply().map(|r| r.to_string()),
        error: Some(setup::describe(e)),
        hint: hint.as_ref().map(|h| h.text.to_string()),
        hint_code: hint.map(|h| h.code),
        exit: exit::code_for(e),
    }
}
