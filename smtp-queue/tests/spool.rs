//! The queue on its own (transports whose answers the test decides):
//! crash states, locks, schedule, expiry, corrupt files, permissions.
//! Delivery through real Postfix is tested by the CLI (smtp-cli/tests/queue.rs).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use smtp_core::{
    Address, Delivery, Envelope, Error, MemoryTransport, MessageSource, Phase, Reply, Transport,
};
use smtp_queue::{Event, FlushOptions, Queue, State};

fn envelope(to: &str) -> Envelope {
    Envelope::new(
        Some(Address::new("cron@example.test").unwrap()),
        vec![Address::new(to).unwrap()],
    )
    .unwrap()
}

async fn queue_of(n: usize) -> (tempfile::TempDir, Queue) {
    let dir = tempfile::tempdir().unwrap();
    let q = Queue::open(dir.path().join("q")).unwrap();
    for i in 0..n {
        let body = format!("Subject: m{i}\r\n\r\nbody {i}\r\n");
        q.enqueue(
            &envelope(&format!("r{i}@example.test")),
            MessageSource::from_bytes(body),
            None,
        )
        .await
        .unwrap();
    }
    (dir, q)
}

fn forced() -> FlushOptions {
    let mut o = FlushOptions::default();
    o.ignore_schedule = true;
    o
}

#[tokio::test]
async fn a_flush_delivers_everything_due_and_empties_the_queue() {
    let (_d, q) = queue_of(25).await;
    let t = Arc::new(MemoryTransport::new());
    let mut sent = 0;
    let report = q
        .flush(t.clone(), &FlushOptions::default(), None, |e| {
            if matches!(e, Event::Sent { .. }) {
                sent += 1;
            }
        })
        .await
        .unwrap();
    assert_eq!((report.sent, report.remaining, sent), (25, 0, 25));
    assert_eq!(t.messages().len(), 25);
    assert_eq!(
        std::fs::read_dir(q.dir()).unwrap().count(),
        0,
        "no file left"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn spool_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let (_d, q) = queue_of(1).await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(q.dir()), 0o700);
    for f in std::fs::read_dir(q.dir()).unwrap() {
        assert_eq!(mode(&f.unwrap().path()), 0o600);
    }
}

/// Refuses with a transient reply that asks for a delay.
struct Busy;

#[async_trait]
impl Transport for Busy {
    async fn send(&self, _e: &Envelope, _m: MessageSource) -> Result<Delivery, Error> {
        Err(Error::Rejected {
            phase: Phase::Mail,
            reply: Reply::new(451, "4.7.1 rate limited, try again in 10 minutes"),
        })
    }
}

#[tokio::test]
async fn a_transient_failure_is_deferred_until_its_time_and_kept() {
    let (_d, q) = queue_of(1).await;
    let report = q
        .flush(Arc::new(Busy), &FlushOptions::default(), None, |_| {})
        .await
        .unwrap();
    assert_eq!((report.deferred, report.remaining), (1, 1));
    let entry = q.list().unwrap().entries.remove(0);
    assert_eq!(entry.state, State::Queued);
    assert_eq!(entry.attempts, 1);
    let wait = entry
        .next_attempt
        .saturating_sub(entry.last_attempt.unwrap());
    assert!(
        wait >= 600,
        "the server asked for 10 minutes, waited {wait} s"
    );
    assert!(entry.last_error.unwrap().contains("451"));
    // Not due: a runner leaves it; a forced flush sends it.
    let t = Arc::new(MemoryTransport::new());
    let report = q
        .flush(t.clone(), &FlushOptions::default(), None, |_| {})
        .await
        .unwrap();
    assert_eq!(report.sent, 0);
    let report = q.flush(t.clone(), &forced(), None, |_| {}).await.unwrap();
    assert_eq!(report.sent, 1);
}

#[tokio::test]
async fn a_corrupt_or_truncated_file_is_reported_and_the_others_go() {
    let (_d, q) = queue_of(3).await;
    let entries = q.list().unwrap().entries;
    let victim = q.dir().join(format!("{}.json", entries[1].id));
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len() / 2]).unwrap();
    let t = Arc::new(MemoryTransport::new());
    let mut corrupt = vec![];
    let report = q
        .flush(t.clone(), &forced(), None, |e| {
            if let Event::Corrupt { error } = e {
                corrupt.push(error.to_string());
            }
        })
        .await
        .unwrap();
    assert_eq!((report.sent, report.corrupt), (2, 1));
    assert!(corrupt[0].contains(&entries[1].id), "{corrupt:?}");
    assert!(victim.exists(), "kept for the operator");
}

