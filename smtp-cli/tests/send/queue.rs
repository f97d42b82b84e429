//! The local queue with the real Postfix of the rig: mail sent while the
//! server is unreachable is kept and delivered exactly once later; a
//! runner killed mid-flush loses nothing and sends nothing twice; two
//! flushes at once never send a message twice; the outbox written with no
//! server configured is the queue; every attempt leaves one log line.
//!
//! "The server is down" is a loopback port where nothing listens (the
//! rig's Postfix serves the other tests meanwhile, so it is not stopped);
//! "back up" is the same queue flushed to Postfix's port.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{code_and_text, get, smtp};

/// A loopback port that refuses connections.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

struct Rig {
    home: tempfile::TempDir,
    config: PathBuf,
    queue: PathBuf,
    log: PathBuf,
}

impl Rig {
    /// A config that queues on failure, pointing at a dead port.
    fn new() -> Rig {
        let home = tempfile::tempdir().unwrap();
        let queue = home.path().join("queue");
        let log = home.path().join("smtp.log");
        let config = home.path().join("smtp.toml");
        std::fs::write(
            &config,
            format!(
                "host = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\ntimeout = \"10s\"\n\
                 [queue]\ndir = \"{}\"\non_failure = \"queue\"\n[log]\nfile = \"{}\"\n",
                dead_port(),
                queue.display(),
                log.display()
            ),
        )
        .unwrap();
        Rig {
            home,
            config,
            queue,
            log,
        }
    }

    fn smtp(&self) -> Command {
        let mut c = smtp(self.home.path());
        c.arg("--config").arg(&self.config);
        c
    }

    /// `smtp queue ARGS` to Postfix (the server is back).
    fn flush_cmd(&self, args: &[&str]) -> Command {
        let mut c = self.smtp();
        c.arg("queue")
            .args(args)
            .args(["--port", &get("PEERS_POSTFIX_PLAIN_PORT")]);
        c
    }

