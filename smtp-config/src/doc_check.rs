//! Keeps [`KEYS`], the serde model and `docs/config-reference.md` in step:
//! a key added to one and not the others fails here.

use std::collections::BTreeSet;

use figment::Figment;
use figment::value::{Dict, Value};

use crate::keys::{KEYS, KeyKind, TABLES};
use crate::layers::{self, Layer, LayerKind};
use crate::model::Config;

fn sample(kind: KeyKind) -> Value {
    match kind {
        KeyKind::Text | KeyKind::Secret => "x".into(),
        KeyKind::HostName => "h.example".into(),
        KeyKind::Bool => true.into(),
        KeyKind::Port | KeyKind::Count | KeyKind::Window => 25.into(),
        KeyKind::Duration => "1s".into(),
        KeyKind::Security => "starttls".into(),
        KeyKind::OnFailure => "queue".into(),
        KeyKind::TlsVersion => "1.2".into(),
        KeyKind::Path | KeyKind::PathList => "/p".into(),
        KeyKind::TextList => "a".into(),
        KeyKind::Mechanisms => "PLAIN".into(),
        KeyKind::Command => "true".into(),
        KeyKind::Url => "https://oauth.example/token".into(),
        KeyKind::ProxyUrl => "socks5://h:1".into(),
        KeyKind::Address => "a@b.example".into(),
        KeyKind::Preset => "gmail".into(),
        KeyKind::Region => "eu-west-1".into(),
        KeyKind::DsnNotify => "success,failure".into(),
        KeyKind::DsnRet => "hdrs".into(),
        KeyKind::EnvelopeId => "id-1".into(),
        KeyKind::IfUnsupported => "drop".into(),
    }
}

fn every_key() -> Dict {
    // Every key at once (one layer would refuse several secret sources),
    // each value in its canonical form.
    let mut dict = Dict::new();
    for k in KEYS {
        let value = crate::value::normalize(k.kind, &sample(k.kind)).unwrap();
        layers::insert(&mut dict, k.key, value);
    }
    dict
}

#[test]
fn every_key_fits_the_model() {
    let layer = Layer::new(LayerKind::Default, every_key());
    let config: Result<Config, _> = Figment::new().merge(&layer).extract();
    assert!(config.is_ok(), "{config:?}");
}

#[test]
fn every_model_field_is_a_key() {
    for table in std::iter::once("").chain(TABLES.iter().copied()) {
        let mut dict = every_key();
        let probe = layers::join(table, "__probe__");
        layers::insert(&mut dict, &probe, Value::from(1));
        let layer = Layer::new(LayerKind::Default, dict);
        let err = Figment::new()
            .merge(&layer)
            .extract::<Config>()
            .unwrap_err();
        let figment::error::Kind::UnknownField(_, expected) = err.kind else {
            panic!("{table}: expected an unknown-field error, got {err}");
        };
        let fields: BTreeSet<String> = expected.iter().map(|f| layers::join(table, f)).collect();
        let known: BTreeSet<String> = KEYS
            .iter()
            .map(|k| k.key)
            .chain(TABLES.iter().copied())
            .filter(|k| k.rsplit_once('.').map_or("", |(t, _)| t) == table)
            .map(str::to_string)
            .collect();
        assert_eq!(fields, known, "model fields vs KEYS in table {table:?}");
    }
}

#[test]
fn reference_doc_matches_keys() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/config-reference.md");
    let doc = std::fs::read_to_string(path).expect("docs/config-reference.md");
    let mut documented = BTreeSet::new();
    for line in doc.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let key = cells[1].trim_matches('`');
        let doc_key =
            crate::keys::find(key).unwrap_or_else(|| panic!("documented key {key} is not in KEYS"));
        assert_eq!(cells[2], doc_key.kind.type_name(), "type of {key}");
        assert_eq!(
            cells[4],
            format!("`{}`", doc_key.env_var()),
            "env var of {key}"
        );
        assert_eq!(cells[5], doc_key.description, "description of {key}");
        let default = doc_key.default.map_or("unset".to_string(), |d| {
            if d.contains(' ') {
                d.to_string()
            } else {
                format!("`{d}`")
            }
        });
        assert_eq!(cells[3], default, "default of {key}");
        assert!(documented.insert(key.to_string()), "{key} documented twice");
    }
    let keys: BTreeSet<String> = KEYS.iter().map(|k| k.key.to_string()).collect();
    assert_eq!(documented, keys, "docs/config-reference.md vs KEYS");
}
