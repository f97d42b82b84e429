//! The real `smtp` binary against the real peers.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::common::{smtp, stage};
use smtp_testkit::{peers, unique_tag};

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn port(key: &str) -> String {
    peers().get(key).unwrap().to_string()
}

/// `smtp send` in plain text to the peer at `port_key`.
fn plain_send(home: &Path, port_key: &str) -> Command {
    let mut cmd = smtp(home);
    cmd.arg("send");
    plain_args(&mut cmd, port_key);
    cmd
}

fn plain_args(cmd: &mut Command, port_key: &str) {
    cmd.args([
        "--host",
        "127.0.0.1",
        "--port",
        &port(port_key),
        "--security",
        "none",
        "--ehlo-name",
        "cli.example.test",
    ]);
}

/// `smtp test --json` against Postfix's plain port.
fn plain_test_json(home: &Path) -> Command {
    let mut cmd = smtp(home);
    cmd.arg("test");
    plain_args(&mut cmd, "PEERS_POSTFIX_PLAIN_PORT");
    cmd.arg("--json");
    cmd
}

fn postfix_mail(needle: &str) -> Vec<u8> {
    let dir = Path::new(peers().get("PEERS_POSTFIX_MAILDIR").unwrap()).to_path_buf();
    smtp_testkit::wait_for_mail(&dir, needle, Duration::from_secs(20)).remove(0)
}

#[test]
fn without_a_server_send_writes_to_the_outbox() {
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = run(smtp(home.path()).args([
        "send",
        "--from",
        "me@example.com",
        "--to",
        "you@example.com",
        "--subject",
        "Hello",
        "--body",
        "It works.",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("saved to outbox"), "{out}");
    let outbox = home.path().join("data/smtp/outbox");
    let emls: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .collect();
    assert_eq!(emls.len(), 1);
    let text = std::fs::read_to_string(emls[0].path()).unwrap();
    assert!(text.contains("Subject: Hello") && text.contains("It works."));
}

#[test]
fn sends_through_postfix_pipelined_and_writes_a_transcript() {
    let home = tempfile::tempdir().unwrap();
    let tag = unique_tag("cli-send");
    let transcript = home.path().join("session.log");
    let mut cmd = plain_send(home.path(), "PEERS_POSTFIX_PLAIN_PORT");
    cmd.args([
        "--from",
        "me@example.test",
        "--from-name",
        "CLI Test",
        "--to",
        "you@example.test",
        "--cc",
        "cc@example.test",
        "--subject",
        &tag,
        "--body",
        ".dot line\nsecond",
    ]);
    cmd.arg("--transcript").arg(&transcript);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("sent: you@example.test") && out.contains("sent: cc@example.test"),
        "{out}"
    );
    let mail = String::from_utf8(postfix_mail(&tag)).unwrap();
    assert!(
        mail.contains("From: \"CLI Test\" <me@example.test>"),
        "{mail}"
    );
    assert!(mail.contains(".dot line"), "{mail}");
    let log = std::fs::read_to_string(&transcript).unwrap();
    let pos = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("{needle} not in transcript:\n{log}"))
    };
    // One flight: every command of the transaction is written before the first reply arrives.
    assert!(pos("C: MAIL FROM:<me@example.test>") < pos("C: BDAT"));
    assert!(
        pos("C: BDAT") < pos("S: 250 2.1.0"),
        "MAIL/RCPT/BDAT not pipelined:\n{log}"
    );
    // A lone message: QUIT rides with BDAT LAST, before the queued reply.
    assert!(
        pos("C: QUIT") < pos("S: 250 2.0.0"),
        "QUIT waited for the end-of-data reply:\n{log}"
    );
    assert!(pos("S: 221") > pos("S: 250 2.0.0"), "{log}");
}

