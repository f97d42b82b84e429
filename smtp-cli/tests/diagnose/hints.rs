//! `smtp test` / `smtp send` explain each misconfiguration that can be
//! produced on loopback, against the real peers: one error line stating the
//! fact, one `hint:` line saying what to do, never the same advice twice.

use crate::common::{code_and_text, get, smtp, stage};

/// Runs `smtp <args>` against 127.0.0.1 and returns (exit code, stdout + stderr).
fn run(args: &[&str], env: &[(&str, String)]) -> (i32, String) {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = smtp(home.path());
    cmd.args(args)
        .args(["--host", "127.0.0.1", "--ehlo-name", "cli.example.test"]);
    // Generous, since the peers are shared by every test running at once;
    // the greeting-timeout case sets its own.
    if !args.contains(&"--timeout") {
        cmd.args(["--timeout", "30s"]);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    code_and_text(&cmd.output().unwrap())
}

fn assert_says(text: &str, words: &[&str]) {
    let lower = text.to_lowercase();
    for w in words {
        assert!(
            lower.contains(&w.to_lowercase()),
            "expected {w:?} in:\n{text}"
        );
    }
}

/// Words that give advice; the error line states facts, so it has none.
const ADVICE_WORDS: &[&str] = &[
    "use",
    "check",
    "enable",
    "set",
    "try",
    "add",
    "configure",
    "widen",
    "update",
    "fix",
    "install",
    "pin",
];

/// Checks the shape of a failure: exactly one error line (`[FAIL] ...`,
/// `error: ...` or `smtp send`'s `failed-permanent: ...`) that gives no advice and names no config key or flag, and
/// exactly one `hint: ... [code]` line that shares no phrase with it.
/// Returns (error line, hint line).
fn assert_one_fact_one_hint(text: &str, code: &str) -> (String, String) {
    let facts: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.trim_start().starts_with("[FAIL]")
                || l.starts_with("error:")
                || l.starts_with("failed-")
        })
        .collect();
    let hints: Vec<&str> = text.lines().filter(|l| l.starts_with("hint:")).collect();
    assert_eq!(facts.len(), 1, "one error line expected:\n{text}");
    assert_eq!(hints.len(), 1, "one hint line expected:\n{text}");
    let (fact, hint) = (facts[0], hints[0]);
    assert!(
        hint.ends_with(&format!(" [{code}]")),
        "want [{code}]:\n{text}"
    );
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let fact_words = words(fact);
    for w in ADVICE_WORDS {
        assert!(
            !fact_words.iter().any(|f| f == w),
            "advice word {w:?} in the error line (advice belongs in the hint):\n{text}"
        );
    }
    // Facts may name a key and where its value came from; flags are advice.
    assert!(!fact.contains(" --"), "a flag in the error line:\n{text}");
    // No four words in a row said twice.
    let fact_joined = format!(" {} ", fact_words.join(" "));
    let hint_words = words(hint.trim_start_matches("hint:"));
    for w in hint_words.windows(4) {
        let phrase = format!(" {} ", w.join(" "));
        assert!(
            !fact_joined.contains(&phrase),
            "{phrase:?} is in both lines:\n{text}"
        );
    }
    (fact.to_string(), hint.to_string())
}

#[test]
fn the_shape_check_catches_repeated_advice() {
    // The pre-fix output of `smtp test --port 2591 --security implicit`.
    let old = "  [FAIL] tls   tls with 127.0.0.1 failed: the server's certificate expired at \
               2020-01-02T00:00:00Z: the server must renew it; if that date looks wrong, check \
               this machine's clock\nhint: the server must renew its certificate; if the dates \
               look wrong, fix this machine's clock [tls-certificate-expired]\n";
    let caught =
        std::panic::catch_unwind(|| assert_one_fact_one_hint(old, "tls-certificate-expired"));
    assert!(
        caught.is_err(),
        "the old, repeated output must fail the check"
    );
}

