//! The JSON Schema of the configuration file (`smtp config schema`): it
//! holds exactly the keys of docs/config-reference.md, a real config file
//! validates against it (and loads), and typos or bad values do not.
//!
//! The validator below implements the keywords the schema uses, so the
//! test needs no JSON Schema crate; `pattern` is the one keyword it does
//! not evaluate (no regex engine here): it only checks it is present where
//! expected.

use std::collections::BTreeSet;

use crate::common::Rig;
use serde_json::Value;
use smtp_config::json_schema;
use smtp_config::keys::{KEYS, KeyKind};

fn documented_keys() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/config-reference.md");
    let doc = std::fs::read_to_string(path).expect("docs/config-reference.md");
    doc.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            l.split('|')
                .nth(1)
                .unwrap()
                .trim()
                .trim_matches('`')
                .to_string()
        })
        .collect()
}

/// Dotted paths of every leaf (non-table) property.
fn leaves(schema: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    for (name, sub) in schema["properties"].as_object().unwrap() {
        let path = format!("{prefix}{name}");
        if sub.get("properties").is_some() {
            leaves(sub, &format!("{path}."), out);
        } else {
            out.insert(path);
        }
    }
}

/// Checks `value` against `schema`; returns one line per violation.
fn validate(schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(alternatives) = schema.get("anyOf").and_then(Value::as_array) {
        if alternatives
            .iter()
            .all(|s| !validate(s, value, at).is_empty())
        {
            errors.push(format!("{at}: {value} matches none of the alternatives"));
        }
    }
    if let Some(ty) = schema.get("type").and_then(Value::as_str) {
        let fits = match ty {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            other => panic!("the validator does not know type {other}"),
        };
        if !fits {
            errors.push(format!("{at}: {value} is not of type {ty}"));
            return errors;
        }
    }
    if let Some(words) = schema.get("enum").and_then(Value::as_array) {
        if !words.contains(value) {
            errors.push(format!("{at}: {value} is not one of {words:?}"));
        }
    }
    if let (Some(min), Some(n)) = (schema.get("minimum"), value.as_f64()) {
        if n < min.as_f64().unwrap() {
            errors.push(format!("{at}: {n} is below {min}"));
        }
    }
    if let (Some(max), Some(n)) = (schema.get("maximum"), value.as_f64()) {
        if n > max.as_f64().unwrap() {
            errors.push(format!("{at}: {n} is above {max}"));
        }
    }
    if let (Some(min), Some(s)) = (schema.get("minLength"), value.as_str()) {
        if (s.chars().count() as u64) < min.as_u64().unwrap() {
            errors.push(format!("{at}: {s:?} is too short"));
        }
    }
    if let Some(items) = value.as_array() {
        if let Some(min) = schema.get("minItems") {
            if (items.len() as u64) < min.as_u64().unwrap() {
                errors.push(format!("{at}: too few items"));
            }
        }
        if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
            let distinct: BTreeSet<String> = items.iter().map(Value::to_string).collect();
            if distinct.len() != items.len() {
                errors.push(format!("{at}: repeated items"));
            }
        }
        if let Some(item) = schema.get("items") {
            for (i, v) in items.iter().enumerate() {
                errors.extend(validate(item, v, &format!("{at}[{i}]")));
            }
        }
    }
    if let Some(fields) = value.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for (name, v) in fields {
            let path = format!("{at}.{name}");
            match (
                props.and_then(|p| p.get(name)),
                schema.get("additionalProperties"),
            ) {
                (Some(sub), _) => errors.extend(validate(sub, v, &path)),
                (None, Some(Value::Bool(false))) => errors.push(format!("{path}: unknown key")),
                (None, Some(sub)) if sub.is_object() => errors.extend(validate(sub, v, &path)),
                (None, _) => {}
            }
        }
    }
    errors
}

fn check(toml_text: &str) -> Vec<String> {
    let value: Value = toml::from_str(toml_text).expect("the sample is TOML");
    validate(&json_schema(), &value, "$")
}

#[test]
fn the_schema_holds_exactly_the_documented_keys() {
    let schema = json_schema();
    let mut top = BTreeSet::new();
    leaves(&schema, "", &mut top);
    assert!(top.remove("profiles"), "profiles is a table of profiles");
    assert_eq!(top, documented_keys(), "schema vs docs/config-reference.md");

    let profile = &schema["properties"]["profiles"]["additionalProperties"];
    let mut in_profile = BTreeSet::new();
    leaves(profile, "", &mut in_profile);
    assert!(in_profile.remove("description"));
    assert_eq!(in_profile, top, "a profile takes every key");
}

