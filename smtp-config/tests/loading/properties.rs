//! Property tests for config loading (the `config_load` fuzz target's
//! invariants, in the normal test run): any TOML-ish file, built from the
//! real keys, plausible and wrong values, table headers and garbage, loads
//! or fails without panicking, and neither the error nor the loaded
//! config, its provenance or its warnings ever show a secret.

use std::path::Path;

use proptest::collection::vec;
use proptest::prelude::*;
use smtp_config::keys::KEYS;
use smtp_config::{Config, LoadOptions};

const PASSWORD: &str = "Prop-Pw-3b8e41";
const PROXY_PASSWORD: &str = "Prop-Px-77d0c5";

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "\"smtp.example.com\"",
            "\"starttls\"",
            "\"implicit\"",
            "\"none\"",
            "\"1.3\"",
            "\"1.0\"",
            "\"30s\"",
            "\"-1s\"",
            "\"gmail\"",
            "\"amazon-ses\"",
            "\"eu-west-1\"",
            "\"me@example.com\"",
            "\"not an address\"",
            "\"socks5h://u:p@127.0.0.1:1080\"",
            "\"https://proxy\"",
            "\"~/ca.pem\"",
            "[\"PLAIN\", \"XOAUTH2\"]",
            "[]",
            "true",
            "587",
            "0",
            "-1",
            "99999999999",
            "1.5",
            "{ a = 1 }",
            "\"\"",
        ])
        .prop_map(str::to_string),
        "\"[ -~]{0,20}\"".prop_map(|s| s.replace('\\', "/")),
        any::<i64>().prop_map(|n| n.to_string()),
    ]
}

fn line() -> impl Strategy<Value = String> {
    let key = prop::sample::select(KEYS.iter().map(|k| k.key).collect::<Vec<_>>());
    prop_oneof![
        6 => (key, value()).prop_map(|(k, v)| format!("{k} = {v}")),
        1 => prop::sample::select(vec![
            "[tls]", "[auth]", "[proxy]", "[profiles.work]", "[profiles.work.auth]",
            "description = \"x\"", "[[profiles]]", "unknown_key = 1", "profiles = 3",
        ]).prop_map(str::to_string),
        1 => "[ -~]{0,30}",
    ]
}

fn load(dir: &Path, text: &str, secrets_in_env: bool) -> String {
    let file = dir.join("config.toml");
    std::fs::write(&file, text).expect("write config");
    let proxy_url = format!("socks5h://proxyuser:{PROXY_PASSWORD}@127.0.0.1:1080");
    let mut env = vec![("HOME".to_string(), dir.display().to_string())];
    if secrets_in_env {
        env.push(("SMTP_AUTH__USERNAME".into(), "user".into()));
        env.push(("SMTP_AUTH__PASSWORD".into(), PASSWORD.into()));
        env.push(("SMTP_PROXY__URL".into(), proxy_url));
    }
    let options = LoadOptions::new()
        .config_file(&file)
        .skip_system_files(true)
        .env(env)
        .log_warnings(false);
    match Config::load(&options) {
        Ok(loaded) => {
            let warnings: Vec<String> = loaded.warnings().iter().map(|w| w.to_string()).collect();
            format!(
                "{loaded:?}\n{}\n{}\n{warnings:?}",
                loaded.provenance(),
                loaded.provenance().to_json()
            )
        }
        Err(error) => {
            let shown = error.to_string();
            assert!(!shown.trim().is_empty(), "empty error for {text:?}");
            format!("{shown}\n{error:?}\n{:?}", error.hint())
        }
    }
}

proptest! {
    // Each case writes and loads a file: a moderate count.
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_config_loads_or_fails_and_never_shows_a_secret(
        lines in vec(line(), 0..12),
        secrets_in_env in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut text = String::new();
        if !secrets_in_env {
            // Dotted keys first, so the generated tables can follow.
            text.push_str(&format!(
                "auth.password = \"{PASSWORD}\"\nproxy.url = \"socks5h://u:{PROXY_PASSWORD}@127.0.0.1:1080\"\n"
            ));
        }
        text.push_str(&lines.join("\n"));
        let shown = load(dir.path(), &text, secrets_in_env);
        for secret in [PASSWORD, PROXY_PASSWORD] {
            prop_assert!(!shown.contains(secret), "{} shown for {:?}:\n{}", secret, text, shown);
        }
    }
}