/// `smtp test --port <the peer port at port_key> --security <security>`,
/// then `extra`; returns (exit code, stdout + stderr).
fn test_at(
    port_key: &str,
    security: &str,
    extra: &[&str],
    env: &[(&str, String)],
) -> (i32, String) {
    let port = get(port_key);
    let mut args = vec!["test", "--port", &port, "--security", security];
    args.extend(extra);
    run(&args, env)
}

/// `extra` after the rig CA and the server name its certificates carry.
fn verified(extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--ca-file".to_string(),
        get("PEERS_CA_CERT"),
        "--tls-server-name".to_string(),
        "localhost".to_string(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

/// `smtp test` with the rig CA and server name, then `extra`.
fn test_verified(port_key: &str, security: &str, extra: &[&str]) -> (i32, String) {
    let args = verified(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    test_at(port_key, security, &args, &[])
}

/// `smtp test --security none` logging in as the rig user with the
/// password in `$PASS`, then `extra`.
fn test_login(port_key: &str, extra: &[&str], env: &[(&str, String)]) -> (i32, String) {
    let user = get("PEERS_SMTP_USER");
    let mut args = vec!["--user", &user, "--password-env", "PASS"];
    args.extend(extra);
    test_at(port_key, "none", &args, env)
}

#[test]
fn implicit_tls_against_a_starttls_port() {
    let ca = get("PEERS_CA_CERT");
    let (code, text) = test_at(
        "PEERS_POSTFIX_SUBMISSION_PORT",
        "implicit",
        &["--ca-file", &ca],
        &[],
    );
    assert_ne!(code, 0);
    assert_says(&text, &["[FAIL] tls", "starttls", "[tls-plaintext-reply]"]);
    let (fact, hint) = assert_one_fact_one_hint(&text, "tls-plaintext-reply");
    assert!(fact.contains("TLS with 127.0.0.1 failed"), "{text}");
    assert!(hint.contains("--security starttls"), "{text}");
}

#[test]
fn starttls_against_an_implicit_tls_port() {
    let ca = get("PEERS_CA_CERT");
    let (code, text) = test_at(
        "PEERS_POSTFIX_SMTPS_PORT",
        "starttls",
        &["--ca-file", &ca, "--timeout", "3s"],
        &[],
    );
    assert_eq!(code, 75, "{text}");
    assert_says(&text, &["greeting", "implicit", "[greeting-timeout]"]);
    assert_one_fact_one_hint(&text, "greeting-timeout");
}

#[test]
fn certificate_problems_are_named() {
    for (port, words, hint_code) in [
        (
            "PEERS_POSTFIX_BADCERT_HOST_PORT",
            &["wrong.example.test", "--tls-server-name"][..],
            "tls-name-mismatch",
        ),
        (
            "PEERS_POSTFIX_BADCERT_EXPIRED_PORT",
            &["expired", "renew"][..],
            "tls-certificate-expired",
        ),
        (
            "PEERS_POSTFIX_BADCERT_SELFSIGNED_PORT",
            &[
                "not signed by a trusted certificate authority",
                "private CA",
                "tls.ca_file (--ca-file)",
            ][..],
            "tls-unknown-issuer",
        ),
    ] {
        let (code, text) = test_verified(port, "implicit", &[]);
        assert_eq!(code, 1, "{port}: {text}");
        assert_says(&text, words);
        let (_, hint) = assert_one_fact_one_hint(&text, hint_code);
        // Acronyms keep their case (no "private ca").
        assert!(!hint.contains(" ca ") && !hint.contains(" tls "), "{text}");
        let (code, text) = test_verified(port, "implicit", &["--dangerous-accept-invalid-certs"]);
        assert_eq!(code, 0, "{port} with the danger switch: {text}");
        assert_says(&text, &["NOT VERIFIED"]);
    }
}

#[test]
fn tls_version_mismatch_names_the_versions() {
    let (code, text) = test_verified(
        "PEERS_POSTFIX_TLS12_SMTPS_PORT",
        "implicit",
        &["--tls-min-version", "1.3"],
    );
    assert_eq!(code, 1, "{text}");
    assert_says(&text, &["1.3", "--tls-min-version"]);
    assert_one_fact_one_hint(&text, "tls-version-mismatch");
    // The same through STARTTLS, on the TLS-1.3-only port.
    let (code, text) = test_verified(
        "PEERS_POSTFIX_TLS13_STARTTLS_PORT",
        "starttls",
        &["--tls-max-version", "1.2"],
    );
    assert_eq!(code, 1, "{text}");
    assert_says(&text, &["TLSv1.2 only"]);
    assert_one_fact_one_hint(&text, "tls-version-mismatch");
    let (code, text) = test_verified("PEERS_POSTFIX_TLS12_SMTPS_PORT", "implicit", &[]);
    assert_eq!(code, 0, "{text}");
    assert_says(&text, &["TLSv1.2"]);
}

#[test]
fn no_common_mechanism_lists_both_sides() {
    let env = [("PASS", get("PEERS_SMTP_PASS"))];
    let (code, text) = test_login(
        "PEERS_AIOSMTPD_PLAIN_PORT",
        &[
            "--auth-mechanisms",
            "SCRAM-SHA-256,CRAM-MD5",
            "--allow-cleartext-auth",
        ],
        &env,
    );
    assert_eq!(code, 1, "{text}");
    assert_says(
        &text,
        &[
            "[FAIL] auth",
            "PLAIN",
            "LOGIN",
            "SCRAM-SHA-256",
            "[auth-no-common-mechanism]",
        ],
    );
    let (_, hint) = assert_one_fact_one_hint(&text, "auth-no-common-mechanism");
    assert!(
        hint.contains("auth.mechanisms (--auth-mechanisms)"),
        "{text}"
    );
}

#[test]
fn auth_before_starttls() {
    let env = [("PASS", get("PEERS_SMTP_PASS"))];
    // A password mechanism without TLS is refused before connecting.
    let (code, text) = test_login("PEERS_POSTFIX_STARTTLS_OPTIONAL_PORT", &[], &env);
    assert_eq!(code, 2, "{text}");
    assert_says(&text, &["in clear", "starttls"]);
    assert_one_fact_one_hint(&text, "config-cleartext-auth");
    // SCRAM may run in clear, but this server offers AUTH only after STARTTLS.
    let (code, text) = test_login(
        "PEERS_POSTFIX_STARTTLS_OPTIONAL_PORT",
        &["--auth-mechanisms", "SCRAM-SHA-256"],
        &env,
    );
    assert_ne!(code, 0, "{text}");
    assert_says(&text, &["[FAIL] auth", "before STARTTLS"]);
    let (_, hint) = assert_one_fact_one_hint(&text, "auth-not-offered-without-tls");
    assert!(hint.contains("--security starttls"), "{text}");
}

#[test]
fn bad_credentials_mention_app_passwords_and_never_the_password() {
    let env = [("PASS", "Wrong-Secret-42".to_string())];
    let (code, text) = test_login(
        "PEERS_POSTFIX_PLAIN_PORT",
        &["--allow-cleartext-auth", "--auth-mechanisms", "PLAIN"],
        &env,
    );
    assert_eq!(code, 1, "{text}");
    assert_says(&text, &["535", "app password", "[auth-bad-credentials]"]);
    assert_one_fact_one_hint(&text, "auth-bad-credentials");
    assert!(!text.contains("Wrong-Secret-42"));
}

#[test]
fn cleartext_auth_is_refused_unless_allowed() {
    let env = [("PASS", get("PEERS_SMTP_PASS"))];
    let (code, text) = test_login(
        "PEERS_POSTFIX_PLAIN_PORT",
        &["--auth-mechanisms", "PLAIN"],
        &env,
    );
    assert_ne!(code, 0, "{text}");
    assert_says(&text, &["allow"]);
    assert_one_fact_one_hint(&text, "config-cleartext-auth");
    let (code, text) = test_login(
        "PEERS_POSTFIX_PLAIN_PORT",
        &["--auth-mechanisms", "PLAIN", "--allow-cleartext-auth"],
        &env,
    );
    assert_eq!(code, 0, "{text}");
    assert_says(&text, &["authenticated with PLAIN"]);
}

#[test]
fn proxy_auth_failure_names_the_proxy_credentials() {
    let with_wrong_pass = |scheme: &str, port_key: &str| {
        format!(
            "{scheme}://{}:wrong-proxy-pass@127.0.0.1:{}",
            get("PEERS_PROXY_USER"),
            get(port_key)
        )
    };
    // tinyproxy's 401 (the first row) says the most; SOCKS5 (microsocks)
    // and squid's 407 read the same way.
    for (proxy, says) in [
        (
            with_wrong_pass("http", "PEERS_HTTP_PROXY_AUTH_PORT"),
            &["HTTP 401", "password", "proxy.url (--proxy)"][..],
        ),
        (
            with_wrong_pass("socks5h", "PEERS_SOCKS5_AUTH_PORT"),
            &["rejected the user name or password"][..],
        ),
        (
            with_wrong_pass("http", "PEERS_SQUID_AUTH_PORT"),
            &["HTTP 407"][..],
        ),
    ] {
        let (code, text) = test_at(
            "PEERS_POSTFIX_PLAIN_PORT",
            "none",
            &["--proxy", &proxy],
            &[],
        );
        assert_eq!(code, 1, "a refused proxy login is permanent: {text}");
        assert_says(&text, says);
        assert_says(&text, &["[proxy-auth-rejected]"]);
        assert_one_fact_one_hint(&text, "proxy-auth-rejected");
        assert!(!text.contains("wrong-proxy-pass"), "{text}");
    }
}

#[test]
fn mutual_tls_without_a_client_certificate() {
    // Postfix completes the handshake, then answers 421 in place of the
    // greeting: 4xx by code, but only a client certificate fixes it.
    let (code, text) = test_verified("PEERS_POSTFIX_MTLS_PORT", "implicit", &[]);
    assert_ne!(code, 0, "{text}");
    assert_says(&text, &["No client certificate presented"]);
    let (_, hint) = assert_one_fact_one_hint(&text, "reply-client-certificate");
    assert!(hint.contains("--client-cert"), "{text}");
    // A key that does not belong to the certificate fails before connecting.
    let untrusted_key = get("PEERS_UNTRUSTED_CLIENT_KEY");
    let cert = get("PEERS_CLIENT_CERT");
    let (code, text) = test_verified(
        "PEERS_POSTFIX_MTLS_PORT",
        "implicit",
        &["--client-cert", &cert, "--client-key", &untrusted_key],
    );
    assert_eq!(code, 2, "{text}");
    assert_says(&text, &["do not work together"]);
    assert_one_fact_one_hint(&text, "tls-client-auth-mismatch");
}

#[test]
fn relay_denied_without_authentication() {
    let port = get("PEERS_POSTFIX_SUBMISSION_PORT");
    let mut args = vec!["send", "--port", &port, "--security", "starttls"];
    let tls = verified(&[]);
    args.extend(tls.iter().map(String::as_str));
    args.extend([
        "--from",
        "me@example.test",
        "--to",
        "you@example.test",
        "--subject",
        "relay",
        "--body",
        "x",
    ]);
    let (code, text) = run(&args, &[]);
    assert_eq!(code, 1, "{text}");
    assert_says(&text, &["554", "authenticate", "[reply-relay-denied]"]);
    assert_one_fact_one_hint(&text, "reply-relay-denied");
}

#[test]
fn full_tls_and_auth_session_through_a_socks5_proxy_with_a_redacted_transcript() {
    let home = tempfile::tempdir().unwrap();
    let transcript = home.path().join("t.log");
    let proxy = format!(
        "socks5h://{}:{}@127.0.0.1:{}",
        get("PEERS_PROXY_USER"),
        get("PEERS_PROXY_PASS"),
        get("PEERS_SOCKS5_AUTH_PORT")
    );
    let pass = get("PEERS_SMTP_PASS");
    let out = smtp(home.path())
        .args([
            "test",
            "--json",
            "--host",
            "localhost",
            "--port",
            &get("PEERS_POSTFIX_SUBMISSION_PORT"),
            "--security",
            "starttls",
            "--ca-file",
            &get("PEERS_CA_CERT"),
        ])
        .args([
            "--user",
            &get("PEERS_SMTP_USER"),
            "--password-env",
            "PASS",
            "--auth-mechanisms",
            "PLAIN",
            "--proxy",
            &proxy,
            "--send-to",
            "you@example.test",
            "--from",
            &get("PEERS_SMTP_USER"),
        ])
        .arg("--transcript")
        .arg(&transcript)
        .env("PASS", &pass)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let tls = stage(&v, "tls");
    assert_eq!(tls["detail"]["version"], "TLSv1.3");
    assert_eq!(tls["detail"]["verified"], true);
    assert!(v["proxy"].as_str().unwrap().contains("<redacted>"));
    let log = std::fs::read_to_string(&transcript).unwrap();
    assert!(log.contains("AUTH PLAIN <redacted>"), "{log}");
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let user = get("PEERS_SMTP_USER");
    for secret in [
        pass.clone(),
        b64.encode(&pass),
        b64.encode(format!("\0{user}\0{pass}")),
        get("PEERS_PROXY_PASS"),
    ] {
        assert!(
            !log.contains(&secret) && !stdout.contains(&secret),
            "secret leaked: {secret}"
        );
    }
}

/// A tokio runtime for a scripted server; the binary runs outside it.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// `smtp send` of one small message to `port` in clear, one attempt.
fn send_once(port: &str, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["send", "--port", port];
    args.extend(extra);
    args.extend([
        "--from",
        "me@example.test",
        "--to",
        "you@example.test",
        "--subject",
        "s",
        "--body",
        "x",
    ]);
    run(&args, &[("SMTP_RETRY__ATTEMPTS", "1".to_string())])
}

#[test]
fn a_temporary_refusal_at_mail_is_not_blamed_on_the_sender() {
    // smtp-sink -r MAIL: 450 4.3.0 to MAIL FROM.
    let port = get("PEERS_SMTP_SINK_MAIL4XX_PORT");
    let (code, text) = send_once(&port, &["--security", "none"]);
    assert_eq!(code, 75, "{text}");
    assert!(!text.contains("reply-sender-refused"), "{text}");
    assert_one_fact_one_hint(&text, "reply-temporary");
}

#[test]
fn a_daily_sending_quota_is_not_a_sender_refusal() {
    let rt = runtime();
    let server = {
        let _rt = rt.enter();
        smtp_testkit::ScriptedServer::start(|mut c| async move {
            c.send("220 quota ESMTP\r\n").await;
            c.expect("EHLO").await;
            c.send("250-quota\r\n250 ENHANCEDSTATUSCODES\r\n").await;
            c.expect("MAIL").await;
            c.send(
                "550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\r\n\
                 550 5.4.5 sending limits go to https://support.google.com/a/answer/166852\r\n",
            )
            .await;
            while let Some(line) = c.read_line().await {
                if line.eq_ignore_ascii_case("QUIT") {
                    c.send("221 bye\r\n").await;
                    return;
                }
                c.send("250 ok\r\n").await;
            }
        })
    };
    let (code, text) = send_once(&server.port().to_string(), &["--security", "none"]);
    assert_eq!(code, 1, "{text}");
    assert!(!text.contains("reply-sender-refused"), "{text}");
    assert_one_fact_one_hint(&text, "reply-quota-exceeded");
}

#[test]
fn a_reply_after_starttls_in_place_of_the_handshake_does_not_advise_starttls() {
    let rt = runtime();
    let server = {
        let _rt = rt.enter();
        smtp_testkit::ScriptedServer::start(|mut c| async move {
            c.send("220 inject ESMTP\r\n").await;
            c.expect("EHLO").await;
            c.send("250-inject\r\n250 STARTTLS\r\n").await;
            c.expect("STARTTLS").await;
            c.send("220 go ahead\r\n").await;
            // Late enough to miss the check made right after the 220.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            c.send("250 injected\r\n").await;
            let _ = c.read_line().await;
        })
    };
    let ca = get("PEERS_CA_CERT");
    let (code, text) = send_once(
        &server.port().to_string(),
        &["--security", "starttls", "--ca-file", &ca],
    );
    assert_ne!(code, 0, "{text}");
    let (_, hint) = assert_one_fact_one_hint(&text, "tls-reply-before-handshake");
    assert!(!hint.contains("--security"), "{text}");
}

#[test]
fn smtp_test_says_it_waits_for_the_greeting_and_gives_up_early() {
    // STARTTLS against the implicit TLS port: the server waits for a TLS
    // ClientHello and never greets. No timeout is set anywhere.
    let home = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = smtp(home.path())
        .args(["test", "--host", "127.0.0.1", "--port"])
        .arg(get("PEERS_POSTFIX_SMTPS_PORT"))
        .args(["--security", "starttls", "--ehlo-name", "cli.example.test"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let (code, text) = code_and_text(&out);
    assert_eq!(code, 75, "{text}");
    assert!(
        took < std::time::Duration::from_secs(40),
        "took {took:?}:\n{text}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let notice = stderr
        .lines()
        .find(|l| l.contains("still waiting for the server's greeting"))
        .unwrap_or_else(|| panic!("no waiting notice:\n{text}"));
    assert!(notice.contains("--security implicit"), "{text}");
    assert_says(
        &text,
        &["greeting timed out after 20s", "[greeting-timeout]"],
    );
}

#[test]
fn smtp_send_says_it_waits_for_the_greeting() {
    let port = get("PEERS_POSTFIX_SMTPS_PORT");
    let (code, text) = send_once(&port, &["--security", "starttls", "--timeout", "8s"]);
    assert_eq!(code, 75, "{text}");
    assert!(
        text.contains("still waiting for the server's greeting after 5s"),
        "{text}"
    );
}

#[test]
fn smtp_test_finds_relay_denied_without_sending() {
    // Anonymous on the submission port: the session itself is fine, but
    // the server would refuse to relay; `smtp test` must not say ok.
    let (code, text) = test_verified(
        "PEERS_POSTFIX_SUBMISSION_PORT",
        "starttls",
        &["--from", "me@example.test"],
    );
    assert_eq!(code, 1, "{text}");
    assert_says(&text, &["[FAIL] relay", "554", "result: failed at relay"]);
    assert!(!text.contains("result: ok"), "{text}");
    assert_one_fact_one_hint(&text, "reply-relay-denied");
}

/// The base64 SHA-256 of a PEM certificate's SubjectPublicKeyInfo, by
/// openssl (independent of the code under test).
#[test]
fn a_pin_alone_trusts_a_self_signed_server() {
    let pin = smtp_testkit::openssl_pin(get("PEERS_SELFSIGNED_CERT"));
    let args = [
        "--tls-server-name",
        "localhost",
        "--pin-sha256",
        pin.as_str(),
    ];
    let (code, text) = test_at(
        "PEERS_POSTFIX_BADCERT_SELFSIGNED_PORT",
        "implicit",
        &args,
        &[],
    );
    assert_eq!(code, 0, "{text}");
    assert_says(&text, &["[ok  ] tls", "result: ok"]);
    // A pin of another key is still refused, and says so.
    let other = smtp_testkit::openssl_pin(get("PEERS_SERVER_CERT"));
    let args = [
        "--tls-server-name",
        "localhost",
        "--pin-sha256",
        other.as_str(),
    ];
    let (code, text) = test_at(
        "PEERS_POSTFIX_BADCERT_SELFSIGNED_PORT",
        "implicit",
        &args,
        &[],
    );
    assert_ne!(code, 0, "{text}");
    assert!(
        text.contains("[tls-pin-mismatch]") || text.contains("[tls-unknown-issuer]"),
        "{text}"
    );
}

#[test]
fn an_http_proxy_that_wants_credentials_and_got_none_says_so() {
    // tinyproxy answers 401, squid 407: either way no credentials were
    // sent, so they are missing, not wrong.
    for port_key in ["PEERS_HTTP_PROXY_AUTH_PORT", "PEERS_SQUID_AUTH_PORT"] {
        let proxy = format!("http://127.0.0.1:{}", get(port_key));
        let (code, text) = test_at(
            "PEERS_POSTFIX_PLAIN_PORT",
            "none",
            &["--proxy", &proxy],
            &[],
        );
        assert_eq!(code, 1, "{text}");
        assert!(!text.contains("proxy-auth-rejected"), "{text}");
        assert_one_fact_one_hint(&text, "proxy-auth-required");
    }
}

/// `smtp test`'s human output says each fact once: one line for a failed
/// stage, the server's reply once, opportunistic STARTTLS that was not
/// offered is no failure, and no raw log lines at the default verbosity.
#[test]
fn smtp_test_output_says_each_fact_once() {
    // A name that does not resolve: one [FAIL] dns line, not two.
    let home = tempfile::tempdir().unwrap();
    let out = smtp(home.path())
        .args(["test", "--host", "nosuch.invalid", "--port", "2525"])
        .output()
        .unwrap();
    let (_, text) = code_and_text(&out);
    assert_eq!(text.matches("[FAIL] dns").count(), 1, "{text}");

    // Opportunistic STARTTLS against smtp-sink (no STARTTLS): ok, in clear.
    let (code, text) = test_at("PEERS_SMTP_SINK_PORT", "starttls-opportunistic", &[], &[]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("[FAIL]"), "{text}");
    assert_says(&text, &["not available, continued in clear", "result: ok"]);
    assert!(!text.contains("WARN"), "{text}");

    // A refused password: the 535 reply is printed once.
    let (code, text) = test_login(
        "PEERS_POSTFIX_PLAIN_PORT",
        &["--allow-cleartext-auth"],
        &[("PASS", "Wrong-Pass-1".to_string())],
    );
    assert_eq!(code, 1, "{text}");
    assert_eq!(text.matches("535 5.7.8").count(), 1, "{text}");
}

#[test]
fn tls_version_settings_are_refused_with_core_s_code_worded_with_flags() {
    let (code, text) = run(
        &[
            "test",
            "--tls-min-version",
            "1.3",
            "--tls-max-version",
            "1.2",
        ],
        &[],
    );
    assert_eq!(code, 2, "{text}");
    assert_says(&text, &["tls.min_version = 1.3", "tls.max_version = 1.2"]);
    assert!(
        text.contains(
            "hint: make tls.min_version (--tls-min-version) lower than or equal to \
             tls.max_version (--tls-max-version) [tls-version-range]"
        ),
        "{text}"
    );
    let (code, text) = run(&["test", "--tls-min-version", "1.1"], &[]);
    assert_eq!(code, 2, "{text}");
    assert_says(&text, &["RFC 8996"]);
    let hint = text.lines().find(|l| l.starts_with("hint:")).unwrap_or("");
    assert!(hint.ends_with("[tls-unsupported-version]"), "{text}");
    assert!(
        hint.contains("tls.min_version (--tls-min-version)"),
        "{text}"
    );
}
