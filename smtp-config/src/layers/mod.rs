//! Layers: one figment provider per source, each knowing how to name the
//! origin of any of its keys (file and line, variable name, ...).

mod check;
mod file;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};

pub(crate) use check::{CheckContext, check, secret_source_group, shown};
pub(crate) use file::{FileData, read_file};

use crate::error::Error;
use crate::keys;
use crate::loaded::Warning;
use crate::origin::Origin;
use crate::suggest;

/// Which source a layer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LayerKind {
    Default,
    Preset(String),
    File {
        path: PathBuf,
        profile: Option<String>,
    },
    Env,
    CommandLine,
}

/// One source's values, already nested as the model expects.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    pub kind: LayerKind,
    pub dict: Dict,
    /// File layers: 1-based line of each dotted key.
    pub lines: HashMap<String, usize>,
    /// Env layer: the variable that set each dotted key.
    pub vars: HashMap<String, String>,
}

impl Layer {
    pub fn new(kind: LayerKind, dict: Dict) -> Layer {
        Layer {
            kind,
            dict,
            lines: HashMap::new(),
            vars: HashMap::new(),
        }
    }

    /// Unique among the layers of one load: figment metadata is matched
    /// back to its layer by this name.
    pub fn name(&self) -> String {
        match &self.kind {
            LayerKind::Default => "default".into(),
            LayerKind::Preset(name) => format!("preset {name}"),
            LayerKind::File {
                path,
                profile: None,
            } => format!("config file {}", path.display()),
            LayerKind::File {
                path,
                profile: Some(p),
            } => {
                format!("config file {} (profile {p})", path.display())
            }
            LayerKind::Env => "environment".into(),
            LayerKind::CommandLine => "command line".into(),
        }
    }

    /// Where `key` (dotted) of this layer came from.
    pub fn origin(&self, key: &str) -> Origin {
        match &self.kind {
            LayerKind::Default => Origin::Default,
            LayerKind::Preset(name) => Origin::Preset { name: name.clone() },
            LayerKind::File { path, profile } => Origin::File {
                path: path.clone(),
                line: self.lines.get(key).copied(),
                profile: profile.clone(),
            },
            LayerKind::Env => Origin::Env {
                var: self
                    .vars
                    .get(key)
                    .cloned()
                    .unwrap_or_else(|| keys::env_var_for(key)),
            },
            LayerKind::CommandLine => Origin::CommandLine,
        }
    }

    pub fn contains(&self, key: &str) -> bool {
        find(&self.dict, key).is_some()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        find(&self.dict, key)
    }

    /// Removes a dotted key (and tables it leaves empty).
    pub fn remove(&mut self, key: &str) {
        fn rec(dict: &mut Dict, parts: &[&str]) {
            match parts {
                [] => {}
                [last] => {
                    dict.remove(*last);
                }
                [first, rest @ ..] => {
                    if let Some(Value::Dict(_, sub)) = dict.get_mut(*first) {
                        rec(sub, rest);
                        if sub.is_empty() {
                            dict.remove(*first);
                        }
                    }
                }
            }
        }
        let parts: Vec<&str> = key.split('.').collect();
        rec(&mut self.dict, &parts);
    }
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        let md = Metadata::named(self.name());
        match &self.kind {
            LayerKind::File { path, .. } => md.source(path.as_path()),
            _ => md,
        }
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

/// Looks up a dotted key in a nested dict.
pub(crate) fn find<'a>(dict: &'a Dict, key: &str) -> Option<&'a Value> {
    let mut parts = key.split('.');
    let mut cur = dict.get(parts.next()?)?;
    for part in parts {
        match cur {
            Value::Dict(_, d) => cur = d.get(part)?,
            _ => return None,
        }
    }
    Some(cur)
}

/// Inserts a dotted key into a nested dict, creating tables on the way.
pub(crate) fn insert(dict: &mut Dict, key: &str, value: Value) {
    match key.split_once('.') {
        None => {
            dict.insert(key.to_string(), value);
        }
        Some((first, rest)) => {
            let entry = dict
                .entry(first.to_string())
                .or_insert_with(|| Value::from(Dict::new()));
            if !matches!(entry, Value::Dict(..)) {
                *entry = Value::from(Dict::new());
            }
            if let Value::Dict(_, sub) = entry {
                insert(sub, rest, value);
            }
        }
    }
}

