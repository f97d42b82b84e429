//! Delivering the queue: every due message goes through the library's
//! bulk sender over any [`Transport`]; each outcome updates the spool the
//! moment it is known and is reported as a [`Event`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use smtp_core::bulk::{BulkSender, Job, RetryPolicy, StopHandle};
use smtp_core::{Delivery, Message, MessageSource, Transport};

use crate::entry::{Entry, State, now, unix};
use crate::error::Error;
use crate::spool::{Claim, Queue};

/// How a flush behaves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FlushOptions {
    /// Also send messages not yet due (`smtp queue flush`); a runner
    /// (`smtp queue run`) waits for each one's time.
    pub ignore_schedule: bool,
    /// Send messages whose outcome is unknown again (they may then arrive
    /// twice).
    pub retry_unknown: bool,
    /// Messages queued longer fail as expired instead of being sent.
    pub max_age: Duration,
    /// The wait after a first failed attempt; it doubles with each one
    /// (at least what the server asks for, at most an hour).
    pub backoff: Duration,
    /// Connections at once.
    pub concurrency: usize,
    /// At most one message per this interval.
    pub rate_limit: Option<Duration>,
    /// Only these ids (all when `None`).
    pub only: Option<std::collections::HashSet<String>>,
}

impl Default for FlushOptions {
    fn default() -> FlushOptions {
        FlushOptions {
            ignore_schedule: false,
            retry_unknown: false,
            max_age: Duration::from_secs(5 * 24 * 3600),
            backoff: Duration::from_secs(60),
            concurrency: 1,
            rate_limit: None,
            only: None,
        }
    }
}

/// What happened to one queued message.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// The server accepted it; it left the queue.
    Sent {
        /// The entry as it was.
        entry: Entry,
        /// The server's answer.
        delivery: Delivery,
    },
    /// A transient failure: it stays queued until `entry.next_attempt`.
    Deferred {
        /// The entry, updated.
        entry: Entry,
        /// Why.
        error: smtp_core::Error,
    },
    /// Refused for good: kept as `failed` for the operator.
    Failed {
        /// The entry, updated.
        entry: Entry,
        /// Why.
        error: smtp_core::Error,
    },
    /// The outcome is unknown (connection lost after the end of data, or
    /// a sender that died mid-attempt); kept as `unknown`.
    Unknown {
        /// The entry, updated.
        entry: Entry,
        /// What happened.
        detail: String,
    },
    /// Queued longer than `max_age`: kept as `failed`, not sent.
    Expired {
        /// The entry, updated.
        entry: Entry,
    },
    /// A metadata file that cannot be read: reported, skipped, kept.
    Corrupt {
        /// What is wrong.
        error: Error,
    },
}

/// Counts of one flush.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlushReport {
    /// Accepted by the server.
    pub sent: u64,
    /// Deferred after a transient failure.
    pub deferred: u64,
    /// Refused or expired.
    pub failed: u64,
    /// Outcome unknown.
    pub unknown: u64,
    /// Unreadable metadata files.
    pub corrupt: u64,
    /// Due but being sent by another process.
    pub busy: u64,
    /// Still in the queue afterwards (any state).
    pub remaining: u64,
    /// The earliest `next_attempt` of what is still queued (unix seconds).
    pub next_due: Option<u64>,
}

/// A claimed message as the bulk sender sees it: opening it for an
/// attempt first records the attempt (state `sending`), so a crash during
/// the attempt is found as an unknown outcome, never sent twice.
struct Queued {
    queue: Queue,
    claim: Mutex<Option<Claim>>,
}

#[async_trait]
impl Message for Queued {
    async fn open(&self) -> Result<MessageSource, smtp_core::Error> {
        let id = {
            let mut guard = self.claim.lock().unwrap_or_else(|p| p.into_inner());
            let claim = guard.as_mut().ok_or_else(|| {
                smtp_core::Error::Message(std::io::Error::other("the queued message was released"))
            })?;
            self.queue
                .update(claim, |e| {
                    e.state = State::Sending;
                    e.attempts += 1;
                    e.last_attempt = Some(now());
                })
                .map_err(|e| smtp_core::Error::Message(std::io::Error::other(e.to_string())))?;
            claim.entry.id.clone()
        };
        MessageSource::from_file(self.queue.message_path(&id))
            .await
            .map_err(smtp_core::Error::Message)
    }
}

