//! Bulk sends (`--to-file`) go out in pipelined batches, one per
//! connection: read off the transcript of runs against real Postfix
//! (CHUNKING) and smtp-sink (PIPELINING only), with every message's
//! outcome checked against what it was.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::{code_and_text, get, smtp};
use smtp_testkit::{ScriptedServer, unique_tag};

/// Writes the recipient list (one message each) and returns its path.
fn list(dir: &Path, rcpts: &[String]) -> PathBuf {
    let path = dir.join("rcpts.txt");
    std::fs::write(&path, format!("# bulk\n{}\n", rcpts.join("\n"))).unwrap();
    path
}

struct Run {
    code: i32,
    outcomes: Vec<serde_json::Value>,
    transcript: String,
}

/// `smtp send --to-file` over `port_key` with `--json` and a transcript.
fn bulk(
    home: &Path,
    port_key: &str,
    rcpts: &[String],
    extra: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let transcript = home.join("session.log");
    let mut cmd = smtp(home);
    cmd.envs(env.iter().copied())
        .args(["send", "--host", "127.0.0.1", "--port", &get(port_key)])
        .args(["--security", "none", "--from", "me@example.test", "--json"])
        .args(["--body", "bulk body"])
        .args(extra)
        .arg("--to-file")
        .arg(list(home, rcpts))
        .arg("--transcript")
        .arg(&transcript);
    let out = cmd.output().unwrap();
    let (code, text) = code_and_text(&out);
    let outcomes = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{text}")))
        .collect();
    Run {
        code,
        outcomes,
        transcript: std::fs::read_to_string(&transcript).unwrap_or_default(),
    }
}

/// The protocol lines without their timestamps, comments dropped.
/// The transcript's lines without their timestamps, events (`# ...`) left out.
fn lines(transcript: &str) -> Vec<&str> {
    untimed(transcript)
        .into_iter()
        .filter(|l| !l.starts_with('#'))
        .collect()
}

/// Every line without its leading timestamp.
fn untimed(transcript: &str) -> Vec<&str> {
    transcript
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(_, rest)| rest))
        .collect()
}