#[test]
fn exit_codes_follow_the_failure_class() {
    let home = tempfile::tempdir().unwrap();
    let send = |port_key: &str, to: &str| {
        let mut cmd = plain_send(home.path(), port_key);
        cmd.args([
            "--from",
            "me@example.test",
            "--to",
            to,
            "--subject",
            "codes",
            "--body",
            "x",
        ]);
        run(&mut cmd)
    };
    let (code, _, err) = send("PEERS_SMTP_SINK_RCPT5XX_PORT", "a@example.test");
    assert_eq!(code, 1, "permanent: {err}");
    let (code, _, err) = send("PEERS_SMTP_SINK_MAIL4XX_PORT", "a@example.test");
    assert_eq!(code, 75, "transient: {err}");
    assert!(err.contains("hint:"), "{err}");
    let (code, _, err) = send("PEERS_SMTP_SINK_PORT", "not an address");
    assert_eq!(code, 2, "usage: {err}");
    let rejected = peers().get("PEERS_REJECTED_RCPT").unwrap();
    let (code, out, err) = send("PEERS_POSTFIX_PLAIN_PORT", rejected);
    assert_eq!(code, 1, "{out}{err}");
    let (code, _, err) = run(smtp(home.path()).args(["send", "--bogus-flag"]));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn sendmail_mode_reads_stdin_and_takes_recipients_from_headers() {
    let home = tempfile::tempdir().unwrap();
    let tag = unique_tag("cli-sendmail");
    let config = home.path().join("smtp.toml");
    std::fs::write(
        &config,
        format!(
            "host = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n",
            port("PEERS_POSTFIX_PLAIN_PORT")
        ),
    )
    .unwrap();
    let mut cmd = smtp(home.path());
    cmd.args(["sendmail", "-t", "-i", "-f", "cron@example.test"])
        .env("SMTP_CONFIG", &config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        write!(
            stdin,
            "To: ops@example.test\nBcc: secret@example.test\nSubject: {tag}\n\nnightly job done\n"
        )
        .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mail = String::from_utf8(postfix_mail(&tag)).unwrap();
    assert!(!mail.contains("Bcc:"), "{mail}");
    let dir = Path::new(peers().get("PEERS_POSTFIX_MAILDIR").unwrap()).to_path_buf();
    // -t took the Bcc recipient into the envelope: both get a copy.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let copies = smtp_testkit::wait_for_mail(&dir, &tag, Duration::from_secs(20));
        let to: Vec<String> = copies
            .iter()
            .filter_map(|c| {
                String::from_utf8_lossy(c)
                    .lines()
                    .find(|l| l.starts_with("Delivered-To:"))
                    .map(str::to_string)
            })
            .collect();
        if to.iter().any(|l| l.contains("ops@example.test"))
            && to.iter().any(|l| l.contains("secret@example.test"))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "expected copies for ops@ and secret@, got {to:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn test_command_reports_stages_as_json() {
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&mut plain_test_json(home.path()));
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "smtp-test/1");
    assert_eq!(v["ok"], true);
    let names: Vec<&str> = v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dns", "connect", "greeting", "ehlo", "auth"]);
    assert!(v["failure"].is_null());
}

/// `--send-to` without an address sends to the sender, whichever layer set
/// it: here `--from`, with no `message.from` anywhere.
#[test]
fn test_mail_without_an_address_goes_to_the_sender_given_by_from() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = plain_test_json(home.path());
    cmd.args(["--from", "me@example.test", "--send-to"]);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let send = stage(&v, "send");
    assert_eq!(send["ok"], true, "{out}");
    assert_eq!(send["detail"]["to"], "me@example.test", "{out}");
}

/// `smtp test --send-to`: the send stage reports the final reply, QUIT
/// goes out before that reply comes (it rides with `BDAT LAST`), and a
/// refused recipient fails the send stage.
#[test]
fn test_command_sends_a_test_mail_and_quits_in_the_same_flight() {
    let home = tempfile::tempdir().unwrap();
    let transcript = home.path().join("test.log");
    let mut cmd = plain_test_json(home.path());
    cmd.args(["--from", "me@example.test", "--send-to", "you@example.test"]);
    cmd.arg("--transcript").arg(&transcript);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let send = stage(&v, "send");
    assert_eq!(send["ok"], true, "{out}");
    let reply = send["detail"]["reply"].as_str().unwrap_or_default();
    assert!(reply.starts_with("250 2.0.0"), "{out}");
    let log = std::fs::read_to_string(&transcript).unwrap();
    let pos = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("{needle} not in transcript:\n{log}"))
    };
    assert!(
        pos("C: QUIT") < pos(&format!("S: {reply}")),
        "QUIT waited for the end-of-data reply:\n{log}"
    );
    assert!(pos("S: 221") > pos(&format!("S: {reply}")), "{log}");

    let rejected = peers().get("PEERS_REJECTED_RCPT").unwrap().to_string();
    let mut cmd = plain_test_json(home.path());
    cmd.args(["--from", "me@example.test", "--send-to", &rejected]);
    let (code, out, err) = run(&mut cmd);
    assert_ne!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], false, "{out}");
    let send = stage(&v, "send");
    assert_eq!(send["ok"], false, "{out}");
    assert_eq!(v["failure"]["stage"], "send", "{out}");
    assert!(
        v["failure"]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("550"),
        "{out}"
    );
}

