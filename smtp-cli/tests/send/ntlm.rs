//! `smtp send` with NTLM against the rig's Postfix NTLM port (Cyrus SASL's
//! NTLM plugin checks our NTLMv2 response): chosen by the flag, delivered,
//! and the transcript shows no secret.

use std::time::Duration;

use crate::common::{code_and_text, get, smtp};

#[test]
fn send_with_auth_mechanisms_ntlm_is_delivered_and_the_transcript_hides_the_exchange() {
    let home = tempfile::tempdir().unwrap();
    let transcript = home.path().join("transcript.log");
    let tag = smtp_testkit::unique_tag("cli-ntlm");
    let (user, pass) = (get("PEERS_SMTP_USER"), get("PEERS_SMTP_PASS"));
    let out = smtp(home.path())
        .args(["send", "--host", "localhost", "--port"])
        .arg(get("PEERS_POSTFIX_NTLM_PORT"))
        .args(["--security", "implicit", "--ca-file"])
        .arg(get("PEERS_CA_CERT"))
        .args(["--user", &user, "--password-env", "PASS"])
        .args(["--auth-mechanisms", "NTLM", "--timeout", "30s"])
        .args(["--from", "app@example.test", "--to", "ops@example.test"])
        .args(["--subject", &tag, "--body", "sent with NTLM"])
        .arg("--transcript")
        .arg(&transcript)
        .env("PASS", &pass)
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    let mail = smtp_testkit::wait_for_mail(
        &smtp_testkit::peers().postfix_maildir,
        &tag,
        Duration::from_secs(20),
    );
    let mail = String::from_utf8_lossy(&mail[0]).into_owned();
    assert!(
        mail.contains(&format!("(Authenticated sender: {user})")),
        "{mail}"
    );
    let log = std::fs::read_to_string(&transcript).unwrap();
    assert!(log.contains("AUTH NTLM <redacted>"), "{log}");
    assert!(
        !log.contains("TlRMTVNTUAAD"),
        "AUTHENTICATE message shown:\n{log}"
    );
    assert!(!log.contains(&pass) && !text.contains(&pass));
}
