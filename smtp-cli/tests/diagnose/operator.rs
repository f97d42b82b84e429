//! What an operator meets first: the README's examples, the words product
//! manuals use, presets, trust stores, going anonymous, proxy passwords.
//! The real `smtp` binary against the real peers.

use std::process::Command;

use crate::common::{code_and_text, get, smtp};

/// `smtp <args>` in a fresh home with `env` set; (exit code, stdout + stderr).
fn run_in(home: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd: Command = smtp(home);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    code_and_text(&cmd.output().unwrap())
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let home = tempfile::tempdir().unwrap();
    run_in(home.path(), args, env)
}

/// `smtp test` against the rig's submission port (STARTTLS + AUTH) with
/// `--security MODE`, the password in the variable `var` (set to the
/// rig's password, beside `extra` variables).
fn test_submission(mode: &str, var: &str, extra: &[(&str, &str)]) -> (i32, String) {
    let (port, ca) = (get("PEERS_POSTFIX_SUBMISSION_PORT"), get("PEERS_CA_CERT"));
    let (user, pass) = (get("PEERS_SMTP_USER"), get("PEERS_SMTP_PASS"));
    let mut env = vec![(var, pass.as_str())];
    env.extend_from_slice(extra);
    run(
        &[
            "test",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--security",
            mode,
            "--ca-file",
            &ca,
            "--user",
            &user,
            "--password-env",
            var,
            "--timeout",
            "30s",
        ],
        &env,
    )
}

