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
use tokio::sync::Semaphore;
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

/// What every sending task shares: the pacing, the outcome channel, and
/// the permits that keep sends to `--concurrency` at once, first attempts
/// and retries alike (a provider that allows one connection gets one).
#[derive(Clone)]
struct Senders {
    pacing: Arc<Pacing>,
    sends: Arc<Semaphore>,
    done: Finished,
}

impl Senders {
    /// Sends `job` alone through `route`, in its slot, holding a permit.
    async fn send(&self, route: &Route, job: &Job) -> Result<Delivery, smtp_core::Error> {
        let _permit = self.sends.acquire().await;
        self.pacing.wait().await;
        route.send(&job.envelope, job.source()).await
    }

    /// Turns a first attempt's result into the job's outcome, retrying as
    /// the pacing's policy allows, and reports it.
    async fn settle(
        &self,
        route: &Route,
        i: usize,
        job: Job,
        first: Result<Delivery, smtp_core::Error>,
    ) {
        let mut result = first;
        let mut attempt = 0u32;
        let outcome = loop {
            match result {
                Ok(d) => break sent(job.label, &d),
                Err(e) if self.pacing.may_retry(&e, attempt) => {
                    attempt += 1;
                    self.pacing.back_off(attempt, e.reply()).await;
                    result = self.send(route, &job).await;
                }
                Err(e) => break failed(job.label, &e),
            }
        };
        let _ = self.done.send((i, outcome));
    }
}

/// Sends every job over at most `concurrency` connections and returns one
/// outcome each, in input order.
pub async fn deliver(
    setup: &Setup,
    jobs: Vec<Job>,
    concurrency: usize,
    quiet: bool,
) -> Vec<Outcome> {
    let total = jobs.len();
    let labels: Vec<String> = jobs.iter().map(|j| j.label.clone()).collect();
    let progress = (total > 1 && !quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let (done, mut finished) = unbounded_channel();
    let senders = Senders {
        pacing: Arc::new(setup.rate.clone()),
        sends: Arc::new(Semaphore::new(concurrency.max(1))),
        done,
    };
    let queue: Queue = Arc::new(Mutex::new(jobs.into_iter().enumerate().collect()));
    let mut tasks = JoinSet::new();
    match &setup.dest {
        Dest::Smtp(t) if total == 1 => {
            spawn_each(&mut tasks, &queue, Route::OneShot(t.clone()), &senders);
        }
        Dest::Smtp(t) if !senders.pacing.is_rate_limited() => {
            let workers = concurrency.clamp(1, total.max(1));
            for _ in 0..workers {
                let batches = Batches {
                    transport: t.clone(),
                    queue: queue.clone(),
                    workers,
                    senders: senders.clone(),
                };
                tasks.spawn(batches.run());
            }
        }
        Dest::Smtp(t) => {
            let route = Route::Pooled(Arc::new(t.clone()));
            spawn_each(&mut tasks, &queue, route, &senders);
        }
        Dest::Outbox(f) => {
            let route = Route::Pooled(Arc::new(f.clone()));
            spawn_each(&mut tasks, &queue, route, &senders);
        }
    }
    // Every task (and every retry it spawns) holds a clone of the sender;
    // the channel closes when the last one is done or has panicked.
    drop(senders);
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
    // Still queued: no task ever took them, so nothing of them was sent.
    let untouched: Vec<usize> = queue
        .lock()
        .map(|q| q.iter().map(|(i, _)| *i).collect())
        .unwrap_or_default();
    outcomes
        .into_iter()
        .zip(labels)
        .enumerate()
        .map(|(i, (o, label))| o.unwrap_or_else(|| lost(label, untouched.contains(&i))))
        .collect()
}

/// What a job ends as when the task sending it failed: unknown if it had
/// been taken (it may have gone out), not sent if it never was.
fn lost(label: String, untouched: bool) -> Outcome {
    let (status, error, exit) = if untouched {
        (
            "failed-transient",
            "not sent: the sending tasks stopped before its turn",
            exit::TEMPFAIL,
        )
    } else {
        ("unknown", "the sending task panicked", exit::TEMPFAIL)
    };
    Outcome {
        message: label,
        status,
        accepted: vec![],
        rejected: vec![],
        reply: None,
        error: Some(error.into()),
        hint: None,
        hint_code: None,
        exit,
    }
}

/// One task per job, sending one at a time each.
fn spawn_each(tasks: &mut JoinSet<()>, queue: &Queue, route: Route, senders: &Senders) {
    let route = Arc::new(route);
    let jobs: Vec<(usize, Job)> = queue
        .lock()
        .map(|mut q| q.drain(..).collect())
        .unwrap_or_default();
    for (i, job) in jobs {
        let (route, senders) = (route.clone(), senders.clone());
        tasks.spawn(async move {
            let first = senders.send(&route, &job).await;
            senders.settle(&route, i, job, first).await;
        });
    }
}

/// One connection's worth of work: takes batches off the shared queue
/// until it is empty.
struct Batches {
    transport: SmtpTransport,
    queue: Queue,
    workers: usize,
    senders: Senders,
}

impl Batches {
    async fn run(self) {
        let retries = Arc::new(Route::Pooled(Arc::new(self.transport.clone())));
        loop {
            let permit = self.senders.sends.clone().acquire_owned().await;
            let batch = self.take();
            if batch.is_empty() {
                return;
            }
            // Honours a pause a rate-limiting server asked for.
            self.senders.pacing.wait().await;
            let items = batch
                .iter()
                .map(|(_, job)| (job.envelope.clone(), job.source()))
                .collect();
            let mut results = self.transport.send_batch(items).await.into_iter();
            drop(permit);
            for (i, job) in batch {
                // One result per item is the contract; a missing one is a
                // message that was not sent, so it is retried like one.
                let result = results
                    .next()
                    .unwrap_or(Err(smtp_core::Error::ConnectionClosed {
                        phase: Phase::Mail,
                    }));
                if let Ok(d) = &result {
                    let _ = self.senders.done.send((i, sent(job.label, d)));
                    continue;
                }
                // "Slow down" holds back this worker's next batch too, not
                // only the retry.
                if let Err(e) = &result {
                    if e.reply().is_some_and(smtp_core::is_rate_limited) {
                        self.senders.pacing.hold(1, e.reply()).await;
                    }
                }
                // Retries wait out their backoff on their own, so the rest
                // of the queue keeps moving meanwhile. A message that never
                // had its turn gets a first attempt of its own, not a retry.
                let (retries, senders) = (retries.clone(), self.senders.clone());
                tokio::spawn(async move {
                    let result = match result {
                        Err(e) if e.is_not_started() => senders.send(&retries, &job).await,
                        other => other,
                    };
                    senders.settle(&retries, i, job, result).await;
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
