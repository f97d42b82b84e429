//! The examples in `examples/` work, not only compile: a few of them run
//! against the real peers (Postfix with Dovecot SASL, dante, the test CA).

use std::path::PathBuf;
use std::process::Command;

use smtp_testkit::peers;

fn get(key: &str) -> String {
    peers()
        .get(key)
        .unwrap_or_else(|| panic!("{key} missing from the peers env file"))
        .to_string()
}

/// Builds the examples with the whole workspace's features, so the test
/// build's libraries are reused and only the examples link; returns
/// the directory holding them.
fn examples_dir() -> PathBuf {
    // Only the variables a plain `cargo` run from a shell would see: the
    // test runner sets others (CARGO_PKG_*, OUT_DIR-like build variables)
    // that build scripts track, which would rebuild ring & co. here and
    // again in the next test build.
    let mut cargo = Command::new(env!("CARGO"));
    cargo.env_clear();
    for (key, value) in std::env::vars_os() {
        let keep = key.to_str().is_some_and(|k| {
            matches!(k, "PATH" | "HOME" | "RUSTFLAGS" | "CARGO_TARGET_DIR")
                || k.starts_with("RUSTUP_")
                || k == "CARGO_HOME"
        });
        if keep {
            cargo.env(key, value);
        }
    }
    let status = cargo
        .args(["build", "-q", "--workspace", "--examples"])
        .status()
        .expect("running cargo to build the examples");
    assert!(status.success(), "building the examples failed");
    // target/debug/deps/examples-HASH -> target/debug/examples
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples")
}

/// Runs an example against Postfix's submission port; returns (exit code, output).
fn run(name: &str, port_key: &str, env: &[(&str, String)]) -> (i32, String) {
    let user = get("PEERS_SMTP_USER");
    let mut cmd = Command::new(examples_dir().join(name));
    cmd.env_clear()
        .env("MAIL_CA_FILE", get("PEERS_CA_CERT"))
        .args([get("PEERS_TLS_NAME"), get(port_key), user.clone(), user]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn password() -> Vec<(&'static str, String)> {
    vec![
        ("MAIL_USER", get("PEERS_SMTP_USER")),
        ("MAIL_PASSWORD", get("PEERS_SMTP_PASS")),
    ]
}

#[test]
fn starttls_example_sends() {
    let (code, text) = run("starttls", "PEERS_POSTFIX_SUBMISSION_PORT", &password());
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("accepted: ") && text.contains("250 2.0.0"),
        "{text}"
    );
}

#[test]
fn compose_bulk_example_sends_one_composed_copy_per_recipient() {
    let dir = tempfile::tempdir().unwrap();
    let attachment = dir.path().join("report.csv");
    std::fs::write(&attachment, "week,mails\n49,1200\n").unwrap();
    let mut cmd = Command::new(examples_dir().join("compose_bulk"));
    cmd.env_clear()
        .env("MAIL_CA_FILE", get("PEERS_CA_CERT"))
        .env("TMPDIR", dir.path())
        .env("MAIL_USER", get("PEERS_SMTP_USER"))
        .env("MAIL_PASSWORD", get("PEERS_SMTP_PASS"))
        .args([
            get("PEERS_TLS_NAME"),
            get("PEERS_POSTFIX_SUBMISSION_PORT"),
            get("PEERS_SMTP_USER"),
            get("PEERS_SMTP_USER"),
            "5".into(),
        ])
        .arg(&attachment);
    let out = cmd.output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let lines = text
        .lines()
        .filter(|l| l.starts_with("sent tester+"))
        .count();
    assert_eq!(lines, 5, "one outcome line per recipient: {text}");
    assert!(text.contains("5 sent, 0 failed"), "{text}");
}

#[test]
fn socks5_example_sends_through_dante() {
    let mut env = password();
    env.push((
        "MAIL_PROXY",
        format!("socks5h://127.0.0.1:{}", get("PEERS_SOCKS5_PORT")),
    ));
    let (code, text) = run("socks5_proxy", "PEERS_POSTFIX_SUBMISSION_PORT", &env);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("accepted: "), "{text}");
}

#[test]
fn xoauth2_example_sends_with_a_token() {
    let env = [
        ("MAIL_USER", get("PEERS_SMTP_USER")),
        ("MAIL_TOKEN", get("PEERS_OAUTH_TOKEN")),
    ];
    let (code, text) = run("xoauth2", "PEERS_POSTFIX_SUBMISSION_PORT", &env);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("accepted: "), "{text}");
}

#[test]
fn implicit_tls_example_explains_a_starttls_port() {
    let (code, text) = run("implicit_tls", "PEERS_POSTFIX_SUBMISSION_PORT", &password());
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("[tls-plaintext-reply]"), "{text}");
}

#[test]
fn examples_print_usage_without_arguments() {
    let out = Command::new(examples_dir().join("compose_bulk"))
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: compose_bulk HOST PORT FROM TO"));
}
