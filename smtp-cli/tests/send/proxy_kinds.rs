//! `smtp send --proxy` with the proxy kinds that need a particular server:
//! an HTTPS proxy (squid's `https_port`, its certificate checked with
//! `--ca-file` like the mail server's) and SOCKS4a (OpenSSH's `ssh -D`,
//! which resolves the name itself).

use std::time::Duration;

use crate::common::{code_and_text, get, smtp};

/// Runs `smtp send` with `args` and the rig's passwords in PASS and
/// PROXY_PASS; checks exit 0 and that the message arrived.
fn sent_through(what: &str, args: &[&str]) {
    let home = tempfile::tempdir().unwrap();
    let tag = smtp_testkit::unique_tag(what);
    let out = smtp(home.path())
        .args(["send", "--timeout", "30s"])
        .args(args)
        .args(["--from", "app@example.test", "--to", "ops@example.test"])
        .args(["--subject", &tag, "--body", what])
        .env("PASS", get("PEERS_SMTP_PASS"))
        .env("PROXY_PASS", get("PEERS_PROXY_PASS"))
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{what}: {text}");
    assert!(!text.contains(&get("PEERS_PROXY_PASS")), "{text}");
    smtp_testkit::wait_for_mail(
        &smtp_testkit::peers().postfix_maildir,
        &tag,
        Duration::from_secs(20),
    );
}

#[test]
fn send_through_an_https_proxy_with_implicit_tls_inside() {
    let proxy = format!(
        "https://{}@localhost:{}",
        get("PEERS_PROXY_USER"),
        get("PEERS_SQUID_HTTPS_AUTH_PORT")
    );
    let (port, ca, user) = (
        get("PEERS_POSTFIX_SMTPS_PORT"),
        get("PEERS_CA_CERT"),
        get("PEERS_SMTP_USER"),
    );
    sent_through(
        "cli-https-proxy",
        &[
            "--host",
            "localhost",
            "--port",
            &port,
            "--security",
            "implicit",
            "--ca-file",
            &ca,
            "--user",
            &user,
            "--password-env",
            "PASS",
            "--proxy",
            &proxy,
            "--proxy-password-env",
            "PROXY_PASS",
        ],
    );
}

#[test]
fn a_mail_server_pin_is_not_applied_to_the_https_proxy() {
    // The mail server is Postfix with a self-signed certificate, trusted by
    // its pin alone; squid's certificate (another key) is trusted by the
    // CA. Checking squid against the mail server's pin would refuse it.
    let home = tempfile::tempdir().unwrap();
    let proxy = format!(
        "https://{}@localhost:{}",
        get("PEERS_PROXY_USER"),
        get("PEERS_SQUID_HTTPS_AUTH_PORT")
    );
    let pin = smtp_testkit::openssl_pin(get("PEERS_SELFSIGNED_CERT"));
    assert_ne!(
        pin,
        smtp_testkit::openssl_pin(get("PEERS_SERVER_CERT")),
        "keys must differ"
    );
    let out = smtp(home.path())
        .args(["test", "--timeout", "30s", "--host", "localhost", "--port"])
        .arg(get("PEERS_POSTFIX_BADCERT_SELFSIGNED_PORT"))
        .args(["--security", "implicit", "--ca-file", &get("PEERS_CA_CERT")])
        .args(["--pin-sha256", &pin, "--proxy", &proxy])
        .args(["--proxy-password-env", "PROXY_PASS"])
        .env("PROXY_PASS", get("PEERS_PROXY_PASS"))
        .output()
        .unwrap();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("[ok  ] tls"), "{text}");
}

#[test]
fn send_through_socks4a_where_ssh_resolves_the_name() {
    let proxy = format!("socks4a://127.0.0.1:{}", get("PEERS_SOCKS4A_PORT"));
    let port = get("PEERS_POSTFIX_PLAIN_PORT");
    sent_through(
        "cli-socks4a",
        &[
            "--host",
            "localhost",
            "--port",
            &port,
            "--security",
            "none",
            "--proxy",
            &proxy,
        ],
    );
}
