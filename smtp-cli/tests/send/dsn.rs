//! DSN and REQUIRETLS from the command line, config file and environment,
//! against the rig's real servers: Postfix (offers DSN, not REQUIRETLS)
//! and aiosmtpd (no DSN).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::common::{code_and_text, get, smtp};
use smtp_testkit::unique_tag;

fn to_server(cmd: &mut Command, port_key: &str) {
    cmd.args([
        "--host",
        "127.0.0.1",
        "--port",
        &get(port_key),
        "--security",
        "none",
        "--ehlo-name",
        "cli.example.test",
        "--timeout",
        "20s",
    ]);
}

/// Postfix over STARTTLS with its certificate verified (REQUIRETLS needs
/// that); Postfix does not offer REQUIRETLS.
fn to_postfix_over_verified_tls(cmd: &mut Command) {
    cmd.args(["--host", "localhost", "--port"])
        .arg(get("PEERS_POSTFIX_STARTTLS_OPTIONAL_PORT"))
        .args(["--security", "starttls", "--ca-file"])
        .arg(get("PEERS_CA_CERT"));
}

fn send(home: &Path, port_key: &str, tag: &str) -> Command {
    let mut cmd = smtp(home);
    cmd.arg("send");
    to_server(&mut cmd, port_key);
    cmd.args([
        "--from",
        "sender@example.test",
        "--to",
        "rcpt@example.test",
        "--subject",
        tag,
        "--body",
        "dsn test",
    ]);
    cmd
}

/// Postfix's success report for the message sent with ENVID `envid`.
fn postfix_report(envid: &str) -> String {
    let dir = Path::new(&get("PEERS_POSTFIX_MAILDIR")).to_path_buf();
    let needle = format!("Original-Envelope-Id: {envid}");
    let got = smtp_testkit::wait_for_mail(&dir, &needle, Duration::from_secs(20)).remove(0);
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn dsn_flags_get_a_success_report_from_postfix() {
    let home = tempfile::tempdir().unwrap();
    let tag = unique_tag("cli-dsn");
    let transcript = home.path().join("session.log");
    let out = send(home.path(), "PEERS_POSTFIX_PLAIN_PORT", &tag)
        .args([
            "--dsn-notify",
            "success,failure",
            "--dsn-ret",
            "hdrs",
            "--dsn-envid",
            &tag,
            "--dsn-orcpt",
            "--transcript",
        ])
        .arg(&transcript)
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    let wire = std::fs::read_to_string(&transcript).unwrap();
    assert!(wire.contains(&format!("RET=HDRS ENVID={tag}")), "{wire}");
    assert!(
        wire.contains(
            "RCPT TO:<rcpt@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;rcpt@example.test"
        ),
        "{wire}"
    );
    let report = postfix_report(&tag);
    assert!(report.contains("Action: delivered"), "{report}");
    assert!(
        report.contains("Original-Recipient: rfc822;rcpt@example.test"),
        "{report}"
    );
}

#[test]
fn dsn_settings_from_the_environment_and_sendmail_flags_reach_postfix() {
    let home = tempfile::tempdir().unwrap();
    let env_tag = unique_tag("env-dsn");
    let out = send(home.path(), "PEERS_POSTFIX_PLAIN_PORT", &env_tag)
        .env("SMTP_DSN__NOTIFY", "success")
        .env("SMTP_DSN__ENVID", &env_tag)
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    assert!(postfix_report(&env_tag).contains("Action: delivered"));

    let mail_tag = unique_tag("sendmail-dsn");
    let mut cmd = smtp(home.path());
    cmd.env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_PORT", get("PEERS_POSTFIX_PLAIN_PORT"))
        .env("SMTP_SECURITY", "none")
        .args([
            "sendmail",
            "-f",
            "sender@example.test",
            "-N",
            "success",
            "-R",
            "full",
        ])
        .args(["-V", &mail_tag, "rcpt@example.test"])
        .stdin(std::process::Stdio::piped());
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        write!(stdin, "Subject: {mail_tag}\n\nvia sendmail\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    assert!(postfix_report(&mail_tag).contains("Action: delivered"));
}

#[test]
fn a_server_without_dsn_refuses_the_request_or_drops_it_when_configured() {
    // aiosmtpd offers no DSN.
    let home = tempfile::tempdir().unwrap();
    let tag = unique_tag("no-dsn");
    let out = send(home.path(), "PEERS_AIOSMTPD_PLAIN_PORT", &tag)
        .args(["--dsn-notify", "success"])
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("does not offer DSN"), "{text}");
    assert!(text.contains("dsn-not-supported"), "{text}");

    let out = send(home.path(), "PEERS_AIOSMTPD_PLAIN_PORT", &tag)
        .args(["--dsn-notify", "success", "--dsn-if-unsupported", "drop"])
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("warning: the server does not offer DSN"),
        "{text}"
    );
    // Delivered without the request.
    let dir = Path::new(&get("PEERS_AIOSMTPD_MAILDIR")).to_path_buf();
    smtp_testkit::wait_for_mail(&dir, &tag, Duration::from_secs(20));
}

