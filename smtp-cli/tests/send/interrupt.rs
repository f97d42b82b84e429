//! An interrupted bulk run loses nothing and sends nothing twice: every
//! message Postfix accepted before SIGINT has its outcome line, and the
//! same command run again with its journal sends exactly the rest.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::common::{get, smtp};

const MESSAGES: usize = 1000;

/// Runs the bulk command; after `interrupt_after` outcome lines (if any)
/// sends SIGINT. Returns the exit code and the outcome lines.
fn bulk(
    home: &Path,
    list: &Path,
    journal: &Path,
    tag: &str,
    interrupt_after: Option<usize>,
) -> (i32, Vec<serde_json::Value>) {
    let mut child = smtp(home)
        .args([
            "send",
            "--host",
            "127.0.0.1",
            "--port",
            &get("PEERS_POSTFIX_PLAIN_PORT"),
        ])
        .args([
            "--security",
            "none",
            "--from",
            "bulk@example.test",
            "--json",
        ])
        .args(["--subject", tag, "--body", "one of a thousand"])
        .arg("--to-file")
        .arg(list)
        .arg("--journal")
        .arg(journal)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        lines.push(
            serde_json::from_str::<serde_json::Value>(&line)
                .unwrap_or_else(|e| panic!("{e}: {line}")),
        );
        if Some(lines.len()) == interrupt_after {
            let status = std::process::Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
        }
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}");
    (out.status.code().unwrap_or(-1), lines)
}

fn sent(lines: &[serde_json::Value]) -> usize {
    lines.iter().filter(|l| l["status"] == "sent").count()
}

#[test]
fn sigint_reports_every_accepted_message_and_the_journal_resumes_without_duplicates() {
    let home = tempfile::tempdir().unwrap();
    let tag = smtp_testkit::unique_tag("cli-interrupt");
    let list = home.path().join("list.txt");
    let rcpts: Vec<String> = (0..MESSAGES)
        .map(|i| format!("bulk{i}@example.test"))
        .collect();
    std::fs::write(&list, rcpts.join("\n")).unwrap();
    let journal = home.path().join("run.journal");
    let maildir = smtp_testkit::peers().postfix_maildir.clone();

    let (code, first) = bulk(home.path(), &list, &journal, &tag, Some(100));
    assert_eq!(code, 75, "an interrupted run exits 75");
    let accepted = sent(&first);
    assert!(
        (100..MESSAGES).contains(&accepted),
        "{accepted} sent before the interrupt took effect"
    );
    assert_eq!(first.len(), accepted, "nothing but sent lines: {first:?}");
    // Every message Postfix accepted has its line, and no more.
    smtp_testkit::wait_for_mail_count(&maildir, &tag, accepted, Duration::from_secs(60));

    let (code, second) = bulk(home.path(), &list, &journal, &tag, None);
    assert_eq!(code, 0);
    assert_eq!(sent(&second), MESSAGES - accepted, "only the rest is sent");
    let mut keys: Vec<&str> = first
        .iter()
        .chain(&second)
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), MESSAGES, "every recipient exactly once");
    smtp_testkit::wait_for_mail_count(&maildir, &tag, MESSAGES, Duration::from_secs(120));
    smtp_testkit::remove_mail(&maildir, &tag);
}
