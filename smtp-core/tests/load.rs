//! Load: 10,000 messages through the pool (8 connections) to real Postfix,
//! with refused recipients and smtpd processes killed mid-run. Every
//! message must get exactly one result, and Postfix's own log must count
//! exactly the messages reported sent (plus at most the unknown ones).
//!
//! The rig's load port queues each message (qmgr logs `from=<...>` once)
//! and then discards it, so the Maildir other tests read stays small.
//! Killing smtpd needs root (it runs as `postfix`); the test fails, with
//! how to run it, when it is not root.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use smtp_core::{Delivery, Error, MessageSource, PoolConfig, Transport};
use smtp_testkit::engine::*;
use smtp_testkit::unique_tag;

const MESSAGES: usize = 10_000;
const CONNECTIONS: usize = 8;
/// After this many results, kill the smtpd processes serving us.
const KILL_AT: [usize; 3] = [2_000, 5_000, 8_000];
/// How many busy smtpd processes each kill round takes down.
const KILLS_PER_ROUND: usize = 2;

/// What message `i` is sent to, and which of those Postfix refuses.
fn recipients(i: usize, rejected: &str) -> (Vec<String>, BTreeSet<String>) {
    let ok = |n: usize| format!("load{n}@example.test");
    let refused: BTreeSet<String> = [rejected.to_string()].into();
    match i % 20 {
        // 5%: every recipient refused, nothing sent.
        0 => (vec![rejected.to_string()], refused),
        // 5%: one of two recipients refused, sent to the other.
        7 => (vec![ok(1), rejected.to_string()], refused),
        // 10%: two recipients, both accepted.
        3 | 13 => (vec![ok(1), ok(2)], BTreeSet::new()),
        _ => (vec![ok(1)], BTreeSet::new()),
    }
}

#[derive(Debug)]
enum Outcome {
    Sent(Delivery),
    NoneAccepted,
    Transient(String),
    Unknown(String),
    Permanent(String),
}

fn classify(result: Result<Delivery, Error>) -> Outcome {
    match result {
        Ok(d) => Outcome::Sent(d),
        Err(Error::NoRecipientsAccepted { rejected })
            if rejected.iter().all(|r| r.reply.is_permanent()) =>
        {
            Outcome::NoneAccepted
        }
        Err(e) if e.is_unknown_outcome() => Outcome::Unknown(e.to_string()),
        Err(e) if e.is_transient() => Outcome::Transient(e.to_string()),
        Err(e) => Outcome::Permanent(e.to_string()),
    }
}

fn require_root() {
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid());
    assert_eq!(
        uid.ok(),
        Some(0),
        "the load test kills Postfix smtpd processes (user postfix) mid-run, which needs root: \
         run it as root, e.g. `sudo -E SMTP_PEERS_ENV=/tmp/smtp-peers/peers.env \
         cargo nextest run -p smtp-core --test load` (CI runs as root)"
    );
}

/// Pids of smtpd processes of `port` that hold an established TCP
/// connection on it: killing an idle one would make Postfix's master
/// throttle the service ("bad command startup"), which is not what a
/// dropped connection looks like.
fn busy_smtpd(port: u16) -> Vec<u32> {
    let established = established_inodes(port);
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        let is_ours = args.first() == Some(&&b"smtpd"[..])
            && args
                .windows(2)
                .any(|w| w[0] == b"-n" && w[1] == port.to_string().as_bytes());
        if !is_ours {
            continue;
        }
        let holds_client = std::fs::read_dir(entry.path().join("fd"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .filter_map(|l| {
                let l = l.to_string_lossy().into_owned();
                l.strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .parse::<u64>()
                    .ok()
            })
            .any(|inode| established.contains(&inode));
        if holds_client {
            pids.push(pid);
        }
    }
    pids
}

/// Socket inodes of established TCP connections whose local port is `port`.
fn established_inodes(port: u16) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 {
                continue;
            }
            let local_port = f[1]
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) && f[3] == "01" {
                if let Ok(inode) = f[9].parse() {
                    out.insert(inode);
                }
            }
        }
    }
    out
}

fn kill(pid: u32) -> bool {
    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success())
}

/// Message numbers in qmgr's `QID: from=<load-TAG-N@...>, ... (queue
/// active)` lines, with the queue ids each was seen under.
fn queued_by_postfix(log: &str, tag: &str) -> BTreeMap<usize, BTreeSet<String>> {
    let text = std::fs::read_to_string(log).unwrap_or_else(|e| panic!("reading {log}: {e}"));
    let needle = format!(": from=<{tag}-");
    let mut out: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines() {
        if !line.contains("/qmgr[") || !line.ends_with("(queue active)") {
            continue;
        }
        let Some(at) = line.find(&needle) else {
            continue;
        };
        let qid = line[..at]
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_string();
        let rest = &line[at + needle.len()..];
        let n: usize = rest
            .split('@')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected qmgr line: {line}"));
        out.entry(n).or_default().insert(qid);
    }
    out
}

