//! Helpers shared by the `smtp` binary's integration tests.
#![allow(dead_code)] // each test file uses its own subset

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The binary with a clean environment: no user or system config, no
/// SMTP_* variables from the caller, HOME (and the XDG directories) in
/// `home`, stdin empty.
pub fn smtp(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_smtp"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .stdin(Stdio::null());
    c
}

/// The exit code (-1 when killed by a signal) and stdout followed by stderr.
pub fn code_and_text(out: &Output) -> (i32, String) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// A value from the peers env file; panics naming the key when it is missing.
pub fn get(key: &str) -> String {
    smtp_testkit::peers()
        .get(key)
        .unwrap_or_else(|| panic!("{key} missing from the peers env file"))
        .to_string()
}

/// The stage called `name` in an `smtp test --json` report; panics showing
/// the report when there is none.
pub fn stage<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["stages"]
        .as_array()
        .unwrap_or_else(|| panic!("no stages: {report}"))
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no {name} stage: {report}"))
}