    fn listed(&self) -> Vec<serde_json::Value> {
        let out = self
            .smtp()
            .args(["queue", "list", "--json"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn log_lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Queues `n` messages (one per recipient) while the server is down.
    fn queue_bulk(&self, tag: &str, n: usize) {
        let list = self.home.path().join("list.txt");
        let rcpts: Vec<String> = (0..n).map(|i| format!("q{i}@example.test")).collect();
        std::fs::write(&list, rcpts.join("\n")).unwrap();
        let out = self
            .smtp()
            .args([
                "send",
                "--from",
                "app@example.test",
                "--subject",
                tag,
                "--body",
                "later",
            ])
            .arg("--to-file")
            .arg(&list)
            .output()
            .unwrap();
        let (code, text) = code_and_text(&out);
        assert_eq!(code, 0, "queued is success: {text}");
        assert_eq!(self.listed().len(), n, "{text}");
    }
}

fn maildir() -> PathBuf {
    smtp_testkit::peers().postfix_maildir.clone()
}

/// Delivered copies containing `tag`, by envelope recipient.
fn delivered(tag: &str) -> HashMap<String, usize> {
    let mut by_rcpt = HashMap::new();
    for sub in ["new", "cur"] {
        let Ok(dir) = std::fs::read_dir(maildir().join(sub)) else {
            continue;
        };
        for f in dir.flatten() {
            let text =
                String::from_utf8_lossy(&std::fs::read(f.path()).unwrap_or_default()).into_owned();
            if !text.contains(tag) {
                continue;
            }
            let rcpt = text
                .lines()
                .find_map(|l| l.strip_prefix("X-Original-To: "))
                .unwrap_or("?")
                .to_string();
            *by_rcpt.entry(rcpt).or_insert(0) += 1;
        }
    }
    by_rcpt
}

/// Waits until Postfix has delivered `n` copies with `tag`.
fn wait_delivered(tag: &str, n: usize) -> HashMap<String, usize> {
    smtp_testkit::wait_for_mail_count(&maildir(), tag, n, Duration::from_secs(60));
    delivered(tag)
}

#[test]
fn sendmail_queues_while_the_server_is_down_and_a_flush_delivers_each_exactly_once() {
    let rig = Rig::new();
    let tag = smtp_testkit::unique_tag("queue-sendmail");
    for i in 0..50 {
        let mut child = rig
            .smtp()
            .args(["sendmail", "-t", "-f", "cron@example.test"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let message = format!("To: s{i}@example.test\nSubject: {tag} {i}\n\nbackup {i} done\n");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(message.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let (code, text) = code_and_text(&out);
        assert_eq!(code, 0, "{text}");
        assert!(out.stdout.is_empty(), "{text}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("queued: "),
            "{text}"
        );
    }
    let listed = rig.listed();
    assert_eq!(listed.len(), 50);
    assert!(
        listed
            .iter()
            .all(|e| e["state"] == "queued" && e["attempts"] == 1)
    );

    let out = rig.flush_cmd(&["flush"]).output().unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    let got = wait_delivered(&tag, 50);
    assert_eq!(got.len(), 50, "{got:?}");
    assert!(
        got.values().all(|&n| n == 1),
        "a message arrived twice: {got:?}"
    );
    assert!(rig.listed().is_empty());
    // One line per attempt: 50 deferred while down, 50 sent.
    let lines = rig.log_lines();
    let count = |o: &str| {
        lines
            .iter()
            .filter(|l| l.contains(&format!(" outcome={o} ")))
            .count()
    };
    assert_eq!(
        (count("deferred"), count("sent"), lines.len()),
        (50, 50, 100),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.contains(" from=<cron@example.test> "))
    );
}

#[test]
fn a_runner_killed_mid_flush_loses_nothing_and_sends_nothing_twice() {
    let rig = Rig::new();
    let tag = smtp_testkit::unique_tag("queue-kill");
    rig.queue_bulk(&tag, 300);
    let mut runner = rig
        .flush_cmd(&["flush"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once some, not all, are sent.
    let started = Instant::now();
    while rig
        .log_lines()
        .iter()
        .filter(|l| l.contains(" outcome=sent "))
        .count()
        < 30
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the runner sent nothing"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    runner.kill().unwrap(); // SIGKILL
    runner.wait().unwrap();
    let sent_before = rig
        .log_lines()
        .iter()
        .filter(|l| l.contains(" outcome=sent "))
        .count();
    assert!(sent_before < 300, "killed too late to prove anything");

    let out = rig.flush_cmd(&["flush"]).output().unwrap();
    let (_, text) = code_and_text(&out);
    let left = rig.listed();
    assert!(
        left.iter().all(|e| e["state"] == "unknown"),
        "only unknown outcomes stay: {left:?}\n{text}"
    );
    let unknown: Vec<String> = left
        .iter()
        .flat_map(|e| e["to"].as_array().unwrap().clone())
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    // Postfix may deliver a moment after its reply.
    std::thread::sleep(Duration::from_secs(2));
    let got = delivered(&tag);
    assert!(
        got.values().all(|&n| n == 1),
        "a message arrived twice: {got:?}"
    );
    for i in 0..300 {
        let rcpt = format!("q{i}@example.test");
        assert!(
            got.contains_key(&rcpt) || unknown.contains(&rcpt),
            "{rcpt} was lost: neither delivered nor reported unknown\n{text}"
        );
    }
    assert!(text.contains("unknown: ") || unknown.is_empty(), "{text}");
    smtp_testkit::remove_mail(&maildir(), &tag);
}

#[test]
fn two_flushes_at_once_deliver_each_message_once() {
    let rig = Rig::new();
    let tag = smtp_testkit::unique_tag("queue-twice");
    rig.queue_bulk(&tag, 120);
    let spawn = || {
        rig.flush_cmd(&["flush"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success(), "{a:?} {b:?}");
    let got = wait_delivered(&tag, 120);
    assert_eq!(got.len(), 120);
    assert!(
        got.values().all(|&n| n == 1),
        "a message arrived twice: {got:?}"
    );
    assert!(rig.listed().is_empty());
    smtp_testkit::remove_mail(&maildir(), &tag);
}

#[test]
fn a_corrupt_spool_file_is_reported_and_the_others_are_delivered() {
    let rig = Rig::new();
    let tag = smtp_testkit::unique_tag("queue-corrupt");
    rig.queue_bulk(&tag, 5);
    let victim = std::fs::read_dir(&rig.queue)
        .unwrap()
        .flatten()
        .map(|f| f.path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len() / 3]).unwrap();
    let out = rig.flush_cmd(&["flush"]).output().unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("unreadable") && text.contains(&victim.display().to_string()),
        "{text}"
    );
    wait_delivered(&tag, 4);
    assert!(victim.exists(), "kept for a person to look at");
}

#[test]
fn the_outbox_written_without_a_server_is_delivered_by_queue_flush() {
    let home = tempfile::tempdir().unwrap();
    let tag = smtp_testkit::unique_tag("queue-outbox");
    let out = smtp(home.path())
        .args([
            "send",
            "--from",
            "me@example.test",
            "--to",
            "you@example.test",
        ])
        .args(["--subject", &tag, "--body", "written offline"])
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("saved to outbox"), "{text}");
    let out = smtp(home.path())
        .args([
            "queue",
            "flush",
            "--host",
            "127.0.0.1",
            "--security",
            "none",
        ])
        .args(["--port", &get("PEERS_POSTFIX_PLAIN_PORT")])
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("sent: you@example.test"), "{text}");
    smtp_testkit::wait_for_mail(&maildir(), &tag, Duration::from_secs(30));
}

#[test]
fn a_watching_runner_delivers_what_falls_due_and_stops_on_sigterm() {
    let rig = Rig::new();
    let tag = smtp_testkit::unique_tag("queue-watch");
    rig.queue_bulk(&tag, 3);
    let runner = rig
        .flush_cmd(&["run", "--watch", "--interval", "1s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Deferred a minute by the failed attempt: nothing is due yet.
    std::thread::sleep(Duration::from_secs(2));
    assert!(delivered(&tag).is_empty(), "sent before it was due");
    for e in rig.listed() {
        let id = e["id"].as_str().unwrap();
        let out = rig.smtp().args(["queue", "release", id]).output().unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    let got = wait_delivered(&tag, 3);
    assert!(got.values().all(|&n| n == 1), "{got:?}");
    let status = Command::new("kill")
        .args(["-TERM", &runner.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = runner.wait_with_output().unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("queue runner: stopping"), "{text}");
    assert!(rig.listed().is_empty());
}
