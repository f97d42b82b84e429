//! Checking one layer: unknown keys, value kinds, paths, secret sources.

use std::path::{Path, PathBuf};

use figment::value::{Dict, Value};

use super::{Layer, LayerKind, join};
use crate::error::Error;
use crate::keys::{self, KeyKind, SECRET_SOURCES};
use crate::suggest;
use crate::value::normalize;

/// What `check` needs besides the layer: `~` expansion.
#[derive(Debug, Clone, Default)]
pub(crate) struct CheckContext {
    pub home: Option<PathBuf>,
}

/// Rejects unknown keys, normalizes every value by its kind, resolves
/// paths, and refuses two secret sources in one layer.
pub(crate) fn check(mut layer: Layer, ctx: &CheckContext) -> Result<Layer, Error> {
    let dict = std::mem::take(&mut layer.dict);
    layer.dict = check_table(&layer, &dict, "", ctx)?;
    check_secret_sources(&layer)?;
    Ok(layer)
}

fn check_table(
    layer: &Layer,
    dict: &Dict,
    prefix: &str,
    ctx: &CheckContext,
) -> Result<Dict, Error> {
    let mut out = Dict::new();
    for (k, v) in dict {
        let path = join(prefix, k);
        if let Some(doc) = keys::find(&path) {
            let mut norm = normalize(doc.kind, v).map_err(|reason| {
                if reason == crate::value::AMBIGUOUS_TLS {
                    return Error::AmbiguousSecurity {
                        value: v.as_str().unwrap_or_default().to_string(),
                        origin: Box::new(layer.origin(&path)),
                        port: None,
                    };
                }
                let reason = if path == "auth.username" && reason == "must not be empty" {
                    format!("{reason}; to send without logging in set auth.enabled = false")
                } else {
                    reason
                };
                Error::InvalidValue {
                    key: path.clone(),
                    value: shown(doc.kind, v),
                    origin: Box::new(layer.origin(&path)),
                    reason,
                }
            })?;
            if matches!(doc.kind, KeyKind::Path | KeyKind::PathList) {
                norm = resolve_paths(layer, norm, ctx);
            }
            out.insert(k.clone(), norm);
        } else if keys::is_table(&path) {
            let Value::Dict(_, sub) = v else {
                let hint = suggest::suggest_key(&path)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(Error::InvalidValue {
                    key: path.clone(),
                    value: shown(KeyKind::Text, v),
                    origin: Box::new(layer.origin(&path)),
                    reason: format!("`{path}` is a section: write its keys under [{path}]{hint}"),
                });
            };
            out.insert(k.clone(), Value::from(check_table(layer, sub, &path, ctx)?));
        } else {
            return Err(Error::UnknownKey {
                suggestion: suggest::suggest_key(&path),
                origin: Box::new(layer.origin(&path)),
                key: path,
            });
        }
    }
    Ok(out)
}

/// `~/` expands to the home directory; a relative path in a file is
/// relative to that file's directory (so `ca_file = "ca.pem"` next to the
/// config works from any working directory).
fn resolve_paths(layer: &Layer, value: Value, ctx: &CheckContext) -> Value {
    let base = match &layer.kind {
        LayerKind::File { path, .. } => path.parent().map(Path::to_path_buf),
        _ => None,
    };
    let fix = |s: &str| -> String {
        let p = match (s.strip_prefix("~/"), &ctx.home) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(s),
        };
        let p = match &base {
            Some(base) if p.is_relative() => base.join(p),
            _ => p,
        };
        p.to_string_lossy().into_owned()
    };
    match value {
        Value::String(_, s) => Value::from(fix(&s)),
        Value::Array(_, items) => Value::from(
            items
                .into_iter()
                .map(|v| match v {
                    Value::String(_, s) => Value::from(fix(&s)),
                    other => other,
                })
                .collect::<Vec<_>>(),
        ),
        other => other,
    }
}

/// Secret sources that count as one choice: the refresh-token flow is
/// four keys.
pub(crate) fn secret_source_group(key: &str) -> &'static str {
    match key {
        "auth.oauth2.token_url"
        | "auth.oauth2.client_id"
        | "auth.oauth2.client_secret"
        | "auth.oauth2.refresh_token" => "auth.oauth2 refresh flow",
        "auth.password" => "auth.password",
        "auth.password_file" => "auth.password_file",
        "auth.password_command" => "auth.password_command",
        "auth.oauth2.token" => "auth.oauth2.token",
        _ => "auth.oauth2.token_command",
    }
}

fn check_secret_sources(layer: &Layer) -> Result<(), Error> {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for key in SECRET_SOURCES {
        if layer.contains(key) {
            let group = secret_source_group(key);
            if !seen.iter().any(|(g, _)| *g == group) {
                seen.push((group, key));
            }
        }
    }
    if seen.len() > 1 {
        let keys: Vec<String> = seen.iter().map(|(_, k)| k.to_string()).collect();
        return Err(Error::Conflict {
            origin: Box::new(layer.origin(&keys[1])),
            reason: "the password or token may come from one source only; keep one of them".into(),
            keys,
        });
    }
    Ok(())
}

/// A value as it may be shown in an error or a listing.
pub(crate) fn shown(kind: KeyKind, value: &Value) -> String {
    match (kind, value) {
        (KeyKind::Secret, _) => "<redacted>".into(),
        (KeyKind::ProxyUrl, Value::String(_, s)) => {
            format!("{:?}", smtp_core::ProxyUrl::redact(s))
        }
        (KeyKind::ProxyUrl, _) => "<redacted>".into(),
        (_, Value::String(_, s)) => format!("{s:?}"),
        (_, Value::Dict(..)) => "a table".into(),
        (_, Value::Array(_, items)) => {
            let parts: Vec<String> = items.iter().map(|v| shown(kind, v)).collect();
            format!("[{}]", parts.join(", "))
        }
        (_, Value::Num(_, n)) => crate::value::num_text(*n),
        (_, Value::Bool(_, b)) => b.to_string(),
        (_, Value::Char(_, c)) => format!("{c:?}"),
        (_, Value::Empty(..)) => "nothing".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::file::parse_file;

    fn parse(text: &str) -> Result<crate::layers::FileData, Error> {
        parse_file(Path::new("/cfg/config.toml"), text)
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let f = parse("host = \"a\"\n[tls]\nmin_verison = \"1.3\"\n").unwrap();
        let e = check(f.top, &CheckContext::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown key `tls.min_verison` in /cfg/config.toml:3; did you mean `tls.min_version`?"
        );
    }

    #[test]
    fn paths_resolve_against_file_dir_and_home() {
        let f = parse("[tls]\nca_file = [\"ca.pem\", \"~/x.pem\", \"/abs.pem\"]\n").unwrap();
        let ctx = CheckContext {
            home: Some("/home/u".into()),
        };
        let layer = check(f.top, &ctx).unwrap();
        assert_eq!(
            layer.get("tls.ca_file"),
            Some(&Value::from(vec![
                "/cfg/ca.pem",
                "/home/u/x.pem",
                "/abs.pem"
            ]))
        );
    }

    #[test]
    fn two_secret_sources_in_one_layer() {
        let f =
            parse("[auth]\nusername = \"u\"\npassword = \"p\"\npassword_file = \"/f\"\n").unwrap();
        let e = check(f.top, &CheckContext::default()).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("auth.password, auth.password_file are all set in /cfg/config.toml:4"),
            "{text}"
        );
        assert!(!text.contains("\"p\""));
    }
}