#[test]
fn test_command_explains_connection_refused() {
    let home = tempfile::tempdir().unwrap();
    let (code, out, _) = run(smtp(home.path()).args([
        "test",
        "--host",
        "127.0.0.1",
        "--port",
        "1",
        "--security",
        "none",
    ]));
    assert_eq!(code, 75, "{out}");
    assert!(
        out.contains("[FAIL] connect") && out.contains("hint: connection refused"),
        "{out}"
    );
}

#[test]
fn config_show_names_the_layer_of_each_value() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("smtp.toml");
    std::fs::write(
        &config,
        "host = \"mail.example.test\"\nport = 2525\n[message]\nfrom = \"file@example.test\"\n",
    )
    .unwrap();
    let (code, out, err) = run(smtp(home.path())
        .args(["config", "show", "--origin", "--port", "2600"])
        .arg("--config")
        .arg(&config)
        .env("SMTP_MESSAGE__FROM", "env@example.test")
        .env("SMTP_AUTH__USERNAME", "u")
        .env("SMTP_AUTH__PASSWORD", "Sup3r-Secret"));
    assert_eq!(code, 0, "{out}{err}");
    let line = |key: &str| {
        out.lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("{key} missing:\n{out}"))
            .to_string()
    };
    assert!(line("host ").contains("smtp.toml"), "{out}");
    assert!(
        line("port ").contains("2600") && line("port ").to_lowercase().contains("command line"),
        "{out}"
    );
    assert!(
        line("message.from ").contains("env@example.test")
            && line("message.from ").contains("SMTP_MESSAGE__FROM"),
        "{out}"
    );
    assert!(
        !out.contains("Sup3r-Secret") && line("auth.password ").contains("<redacted>"),
        "{out}"
    );
}

#[test]
fn bulk_send_count_at_the_server_equals_count_reported_sent() {
    let home = tempfile::tempdir().unwrap();
    let tag = unique_tag("cli-bulk");
    let list = home.path().join("rcpts.txt");
    let rcpts: Vec<String> = (0..12).map(|i| format!("bulk{i}@example.test")).collect();
    std::fs::write(&list, format!("# list\n{}\n", rcpts.join("\n"))).unwrap();
    let mut cmd = plain_send(home.path(), "PEERS_POSTFIX_PLAIN_PORT");
    cmd.args([
        "--from",
        "me@example.test",
        "--subject",
        &tag,
        "--body",
        "bulk",
        "--concurrency",
        "3",
        "--json",
    ])
    .arg("--to-file")
    .arg(&list);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 12);
    let sent = lines.iter().filter(|l| l["status"] == "sent").count();
    assert_eq!(sent, 12);
    let dir = Path::new(peers().get("PEERS_POSTFIX_MAILDIR").unwrap()).to_path_buf();
    smtp_testkit::wait_for_mail_count(&dir, &tag, sent, Duration::from_secs(20));
}

#[test]
fn shell_sends_typed_commands_and_a_message() {
    let home = tempfile::tempdir().unwrap();
    let tag = unique_tag("cli-shell");
    let mut cmd = smtp(home.path());
    cmd.arg("shell");
    plain_args(&mut cmd, "PEERS_POSTFIX_PLAIN_PORT");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        write!(stdin, "MAIL FROM:<shell@example.test>\nRCPT TO:<you@example.test>\nDATA\nSubject: {tag}\n\n.typed line\n.\nQUIT\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("250 2.1.0") && stdout.contains("354"),
        "{stdout}"
    );
    let mail = String::from_utf8(postfix_mail(&tag)).unwrap();
    assert!(
        mail.contains("\n.typed line\n"),
        "dot-stuffed on the way, unstuffed at the server: {mail}"
    );
}

