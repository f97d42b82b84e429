//! The library bulk sender (smtp_core::bulk) over transports whose
//! answers the test decides: every job gets exactly one outcome, as it
//! completes; retries follow the policy; a "slow down" pauses every
//! sender; the journal resumes a stopped run without sending twice; the
//! input is pulled lazily. (Delivery to real servers is covered by the
//! CLI's bulk tests against Postfix.)

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use smtp_core::bulk::{BulkSender, InvalidJob, Job, Journal, RetryPolicy};
use smtp_core::{
    Address, Delivery, Envelope, Error, MemoryTransport, MessageSource, Phase, Reply, Transport,
};

fn job(rcpt: &str) -> Result<Job, InvalidJob> {
    let envelope = Envelope::new(
        Some(Address::new("app@example.test").unwrap()),
        vec![Address::new(rcpt).unwrap()],
    )
    .unwrap();
    Ok(Job::new(
        rcpt,
        envelope,
        format!("To: {rcpt}\r\n\r\nhi\r\n").into_bytes(),
    ))
}

fn rcpts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("r{i}@example.test")).collect()
}

fn fast_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .attempts(attempts)
        .backoff(Duration::from_millis(1))
        .jitter(false)
}

fn delivered(envelope: &Envelope) -> Delivery {
    Delivery::to_all(
        envelope,
        Reply::new(250, "ok"),
        Reply::new(250, "2.0.0 queued"),
    )
}

/// Answers each recipient from a script of replies (then 250), counting
/// what it accepted.
#[derive(Default)]
struct Scripted {
    replies: Mutex<HashMap<String, Vec<u16>>>,
    accepted: Mutex<Vec<String>>,
    calls: AtomicUsize,
    batches: Mutex<Vec<usize>>,
}

impl Scripted {
    fn fail(self, rcpt: &str, codes: &[u16]) -> Scripted {
        self.replies
            .lock()
            .unwrap()
            .insert(rcpt.to_string(), codes.to_vec());
        self
    }
}

