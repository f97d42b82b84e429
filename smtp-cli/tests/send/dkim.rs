//! DKIM signing from the command line: flags, environment and config
//! reach the signer; what Postfix delivers verifies with dkimpy; a bad
//! key is refused before anything connects; `smtp test` reports it.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::common::{code_and_text, get, smtp};
use smtp_testkit::{ConnectionTrap, DkimKeyKind, DkimTestKey};

fn delivered(tag: &str) -> Vec<u8> {
    let maildir = smtp_testkit::peers().postfix_maildir.clone();
    let mut found = smtp_testkit::wait_for_mail(&maildir, tag, Duration::from_secs(60));
    smtp_testkit::remove_mail(&maildir, tag);
    found.remove(0)
}

fn send_to(home: &Path, port: &str) -> std::process::Command {
    let mut c = smtp(home);
    c.args(["send", "--host", "127.0.0.1", "--port", port])
        .args(["--security", "none", "--timeout", "60s"]);
    c
}

#[test]
fn send_with_dkim_flags_delivers_a_message_dkimpy_verifies() {
    let home = tempfile::tempdir().unwrap();
    let key = DkimTestKey::generate(DkimKeyKind::Rsa);
    let tag = smtp_testkit::unique_tag("cli-dkim-rsa");
    let out = send_to(home.path(), &get("PEERS_POSTFIX_PLAIN_PORT"))
        .args(["--from", "app@example.test", "--to", "ops@example.test"])
        .args(["--subject", &tag, "--body", "signed by the CLI\n"])
        .args(["--dkim-domain", "example.test", "--dkim-selector", "cli"])
        .arg("--dkim-key")
        .arg(key.path())
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    let mail = delivered(&tag);
    let head = String::from_utf8_lossy(&mail[..mail.len().min(4096)]).to_string();
    assert!(
        head.contains("a=rsa-sha256") && head.contains("s=cli"),
        "{head}"
    );
    key.verify(&mail).unwrap();
}

#[test]
fn sendmail_from_a_pipe_is_signed_with_ed25519_from_the_environment() {
    let home = tempfile::tempdir().unwrap();
    let key = DkimTestKey::generate(DkimKeyKind::Ed25519);
    let tag = smtp_testkit::unique_tag("cli-dkim-ed25519");
    let mut child = smtp(home.path())
        .args(["sendmail", "-t"])
        .env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_PORT", get("PEERS_POSTFIX_PLAIN_PORT"))
        .env("SMTP_SECURITY", "none")
        .env("SMTP_DKIM__DOMAIN", "example.test")
        .env("SMTP_DKIM__SELECTOR", "ed")
        .env("SMTP_DKIM__KEY_FILE", key.path())
        .env("SMTP_DKIM__CANONICALIZATION", "relaxed/simple")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let message =
        format!("From: app@example.test\nTo: ops@example.test\nSubject: {tag}\n\npiped body\n");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(message.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    let mail = delivered(&tag);
    let head = String::from_utf8_lossy(&mail).to_string();
    assert!(
        head.contains("a=ed25519-sha256") && head.contains("c=relaxed/simple"),
        "{head}"
    );
    key.verify(&mail).unwrap();
}

#[test]
fn unusable_dkim_keys_fail_before_connecting_with_a_hint() {
    let home = tempfile::tempdir().unwrap();
    let trap = ConnectionTrap::new();
    let garbage = home.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN PRIVATE KEY-----\nTk9UQUtFWQ==\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let missing = home.path().join("missing.pem");
    for (key, code_word) in [(&missing, "dkim-key-file"), (&garbage, "dkim-key-format")] {
        let out = send_to(home.path(), &trap.port().to_string())
            .args(["--from", "app@example.test", "--to", "ops@example.test"])
            .args(["--subject", "s", "--body", "b"])
            .args(["--dkim-domain", "example.test", "--dkim-selector", "s"])
            .arg("--dkim-key")
            .arg(key)
            .output()
            .unwrap();
        let (code, text) = code_and_text(&out);
        assert_eq!(code, 2, "{text}");
        assert!(
            text.contains(key.to_str().unwrap()),
            "names the file: {text}"
        );
        assert!(text.contains(code_word), "hint code {code_word}: {text}");
        assert!(
            !text.contains("Tk9UQUtFWQ"),
            "never the key's bytes: {text}"
        );
        assert_eq!(trap.connections(), 0, "connected despite a bad key: {text}");
    }
    // Half a setup is refused too, rather than sending unsigned mail.
    let out = send_to(home.path(), &trap.port().to_string())
        .args(["--from", "app@example.test", "--to", "ops@example.test"])
        .args([
            "--subject",
            "s",
            "--body",
            "b",
            "--dkim-domain",
            "example.test",
        ])
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("dkim.selector"), "{text}");
    assert_eq!(trap.connections(), 0);
}

#[test]
fn smtp_test_reports_whether_the_dkim_key_loads() {
    let home = tempfile::tempdir().unwrap();
    let key = DkimTestKey::generate(DkimKeyKind::Ed25519);
    let test = |key_file: &Path, port: &str| {
        smtp(home.path())
            .args([
                "test",
                "--host",
                "127.0.0.1",
                "--port",
                port,
                "--security",
                "none",
            ])
            .args(["--dkim-domain", "example.test", "--dkim-selector", "t"])
            .arg("--dkim-key")
            .arg(key_file)
            .output()
            .unwrap()
    };
    let out = test(key.path(), &get("PEERS_POSTFIX_PLAIN_PORT"));
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("] dkim"))
        .unwrap_or_else(|| panic!("no dkim line: {text}"));
    assert!(line.contains("[ok  ]"), "{line}");
    assert!(
        line.contains("d=example.test s=t (ed25519-sha256, relaxed/relaxed)")
            && line.contains("loads"),
        "{line}"
    );

    let trap = ConnectionTrap::new();
    let bad = home.path().join("public.pem");
    std::fs::write(
        &bad,
        smtp_testkit::openssl(&["pkey", "-in", key.path().to_str().unwrap(), "-pubout"]),
    )
    .unwrap();
    let out = test(&bad, &trap.port().to_string());
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("[FAIL] dkim"), "{text}");
    assert!(text.contains("[dkim-key-format]"), "{text}");
    assert_eq!(trap.connections(), 0, "{text}");
}

#[test]
fn the_outbox_stores_the_message_signed_at_submission() {
    let home = tempfile::tempdir().unwrap();
    let key = DkimTestKey::generate(DkimKeyKind::Rsa);
    let outbox = home.path().join("outbox");
    let out = smtp(home.path())
        .args([
            "send",
            "--from",
            "app@example.test",
            "--to",
            "ops@example.test",
        ])
        .args(["--subject", "queued", "--body", "kept for later\n"])
        .args(["--dkim-domain", "example.test", "--dkim-selector", "q"])
        .arg("--dkim-key")
        .arg(key.path())
        .env("SMTP_QUEUE__DIR", &outbox)
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    let stored: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let eml = std::fs::read(&stored[0]).unwrap();
    assert!(
        eml.starts_with(b"DKIM-Signature: "),
        "signed once, at the top"
    );
    key.verify(&eml).unwrap();
}