#[test]
fn bad_dsn_values_are_refused_before_connecting() {
    let home = tempfile::tempdir().unwrap();
    for (flag, value, says) in [
        ("--dsn-notify", "never,success", "never cannot be combined"),
        ("--dsn-ret", "body", "expected full or hdrs"),
        ("--dsn-envid", "bad\u{7f}id", "printable ASCII"),
        ("--dsn-if-unsupported", "ignore", "expected fail or drop"),
    ] {
        let out = send(home.path(), "PEERS_POSTFIX_PLAIN_PORT", "never-sent")
            .args([flag, value])
            .output()
            .unwrap();
        let (code, text) = code_and_text(&out);
        assert_eq!(code, 2, "{flag} {value}: {text}");
        assert!(text.contains(says), "{flag} {value}: {text}");
    }
}

#[test]
fn require_tls_is_refused_by_postfix_which_does_not_offer_it() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = smtp(home.path());
    cmd.arg("send");
    to_postfix_over_verified_tls(&mut cmd);
    cmd.args([
        "--from",
        "sender@example.test",
        "--to",
        "rcpt@example.test",
        "--subject",
        "requiretls",
        "--body",
        "never sent",
        "--require-tls",
    ]);
    let (code, text) = code_and_text(&cmd.output().unwrap());
    assert_ne!(code, 0, "{text}");
    assert!(
        text.contains("the server does not offer REQUIRETLS"),
        "{text}"
    );
    assert!(text.contains("requiretls-not-offered"), "{text}");
}

#[test]
fn the_test_mail_asks_for_the_dsn_a_real_message_would() {
    let home = tempfile::tempdir().unwrap();
    let tag = unique_tag("test-dsn");
    let mut cmd = smtp(home.path());
    cmd.arg("test");
    to_server(&mut cmd, "PEERS_POSTFIX_PLAIN_PORT");
    cmd.args([
        "--from",
        "sender@example.test",
        "--send-to",
        "rcpt@example.test",
    ]);
    cmd.args(["--dsn-notify", "success", "--dsn-envid", &tag]);
    let (code, text) = code_and_text(&cmd.output().unwrap());
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("asking DSN NOTIFY=SUCCESS"), "{text}");
    // Postfix honoured it: the success report carries the ENVID back.
    let report = postfix_report(&tag);
    assert!(report.contains("Action: delivered"), "{report}");
}

#[test]
fn the_relay_check_asks_for_requiretls_and_names_the_refusal() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = smtp(home.path());
    cmd.arg("test");
    to_postfix_over_verified_tls(&mut cmd);
    cmd.args(["--from", "sender@example.test", "--require-tls", "--json"]);
    let (code, text) = code_and_text(&cmd.output().unwrap());
    assert_ne!(code, 0, "{text}");
    let report: serde_json::Value = serde_json::from_str(text.trim()).expect(&text);
    let relay = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "relay")
        .expect(&text);
    assert_eq!(relay["ok"], false, "{text}");
    assert_eq!(relay["detail"]["envelope"]["requiretls"], true, "{text}");
    assert_eq!(
        report["failure"]["hint_code"], "requiretls-not-offered",
        "{text}"
    );
}

#[test]
fn require_tls_without_tls_is_a_config_error() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = send(home.path(), "PEERS_POSTFIX_PLAIN_PORT", "never-sent");
    cmd.arg("--require-tls");
    let (code, text) = code_and_text(&cmd.output().unwrap());
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("tls.requiretls"), "{text}");
    assert!(text.contains("REQUIRETLS needs TLS"), "{text}");
}

#[test]
fn a_queued_message_keeps_its_dsn_request_and_a_flush_sends_it() {
    let home = tempfile::tempdir().unwrap();
    let tag = unique_tag("queued-dsn");
    let queue = home.path().join("queue");
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = home.path().join("smtp.toml");
    std::fs::write(
        &config,
        format!(
            "host = \"127.0.0.1\"\nport = {dead}\nsecurity = \"none\"\ntimeout = \"10s\"\n\
             [queue]\ndir = \"{}\"\non_failure = \"queue\"\n",
            queue.display()
        ),
    )
    .unwrap();
    let mut cmd = smtp(home.path());
    cmd.arg("--config").arg(&config).args([
        "send",
        "--from",
        "sender@example.test",
        "--to",
        "rcpt@example.test",
        "--subject",
        &tag,
        "--body",
        "queued first",
        "--dsn-notify",
        "success",
        "--dsn-envid",
        &tag,
    ]);
    let (code, text) = code_and_text(&cmd.output().unwrap());
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("queued:"), "{text}");
    let meta: Vec<String> = std::fs::read_dir(&queue)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert_eq!(meta.len(), 1, "{meta:?}");
    let json: serde_json::Value = serde_json::from_str(&meta[0]).unwrap();
    assert_eq!(json["params"]["notify"], "SUCCESS", "{json}");
    assert_eq!(json["params"]["envid"], tag.as_str(), "{json}");

    // The flush names no DSN setting: the stored request is what goes.
    let mut flush = smtp(home.path());
    flush.arg("--config").arg(&config).args([
        "queue",
        "flush",
        "--port",
        &get("PEERS_POSTFIX_PLAIN_PORT"),
    ]);
    let (code, text) = code_and_text(&flush.output().unwrap());
    assert_eq!(code, 0, "{text}");
    assert!(postfix_report(&tag).contains("Action: delivered"));
}