#[async_trait]
impl Transport for Scripted {
    async fn send(&self, envelope: &Envelope, message: MessageSource) -> Result<Delivery, Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        message.read_to_end().await.map_err(Error::Message)?;
        let rcpt = envelope.to()[0].to_string();
        let code = {
            let mut replies = self.replies.lock().unwrap();
            match replies.get_mut(&rcpt) {
                Some(codes) if !codes.is_empty() => codes.remove(0),
                _ => 250,
            }
        };
        match code {
            250 => {
                self.accepted.lock().unwrap().push(rcpt);
                Ok(delivered(envelope))
            }
            0 => Err(Error::UnknownOutcome {
                detail: "connection lost after the end of data".into(),
            }),
            code => Err(Error::Rejected {
                phase: Phase::Data,
                reply: Reply::new(code, "scripted"),
            }),
        }
    }

    async fn send_batch(
        &self,
        items: Vec<(Envelope, MessageSource)>,
    ) -> Vec<Result<Delivery, Error>> {
        self.batches.lock().unwrap().push(items.len());
        let mut out = Vec::new();
        for (e, m) in items {
            out.push(self.send(&e, m).await);
        }
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_gets_exactly_one_outcome_with_its_attempts() {
    let list = rcpts(500);
    let mut t = Scripted::default();
    for (i, r) in list.iter().enumerate() {
        t = match i % 10 {
            1 => t.fail(r, &[451]),      // sent on the second attempt
            2 => t.fail(r, &[451, 421]), // sent on the third
            3 => t.fail(r, &[550]),      // permanent: one attempt
            4 => t.fail(r, &[451; 5]),   // transient after every attempt
            _ => t,
        };
    }
    let t = Arc::new(t);
    let jobs: Vec<_> = list.iter().map(|r| job(r)).collect();
    let mut run = BulkSender::new(t.clone())
        .concurrency(4)
        .batch_size(7)
        .retry(fast_retries(3))
        .start(jobs);
    let mut seen = HashMap::new();
    while let Some(o) = run.next().await {
        assert!(seen.insert(o.key.clone(), o).is_none(), "two outcomes");
    }
    let summary = run.finish().await;
    assert_eq!(seen.len(), 500);
    for (i, r) in list.iter().enumerate() {
        let o = &seen[r];
        assert_eq!(o.index, i as u64);
        let (ok, attempts) = match i % 10 {
            1 => (true, 2),
            2 => (true, 3),
            3 => (false, 1),
            4 => (false, 3),
            _ => (true, 1),
        };
        assert_eq!(o.result.is_ok(), ok, "{r}: {:?}", o.result);
        assert_eq!(o.attempts, attempts, "{r}");
        assert_eq!(
            o.retry_at.is_some(),
            i % 10 == 4,
            "{r}: only transient failures get a retry time"
        );
    }
    assert_eq!(summary.sent, 400);
    assert_eq!(summary.failed, 100);
    let accepted = t.accepted.lock().unwrap().clone();
    let unique: HashSet<_> = accepted.iter().collect();
    assert_eq!(accepted.len(), 400, "nothing delivered twice");
    assert_eq!(unique.len(), 400);
    assert!(t.batches.lock().unwrap().iter().all(|&n| n <= 7));
}

/// Blocks every send of one recipient until released.
struct Gate {
    held: String,
    open: tokio::sync::Notify,
}

#[async_trait]
impl Transport for Gate {
    async fn send(&self, envelope: &Envelope, _m: MessageSource) -> Result<Delivery, Error> {
        if envelope.to()[0].as_str() == self.held {
            self.open.notified().await;
        }
        Ok(delivered(envelope))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_arrive_as_each_message_completes_not_at_the_end() {
    let gate = Arc::new(Gate {
        held: "slow@example.test".into(),
        open: tokio::sync::Notify::new(),
    });
    let jobs = vec![job("slow@example.test"), job("fast@example.test")];
    let mut run = BulkSender::new(gate.clone())
        .concurrency(2)
        .batch_size(1)
        .start(jobs);
    let first = tokio::time::timeout(Duration::from_secs(10), run.next())
        .await
        .expect("the fast message's outcome comes while the slow one is still going")
        .unwrap();
    assert_eq!(first.key, "fast@example.test");
    gate.open.notify_one();
    let second = run.next().await.unwrap();
    assert_eq!(second.key, "slow@example.test");
    assert!(run.next().await.is_none());
}

#[tokio::test(flavor = "current_thread")]
async fn an_unknown_outcome_is_resent_only_when_the_policy_says_so() {
    for resend in [false, true] {
        let t = Arc::new(Scripted::default().fail("u@example.test", &[0]));
        let run = BulkSender::new(t.clone())
            .retry(fast_retries(3).unknown_outcome(resend))
            .start(vec![job("u@example.test")]);
        let summary = run.finish().await;
        assert_eq!(t.calls.load(Ordering::SeqCst), if resend { 2 } else { 1 });
        assert_eq!(summary.unknown, u64::from(!resend));
        assert_eq!(summary.sent, u64::from(resend));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_bad_job_is_reported_and_the_others_go() {
    let bad = Err(InvalidJob {
        key: "list:2".into(),
        error: Address::new("not an address").unwrap_err(),
    });
    let t = Arc::new(MemoryTransport::new());
    let mut run =
        BulkSender::new(t.clone()).start(vec![job("a@example.test"), bad, job("b@example.test")]);
    let mut failed = vec![];
    while let Some(o) = run.next().await {
        if let Err(e) = &o.result {
            failed.push((o.key.clone(), o.attempts, e.phase()));
        }
    }
    assert_eq!(failed, [("list:2".to_string(), 0, Phase::Input)]);
    assert_eq!(t.messages().len(), 2);
}

/// Counts how many jobs the sender pulled from the input.
struct Counted<I> {
    inner: I,
    pulled: Arc<AtomicU64>,
}

impl<I: Iterator> Iterator for Counted<I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        self.pulled.fetch_add(1, Ordering::SeqCst);
        self.inner.next()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_input_is_pulled_as_needed_not_all_at_once() {
    let pulled = Arc::new(AtomicU64::new(0));
    let jobs = Counted {
        inner: (0..1_000_000u64).map(|i| job(&format!("r{i}@example.test"))),
        pulled: pulled.clone(),
    };
    let t = Arc::new(MemoryTransport::new());
    let mut run = BulkSender::new(t.clone()).batch_size(50).start(jobs);
    for _ in 0..10 {
        run.next().await.unwrap();
    }
    let taken = pulled.load(Ordering::SeqCst);
    assert!(
        taken <= 1_000,
        "{taken} of a million pulled for ten outcomes"
    );
    run.stop_handle().stop();
    let summary = run.finish().await;
    assert!(summary.stopped);
    assert!(summary.sent < 1_000, "{summary:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_stopped_run_resumes_from_its_journal_without_sending_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.journal");
    let list = rcpts(300);
    let t = Arc::new(Scripted::default());
    let jobs: Vec<_> = list.iter().map(|r| job(r)).collect();
    let mut run = BulkSender::new(t.clone())
        .batch_size(10)
        .journal(Journal::open(&path).unwrap())
        .start(jobs);
    let mut first_run = 0;
    while let Some(o) = run.next().await {
        if o.result.is_ok() {
            first_run += 1;
        }
        if first_run == 25 {
            run.stop_handle().stop();
        }
    }
    let stopped = run.finish().await;
    assert!(stopped.stopped);
    let after_stop = t.accepted.lock().unwrap().len();
    assert!((25..300).contains(&after_stop), "{after_stop}");
    assert_eq!(
        stopped.sent as usize, after_stop,
        "every accepted message was reported"
    );

    let jobs: Vec<_> = list.iter().map(|r| job(r)).collect();
    let rerun = BulkSender::new(t.clone())
        .journal(Journal::open(&path).unwrap())
        .start(jobs)
        .finish()
        .await;
    assert_eq!(rerun.skipped as usize, after_stop);
    assert_eq!(rerun.sent as usize, 300 - after_stop);
    let accepted = t.accepted.lock().unwrap().clone();
    let unique: HashSet<_> = accepted.iter().collect();
    assert_eq!((accepted.len(), unique.len()), (300, 300));
}

/// Says "slow down" to the first message, then accepts; records when each
/// send happened.
struct SlowDown {
    first: AtomicUsize,
    times: Mutex<Vec<tokio::time::Instant>>,
}

#[async_trait]
impl Transport for SlowDown {
    async fn send(&self, envelope: &Envelope, _m: MessageSource) -> Result<Delivery, Error> {
        self.times.lock().unwrap().push(tokio::time::Instant::now());
        if self.first.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(Error::Rejected {
                phase: Phase::Mail,
                reply: Reply::new(451, "4.7.1 rate limit exceeded, retry after 30 seconds"),
            });
        }
        Ok(delivered(envelope))
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_slow_down_reply_pauses_every_sender_for_the_time_it_asks() {
    let t = Arc::new(SlowDown {
        first: AtomicUsize::new(0),
        times: Mutex::new(vec![]),
    });
    let start = tokio::time::Instant::now();
    let jobs: Vec<_> = rcpts(4).iter().map(|r| job(r)).collect();
    let summary = BulkSender::new(t.clone())
        .concurrency(2)
        .rate_limit(Some(Duration::from_millis(10)))
        .retry(fast_retries(3))
        .start(jobs)
        .finish()
        .await;
    assert_eq!(summary.sent, 4);
    let times = t.times.lock().unwrap().clone();
    assert_eq!(times.len(), 5, "4 messages and one retry");
    let late: Vec<_> = times[1..].iter().map(|t| t.duration_since(start)).collect();
    assert!(
        late.iter()
            .filter(|d| **d >= Duration::from_secs(30))
            .count()
            >= 3,
        "after the reply, senders waited the 30 s it asked for: {late:?}"
    );
}
