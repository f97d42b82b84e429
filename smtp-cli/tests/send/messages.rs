//! What `smtp send` and `smtp sendmail` put on the wire, delivered by the
//! rig's real Postfix: a 50 MiB attachment arrives intact (streamed, never
//! whole in memory), Bcc never reaches a recipient in any spelling, and
//! 8-bit content is never sent raw to a server without 8BITMIME.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::common::{code_and_text, get, smtp};
use mail_parser::{MessageParser, MimeHeaders};

fn postfix_maildir() -> std::path::PathBuf {
    smtp_testkit::peers().postfix_maildir.clone()
}

fn send(home: &Path, port_key: &str) -> std::process::Command {
    let mut c = smtp(home);
    c.args(["send", "--host", "127.0.0.1", "--port", &get(port_key)])
        .args(["--security", "none", "--timeout", "120s"]);
    c
}

/// A file of `len` bytes that compresses badly and shows any reordering.
fn noise(path: &Path, len: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut left = len;
    while left > 0 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let n = left.min(8);
        f.write_all(&x.to_le_bytes()[..n]).unwrap();
        left -= n;
    }
}

#[test]
fn a_50_mib_attachment_arrives_intact_through_postfix() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("report.bin");
    noise(&file, 50 * 1024 * 1024);
    let tag = smtp_testkit::unique_tag("cli-attach-50mib");
    let out = send(home.path(), "PEERS_POSTFIX_PLAIN_PORT")
        .args(["--from", "app@example.test", "--to", "ops@example.test"])
        .args(["--subject", &tag, "--body", "the report is attached"])
        .arg("--attach")
        .arg(&file)
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    let maildir = postfix_maildir();
    let found = smtp_testkit::wait_for_mail(&maildir, &tag, Duration::from_secs(120));
    let parsed = MessageParser::default().parse(&found[0]).unwrap();
    let same = parsed.attachments().next().map(|a| {
        (
            a.attachment_name().map(str::to_string),
            a.contents() == std::fs::read(&file).unwrap(),
        )
    });
    smtp_testkit::remove_mail(&maildir, &tag);
    assert_eq!(same, Some((Some("report.bin".into()), true)));
}

/// A config file for Postfix's plain port (sendmail reads only the config).
fn plain_postfix_config(home: &Path) -> std::path::PathBuf {
    let config = home.join("smtp.toml");
    std::fs::write(
        &config,
        format!(
            "host = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n",
            get("PEERS_POSTFIX_PLAIN_PORT")
        ),
    )
    .unwrap();
    config
}

/// Every way a Bcc field can be spelled in a message file.
const BCC_SPELLINGS: [&str; 5] = [
    "Bcc: {hidden}\r\n",
    "bcc : {hidden}\r\n",
    "BCC\t:{hidden}\r\n",
    "Bcc:\r\n {hidden}\r\n",
    "Bcc: \"Hidden, H\" <{hidden}> (not for you)\r\n",
];

fn message_with_bcc(tag: &str, spelling: &str, hidden: &str) -> String {
    format!(
        "From: app@example.test\r\nTo: ops@example.test\r\n{}Subject: {tag}\r\n\r\nbody of {tag}\r\n",
        spelling.replace("{hidden}", hidden)
    )
}

/// Both copies (To and the hidden Bcc) arrive, and neither names Bcc.
fn check_bcc_delivery(tag: &str, hidden: &str) {
    let maildir = postfix_maildir();
    let copies = smtp_testkit::wait_for_mail_count(&maildir, tag, 2, Duration::from_secs(30));
    for copy in &copies {
        let text = String::from_utf8_lossy(copy).to_ascii_lowercase();
        // Postfix names each copy's own envelope recipient in the lines it
        // adds; the message itself must not name the hidden one anywhere.
        let ours: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("x-original-to:") && !l.starts_with("delivered-to:"))
            .collect();
        assert!(
            !ours
                .iter()
                .any(|l| l.starts_with("bcc") || l.contains(hidden)),
            "a recipient sees the Bcc:\n{text}"
        );
    }
    let to_hidden = copies
        .iter()
        .filter(|c| String::from_utf8_lossy(c).contains(&format!("Delivered-To: {hidden}")))
        .count();
    assert_eq!(to_hidden, 1, "the Bcc recipient got its copy");
}

#[test]
fn bcc_is_sent_to_but_never_shown_in_any_spelling_by_send_raw() {
    let home = tempfile::tempdir().unwrap();
    for (i, spelling) in BCC_SPELLINGS.iter().enumerate() {
        let tag = smtp_testkit::unique_tag("cli-raw-bcc");
        let hidden = format!("hidden{i}@example.test");
        let file = home.path().join(format!("m{i}.eml"));
        std::fs::write(&file, message_with_bcc(&tag, spelling, &hidden)).unwrap();
        let out = send(home.path(), "PEERS_POSTFIX_PLAIN_PORT")
            .arg("--raw")
            .arg(&file)
            .output()
            .unwrap();
        let (code, text) = code_and_text(&out);
        assert_eq!(code, 0, "{spelling:?}: {text}");
        assert!(
            text.contains(&format!("sent: {hidden}")),
            "{spelling:?}: {text}"
        );
        check_bcc_delivery(&tag, &hidden);
    }
}

