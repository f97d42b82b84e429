//! Secret leaks: every auth mechanism and every proxy with credentials,
//! success and failure, through `smtp test` and `smtp send` with
//! RUST_LOG=trace, -vvv, a transcript file and `--json`, plus
//! `smtp config show` (plain, --origin, --json) with secrets from flags,
//! environment and TOML. All captured output (stdout, stderr, transcript
//! files) is searched for each secret in every form leak_check knows:
//! zero hits. Each run must also end as its scenario says (0 for the
//! good secret, non-zero for the wrong one), so no scenario passes by
//! never reaching the point where a secret is used.

mod leak_check;
mod secret_scenarios;

use std::path::{Path, PathBuf};

use crate::common::{code_and_text, smtp};
use secret_scenarios::{
    Expect, Scenario, auth_scenarios, config_scenarios, get, needles, proxy_scenarios,
};

/// What one run left behind.
struct Captured {
    label: String,
    code: i32,
    text: String,
}

fn run(s: &Scenario, command: &[&str], dir: &Path) -> Captured {
    std::fs::create_dir_all(dir).unwrap();
    let fill = |v: &str| v.replace("{dir}", &dir.display().to_string());
    for (name, content) in &s.files {
        std::fs::write(dir.join(name), content).unwrap();
    }
    let transcript = dir.join("transcript.log");
    let _ = std::fs::remove_file(&transcript);
    let mut cmd = smtp(dir);
    cmd.env("RUST_LOG", "trace")
        .env("SMTP_RETRY__ATTEMPTS", "1");
    for (k, v) in &s.env {
        cmd.env(k, fill(v));
    }
    if let Some(t) = &s.toml {
        let path = dir.join("smtp.toml");
        std::fs::write(&path, fill(t)).unwrap();
        cmd.arg("--config").arg(path);
    }
    cmd.arg("-vvv").args(command);
    let sends = matches!(command.first(), Some(&"send" | &"test"));
    if sends {
        cmd.arg("--transcript").arg(&transcript);
    }
    cmd.args(s.args.iter().map(|a| fill(a)));
    let started = std::time::Instant::now();
    let out = cmd.output().unwrap();
    if started.elapsed() > std::time::Duration::from_secs(2) {
        eprintln!(
            "slow run ({:.1}s): {} {command:?}",
            started.elapsed().as_secs_f64(),
            s.name
        );
    }
    let (code, mut text) = code_and_text(&out);
    if let Ok(t) = std::fs::read_to_string(&transcript) {
        text.push_str("\n--- transcript ---\n");
        text.push_str(&t);
    }
    Captured {
        label: format!("{} [{}]", s.name, command.join(" ")),
        code,
        text,
    }
}

/// Runs at once.
const THREADS: usize = 4;

/// Runs every case on a few threads; returns what each left behind.
fn run_all(cases: Vec<(Scenario, Vec<&'static str>)>, root: &Path) -> Vec<(Expect, Captured)> {
    let cases: Vec<_> = cases.into_iter().enumerate().collect();
    let chunks: Vec<Vec<_>> = cases
        .chunks(cases.len().div_ceil(THREADS).max(1))
        .map(<[_]>::to_vec)
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|(i, (s, command))| {
                            let dir: PathBuf = root.join(format!("case-{i}"));
                            (s.expect, run(&s, &command, &dir))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

fn check(results: Vec<(Expect, Captured)>) {
    let needles = needles();
    let mut problems = Vec::new();
    for (expect, c) in &results {
        let ended_right = match expect {
            Expect::Ok => c.code == 0,
            Expect::Fail => c.code != 0 && c.code != 2,
        };
        if !ended_right {
            problems.push(format!(
                "{}: exit {} (expected {expect:?}):\n{}",
                c.label,
                c.code,
                tail(&c.text)
            ));
        }
        let hits = leak_check::find(&c.text, &needles);
        if !hits.is_empty() {
            problems.push(format!("{}: LEAKED {}", c.label, hits.join(", ")));
        }
    }
    assert!(
        problems.is_empty(),
        "{} runs, problems:\n{}",
        results.len(),
        problems.join("\n")
    );
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("TRACE") && !l.contains("DEBUG"))
        .collect();
    lines[lines.len().saturating_sub(8)..].join("\n")
}

#[test]
fn auth_and_proxy_runs_leak_no_secret() {
    let root = tempfile::tempdir().unwrap();
    let user = get("PEERS_SMTP_USER");
    let send: Vec<&'static str> = vec!["send", "--subject", "secret-leak-suite", "--body", "x"];
    let mut cases = Vec::new();
    for s in auth_scenarios().into_iter().chain(proxy_scenarios()) {
        let mut sending = s.clone().args(&["--from", &user, "--to", &user]);
        cases.push((s.clone(), vec!["test"]));
        cases.push((s.clone().args(&["--json"]), vec!["test"]));
        cases.push((sending.clone(), send.clone()));
        sending = sending.args(&["--json"]);
        cases.push((sending, send.clone()));
    }
    check(run_all(cases, root.path()));
}

#[test]
fn config_show_leaks_no_secret() {
    let root = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for s in config_scenarios() {
        for flags in [
            vec![],
            vec!["--origin"],
            vec!["--json"],
            vec!["--origin", "--json"],
        ] {
            let mut command = vec!["config", "show"];
            command.extend(flags);
            cases.push((s.clone(), command));
        }
    }
    check(run_all(cases, root.path()));
}

#[test]
fn a_proxy_url_with_the_host_forgotten_never_shows_its_password() {
    let home = tempfile::tempdir().unwrap();
    for command in [
        &["config", "check"][..],
        &["send", "--to", "a@example.test"][..],
    ] {
        let out = smtp(home.path())
            .args(command)
            .args([
                "--proxy",
                "socks5h://alice:hunter2-S3cret",
                "--host",
                "127.0.0.1",
            ])
            .output()
            .unwrap();
        let (code, text) = code_and_text(&out);
        assert_eq!(code, 2, "{text}");
        assert!(!text.contains("hunter2"), "the password leaks: {text}");
        assert!(text.contains("@host:port"), "{text}");
    }
}