impl Queue {
    /// Sends what is due over `transport` and calls `on_event` for each
    /// message the moment its outcome is known. `stop` (optional) ends the
    /// flush early: no new message is taken, those in flight finish.
    pub async fn flush(
        &self,
        transport: Arc<dyn Transport>,
        options: &FlushOptions,
        stop: Option<&mut Option<StopHandle>>,
        mut on_event: impl FnMut(Event),
    ) -> Result<FlushReport, Error> {
        let mut report = FlushReport::default();
        // Named messages are read alone: a send through the decorator
        // does not read the whole queue.
        let listing = match &options.only {
            Some(ids) => {
                let mut l = crate::spool::Listing::default();
                for id in ids {
                    match self.get(id) {
                        Ok(e) => l.entries.push(e),
                        Err(Error::NotFound { .. }) => {}
                        Err(e) => l.corrupt.push(e),
                    }
                }
                l.entries
                    .sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
                l
            }
            None => self.list()?,
        };
        for error in listing.corrupt {
            report.corrupt += 1;
            on_event(Event::Corrupt { error });
        }
        let mut jobs = Vec::new();
        let mut claimed: HashMap<String, Arc<Queued>> = HashMap::new();
        for entry in listing.entries {
            if options
                .only
                .as_ref()
                .is_some_and(|ids| !ids.contains(&entry.id))
            {
                continue;
            }
            let wanted = match entry.state {
                State::Queued => options.ignore_schedule || entry.next_attempt <= now(),
                State::Sending => true, // a sender died mid-attempt: settled below
                State::Unknown => options.retry_unknown,
                State::Held | State::Failed => false,
            };
            if !wanted {
                continue;
            }
            let Some(mut claim) = self.claim(&entry.id)? else {
                report.busy += 1;
                continue;
            };
            let e = &claim.entry;
            if e.state == State::Sending {
                self.update(&mut claim, |e| {
                    e.state = State::Unknown;
                    e.last_error = Some(
                        "the sender stopped during an attempt: it may have been delivered".into(),
                    );
                })?;
                report.unknown += 1;
                on_event(Event::Unknown {
                    entry: claim.entry.clone(),
                    detail: "the sender stopped during an attempt".into(),
                });
                continue;
            }
            if e.age() > options.max_age {
                let max_age = humantime::format_duration(options.max_age).to_string();
                self.update(&mut claim, |e| {
                    e.state = State::Failed;
                    e.last_error = Some(format!(
                        "expired: queued longer than the maximum age of {max_age}"
                    ));
                })?;
                report.failed += 1;
                on_event(Event::Expired {
                    entry: claim.entry.clone(),
                });
                continue;
            }
            let envelope = match e.envelope() {
                Ok(env) => env,
                Err(err) => {
                    self.update(&mut claim, |e| {
                        e.state = State::Failed;
                        e.last_error = Some(err.to_string());
                    })?;
                    report.failed += 1;
                    on_event(Event::Failed {
                        entry: claim.entry.clone(),
                        error: err,
                    });
                    continue;
                }
            };
            let id = e.id.clone();
            let queued = Arc::new(Queued {
                queue: self.clone(),
                claim: Mutex::new(Some(claim)),
            });
            claimed.insert(id.clone(), queued.clone());
            jobs.push(Ok(Job {
                key: id,
                envelope,
                message: queued,
            }));
        }
        let sender = BulkSender::new(transport)
            .concurrency(options.concurrency)
            // Small batches: a message counts as `sending` from the moment
            // its batch is opened, and a crash makes those `unknown`.
            .batch_size(10)
            .rate_limit(options.rate_limit)
            // The queue is the retry: one attempt per flush.
            .retry(RetryPolicy::never());
        let mut run = sender.start(jobs);
        if let Some(slot) = stop {
            *slot = Some(run.stop_handle());
        }
        let policy = RetryPolicy::default().backoff(options.backoff);
        while let Some(outcome) = run.next().await {
            let Some(queued) = claimed.remove(&outcome.key) else {
                continue;
            };
            let Some(mut claim) = queued.claim.lock().ok().and_then(|mut c| c.take()) else {
                continue;
            };
            match outcome.result {
                Ok(delivery) => {
                    let entry = claim.entry.clone();
                    self.delete(claim)?;
                    report.sent += 1;
                    on_event(Event::Sent { entry, delivery });
                }
                Err(error) if error.is_unknown_outcome() => {
                    self.update(&mut claim, |e| {
                        e.state = State::Unknown;
                        e.last_error = Some(error.to_string());
                    })?;
                    report.unknown += 1;
                    on_event(Event::Unknown {
                        entry: claim.entry.clone(),
                        detail: error.to_string(),
                    });
                }
                Err(error) if error.is_transient() => {
                    let wait = policy.delay(claim.entry.attempts.max(1), error.reply(), 0.0);
                    let retry_at = outcome
                        .retry_at
                        .map(unix)
                        .unwrap_or(0)
                        .max(now() + wait.as_secs());
                    self.update(&mut claim, |e| {
                        e.state = State::Queued;
                        e.next_attempt = retry_at;
                        e.last_error = Some(error.to_string());
                    })?;
                    report.deferred += 1;
                    on_event(Event::Deferred {
                        entry: claim.entry.clone(),
                        error,
                    });
                }
                Err(error) => {
                    self.update(&mut claim, |e| {
                        e.state = State::Failed;
                        e.last_error = Some(error.to_string());
                    })?;
                    report.failed += 1;
                    on_event(Event::Failed {
                        entry: claim.entry.clone(),
                        error,
                    });
                }
            }
        }
        let after = self.list()?;
        report.remaining = after.entries.len() as u64;
        report.next_due = after
            .entries
            .iter()
            .filter(|e| e.state == State::Queued)
            .map(|e| e.next_attempt)
            .min();
        Ok(report)
    }
}