#[test]
fn every_key_has_type_description_and_environment_variable() {
    let schema = json_schema();
    for key in KEYS {
        let mut node = &schema;
        for part in key.key.split('.') {
            node = &node["properties"][part];
        }
        let description = node["description"].as_str().unwrap_or_default();
        assert!(
            description.starts_with(key.description),
            "{}: {description}",
            key.key
        );
        assert!(
            description.contains(&key.env_var()),
            "{}: {description}",
            key.key
        );
        assert!(
            node.get("type").is_some() || node.get("anyOf").is_some(),
            "{}: {node}",
            key.key
        );
        if matches!(
            key.kind,
            KeyKind::HostName | KeyKind::Url | KeyKind::ProxyUrl | KeyKind::Address
        ) {
            assert!(node.get("pattern").is_some(), "{}: {node}", key.key);
        }
    }
    assert_eq!(
        schema["properties"]["pool"]["properties"]["pipeline_window"]["default"],
        16
    );
    assert_eq!(schema["properties"]["security"]["default"], "starttls");
    assert_eq!(
        schema["properties"]["tls"]["properties"]["platform_roots"]["default"],
        true
    );
}

const SAMPLE: &str = r#"#:schema ./smtp.schema.json
host = "smtp.example.com"
port = 587
security = "starttls"
ehlo_name = "client.example.com"
timeout = "30s"

[timeouts]
data_end = 600

[tls]
min_version = "1.2"
ca_file = ["/etc/ssl/a.pem", "/etc/ssl/b.pem"]
pin_sha256 = ["r/mIkG3eEpVdm+u/ko/cwxzOMo1bk4TyHIlByibiA5E="]

[auth]
username = "me@example.com"
password_command = "pass show mail/smtp"
mechanisms = ["SCRAM-SHA-256", "PLAIN"]

[message]
from = "me@example.com"
from_name = "Me"

[pool]
max_connections = 4
pipeline_window = 16

[retry]
attempts = 3
backoff = "1s"

[queue]
on_failure = "queue"
max_age = "5d"

[profiles.test]
description = "the local test relay"
host = "127.0.0.1"
port = 2525
security = "none"
"#;

#[test]
fn a_real_config_file_validates_and_loads() {
    assert_eq!(check(SAMPLE), Vec::<String>::new());
    // The loader agrees: the schema accepts what the loader accepts.
    let mut rig = Rig::new();
    rig.config(SAMPLE);
    let loaded = rig.ok();
    assert_eq!(loaded.config().pool.pipeline_window, 16);
}

#[test]
fn product_words_for_security_validate() {
    for word in [
        "implicit",
        "ssl",
        "smtps",
        "explicit",
        "starttls-opportunistic",
    ] {
        assert_eq!(
            check(&format!("security = \"{word}\"")),
            Vec::<String>::new(),
            "{word}"
        );
    }
}

#[test]
fn typos_and_bad_values_fail_validation() {
    let cases = [
        ("prot = 25", "$.prot: unknown key"),
        (
            "[tls]\nmin_versoin = \"1.2\"",
            "$.tls.min_versoin: unknown key",
        ),
        ("port = 0", "$.port: 0 is below 1"),
        ("port = \"587\"", "$.port: \"587\" is not of type integer"),
        ("security = \"tls\"", "$.security: \"tls\" is not one of"),
        (
            "[auth]\nmechanisms = [\"PLAN\"]",
            "$.auth.mechanisms[0]: \"PLAN\" is not one of",
        ),
        (
            "[pool]\npipeline_window = 65",
            "$.pool.pipeline_window: 65 is above 64",
        ),
        (
            "[tls]\nmin_version = \"1.1\"",
            "$.tls.min_version: \"1.1\" matches none",
        ),
        (
            "[profiles.work]\nhots = \"x\"",
            "$.profiles.work.hots: unknown key",
        ),
        (
            "[queue]\non_failure = \"drop\"",
            "$.queue.on_failure: \"drop\" is not one of",
        ),
    ];
    for (text, expected) in cases {
        let errors = check(text);
        assert!(
            errors.iter().any(|e| e.starts_with(expected)),
            "{text:?}: expected {expected:?}, got {errors:?}"
        );
    }
}
