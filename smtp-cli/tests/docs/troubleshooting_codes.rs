//! docs/troubleshooting.md cannot drift from the code: every hint code any
//! crate can print and every exit code has an entry with a cause and a fix,
//! and every entry names a code that exists.

use std::collections::BTreeSet;

/// `### \`code\`` headings and the text under each, up to the next heading.
fn entries(doc: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in doc.lines() {
        if line.starts_with('#') {
            let code = line
                .strip_prefix("### `")
                .and_then(|rest| rest.strip_suffix('`'));
            if let Some(code) = code {
                out.push((code.to_string(), String::new()));
                continue;
            }
            // Another heading ends the current entry.
            out.push((String::new(), String::new()));
            continue;
        }
        if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out.retain(|(code, _)| !code.is_empty());
    out
}

#[test]
fn every_code_has_a_troubleshooting_entry_with_cause_and_fix() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/troubleshooting.md");
    let doc = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let entries = entries(&doc);

    let mut codes: Vec<String> = smtp_config::all_hints()
        .iter()
        .chain(crate::codes::cli_hints::ALL)
        .map(|h| h.code.to_string())
        .collect();
    codes.extend(crate::codes::EXIT_CODES.iter().map(|c| format!("exit-{c}")));
    assert!(
        codes.len() > 100,
        "too few codes enumerated: {}",
        codes.len()
    );

    let mut problems = Vec::new();
    for code in &codes {
        let found: Vec<&String> = entries
            .iter()
            .filter(|(c, _)| c == code)
            .map(|(_, body)| body)
            .collect();
        match found.as_slice() {
            [] => problems.push(format!("missing: ### `{code}`")),
            [body] => {
                for part in ["**Cause:**", "**Fix:**"] {
                    if !body.contains(part) {
                        problems.push(format!("`{code}` has no {part}"));
                    }
                }
            }
            _ => problems.push(format!("`{code}` has {} entries", found.len())),
        }
    }
    let known: BTreeSet<&str> = codes.iter().map(String::as_str).collect();
    for (code, _) in &entries {
        // Without the proxy feature its codes are not enumerated, but their
        // entries are still right.
        let proxy_off = cfg!(not(feature = "proxy")) && code.starts_with("proxy-");
        if !known.contains(code.as_str()) && !proxy_off {
            problems.push(format!("stale entry: ### `{code}` (no such code)"));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/troubleshooting.md is out of date:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_cli_prints_the_code_with_the_hint() {
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_smtp"))
        .env_clear()
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .args(["test", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let code = crate::codes::cli_hints::NO_SERVER.code;
    assert!(
        stderr.contains(&format!(
            "hint: {} [{code}]",
            crate::codes::cli_hints::NO_SERVER.text
        )),
        "{stderr}"
    );
}

#[test]
fn entry_parsing_sees_headings_and_bodies() {
    let doc = "# T\n### `a-b`\n**Cause:** x\n**Fix:** y\n## Other\ntext\n### `c`\n";
    let e = entries(doc);
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].0, "a-b");
    assert!(e[0].1.contains("**Fix:** y"));
    assert!(!e[0].1.contains("text"));
    assert_eq!(e[1], ("c".to_string(), String::new()));
}
