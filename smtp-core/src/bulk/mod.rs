//! Sending many messages over any [`Transport`]: concurrency, pipelined
//! batches, a rate limit, retries with backoff and jitter, pauses when a
//! server says "slow down", and a [`Journal`] to resume an interrupted
//! run. Outcomes arrive as each message completes, each exactly once.
//!
//! Jobs are pulled from an iterator as the senders need them and only a
//! bounded number are taken at a time, so a million recipients streamed
//! from a file take no more memory than a hundred.
//!
//! ```
//! use std::sync::Arc;
//! use smtp_core::bulk::{BulkSender, InvalidJob, Job};
//! use smtp_core::{Address, Envelope, Error, MemoryTransport};
//!
//! fn job(rcpt: &str) -> Result<Job, Error> {
//!     let envelope = Envelope::new(
//!         Some(Address::new("app@example.com")?),
//!         vec![Address::new(rcpt)?],
//!     )?;
//!     let message = format!("To: {rcpt}\r\nSubject: hi\r\n\r\nHello.\r\n").into_bytes();
//!     Ok(Job::new(rcpt, envelope, message))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let transport = Arc::new(MemoryTransport::new());
//! // A job that cannot be built is reported as failed; the others go.
//! let jobs = ["a@example.com", "b@example.com"]
//!     .into_iter()
//!     .map(|rcpt| job(rcpt).map_err(|e| InvalidJob::new(rcpt, e)));
//! let mut run = BulkSender::new(transport.clone()).concurrency(2).start(jobs);
//! while let Some(outcome) = run.next().await {
//!     println!("{}: {}", outcome.key, if outcome.result.is_ok() { "sent" } else { "failed" });
//! }
//! let summary = run.finish().await;
//! assert_eq!(summary.sent, 2);
//! assert_eq!(transport.messages().len(), 2);
//! # }
//! ```

mod feed;
mod journal;
mod pacing;
mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use tokio::sync::{Semaphore, mpsc, watch};

use crate::address::Envelope;
use crate::delivery::Delivery;
use crate::error::Error;
use crate::message::Message;
use crate::transport::Transport;

pub use journal::{Journal, Recorded};
pub use pacing::{RetryPolicy, requested_delay};

/// One message to send: a key that names it in outcomes and the journal
/// (a recipient, a file name), its envelope, and its content.
#[derive(Clone)]
pub struct Job {
    /// Names the message in outcomes and in the journal; unique per run.
    pub key: String,
    /// Sender and recipients.
    pub envelope: Envelope,
    /// The content, opened again for each attempt.
    pub message: Arc<dyn Message>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("key", &self.key)
            .field("envelope", &self.envelope)
            .finish_non_exhaustive()
    }
}

impl Job {
    /// A job from its parts.
    pub fn new(key: impl Into<String>, envelope: Envelope, message: impl Message + 'static) -> Job {
        Job {
            key: key.into(),
            envelope,
            message: Arc::new(message),
        }
    }
}

/// How one message ended. Each job gets exactly one.
#[derive(Debug)]
pub struct Outcome {
    /// The job's position in the input, from 0.
    pub index: u64,
    /// The job's key.
    pub key: String,
    /// The job's envelope (`None` when the job could not be built).
    pub envelope: Option<Envelope>,
    /// Attempts made (0 when the job could not even be built).
    pub attempts: u32,
    /// What happened on the last attempt.
    pub result: Result<Delivery, Error>,
    /// For a transient failure: when another attempt makes sense (a
    /// queue can schedule it).
    pub retry_at: Option<SystemTime>,
}

/// What a bulk run did, once it is over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Accepted by the server (perhaps not for every recipient).
    pub sent: u64,
    /// Failed for good, or for now after the last attempt.
    pub failed: u64,
    /// The connection broke after the end of data.
    pub unknown: u64,
    /// Not sent because the journal says an earlier run sent them.
    pub skipped: u64,
    /// The run was stopped ([`StopHandle::stop`]) before the input ran
    /// out: jobs after the last outcome were never taken.
    pub stopped: bool,
}

/// A job that could not be built (a bad address in a list, say): it is
/// reported as failed, and the others go on.
#[derive(Debug)]
pub struct InvalidJob {
    /// The job's key.
    pub key: String,
    /// Why it could not be built.
    pub error: Error,
}

impl InvalidJob {
    /// A job named `key` that failed with `error`.
    pub fn new(key: impl Into<String>, error: Error) -> InvalidJob {
        InvalidJob {
            key: key.into(),
            error,
        }
    }
}

/// Stops a running bulk send: no new job is taken, messages in flight
/// finish (or are reported), retries waiting for their turn are reported
/// as failed with their `retry_at`.
#[derive(Debug, Clone)]
pub struct StopHandle(Arc<watch::Sender<bool>>);

