//! A JSON Schema of the configuration file, generated from [`KEYS`] so
//! editors (taplo / Even Better TOML) complete and check `smtp.toml` with
//! the same keys, types, allowed words and defaults the loader uses.
//!
//! The schema describes the file as written: a dotted key is a nested
//! table, and `[profiles.NAME]` tables take every key plus a
//! `description`. It is stricter than the loader in one way only: words
//! the loader accepts in any letter case (`SSL`, `plain`) are listed in
//! lower case.

use serde_json::{Map, Value, json};

use crate::keys::{BUILTIN_DEFAULTS, KEYS, KeyDoc, KeyKind, MAX_WINDOW, MECHANISMS};
use crate::value::{ON_FAILURE_VALUES, SECURITY_WORDS};

/// The JSON Schema (draft 7, which taplo and most editors read) of a
/// configuration file. `smtp config schema` prints it.
pub fn json_schema() -> Value {
    let mut root = table_schema(None);
    let mut profile = table_schema(None);
    profile["properties"]["description"] = json!({
        "type": "string",
        "description": "What this profile is for (shown by `smtp config show`)",
    });
    root["properties"]["profiles"] = json!({
        "type": "object",
        "description": "Named profiles, selected with --profile NAME or SMTP_PROFILE; a profile's values override the top level of its file",
        "additionalProperties": profile,
    });
    let mut schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "smtp configuration file",
        "description": "smtp.toml / config.toml of the smtp command and the smtp-config crate (docs/config-reference.md)",
    });
    let Value::Object(fields) = root else {
        unreachable!("table_schema returns an object")
    };
    schema
        .as_object_mut()
        .expect("a literal object")
        .extend(fields);
    schema
}

/// An object schema holding every key, nested by table.
fn table_schema(description: Option<&str>) -> Value {
    let mut root = object(description);
    for key in KEYS {
        let mut table = &mut root;
        let mut parts: Vec<&str> = key.key.split('.').collect();
        let leaf = parts.pop().expect("split yields at least one part");
        for part in parts {
            table = table["properties"]
                .as_object_mut()
                .expect("properties is an object")
                .entry(part)
                .or_insert_with(|| object(None));
        }
        table["properties"][leaf] = key_schema(key);
    }
    root
}

fn object(description: Option<&str>) -> Value {
    let mut o = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": Map::new(),
    });
    if let Some(d) = description {
        o["description"] = d.into();
    }
    o
}

fn key_schema(key: &KeyDoc) -> Value {
    let mut schema = kind_schema(key.kind);
    let mut description = key.description.to_string();
    if let Some(default) = key.default {
        description.push_str(&format!(". Default: {default}"));
    }
    description.push_str(&format!(". Environment: {}", key.env_var()));
    if key.kind.is_secret() {
        description.push_str(" (prefer it, a *_file or a *_command to writing the secret here)");
    }
    schema["description"] = description.into();
    if let Some((_, default)) = BUILTIN_DEFAULTS.iter().find(|(k, _)| *k == key.key) {
        schema["default"] = typed_default(key.kind, default);
    }
    schema
}

fn typed_default(kind: KeyKind, text: &str) -> Value {
    match kind {
        KeyKind::Bool => Value::Bool(text == "true"),
        KeyKind::Port | KeyKind::Count | KeyKind::Window => text
            .parse::<u64>()
            .map_or_else(|_| text.into(), Value::from),
        _ => text.into(),
    }
}

fn strings(words: impl IntoIterator<Item = impl Into<String>>) -> Value {
    Value::Array(words.into_iter().map(|w| Value::String(w.into())).collect())
}

fn kind_schema(kind: KeyKind) -> Value {
    let string = || json!({ "type": "string", "minLength": 1 });
    match kind {
        KeyKind::Text | KeyKind::Secret => json!({ "type": "string" }),
        KeyKind::Path | KeyKind::Command => string(),
        KeyKind::HostName => json!({ "type": "string", "pattern": "^[^\\s\\x00-\\x1f\\x7f]+$" }),
        KeyKind::Bool => json!({ "type": "boolean" }),
        KeyKind::Port => json!({ "type": "integer", "minimum": 1, "maximum": 65535 }),
        KeyKind::Count => json!({ "type": "integer", "minimum": 1, "maximum": u32::MAX }),
        KeyKind::Window => json!({ "type": "integer", "minimum": 1, "maximum": MAX_WINDOW }),
        KeyKind::Duration => json!({
            "anyOf": [
                { "type": "string", "pattern": "^\\s*[0-9]", "examples": ["30s", "2m", "1h 30m", "500ms"] },
                { "type": "integer", "minimum": 1 }
            ]
        }),
        KeyKind::Security => json!({
            "type": "string",
            "enum": strings(SECURITY_WORDS.iter().map(|(word, _)| *word))
        }),
        KeyKind::OnFailure => {
            json!({ "type": "string", "enum": strings(ON_FAILURE_VALUES.iter().copied()) })
        }
        KeyKind::TlsVersion => json!({
            "anyOf": [
                { "type": "string", "enum": ["1.2", "1.3", "TLSv1.2", "TLSv1.3"] },
                { "type": "number", "enum": [1.2, 1.3] }
            ]
        }),
        KeyKind::PathList => json!({
            "anyOf": [string(), { "type": "array", "items": string(), "minItems": 1 }]
        }),
        KeyKind::TextList => json!({
            "anyOf": [{ "type": "array", "items": { "type": "string" } }, { "type": "string" }]
        }),
        KeyKind::Mechanisms => json!({
            "type": "array",
            "items": { "type": "string", "enum": strings(MECHANISMS.iter().copied()) },
            "uniqueItems": true
        }),
        KeyKind::Url => json!({ "type": "string", "pattern": "^https?://" }),
        KeyKind::ProxyUrl => json!({ "type": "string", "pattern": "^(socks5h?|socks4a?|http)://" }),
        KeyKind::Address => json!({ "type": "string", "pattern": "^[^@\\s<>]+@[^@\\s<>]+$" }),
        KeyKind::Preset => json!({
            "type": "string",
            "enum": strings(crate::presets::presets().iter().map(|p| p.name))
        }),
        KeyKind::Region => json!({ "type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$" }),
        KeyKind::DsnNotify => json!({
            "anyOf": [
                { "type": "string", "pattern": "^[A-Za-z][A-Za-z, ]*$", "examples": ["success,failure", "never"] },
                {
                    "type": "array",
                    "items": { "type": "string", "enum": ["never", "success", "failure", "delay"] },
                    "minItems": 1
                }
            ]
        }),
        KeyKind::DsnRet => json!({ "type": "string", "enum": ["full", "hdrs", "headers"] }),
        KeyKind::EnvelopeId => {
            json!({ "type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[ -~]+$" })
        }
        KeyKind::IfUnsupported => json!({ "type": "string", "enum": ["fail", "drop"] }),
    }
}
