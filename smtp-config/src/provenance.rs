//! Every effective value with the layer it came from, for `smtp config
//! show`: as a table or as JSON. Secrets are `<redacted>`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use figment::value::Value;
use serde::Serialize;

use crate::keys::{KEYS, KeyKind};
use crate::model::Config;
use crate::origin::Origin;

/// One effective value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProvenanceEntry {
    /// Dotted key.
    pub key: String,
    /// The value as text; `<redacted>` for secrets.
    pub value: String,
    /// The origin as text (`env SMTP_PORT`, `/etc/smtp/config.toml:3`, ...).
    pub from: String,
    /// The origin.
    pub origin: Origin,
}

/// The effective configuration, key by key, in documentation order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Provenance {
    entries: Vec<ProvenanceEntry>,
}

impl Provenance {
    /// The entries, in documentation order.
    pub fn entries(&self) -> &[ProvenanceEntry] {
        &self.entries
    }

    /// The entry for a dotted key.
    pub fn get(&self, key: &str) -> Option<&ProvenanceEntry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// `(key, value, origin)` triples.
    pub fn rows(&self) -> impl Iterator<Item = (&str, &str, &Origin)> {
        self.entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str(), &e.origin))
    }

    /// A JSON array of `{key, value, from, origin}` objects.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "[]".into())
    }
}

/// An aligned three-column table: KEY, VALUE, FROM.
impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kw = self
            .entries
            .iter()
            .map(|e| e.key.len())
            .max()
            .unwrap_or(0)
            .max(3);
        let vw = self
            .entries
            .iter()
            .map(|e| e.value.chars().count())
            .max()
            .unwrap_or(0)
            .max(5);
        writeln!(f, "{:<kw$}  {:<vw$}  FROM", "KEY", "VALUE")?;
        for e in &self.entries {
            writeln!(f, "{:<kw$}  {:<vw$}  {}", e.key, e.value, e.from)?;
        }
        Ok(())
    }
}

pub(crate) fn compute(
    config: &Config,
    values: &BTreeMap<String, Value>,
    origins: &BTreeMap<String, Origin>,
    default_outbox: &Path,
) -> Provenance {
    let mut entries = Vec::new();
    let mut push = |key: &str, value: String, origin: Origin| {
        entries.push(ProvenanceEntry {
            key: key.to_string(),
            value,
            from: origin.to_string(),
            origin,
        });
    };
    let timeouts = config.effective_timeouts();
    for doc in KEYS {
        if let (Some(value), Some(origin)) = (values.get(doc.key), origins.get(doc.key)) {
            push(doc.key, plain(doc.kind, value), origin.clone());
            continue;
        }
        let derived = |from: &str| Origin::Derived {
            from: from.to_string(),
        };
        let timeout_origin = || {
            if config.timeout.is_some() {
                derived("timeout")
            } else {
                Origin::Default
            }
        };
        let (value, origin) = match doc.key {
            "port" => (
                config.effective_port().to_string(),
                derived(&format!("security = {}", config.security)),
            ),
            "timeouts.connect" => (human(timeouts.connect), timeout_origin()),
            "timeouts.tls" => (human(timeouts.tls), timeout_origin()),
            "timeouts.greeting" => (human(timeouts.greeting), timeout_origin()),
            "timeouts.command" => (human(timeouts.command), timeout_origin()),
            "timeouts.data_start" => (human(timeouts.data_start), timeout_origin()),
            "timeouts.data_block" => (human(timeouts.data_block), timeout_origin()),
            "timeouts.data_end" => (human(timeouts.data_end), timeout_origin()),
            "tls.server_name" => match &config.host {
                Some(host) => (host.clone(), derived("host")),
                None => continue,
            },
            "outbox" => (default_outbox.display().to_string(), Origin::Default),
            _ => continue,
        };
        push(doc.key, value, origin);
    }
    Provenance { entries }
}

fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// A value as a person reads it: strings unquoted, lists in brackets,
/// secrets redacted.
fn plain(kind: KeyKind, value: &Value) -> String {
    match (kind, value) {
        (KeyKind::Secret, _) => "<redacted>".into(),
        (KeyKind::ProxyUrl, Value::String(_, s)) => smtp_core::ProxyUrl::redact(s),
        (KeyKind::ProxyUrl, _) => "<redacted>".into(),
        (_, Value::String(_, s)) => s.clone(),
        (_, Value::Array(_, items)) => {
            let parts: Vec<String> = items.iter().map(|v| plain(kind, v)).collect();
            format!("[{}]", parts.join(", "))
        }
        (_, other) => crate::layers::shown(kind, other),
    }
}