impl StopHandle {
    /// Asks the run to stop.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }

    /// True once [`StopHandle::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }
}

/// Sends a stream of [`Job`]s: a builder, then [`BulkSender::start`].
pub struct BulkSender {
    transport: Arc<dyn Transport>,
    concurrency: usize,
    batch_size: usize,
    interval: Option<Duration>,
    retry: RetryPolicy,
    journal: Option<Arc<Journal>>,
}

impl BulkSender {
    /// A sender over `transport`: one connection, batches of up to 100,
    /// no rate limit, [`RetryPolicy::default`].
    pub fn new(transport: Arc<dyn Transport>) -> BulkSender {
        BulkSender {
            transport,
            concurrency: 1,
            batch_size: 100,
            interval: None,
            retry: RetryPolicy::default(),
            journal: None,
        }
    }

    /// Sends at most `n` messages (first attempts and retries alike) at
    /// once, each sender over its own connection.
    pub fn concurrency(mut self, n: usize) -> BulkSender {
        self.concurrency = n.max(1);
        self
    }

    /// The longest batch one sender hands the transport at once (a
    /// pipelined batch over one connection for [`SmtpTransport`]).
    ///
    /// [`SmtpTransport`]: crate::SmtpTransport
    pub fn batch_size(mut self, n: usize) -> BulkSender {
        self.batch_size = n.max(1);
        self
    }

    /// At most one message per `interval`; messages then go one at a
    /// time, each in its slot. `None`: as fast as the server takes them.
    pub fn rate_limit(mut self, interval: Option<Duration>) -> BulkSender {
        self.interval = interval.filter(|i| !i.is_zero());
        self
    }

    /// Which failures are retried, and when.
    pub fn retry(mut self, policy: RetryPolicy) -> BulkSender {
        self.retry = policy;
        self
    }

    /// Records every accepted message (and every unknown outcome) and
    /// skips the jobs an earlier run with the same journal got accepted;
    /// unknown outcomes are sent again only when the retry policy allows
    /// retrying them.
    pub fn journal(mut self, journal: Journal) -> BulkSender {
        self.journal = Some(Arc::new(journal));
        self
    }

    /// Starts sending; outcomes arrive through [`Running::next`]. Must be
    /// called inside a tokio runtime.
    pub fn start<I>(self, jobs: I) -> Running
    where
        I: IntoIterator<Item = Result<Job, InvalidJob>>,
        I::IntoIter: Send + 'static,
    {
        let (tx, rx) = mpsc::channel(256);
        let (stop, stopped) = watch::channel(false);
        let counts = Arc::new(Counts::default());
        // Taken but not finished (sending, or waiting to retry): bounds
        // memory whatever the input's length.
        let window = (self.concurrency * self.batch_size * 2).max(64);
        let shared = Arc::new(worker::Shared {
            transport: self.transport.clone(),
            feed: feed::Feed::new(
                Box::new(jobs.into_iter()),
                self.concurrency,
                self.batch_size,
                self.journal.clone(),
                self.retry.unknown_outcome,
            ),
            pending: Arc::new(Semaphore::new(window)),
            sends: Arc::new(Semaphore::new(self.concurrency)),
            pacing: pacing::Pacing::new(self.interval, self.retry),
            journal: self.journal,
            counts: counts.clone(),
            stopped,
            out: tx,
        });
        for _ in 0..self.concurrency {
            tokio::spawn(worker::run(shared.clone()));
        }
        Running {
            outcomes: rx,
            stop: StopHandle(Arc::new(stop)),
            counts,
            transport: self.transport,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counts {
    sent: AtomicU64,
    failed: AtomicU64,
    unknown: AtomicU64,
    skipped: AtomicU64,
}

/// A bulk send under way.
pub struct Running {
    outcomes: mpsc::Receiver<Outcome>,
    stop: StopHandle,
    counts: Arc<Counts>,
    transport: Arc<dyn Transport>,
}

impl Running {
    /// The next outcome, as soon as a message completes; `None` when every
    /// job has its outcome (idle connections are then closed).
    pub async fn next(&mut self) -> Option<Outcome> {
        let next = self.outcomes.recv().await;
        if next.is_none() {
            self.transport.close().await;
        }
        next
    }

    /// A handle that stops the run (from a signal handler, say).
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Waits for the remaining outcomes (dropping them) and returns the
    /// counts.
    pub async fn finish(mut self) -> Summary {
        while self.next().await.is_some() {}
        Summary {
            sent: self.counts.sent.load(Ordering::Relaxed),
            failed: self.counts.failed.load(Ordering::Relaxed),
            unknown: self.counts.unknown.load(Ordering::Relaxed),
            skipped: self.counts.skipped.load(Ordering::Relaxed),
            stopped: self.stop.is_stopped(),
        }
    }
}