#[test]
fn completions_and_man_page_are_generated() {
    let home = tempfile::tempdir().unwrap();
    let (code, out, _) = run(smtp(home.path()).args(["generate", "bash"]));
    assert_eq!(code, 0);
    assert!(out.contains("smtp") && out.contains("--tls-min-version"));
    let (code, out, _) = run(smtp(home.path()).args(["generate", "man"]));
    assert_eq!(code, 0);
    assert!(out.contains(".TH smtp"), "{}", &out[..out.len().min(200)]);
    let (code, _, err) = run(smtp(home.path()).args(["generate", "tcsh"]));
    assert_eq!(code, 2, "{err}");
}

/// With a sender known, `smtp test` checks that it may send (MAIL FROM,
/// RCPT TO to the sender, RSET) and reports a `relay` stage; no message
/// is sent.
#[test]
fn test_command_checks_relay_permission_without_sending() {
    let home = tempfile::tempdir().unwrap();
    let transcript = home.path().join("t.log");
    let mut cmd = plain_test_json(home.path());
    cmd.args(["--from", "me@example.test"]);
    cmd.arg("--transcript").arg(&transcript);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let relay = stage(&v, "relay");
    assert_eq!(relay["ok"], true, "{out}");
    assert_eq!(relay["detail"]["to"], "me@example.test", "{out}");
    let log = std::fs::read_to_string(&transcript).unwrap();
    for line in [
        "C: MAIL FROM:<me@example.test>",
        "C: RCPT TO:<me@example.test>",
        "C: RSET",
    ] {
        assert!(log.contains(line), "{line} not in:\n{log}");
    }
    assert!(
        !log.contains("C: DATA") && !log.contains("C: BDAT"),
        "{log}"
    );
}

#[test]
fn a_json_line_names_each_accepted_and_refused_recipient_with_the_replies() {
    let home = tempfile::tempdir().unwrap();
    let refused = peers().get("PEERS_REJECTED_RCPT").unwrap().to_string();
    let mut cmd = plain_send(home.path(), "PEERS_POSTFIX_PLAIN_PORT");
    cmd.args([
        "--from",
        "me@example.test",
        "--to",
        "ops@example.test",
        "--to",
        &refused,
        "--subject",
        &unique_tag("cli-json-line"),
        "--body",
        "x",
        "--json",
    ]);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 1, "a refused recipient fails the run: {out}{err}");
    let raw = out.trim();
    // Scripts may read the fields by position: the order is part of it.
    let keys = [
        "\"message\":",
        "\"index\":",
        "\"status\":",
        "\"attempts\":",
        "\"accepted\":",
        "\"rejected\":",
    ];
    let at: Vec<usize> = keys.iter().map(|k| raw.find(k).expect(k)).collect();
    assert!(at[0] == 1 && at.windows(2).all(|w| w[0] < w[1]), "{raw}");
    assert!(
        raw.ends_with(r#","error":null,"hint":null,"hint_code":null,"retry_at":null}"#),
        "{raw}"
    );
    let line: serde_json::Value = serde_json::from_str(raw).expect(raw);
    assert_eq!(line["status"], "sent", "{line}");
    assert_eq!(
        line["accepted"],
        serde_json::json!(["ops@example.test"]),
        "{line}"
    );
    assert_eq!(line["rejected"][0]["recipient"], refused.as_str(), "{line}");
    let refusal = line["rejected"][0]["reply"]
        .as_str()
        .expect("a reply string");
    assert!(refusal.starts_with("550 5.1.1 "), "{line}");
    let reply = line["reply"].as_str().expect("the end-of-data reply");
    assert!(
        reply.starts_with("250 2.0.0 Ok: ") && reply.contains(" queued as "),
        "{line}"
    );
    assert!(
        line["error"].is_null() && line["retry_at"].is_null(),
        "{line}"
    );
}
