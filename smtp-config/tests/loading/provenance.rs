//! Provenance output (table and JSON) and the promise that no secret
//! reaches Debug, Display, provenance or errors.

use crate::common::{Rig, at};

const SECRETS: &[&str] = &[
    "file-pass-123",
    "proxy-pass-456",
    "client-secret-789",
    "refresh-tok-012",
];

fn assert_clean(text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "secret {s} leaked in:\n{text}");
    }
}

fn rig_with_secrets() -> Rig {
    let mut rig = Rig::new();
    rig.config(
        "host = \"smtp.example.com\"\n\
         [auth]\nusername = \"me@example.com\"\npassword = \"file-pass-123\"\n",
    );
    rig.env(
        "SMTP_PROXY__URL",
        "socks5h://puser:proxy-pass-456@127.0.0.1:1080",
    );
    rig.cli("timeout", "20s");
    rig
}

#[test]
fn table_lists_every_effective_value_with_origin() {
    let rig = rig_with_secrets();
    let l = rig.ok();
    let table = l.provenance().to_string();
    let path = rig.config_file.clone().unwrap().display().to_string();
    let first = table.lines().next().unwrap();
    assert!(
        first.starts_with("KEY") && first.contains("VALUE") && first.ends_with("FROM"),
        "{first}"
    );
    assert_eq!(
        at(&l, "host"),
        ("smtp.example.com".into(), format!("{path}:1"))
    );
    assert_eq!(
        at(&l, "auth.password"),
        ("<redacted>".into(), format!("{path}:4"))
    );
    assert_eq!(
        at(&l, "proxy.url"),
        (
            "socks5h://puser:<redacted>@127.0.0.1:1080".into(),
            "env SMTP_PROXY__URL".into()
        )
    );
    assert_eq!(at(&l, "timeout"), ("20s".into(), "command line".into()));
    assert_eq!(
        at(&l, "timeouts.connect"),
        ("20s".into(), "default (from timeout)".into())
    );
    assert_eq!(
        at(&l, "timeouts.data_end"),
        ("1m 20s".into(), "default (from timeout)".into())
    );
    assert_eq!(
        at(&l, "port"),
        ("587".into(), "default (from security = starttls)".into())
    );
    assert_eq!(at(&l, "security"), ("starttls".into(), "default".into()));
    assert_eq!(
        at(&l, "tls.server_name"),
        ("smtp.example.com".into(), "default (from host)".into())
    );
    assert!(
        l.provenance().get("auth.password_file").is_none(),
        "unset keys are not listed"
    );
    assert!(
        table
            .lines()
            .any(|line| line.starts_with("auth.password ") && line.contains("<redacted>"))
    );
    assert_clean(&table);
    // Rows follow the documentation order.
    let keys: Vec<&str> = l.provenance().rows().map(|(k, _, _)| k).collect();
    assert!(
        keys.iter().position(|k| *k == "host") < keys.iter().position(|k| *k == "tls.min_version")
    );
}

#[test]
fn json_output() {
    let l = rig_with_secrets().ok();
    let json = l.provenance().to_json();
    assert_clean(&json);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let entries = v.as_array().unwrap();
    let port = entries.iter().find(|e| e["key"] == "timeout").unwrap();
    assert_eq!(port["value"], "20s");
    assert_eq!(port["from"], "command line");
    assert_eq!(port["origin"]["layer"], "command_line");
    let pw = entries
        .iter()
        .find(|e| e["key"] == "auth.password")
        .unwrap();
    assert_eq!(pw["value"], "<redacted>");
    assert_eq!(pw["origin"]["layer"], "file");
    assert_eq!(pw["origin"]["line"], 4);
}

#[test]
fn secrets_never_in_debug() {
    let mut rig = rig_with_secrets();
    let l = rig.ok();
    assert_clean(&format!("{l:?}"));
    assert_clean(&format!("{:?}", l.config()));
    assert_clean(&format!("{:?}", rig.options()));
    // What the plugins built from it must have a clean Debug too.
    assert_clean(&format!("{:?}", l.build().unwrap()));

    // OAuth2 refresh-flow secrets.
    rig = Rig::new();
    rig.config(
        "host = \"smtp.example.com\"\n[auth]\nusername = \"me\"\n[auth.oauth2]\n\
         token_url = \"https://oauth2.example.com/token\"\nclient_id = \"cid\"\n\
         client_secret = \"client-secret-789\"\nrefresh_token = \"refresh-tok-012\"\n",
    );
    let l = rig.ok();
    assert_clean(&format!("{l:?}"));
    assert_clean(&l.provenance().to_string());
    assert_clean(&l.provenance().to_json());
    assert_clean(&format!("{:?}", l.build().unwrap()));
}

#[test]
fn secrets_never_in_errors() {
    // A secret in the wrong place: every error path must redact it.
    let mut rig = Rig::new();
    rig.config("[auth]\npassword = [\"file-pass-123\"]\n");
    let e = rig.load().unwrap_err();
    assert_eq!(e.to_string().matches("<redacted>").count(), 1, "{e}");
    assert_clean(&format!("{e} {e:?}"));

    let mut rig = Rig::new();
    rig.env(
        "SMTP_PROXY__URL",
        "socks5h://u:proxy-pass-456@host:notaport",
    );
    let e = rig.load().unwrap_err();
    assert_clean(&format!("{e} {e:?}"));

    let mut rig = Rig::new();
    rig.env("SMTP_AUTH__PASSWORD", "file-pass-123")
        .env("SMTP_AUTH__PASSWORD_FILE", "/x");
    let e = rig.load().unwrap_err();
    assert_clean(&format!("{e} {e:?}"));

    let mut rig = Rig::new();
    rig.cli("proxy.url", "socks5h://u:proxy-pass-456@h:1");
    assert_clean(&format!("{:?}", rig.options()));
}