pub(crate) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The environment layer: every `SMTP_*` variable except the loader's own
/// (`SMTP_CONFIG`, `SMTP_PROFILE`) and those in `ignore` (a variable the
/// program reads a password from by name). Empty variables count as unset.
///
/// A variable that names no key is an error when `strict` is set, else
/// it is skipped with a warning: deployments often set `SMTP_USER`,
/// `SMTP_PASS` or `SMTP_SERVER` for other programs.
pub(crate) fn env_layer(
    env: &BTreeMap<String, String>,
    strict: bool,
    ignore: &[String],
) -> Result<(Layer, Vec<Warning>), Error> {
    let mut layer = Layer::new(LayerKind::Env, Dict::new());
    let mut warnings = Vec::new();
    for (var, value) in env {
        let Some(rest) = var.strip_prefix(keys::ENV_PREFIX) else {
            continue;
        };
        if matches!(rest, "CONFIG" | "PROFILE") || value.is_empty() || ignore.contains(var) {
            continue;
        }
        let key = rest.to_ascii_lowercase().replace("__", ".");
        if keys::find(&key).is_none() {
            let suggestion = suggest::suggest_key(&key);
            let origin = Origin::Env { var: var.clone() };
            if strict {
                return Err(Error::UnknownKey {
                    suggestion,
                    key,
                    origin: Box::new(origin),
                });
            }
            let did_you_mean = suggestion
                .map(|s| format!(" (did you mean {}?)", keys::env_var_for(s)))
                .unwrap_or_default();
            warnings.push(Warning {
                key,
                origin,
                message: format!(
                    "not a configuration key, ignored{did_you_mean}; strict checking of the \
                     environment refuses it"
                ),
            });
            continue;
        }
        insert(&mut layer.dict, &key, Value::from(value.clone()));
        layer.vars.insert(key, var.clone());
    }
    Ok((layer, warnings))
}

/// The command-line layer: flags a program translated into keys. A secret
/// may arrive here (read from a terminal prompt or a variable the user
/// named), never from argv itself: that is the program's promise.
pub(crate) fn cli_layer(values: &[(String, String)]) -> Result<Layer, Error> {
    let mut layer = Layer::new(LayerKind::CommandLine, Dict::new());
    for (key, value) in values {
        if keys::find(key).is_none() {
            return Err(Error::UnknownKey {
                suggestion: suggest::suggest_key(key),
                key: key.clone(),
                origin: Box::new(Origin::CommandLine),
            });
        }
        insert(&mut layer.dict, key, Value::from(value.clone()));
    }
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_layer_nests_and_names_vars() {
        let env: BTreeMap<String, String> = [
            ("SMTP_TLS__MIN_VERSION", "1.3"),
            ("SMTP_PORT", "2525"),
            ("SMTP_PROFILE", "x"),
            ("SMTP_HOST", ""),
            ("PATH", "/bin"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let layer = check(
            env_layer(&env, true, &[]).unwrap().0,
            &CheckContext::default(),
        )
        .unwrap();
        assert_eq!(layer.get("tls.min_version"), Some(&Value::from("1.3")));
        assert_eq!(layer.get("port"), Some(&Value::from(2525u16)));
        assert!(layer.get("host").is_none());
        assert_eq!(
            layer.origin("tls.min_version").to_string(),
            "env SMTP_TLS__MIN_VERSION"
        );
    }

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn unknown_env_variable_is_a_warning_unless_strict() {
        let env = vars(&[("SMTP_PASS", "secret-value"), ("SMTP_PORT", "2525")]);
        let (layer, warnings) = env_layer(&env, false, &[]).unwrap();
        assert!(layer.contains("port"));
        assert_eq!(warnings.len(), 1);
        let text = warnings[0].to_string();
        assert!(
            text.starts_with("pass (from env SMTP_PASS): not a configuration key, ignored"),
            "{text}"
        );
        assert!(!text.contains("secret-value"), "{text}");
        let e = env_layer(&env, true, &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown key `pass` in env SMTP_PASS; did you mean `auth.password`?"
        );
        assert_eq!(e.coded_hint().unwrap().code, "config-unknown-env-key");
    }

    #[test]
    fn env_variable_named_for_a_password_is_never_a_key() {
        let env = vars(&[("SMTP_PASS", "x"), ("SMTP_AUTH__PASSWORD", "y")]);
        let ignore = ["SMTP_PASS".to_string(), "SMTP_AUTH__PASSWORD".to_string()];
        let (layer, warnings) = env_layer(&env, true, &ignore).unwrap();
        assert!(warnings.is_empty());
        assert!(!layer.contains("auth.password"));
    }

    #[test]
    fn cli_layer_rejects_unknown_keys() {
        let e = cli_layer(&[("tls.min_versoin".into(), "1.3".into())]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown key `tls.min_versoin` in command line; did you mean `tls.min_version`?"
        );
        let layer = cli_layer(&[("auth.password".into(), "hunter2".into())]).unwrap();
        assert!(layer.contains("auth.password"));
    }
}
