//! Input injection through the `smtp` binary: CR, LF, CRLF, NUL and
//! over-long values in every input that reaches the wire are refused
//! before connecting (exit 2, an error naming the input, and not one
//! connection to the server or proxy, which is a listener this test owns).
//!
//! NUL cannot travel in argv or an environment variable (the OS cuts C
//! strings at NUL), so NUL rows go through TOML files, `--to-file` and
//! stdin. The table with the limits is in docs/security.md.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use crate::common::{code_and_text, smtp};
use smtp_testkit::ConnectionTrap;

mod injection_table;

use injection_table::{Bad, Row, SECRET, Via, is_compose, rows};

/// The bad values of one kind for a row (percent-encoded in a proxy
/// URL row whose name says so).
fn bad_values(row: &Row, kind: Bad) -> Vec<String> {
    let inject = "RCPT TO:<evil@example.test>";
    let raw = match kind {
        Bad::Cr => format!("{}\r{inject}", row.good),
        Bad::Lf => format!("{}\n{inject}", row.good),
        Bad::CrLf => format!("{}\r\n{inject}", row.good),
        Bad::Nul => format!("{}\0{inject}", row.good),
        Bad::Long => return (row.long)(),
        Bad::CrLfTail => format!("{}\r\n\r\n", row.good),
        Bad::Esc => format!("{}\x1b[2J", row.good),
        Bad::Bel => format!("{}\x07", row.good),
        Bad::Vt => format!("{}\x0b", row.good),
    };
    if row.input.contains("%-encoded") {
        return vec![
            raw.replace('\r', "%0D")
                .replace('\n', "%0A")
                .replace('\0', "%00"),
        ];
    }
    vec![raw]
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn env_var(key: &str) -> String {
    format!("SMTP_{}", key.replace('.', "__").to_ascii_uppercase())
}

/// Runs one case; returns (exit code, stdout + stderr).
fn run(row: &Row, value: &str, trap: &ConnectionTrap, home: &Path) -> (i32, String) {
    let value = row
        .template
        .replace("{port}", &trap.port().to_string())
        .replace("{}", value);
    let port = trap.port().to_string();
    let mut flags: Vec<(&str, String)> = vec![
        ("--host", "127.0.0.1".into()),
        ("--port", port),
        ("--security", "none".into()),
        ("--ehlo-name", "client.example.test".into()),
        ("--timeout", "5s".into()),
    ];
    if row.cmd == "send" {
        flags.extend([
            ("--from", "a@example.test".into()),
            ("--to", "b@example.test".into()),
            ("--subject", "s".into()),
            ("--body", "b".into()),
        ]);
    }
    if row.cmd == "test" {
        flags.extend([
            ("--from", "a@example.test".into()),
            ("--send-to", "b@example.test".into()),
        ]);
    }
    let mut cmd = smtp(home);
    // One attempt: a case that does connect fails fast.
    cmd.env("SMTP_RETRY__ATTEMPTS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut toml = String::new();
    let mut stdin = b"Subject: t\r\n\r\nbody\r\n".to_vec();
    let mut positional: Vec<String> = Vec::new();
    let drop = |flags: &mut Vec<(&str, String)>, f: Option<&str>| {
        flags.retain(|(k, _)| Some(*k) != f);
    };
    match row.via {
        Via::Flag(f) => {
            drop(&mut flags, Some(f));
            flags.push((f, value));
        }
        Via::EnvOfFlag(f) => {
            cmd.env("INJECTION_VALUE", value);
            flags.push((f, "INJECTION_VALUE".into()));
        }
        Via::Toml(key, f) => {
            drop(&mut flags, f);
            toml = format!("{key} = {}\n", toml_string(&value));
        }
        Via::Env(key, f) => {
            drop(&mut flags, f);
            cmd.env(env_var(key), value);
        }
        Via::ToFile => {
            drop(&mut flags, Some("--to"));
            let list = home.join("to.txt");
            std::fs::write(&list, format!("ok@example.test\n{value}\n")).unwrap();
            flags.push(("--to-file", list.display().to_string()));
        }
        Via::SendmailFrom => positional.extend(["-f".into(), value, "b@example.test".into()]),
        Via::SendmailRcpt => positional.extend(["-f".into(), "a@example.test".into(), value]),
    }
    // Authentication needs both halves; give the one the row does not set.
    let key = match row.via {
        Via::Toml(k, _) | Via::Env(k, _) => k,
        Via::Flag(f) | Via::EnvOfFlag(f) => f,
        _ => "",
    };
    if key.starts_with("auth.") || key.starts_with("--password") || key.starts_with("--oauth2") {
        if key.contains("username") {
            cmd.env("SMTP_AUTH__PASSWORD", "Good-Pass-1");
        } else {
            flags.push(("--user", "tester@example.test".into()));
        }
    }
    if key == "--user" {
        cmd.env("SMTP_AUTH__PASSWORD", "Good-Pass-1");
    }
    if key.starts_with("auth.")
        || key.starts_with("--password")
        || key.starts_with("--oauth2")
        || key == "--user"
    {
        // The trap is plain TCP; this must not be what refuses the case.
        cmd.env("SMTP_AUTH__ALLOW_CLEARTEXT", "true");
    }
    if !toml.is_empty() {
        let file = home.join("inject.toml");
        std::fs::write(&file, &toml).unwrap();
        cmd.arg("--config").arg(file);
    }
    if row.cmd == "sendmail" {
        // sendmail takes connection settings from the config only.
        let file = home.join("conn.toml");
        std::fs::write(
            &file,
            format!(
                "host = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\ntimeout = \"5s\"\n",
                trap.port()
            ),
        )
        .unwrap();
        cmd.arg("--config")
            .arg(file)
            .arg("sendmail")
            .args(&positional);
    } else {
        cmd.arg(row.cmd);
        for (k, v) in &flags {
            cmd.arg(k).arg(v);
        }
    }
    let mut child = cmd.spawn().unwrap();
    if row.cmd != "sendmail" {
        stdin.clear();
    }
    let _ = child.stdin.take().unwrap().write_all(&stdin);
    code_and_text(&child.wait_with_output().unwrap())
}

fn can_carry(row: &Row, kind: Bad) -> bool {
    if kind.compose_only() && !is_compose(row) {
        return false;
    }
    // A list line ends at LF: a CR/LF tail is just the line end there.
    if kind == Bad::CrLfTail && matches!(row.via, Via::ToFile) {
        return false;
    }
    kind != Bad::Nul || matches!(row.via, Via::Toml(..) | Via::ToFile)
}

#[test]
fn every_bad_input_is_refused_before_connecting() {
    let trap = ConnectionTrap::new();
    let home = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut cases = 0;
    // A bad `--to-file` line fails alone, after connecting: see
    // a_bad_to_file_line_fails_alone_and_never_reaches_the_wire.
    for row in rows().into_iter().filter(|r| !matches!(r.via, Via::ToFile)) {
        for kind in Bad::ALL {
            if !can_carry(&row, kind) {
                continue;
            }
            for value in bad_values(&row, kind) {
                cases += 1;
                let (code, text) = run(&row, &value, &trap, home.path());
                let connections = trap.connections();
                let lower = text.to_lowercase();
                let mut wrong = Vec::new();
                if code != 2 {
                    wrong.push(format!("exit {code}, not 2"));
                }
                if connections != 0 {
                    wrong.push(format!("{connections} connection(s) made"));
                }
                if !lower.contains(row.says) {
                    wrong.push(format!("error does not say {:?}", row.says));
                }
                if row.secret && text.contains(SECRET) {
                    wrong.push("the error shows the secret".into());
                }
                if !wrong.is_empty() {
                    failures.push(format!(
                        "{} {kind:?}: {}\n    output: {}",
                        row.input,
                        wrong.join(", "),
                        text.trim().replace('\n', "\n    ")
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases not refused properly:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A bad line of a `--to-file` list is refused by itself: the error names
/// its line, nothing of it reaches the server, the good line before it is
/// sent, and the exit code says something failed.
#[test]
fn a_bad_to_file_line_fails_alone_and_never_reaches_the_wire() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = {
        let _rt = rt.enter();
        smtp_testkit::ScriptedServer::start(|mut c| async move {
            c.serve("250-accepting\r\n250 8BITMIME\r\n", None).await;
        })
    };
    let home = tempfile::tempdir().unwrap();
    let row = rows()
        .into_iter()
        .find(|r| matches!(r.via, Via::ToFile))
        .expect("a --to-file row");
    let mut failures = Vec::new();
    for kind in Bad::ALL {
        if !can_carry(&row, kind) {
            continue;
        }
        for value in bad_values(&row, kind) {
            let before = server.log().len();
            let list = home.path().join("to.txt");
            std::fs::write(&list, format!("ok@example.test\n{value}\n")).unwrap();
            let out = smtp(home.path())
                .env("SMTP_RETRY__ATTEMPTS", "1")
                .args(["send", "--host", "127.0.0.1", "--port"])
                .arg(server.port().to_string())
                .args(["--security", "none", "--ehlo-name", "client.example.test"])
                .args(["--timeout", "10s", "--from", "a@example.test"])
                .args(["--subject", "s", "--body", "b", "--to-file"])
                .arg(&list)
                .output()
                .unwrap();
            let (code, text) = code_and_text(&out);
            let rcpts: Vec<String> = server.log()[before..]
                .iter()
                .filter(|l| l.to_ascii_uppercase().starts_with("RCPT"))
                .cloned()
                .collect();
            let mut wrong = Vec::new();
            if code == 0 {
                wrong.push("exit 0".to_string());
            }
            if !text.contains("to.txt:2") && !text.contains("to.txt:3") {
                wrong.push("the error names no line".into());
            }
            if !rcpts.iter().any(|r| r.contains("<ok@example.test>")) {
                wrong.push("the good line was not sent".into());
            }
            let allowed = [
                "RCPT TO:<ok@example.test>".to_string(),
                format!("RCPT TO:<{}>", row.good),
            ];
            if rcpts.iter().any(|r| !allowed.contains(r)) {
                wrong.push(format!("on the wire: {rcpts:?}"));
            }
            if !wrong.is_empty() {
                failures.push(format!(
                    "{kind:?}: {}\n    output: {}",
                    wrong.join(", "),
                    text.trim().replace('\n', "\n    ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The harness itself: a good value of each row goes through (so the
/// refusals above are about the bad values), and reaches the trap.
#[test]
fn good_values_do_reach_the_server() {
    let trap = ConnectionTrap::new();
    let home = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for row in rows() {
        let good = row.good;
        let (code, text) = run(&row, good, &trap, home.path());
        // The trap closes each connection: the run fails, but not with
        // exit 2, and only after connecting.
        let connections = trap.connections();
        if connections == 0 || code == 2 {
            failures.push(format!(
                "{}: exit {code}, {connections} connections: {text}",
                row.input
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
