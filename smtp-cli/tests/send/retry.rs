//! `smtp send` retries by classification, through the real binary against
//! a scripted server whose answer depends on the recipient and on how
//! often it was tried: 421/4xx are retried with a growing wait (longer
//! when the reply asks for it), 5xx are not, and a message whose outcome
//! is unknown is sent once unless the user allows a second copy.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::smtp;
use smtp_testkit::{ScriptConn, ScriptedServer};

/// When each recipient's RCPT arrived, in order: one entry per attempt.
type Attempts = Arc<Mutex<HashMap<String, Vec<Instant>>>>;

/// Connections open now, and the most ever open at once.
#[derive(Default)]
struct Open {
    now: AtomicUsize,
    most: AtomicUsize,
}

/// Counts a connection as open until dropped.
struct Counted(Arc<Open>);

impl Counted {
    fn new(open: &Arc<Open>) -> Counted {
        let now = open.now.fetch_add(1, Ordering::SeqCst) + 1;
        open.most.fetch_max(now, Ordering::SeqCst);
        Counted(open.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the server does with a recipient on its `n`th attempt (0-based),
/// by the recipient's local part.
enum Answer {
    Accept,
    /// This reply to RCPT.
    Refuse(&'static str),
    /// `421` to RCPT, then close.
    Closing,
    /// Read the whole message, then close without a reply.
    LoseAfterDot,
}

fn policy(rcpt: &str, n: usize) -> Answer {
    let local = rcpt.split('@').next().unwrap_or("");
    match (local, n) {
        ("perm", _) => Answer::Refuse("550 5.1.1 no such user\r\n"),
        ("busy", _) => Answer::Refuse("451 4.3.0 busy, try later\r\n"),
        ("flaky", 0) => Answer::Closing,
        ("limited", 0) => Answer::Refuse("450 4.7.1 rate limit exceeded, retry after 1 second\r\n"),
        ("slow", 0) => Answer::Refuse("450 4.7.1 rate limit exceeded, retry after 3 seconds\r\n"),
        (l, 0) if l.starts_with("lost") => Answer::LoseAfterDot,
        _ => Answer::Accept,
    }
}

/// One connection: no PIPELINING, so every command waits for its reply.
async fn serve(mut c: ScriptConn, attempts: Attempts, open: Arc<Open>) {
    let _counted = Counted::new(&open);
    c.send("220 retry ESMTP\r\n").await;
    let mut answer = Answer::Accept;
    while let Some(line) = c.read_line().await {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            c.send("250-retry\r\n250 8BITMIME\r\n").await;
        } else if upper.starts_with("RCPT TO:<") {
            let rcpt = line[9..].trim_end_matches('>').to_string();
            let n = {
                let mut map = attempts.lock().unwrap();
                let seen = map.entry(rcpt.clone()).or_default();
                seen.push(Instant::now());
                seen.len() - 1
            };
            answer = policy(&rcpt, n);
            match answer {
                Answer::Refuse(reply) => c.send(reply).await,
                Answer::Closing => {
                    c.send("421 4.3.2 shutting down\r\n").await;
                    return;
                }
                _ => c.send("250 2.1.5 ok\r\n").await,
            }
        } else if upper == "DATA" {
            c.send("354 go ahead\r\n").await;
            c.read_until_dot().await;
            if matches!(answer, Answer::LoseAfterDot) {
                return;
            }
            c.send("250 2.0.0 queued\r\n").await;
        } else if upper == "QUIT" {
            c.send("221 bye\r\n").await;
            return;
        } else {
            // MAIL, RSET, NOOP
            c.send("250 2.0.0 ok\r\n").await;
        }
    }
}

struct Run {
    code: i32,
    /// The most connections the server saw open at once.
    most_open: usize,
    statuses: HashMap<String, String>,
    attempts: HashMap<String, Vec<Instant>>,
    stderr: String,
}

/// Runs `smtp send --to-file` for `recipients` with 3 attempts and a
/// 50 ms backoff, plus `extra` flags; returns what the server saw.
fn send_bulk(recipients: &[&str], extra: &[&str]) -> Run {
    send_bulk_with(recipients, extra, &[])
}

/// [`send_bulk`] with extra environment variables and no extra flags.
fn send_bulk_env(recipients: &[&str], env: &[(&str, &str)]) -> Run {
    send_bulk_with(recipients, &[], env)
}

fn send_bulk_with(recipients: &[&str], extra: &[&str], env: &[(&str, &str)]) -> Run {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let attempts: Attempts = Arc::default();
    let open: Arc<Open> = Arc::default();
    let server = {
        let _runtime = rt.enter();
        let (attempts, open) = (attempts.clone(), open.clone());
        ScriptedServer::start(move |c| serve(c, attempts.clone(), open.clone()))
    };
    let home = tempfile::tempdir().unwrap();
    let list = home.path().join("list.txt");
    std::fs::write(&list, recipients.join("\n")).unwrap();
    let out = smtp(home.path())
        .envs(env.iter().copied())
        .env("SMTP_RETRY__ATTEMPTS", "3")
        .env("SMTP_RETRY__BACKOFF", "50ms")
        .args(["send", "--host", "127.0.0.1", "--port"])
        .arg(server.port().to_string())
        .args(["--security", "none", "--ehlo-name", "cli.example.test"])
        .args(["--timeout", "10s", "--from", "s@example.test"])
        .args(["--subject", "retry", "--body", "retry test", "--json"])
        .arg("--to-file")
        .arg(&list)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let statuses = stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}\n{stdout}"));
            (
                v["message"].as_str().unwrap().to_string(),
                v["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    drop(server);
    let attempts = attempts.lock().unwrap().clone();
    Run {
        code: out.status.code().unwrap_or(-1),
        most_open: open.most.load(Ordering::SeqCst),
        statuses,
        attempts,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Run {
    fn check(&self, rcpt: &str, status: &str, tries: usize) {
        let seen = self.attempts.get(rcpt).map_or(0, Vec::len);
        assert_eq!(
            (self.statuses.get(rcpt).map(String::as_str), seen),
            (Some(status), tries),
            "{rcpt}: (status, attempts) {:?}\n{}",
            self.statuses,
            self.stderr
        );
    }

    /// Time between the first and the last attempt for `rcpt`.
    fn spread(&self, rcpt: &str) -> Duration {
        let seen = &self.attempts[rcpt];
        seen[seen.len() - 1] - seen[0]
    }
}

#[test]
fn bulk_retries_follow_the_classification() {
    let run = send_bulk(
        &[
            "ok@example.test",
            "perm@example.test",
            "flaky@example.test",
            "busy@example.test",
            "limited@example.test",
            "lost@example.test",
        ],
        &[],
    );
    run.check("ok@example.test", "sent", 1);
    // 5xx: retrying would fail the same way.
    run.check("perm@example.test", "failed-permanent", 1);
    // 421: the server closed; a new connection gets through.
    run.check("flaky@example.test", "sent", 2);
    // 4xx every time: three attempts, waiting 50 ms then 100 ms.
    run.check("busy@example.test", "failed-transient", 3);
    assert!(run.spread("busy@example.test") >= Duration::from_millis(150));
    // Rate limited, "retry after 1 second": more than 4 x 50 ms.
    run.check("limited@example.test", "sent", 2);
    assert!(
        run.spread("limited@example.test") >= Duration::from_secs(1),
        "{:?}",
        run.spread("limited@example.test")
    );
    // The server may hold the message: never a second copy by default.
    run.check("lost@example.test", "unknown", 1);
    assert_eq!(run.code, 75, "{}", run.stderr);
    // --concurrency 1 (the default): retries never open a second
    // connection beside the first.
    assert_eq!(run.most_open, 1, "{}", run.stderr);
}

/// A "slow down, retry after 3 seconds" holds back every later send, not
/// only the message that got it: the next batch waits too.
#[test]
fn a_rate_limit_reply_holds_back_the_next_batch() {
    // The first batch is 100 messages (the cap), led by the limited one.
    let mut list = vec!["slow@example.test".to_string()];
    list.extend((0..120).map(|i| format!("ok{i}@example.test")));
    let refs: Vec<&str> = list.iter().map(String::as_str).collect();
    let run = send_bulk(&refs, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.check("slow@example.test", "sent", 2);
    let limited = run.attempts["slow@example.test"][0];
    // The rest of the first batch was already on its way (the pause is
    // known once the batch's replies are read), so it is not held...
    let first_batch = run.attempts["ok98@example.test"][0];
    assert!(
        first_batch.duration_since(limited) < Duration::from_secs(3),
        "the first batch took {:?}",
        first_batch.duration_since(limited)
    );
    // ...but the next batch waits for the pause the server asked for.
    let next_batch = run.attempts["ok99@example.test"][0];
    assert!(
        next_batch.duration_since(limited) >= Duration::from_secs(3),
        "the second batch went {:?} after the rate-limit reply",
        next_batch.duration_since(limited)
    );
}

#[test]
fn an_unknown_outcome_is_sent_again_only_when_allowed() {
    let run = send_bulk(&["lost-flag@example.test"], &["--retry-unknown-outcome"]);
    run.check("lost-flag@example.test", "sent", 2);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// With `-v`, every retry is said: which message, the attempt that
/// failed, the server's reply, and the wait before the next one.
#[test]
fn each_retry_is_logged_with_its_reason_and_wait_at_verbose() {
    let run = send_bulk(&["busy@example.test"], &["-v"]);
    run.check("busy@example.test", "failed-transient", 3);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("retrying in"))
        .collect();
    assert_eq!(lines.len(), 2, "one line per retry:\n{}", run.stderr);
    for l in &lines {
        assert!(l.contains("INFO"), "{l}");
        assert!(l.contains("busy@example.test"), "{l}");
        assert!(l.contains("451 4.3.0 busy, try later"), "{l}");
    }
    assert!(lines[0].contains("attempt 1 failed"), "{}", lines[0]);
    assert!(lines[1].contains("attempt 2 failed"), "{}", lines[1]);
    // Without -v, nothing of it.
    let quiet = send_bulk(&["busy@example.test"], &[]);
    assert!(!quiet.stderr.contains("retrying"), "{}", quiet.stderr);
}

/// `timeouts.total` caps a message's attempts and waits together: a retry
/// the server asks to make in 3 seconds is not made under a 2-second cap.
#[test]
fn timeouts_total_caps_the_retries() {
    let run = send_bulk_env(&["slow@example.test"], &[("SMTP_TIMEOUTS__TOTAL", "2s")]);
    run.check("slow@example.test", "failed-transient", 1);
    // Without the cap the same message is sent on its second attempt.
    let run = send_bulk(&["slow@example.test"], &[]);
    run.check("slow@example.test", "sent", 2);
}