/// What the client wrote before reading each reply: the runs of
/// consecutive `C:` lines.
fn client_runs(transcript: &str) -> Vec<Vec<&str>> {
    let mut runs = vec![];
    let mut run = vec![];
    for line in lines(transcript) {
        if line.starts_with("C: ") {
            run.push(line);
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    runs
}

fn connections(transcript: &str) -> usize {
    untimed(transcript)
        .into_iter()
        .filter(|l| l.starts_with("# connected to"))
        .count()
}

fn rcpts(tag: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{tag}-{i}@example.test")).collect()
}

#[test]
fn chunking_keeps_a_window_in_flight_and_every_result_stays_with_its_message() {
    let home = tempfile::tempdir().unwrap();
    let tag = unique_tag("bulk-window");
    let mut to = rcpts(&tag, 20);
    let refused = get("PEERS_REJECTED_RCPT");
    to[3] = refused.clone();
    to[12] = refused.clone();
    let run = bulk(
        home.path(),
        "PEERS_POSTFIX_PLAIN_PORT",
        &to,
        &["--subject", &tag, "--concurrency", "1"],
        &[("SMTP_POOL__PIPELINE_WINDOW", "4")],
    );
    assert_eq!(run.code, 1, "two refused recipients fail the run");
    assert_eq!(run.outcomes.len(), 20);
    for (i, (o, rcpt)) in run.outcomes.iter().zip(&to).enumerate() {
        assert_eq!(o["message"], rcpt.as_str(), "outcome {i} is out of order");
        if *rcpt == refused {
            assert_eq!(o["status"], "failed-permanent", "{o}");
            assert!(o["reply"].as_str().unwrap().starts_with("550"), "{o}");
        } else {
            assert_eq!(o["status"], "sent", "{o}");
            assert_eq!(o["accepted"][0], rcpt.as_str(), "{o}");
        }
    }
    let runs = client_runs(&run.transcript);
    let bdats: Vec<usize> = runs
        .iter()
        .map(|r| r.iter().filter(|l| l.contains(" LAST ")).count())
        .collect();
    assert_eq!(
        bdats.iter().find(|&&n| n > 0),
        Some(&4),
        "the first flight fills the window of 4: {bdats:?}\n{}",
        run.transcript
    );
    assert!(
        bdats.iter().all(|&n| n <= 4),
        "never past the window: {bdats:?}"
    );
    assert_eq!(connections(&run.transcript), 1, "{}", run.transcript);
    let dir = PathBuf::from(get("PEERS_POSTFIX_MAILDIR"));
    smtp_testkit::wait_for_mail_count(&dir, &tag, 18, Duration::from_secs(20));
}

#[test]
fn pipelining_sends_each_mail_behind_the_previous_end_of_data() {
    let home = tempfile::tempdir().unwrap();
    let tag = unique_tag("bulk-ride");
    let run = bulk(
        home.path(),
        "PEERS_SMTP_SINK_PORT",
        &rcpts(&tag, 10),
        &["--subject", &tag, "--concurrency", "1"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.transcript);
    assert!(run.outcomes.iter().all(|o| o["status"] == "sent"));
    let riding = client_runs(&run.transcript)
        .iter()
        .filter(|r| {
            r.windows(2)
                .any(|w| w[0] == "C: ." && w[1].starts_with("C: MAIL FROM"))
        })
        .count();
    assert_eq!(
        riding, 9,
        "messages 2..10 ride behind the previous end of data:\n{}",
        run.transcript
    );
    assert_eq!(connections(&run.transcript), 1);
}

/// `--concurrency 3` opens three connections at once and splits the list
/// over them. Each connection is greeted only once three are open (or
/// after 5 s): a client that sent on fewer would hold the list on one
/// connection, wait out the 5 s, and be caught by the count.
#[test]
fn concurrency_shares_the_list_over_that_many_connections() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let open = Arc::new((AtomicUsize::new(0), tokio::sync::Notify::new()));
    let server = {
        let _runtime = rt.enter();
        let open = open.clone();
        ScriptedServer::start(move |mut c| {
            let open = open.clone();
            async move {
                open.0.fetch_add(1, Ordering::SeqCst);
                open.1.notify_waiters();
                let all_open = async {
                    while open.0.load(Ordering::SeqCst) < 3 {
                        let notified = open.1.notified();
                        if open.0.load(Ordering::SeqCst) >= 3 {
                            break;
                        }
                        notified.await;
                    }
                };
                let _ = tokio::time::timeout(Duration::from_secs(5), all_open).await;
                c.serve("250-share\r\n250 PIPELINING\r\n", None).await;
            }
        })
    };
    let home = tempfile::tempdir().unwrap();
    let tag = unique_tag("bulk-share");
    let list = list(home.path(), &rcpts(&tag, 12));
    let out = smtp(home.path())
        .args(["send", "--host", "127.0.0.1", "--port"])
        .arg(server.port().to_string())
        .args(["--security", "none", "--from", "me@example.test", "--json"])
        .args(["--subject", &tag, "--body", "b", "--concurrency", "3"])
        .arg("--to-file")
        .arg(&list)
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    let sent = text.matches(r#""status":"sent""#).count();
    assert_eq!(sent, 12, "{text}");
    assert_eq!(server.connections(), 3, "{text}");
}

#[test]
fn a_rate_limit_sends_one_message_at_a_time() {
    let home = tempfile::tempdir().unwrap();
    let tag = unique_tag("bulk-paced");
    let run = bulk(
        home.path(),
        "PEERS_SMTP_SINK_PORT",
        &rcpts(&tag, 3),
        &["--subject", &tag, "--concurrency", "1"],
        &[("SMTP_RATE_LIMIT__PER_SECOND", "50")],
    );
    assert_eq!(run.code, 0, "{}", run.transcript);
    let riding = lines(&run.transcript)
        .windows(2)
        .filter(|w| w[0] == "C: ." && w[1].starts_with("C: MAIL FROM"))
        .count();
    assert_eq!(
        riding, 0,
        "each message waits for its slot:\n{}",
        run.transcript
    );
    assert_eq!(
        lines(&run.transcript)
            .iter()
            .filter(|l| l.starts_with("C: MAIL FROM"))
            .count(),
        3
    );
}
