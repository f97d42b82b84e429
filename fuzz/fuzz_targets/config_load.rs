//! Config loading of an arbitrary TOML file (plus, for some inputs,
//! secrets from the environment or the file itself): never panics, and
//! neither an error nor the loaded config, its provenance or its warnings
//! ever show a secret.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use smtp_config::{Config, LoadOptions};

const PASSWORD: &str = "Cfg-Pw-51d0a7";
const PROXY_PASSWORD: &str = "Cfg-Px-9e33f2";

/// One file per process, rewritten for every input.
static FILE: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("smtp-fuzz-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("config.toml")
});

fuzz_target!(|data: &[u8]| {
    let Some((&variant, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    if text.contains(PASSWORD) || text.contains(PROXY_PASSWORD) {
        return;
    }
    let proxy_url = format!("socks5h://proxyuser:{PROXY_PASSWORD}@127.0.0.1:1080");
    let mut env = vec![("HOME".to_string(), "/nonexistent-home".to_string())];
    let file = match variant % 3 {
        0 => text.to_string(),
        // Secrets from the environment, which outranks the file.
        1 => {
            env.push(("SMTP_AUTH__USERNAME".into(), "user".into()));
            env.push(("SMTP_AUTH__PASSWORD".into(), PASSWORD.into()));
            env.push(("SMTP_PROXY__URL".into(), proxy_url));
            text.to_string()
        }
        // Secrets in the file itself, before whatever follows.
        _ => format!("auth.password = \"{PASSWORD}\"\nproxy.url = \"{proxy_url}\"\n{text}"),
    };
    std::fs::write(&*FILE, file).expect("write config");
    let options = LoadOptions::new()
        .config_file(&*FILE)
        .skip_system_files(true)
        .env(env)
        .log_warnings(false);
    let shown = match Config::load(&options) {
        Ok(loaded) => {
            let warnings: Vec<String> = loaded.warnings().iter().map(|w| w.to_string()).collect();
            format!(
                "{loaded:?}\n{}\n{}\n{warnings:?}",
                loaded.provenance(),
                loaded.provenance().to_json()
            )
        }
        Err(error) => format!("{error}\n{error:?}\n{:?}", error.hint()),
    };
    for secret in [PASSWORD, PROXY_PASSWORD] {
        assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
    }
});