#[test]
fn bcc_is_sent_to_but_never_shown_in_any_spelling_by_sendmail_t() {
    let home = tempfile::tempdir().unwrap();
    let config = plain_postfix_config(home.path());
    for (i, spelling) in BCC_SPELLINGS.iter().enumerate() {
        let tag = smtp_testkit::unique_tag("cli-sendmail-bcc");
        let hidden = format!("hidden{i}@example.test");
        let mut child = smtp(home.path())
            .arg("--config")
            .arg(&config)
            .args(["sendmail", "-t"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(message_with_bcc(&tag, spelling, &hidden).as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let (code, text) = code_and_text(&out);
        assert_eq!(code, 0, "{spelling:?}: {text}");
        assert_eq!(text, "", "sendmail says nothing on success");
        check_bcc_delivery(&tag, &hidden);
    }
}

#[test]
fn eight_bit_content_is_never_sent_raw_to_a_seven_bit_server() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("8bit.eml");
    std::fs::write(
        &file,
        "From: app@example.test\r\nTo: ops@example.test\r\nSubject: x\r\n\r\nGr\u{fc}\u{df}e, raw UTF-8\r\n",
    )
    .unwrap();
    // From a file (known 8-bit: refused before MAIL) and from a pipe
    // (unknown until read: refused at the first 8-bit byte).
    for from_stdin in [false, true] {
        let mut cmd = send(home.path(), "PEERS_SMTP_SINK_NOESMTP_PORT");
        cmd.args([
            "--from",
            "app@example.test",
            "--to",
            "ops@example.test",
            "--raw",
        ]);
        let out = if from_stdin {
            let mut child = cmd
                .arg("-")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let bytes = std::fs::read(&file).unwrap();
            child.stdin.take().unwrap().write_all(&bytes).unwrap();
            child.wait_with_output().unwrap()
        } else {
            cmd.arg(&file).output().unwrap()
        };
        let (code, text) = code_and_text(&out);
        assert_eq!(code, 1, "stdin: {from_stdin}: {text}");
        assert!(
            text.contains("8BITMIME") && text.contains("[eight-bit-not-supported]"),
            "stdin: {from_stdin}: {text}"
        );
    }
    // A composed message with the same text is encoded and goes.
    let out = send(home.path(), "PEERS_SMTP_SINK_NOESMTP_PORT")
        .args(["--from", "app@example.test", "--to", "ops@example.test"])
        .args(["--subject", "Grüße", "--body", "Grüße, encoded"])
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
}

/// Runs `smtp <args>` with `input` on stdin; returns (exit code, output).
fn piped(home: &Path, args: &[&str], input: &str) -> (i32, String) {
    let mut child = smtp(home)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    code_and_text(&child.wait_with_output().unwrap())
}

/// The From header of the delivered message tagged `tag`: (name, address).
fn delivered_from(tag: &str) -> (Option<String>, Option<String>) {
    let found =
        smtp_testkit::wait_for_mail(&postfix_maildir(), tag, Duration::from_secs(30)).remove(0);
    let parsed = MessageParser::default().parse(&found).unwrap();
    let from = parsed.from().and_then(|a| a.first()).unwrap();
    (
        from.name().map(str::to_string),
        from.address().map(str::to_string),
    )
}

#[test]
fn sendmail_full_name_names_the_sender_in_from() {
    let home = tempfile::tempdir().unwrap();
    let config = plain_postfix_config(home.path());
    let config = config.display().to_string();
    // A From without a display name gets one.
    let tag = smtp_testkit::unique_tag("cli-sendmail-full-name");
    let msg = format!("From: cron@example.test\nTo: ops@example.test\nSubject: {tag}\n\nok\n");
    let args = ["--config", &config, "sendmail", "-t", "-F", "Backup Jöb"];
    let (code, text) = piped(home.path(), &args, &msg);
    assert_eq!((code, text.as_str()), (0, ""), "quiet on success");
    assert_eq!(
        delivered_from(&tag),
        (
            Some("Backup Jöb".to_string()),
            Some("cron@example.test".to_string())
        )
    );
    // No From at all: one is made of the name and the envelope sender.
    let tag = smtp_testkit::unique_tag("cli-sendmail-full-name-nofrom");
    let msg = format!("To: ops@example.test\nSubject: {tag}\n\nok\n");
    let args = [
        "--config",
        &config,
        "sendmail",
        "-t",
        "-f",
        "job@example.test",
        "-F",
        "Nightly",
    ];
    let (code, text) = piped(home.path(), &args, &msg);
    assert_eq!((code, text.as_str()), (0, ""));
    assert_eq!(
        delivered_from(&tag),
        (
            Some("Nightly".to_string()),
            Some("job@example.test".to_string())
        )
    );
}

#[test]
fn send_reads_a_body_piped_on_stdin() {
    let home = tempfile::tempdir().unwrap();
    let tag = smtp_testkit::unique_tag("cli-send-stdin-body");
    let port = get("PEERS_POSTFIX_PLAIN_PORT");
    let args = [
        "send",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--security",
        "none",
        "--from",
        "app@example.test",
        "--to",
        "ops@example.test",
        "--subject",
        &tag,
    ];
    let (code, text) = piped(home.path(), &args, "disk usage: 42%\n");
    assert_eq!(code, 0, "{text}");
    let found =
        smtp_testkit::wait_for_mail(&postfix_maildir(), &tag, Duration::from_secs(30)).remove(0);
    let parsed = MessageParser::default().parse(&found).unwrap();
    let body = parsed.body_text(0).unwrap_or_default();
    assert!(body.contains("disk usage: 42%"), "{body}");
}