fn message(tag: &str, i: usize) -> Vec<u8> {
    format!(
        "From: <{tag}-{i}@example.test>\r\nTo: <load1@example.test>\r\nSubject: load {i}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{tag}-{i}@example.test>\r\n\r\n\
         message {i} of the load test\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_messages_through_eight_connections_with_kills() {
    require_root();
    let peers = smtp_testkit::peers();
    assert!(
        peers.get("PEERS_POSTFIX_LOAD_PORT").is_some(),
        "PEERS_POSTFIX_LOAD_PORT is missing: the rig predates the load port; \
         restart it with `sudo scripts/peers/start.sh`"
    );
    let port = port("PEERS_POSTFIX_LOAD_PORT");
    let rejected = peers.get("PEERS_REJECTED_RCPT").unwrap().to_string();
    let log = peers.get("PEERS_POSTFIX_LOG").unwrap().to_string();
    // Short: the local part (with "-NNNN") must stay within 64 bytes.
    let tag = unique_tag("load").replace('-', "");
    let (builder, _) = plain(port);
    let transport = builder
        .pool(PoolConfig {
            max_connections: CONNECTIONS,
            ..PoolConfig::default()
        })
        .build()
        .unwrap();

    let done = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicUsize::new(0));
    let killer = tokio::spawn({
        let (done, killed) = (done.clone(), killed.clone());
        async move {
            for at in KILL_AT {
                while done.load(Ordering::Relaxed) < at {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                let pids = tokio::task::spawn_blocking(move || busy_smtpd(port))
                    .await
                    .unwrap();
                for pid in pids.into_iter().take(KILLS_PER_ROUND) {
                    if kill(pid) {
                        killed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    });

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..MESSAGES {
        let transport = transport.clone();
        let (to, _) = recipients(i, &rejected);
        let env = envelope(
            &format!("{tag}-{i}@example.test"),
            &to.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let body = message(&tag, i);
        let done = done.clone();
        tasks.spawn(async move {
            let r = transport.send(&env, MessageSource::from_bytes(body)).await;
            done.fetch_add(1, Ordering::Relaxed);
            (i, classify(r))
        });
    }
    let mut results: Vec<Option<Outcome>> = (0..MESSAGES).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (i, outcome) = joined.expect("a send task panicked");
        assert!(results[i].is_none(), "message {i} got two results");
        results[i] = Some(outcome);
    }
    let elapsed = started.elapsed();
    killer.await.unwrap();
    transport.close().await;

    // Every message exactly once, and each result fits what was sent.
    let mut sent = BTreeMap::new();
    let (mut unknown, mut transient, mut none_accepted) = (BTreeSet::new(), Vec::new(), 0);
    for (i, r) in results.into_iter().enumerate() {
        let r = r.unwrap_or_else(|| panic!("message {i} has no result"));
        let (to, refused) = recipients(i, &rejected);
        let all_refused = refused.len() == to.len();
        match r {
            Outcome::Sent(d) => {
                assert!(
                    !all_refused,
                    "message {i}: sent although every recipient is refused"
                );
                let got: BTreeSet<String> =
                    d.rejected.iter().map(|r| r.recipient.to_string()).collect();
                assert_eq!(got, refused, "message {i}: wrong refused recipients");
                assert_eq!(d.accepted.len() + d.rejected.len(), to.len(), "message {i}");
                sent.insert(i, d.accepted.len());
            }
            Outcome::NoneAccepted => {
                assert!(
                    all_refused,
                    "message {i}: refused although a recipient is valid"
                );
                none_accepted += 1;
            }
            Outcome::Unknown(e) => {
                unknown.insert(i);
                eprintln!("message {i}: unknown: {e}");
            }
            Outcome::Transient(e) => transient.push((i, e)),
            Outcome::Permanent(e) => panic!("message {i}: unexpected permanent failure: {e}"),
        }
    }
    let killed = killed.load(Ordering::Relaxed);
    assert!(
        killed >= KILL_AT.len(),
        "only {killed} smtpd processes were killed: the run did not test dropped connections"
    );
    // A transient failure needs a killed connection to explain it.
    assert!(
        transient.len() + unknown.len() <= killed * 20,
        "{} transient and {} unknown results for {killed} killed connections: {transient:?}",
        transient.len(),
        unknown.len()
    );

    // Postfix's count: wait for qmgr to log every sent message.
    let deadline = Instant::now() + Duration::from_secs(30);
    let queued = loop {
        let q = queued_by_postfix(&log, &tag);
        if sent.keys().all(|i| q.contains_key(i)) || Instant::now() > deadline {
            // Late lines of unknown-outcome messages get a moment too.
            tokio::time::sleep(Duration::from_millis(500)).await;
            break queued_by_postfix(&log, &tag);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let twice: Vec<_> = queued.iter().filter(|(_, q)| q.len() > 1).collect();
    assert!(twice.is_empty(), "queued more than once: {twice:?}");
    let missing: Vec<_> = sent.keys().filter(|i| !queued.contains_key(i)).collect();
    assert!(
        missing.is_empty(),
        "reported sent, not in Postfix's log: {missing:?}"
    );
    let extra: Vec<_> = queued
        .keys()
        .filter(|i| !sent.contains_key(i) && !unknown.contains(i))
        .collect();
    assert!(
        extra.is_empty(),
        "queued by Postfix but reported not sent: {extra:?}"
    );
    let unknown_queued = unknown.iter().filter(|i| queued.contains_key(i)).count();
    assert!(sent.len() <= queued.len() && queued.len() <= sent.len() + unknown.len());

    eprintln!(
        "load: {MESSAGES} messages in {:.1}s ({:.0}/s) over {CONNECTIONS} connections; \
         sent {}, all recipients refused {none_accepted}, transient {}, unknown {} \
         ({unknown_queued} of them queued); smtpd killed {killed}; Postfix queued {}",
        elapsed.as_secs_f64(),
        MESSAGES as f64 / elapsed.as_secs_f64(),
        sent.len(),
        transient.len(),
        unknown.len(),
        queued.len()
    );
}