#[test]
fn readme_password_env_example_works_beside_unrelated_smtp_variables() {
    let (code, text) = test_submission(
        "starttls",
        "SMTP_PASS",
        &[
            ("SMTP_USER", "someone-else"),
            ("SMTP_SERVER", "mail.other.example"),
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("env SMTP_SERVER"), "{text}");
    assert!(text.contains("env SMTP_USER"), "{text}");
    assert!(!text.contains("SMTP_PASS):"), "{text}");
    assert!(!text.contains(&get("PEERS_SMTP_PASS")), "{text}");
}

#[test]
fn config_check_and_strict_env_refuse_unknown_smtp_variables() {
    for args in [
        &["config", "check"][..],
        &["--strict-env", "config", "show"][..],
    ] {
        let (code, text) = run(args, &[("SMTP_SERVER", "mail.other.example")]);
        assert_eq!(code, 2, "{args:?}: {text}");
        assert!(
            text.contains("unknown key `server` in env SMTP_SERVER"),
            "{text}"
        );
        assert!(text.contains("[config-unknown-env-key]"), "{text}");
    }
    let (code, text) = run(&["config", "show"], &[("SMTP_SERVER", "x")]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("warning: server (from env SMTP_SERVER)"),
        "{text}"
    );
}

#[test]
fn explicit_is_starttls_and_logs_in_at_the_rig() {
    let (code, text) = test_submission("explicit", "PASS", &[]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn security_word_tls_is_refused_with_a_hint_and_mismatch_is_warned() {
    let (code, text) = run(
        &[
            "config",
            "check",
            "--host",
            "mail.example.com",
            "--port",
            "465",
            "--security",
            "TLS",
        ],
        &[],
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("port 465 means implicit"), "{text}");
    assert!(text.contains("[config-ambiguous-security]"), "{text}");

    let (code, text) = run(
        &[
            "config",
            "check",
            "--host",
            "mail.example.com",
            "--port",
            "465",
            "--security",
            "explicit",
        ],
        &[],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("warning: port (from command line): port 465 expects implicit TLS"),
        "{text}"
    );
}

#[test]
fn preset_port_follows_security_and_ses_needs_a_region() {
    let (code, text) = run(
        &[
            "--preset",
            "gmail",
            "config",
            "show",
            "--security",
            "implicit",
        ],
        &[],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("port ") && l.contains("= 465")),
        "{text}"
    );

    let (code, text) = run(&["--preset", "amazon-ses", "config", "check"], &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("missing `aws_region`"), "{text}");
    assert!(text.contains("--aws-region"), "{text}");

    let (code, text) = run(
        &[
            "--preset",
            "amazon-ses",
            "config",
            "show",
            "--aws-region",
            "eu-west-1",
        ],
        &[],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("email-smtp.eu-west-1.amazonaws.com"),
        "{text}"
    );
}

#[test]
fn no_auth_sends_anonymously_over_a_configured_login() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("smtp.toml");
    std::fs::write(
        &file,
        format!(
            "host = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nehlo_name = \"cli.example.test\"\n\
             [auth]\nusername = \"someone@example.test\"\npassword_command = \"echo nope\"\n",
            get("PEERS_POSTFIX_PLAIN_PORT")
        ),
    )
    .unwrap();
    let file = file.display().to_string();
    // With the login: refused before connecting (a password in clear).
    let (code, text) = run_in(home.path(), &["test", "--config", &file], &[]);
    assert_eq!(code, 2, "{text}");
    let (code, text) = run_in(home.path(), &["test", "--config", &file, "--no-auth"], &[]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = run_in(
        home.path(),
        &["test", "--config", &file],
        &[("SMTP_AUTH__ENABLED", "false")],
    );
    assert_eq!(code, 0, "{text}");
}

#[test]
fn ssl_cert_file_ca_verifies_starttls_without_ca_file() {
    let port = get("PEERS_POSTFIX_STARTTLS_OPTIONAL_PORT");
    let ca = get("PEERS_CA_CERT");
    let args = [
        "test",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--security",
        "starttls",
        "--ehlo-name",
        "cli.example.test",
        "--timeout",
        "30s",
    ];
    // The rig's CA is in no store: unknown issuer.
    let (code, text) = run(&args, &[]);
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("tls-unknown-issuer"), "{text}");
    // Installed the OpenSSL way: trusted with no flag.
    let (code, text) = run(&args, &[("SSL_CERT_FILE", ca.as_str())]);
    assert_eq!(code, 0, "{text}");
    // And off when asked.
    let (code, text) = run(
        &args,
        &[
            ("SSL_CERT_FILE", ca.as_str()),
            ("SMTP_TLS__PLATFORM_ROOTS", "false"),
        ],
    );
    assert_ne!(code, 0, "{text}");
}

/// `smtp test` to Postfix's plain port through the SOCKS5 proxy that
/// wants a login, with `extra` flags.
fn through_auth_proxy(
    home: &std::path::Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (i32, String) {
    let proxy = format!(
        "socks5h://{}@127.0.0.1:{}",
        get("PEERS_PROXY_USER"),
        get("PEERS_SOCKS5_AUTH_PORT")
    );
    let port = get("PEERS_POSTFIX_PLAIN_PORT");
    let mut args = vec![
        "test",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--security",
        "none",
        "--ehlo-name",
        "cli.example.test",
        "--timeout",
        "30s",
        "--proxy",
        &proxy,
    ];
    args.extend(extra);
    run_in(home, &args, env)
}

#[test]
fn proxy_password_comes_from_env_file_or_command_never_the_url() {
    let pass = get("PEERS_PROXY_PASS");
    let home = tempfile::tempdir().unwrap();

    let (code, text) = through_auth_proxy(home.path(), &[], &[]);
    assert_ne!(code, 0, "without a password the proxy refuses: {text}");

    let (code, text) = through_auth_proxy(
        home.path(),
        &["--proxy-password-env", "SMTP_PROXY_PASS"],
        &[("SMTP_PROXY_PASS", pass.as_str())],
    );
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains(&pass), "{text}");

    let file = home.path().join("proxy-pass");
    std::fs::write(&file, format!("{pass}\n")).unwrap();
    let file = file.display().to_string();
    let (code, text) = through_auth_proxy(home.path(), &["--proxy-password-file", &file], &[]);
    assert_eq!(code, 0, "{text}");

    let (code, text) = through_auth_proxy(
        home.path(),
        &[],
        &[("SMTP_PROXY__PASSWORD_COMMAND", &format!("cat {file}"))],
    );
    assert_eq!(code, 0, "{text}");

    let (code, text) =
        through_auth_proxy(home.path(), &[], &[("SMTP_PROXY__PASSWORD", pass.as_str())]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains(&pass), "{text}");
}

#[test]
fn transcript_appends_with_rfc3339_times_and_has_a_config_key() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("session.log");
    let port = get("PEERS_POSTFIX_PLAIN_PORT");
    let base = [
        "test",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--security",
        "none",
        "--ehlo-name",
        "cli.example.test",
        "--timeout",
        "30s",
    ];
    let log_s = log.display().to_string();
    let mut with_flag = base.to_vec();
    with_flag.extend(["--transcript", &log_s]);
    let (code, text) = run_in(home.path(), &with_flag, &[]);
    assert_eq!(code, 0, "{text}");
    let first = std::fs::read_to_string(&log).unwrap();
    // The key instead of the flag: appended, not replaced.
    let (code, text) = run_in(home.path(), &base, &[("SMTP_TRANSCRIPT__FILE", &log_s)]);
    assert_eq!(code, 0, "{text}");
    let both = std::fs::read_to_string(&log).unwrap();
    assert!(
        both.starts_with(&first) && both.len() > first.len(),
        "{both}"
    );
    assert_eq!(
        both.matches("C: EHLO cli.example.test").count(),
        2,
        "{both}"
    );
    for line in both.lines() {
        let stamp = line.split(' ').next().unwrap();
        assert!(
            humantime::parse_rfc3339(stamp).is_ok(),
            "not RFC 3339: {line}"
        );
    }
}

#[test]
fn shell_lists_capabilities_one_per_line_has_help_and_shows_quits_reply() {
    use std::io::Write;
    let home = tempfile::tempdir().unwrap();
    let port = get("PEERS_POSTFIX_PLAIN_PORT");
    let mut child = smtp(home.path())
        .args([
            "shell",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--security",
            "none",
            "--ehlo-name",
            "cli.example.test",
            "--timeout",
            "30s",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"help\nEHLO again.example.test\nNOOP\nQUIT\n")
        .unwrap();
    let (code, text) = code_and_text(&child.wait_with_output().unwrap());
    assert_eq!(code, 0, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    // The capabilities before the prompt: one per line.
    assert!(lines.iter().any(|l| l.trim() == "PIPELINING"), "{text}");
    assert!(lines.iter().any(|l| l.trim() == "8BITMIME"), "{text}");
    // help explains the commands.
    assert!(
        text.contains("MAIL FROM:<a@b>") && text.contains("a line with a single '.'"),
        "{text}"
    );
    // The EHLO reply as the server wrote it: 250-... lines, then 250 ...
    assert!(
        lines.iter().any(|l| l.starts_with("250-PIPELINING")),
        "{text}"
    );
    // QUIT's reply.
    assert!(lines.iter().any(|l| l.contains("221")), "{text}");
}