#[tokio::test]
async fn a_message_left_sending_by_a_dead_sender_is_unknown_not_resent() {
    let (_d, q) = queue_of(1).await;
    let id = q.list().unwrap().entries[0].id.clone();
    // What a runner killed during its attempt leaves behind.
    let meta = q.dir().join(format!("{id}.json"));
    let text = std::fs::read_to_string(&meta)
        .unwrap()
        .replace("\"queued\"", "\"sending\"");
    std::fs::write(&meta, text).unwrap();
    let t = Arc::new(MemoryTransport::new());
    let report = q.flush(t.clone(), &forced(), None, |_| {}).await.unwrap();
    assert_eq!((report.unknown, report.sent), (1, 0));
    assert_eq!(q.get(&id).unwrap().state, State::Unknown);
    let report = q.flush(t.clone(), &forced(), None, |_| {}).await.unwrap();
    assert_eq!(report.sent, 0, "unknown stays unless asked");
    let mut again = forced();
    again.retry_unknown = true;
    let report = q.flush(t.clone(), &again, None, |_| {}).await.unwrap();
    assert_eq!(report.sent, 1);
    assert_eq!(t.messages().len(), 1);
}

/// Accepts slowly, counting messages.
struct Slow(AtomicUsize);

#[async_trait]
impl Transport for Slow {
    async fn send(&self, e: &Envelope, m: MessageSource) -> Result<Delivery, Error> {
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.0.fetch_add(1, Ordering::SeqCst);
        MemoryTransport::new().send(e, m).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_flushes_at_once_never_send_a_message_twice() {
    let (_d, q) = queue_of(60).await;
    let t = Arc::new(Slow(AtomicUsize::new(0)));
    let options = forced();
    let (a, b) = tokio::join!(
        q.flush(t.clone(), &options, None, |_| {}),
        q.flush(t.clone(), &options, None, |_| {})
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 60, "{a:?} {b:?}");
    assert_eq!(t.0.load(Ordering::SeqCst), 60);
    assert!(q.list().unwrap().entries.is_empty());
}

#[tokio::test]
async fn a_message_older_than_max_age_expires_with_a_report() {
    let (_d, q) = queue_of(1).await;
    let mut o = forced();
    o.max_age = Duration::ZERO;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut expired = 0;
    let t = Arc::new(MemoryTransport::new());
    let report = q
        .flush(t.clone(), &o, None, |e| {
            if let Event::Expired { entry } = e {
                assert!(entry.last_error.unwrap().contains("expired"));
                expired += 1;
            }
        })
        .await
        .unwrap();
    assert_eq!((expired, report.failed, report.sent), (1, 1, 0));
    assert_eq!(q.list().unwrap().entries[0].state, State::Failed);
}

#[tokio::test]
async fn held_messages_wait_for_release_and_remove_deletes() {
    let (_d, q) = queue_of(2).await;
    let ids: Vec<String> = q
        .list()
        .unwrap()
        .entries
        .iter()
        .map(|e| e.id.clone())
        .collect();
    q.hold(&ids[0]).unwrap();
    let t = Arc::new(MemoryTransport::new());
    assert_eq!(
        q.flush(t.clone(), &forced(), None, |_| {})
            .await
            .unwrap()
            .sent,
        1
    );
    assert_eq!(q.get(&ids[0]).unwrap().state, State::Held);
    q.release(&ids[0]).unwrap();
    q.remove(&ids[0]).unwrap();
    assert!(q.get(&ids[0]).is_err());
    assert!(
        q.get("../../etc/passwd").is_err(),
        "ids never leave the directory"
    );
}

#[tokio::test]
async fn the_delivering_decorator_keeps_what_cannot_go_and_passes_the_rest() {
    use smtp_queue::QueueTransport;
    let dir = tempfile::tempdir().unwrap();
    let q = Queue::open(dir.path()).unwrap();
    let message = || MessageSource::from_bytes("Subject: x\r\n\r\ny\r\n");
    // Server busy: kept, and `send` says so.
    let busy = QueueTransport::delivering(q.clone(), Arc::new(Busy), FlushOptions::default());
    let d = busy
        .send(&envelope("a@example.test"), message())
        .await
        .unwrap();
    let id = QueueTransport::queued_id(&d).expect("kept for later");
    assert_eq!(q.get(&id).unwrap().state, State::Queued);
    // Server up: delivered, nothing kept.
    let up = Arc::new(MemoryTransport::new());
    let ok = QueueTransport::delivering(q.clone(), up.clone(), FlushOptions::default());
    let d = ok
        .send(&envelope("b@example.test"), message())
        .await
        .unwrap();
    assert_eq!(QueueTransport::queued_id(&d), None);
    assert_eq!(up.messages().len(), 1);
    assert_eq!(
        q.list().unwrap().entries.len(),
        1,
        "only the busy one waits"
    );
}
