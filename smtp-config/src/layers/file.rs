//! TOML config files: parsed with the line of every key, split into the
//! top level and the `[profiles.*]` tables.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use figment::value::{Dict, Value};

use super::{Layer, LayerKind, join};
use crate::error::Error;
use crate::origin::Origin;

/// A config file split into its top level and its `[profiles.*]` tables.
#[derive(Debug)]
pub(crate) struct FileData {
    pub top: Layer,
    pub profiles: BTreeMap<String, Layer>,
    /// `description` of each profile.
    pub descriptions: BTreeMap<String, Option<String>>,
}

/// Reads and parses a TOML file, keeping the line of every key.
pub(crate) fn read_file(path: &Path) -> Result<FileData, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    parse_file(path, &text)
}

pub(crate) fn parse_file(path: &Path, text: &str) -> Result<FileData, Error> {
    let table = toml::de::DeTable::parse(text).map_err(|e| Error::Parse {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().to_string(),
    })?;
    let mut lines = HashMap::new();
    let mut dict = convert_table(table.get_ref(), "", text, &mut lines);
    let file_kind = |profile: Option<String>| LayerKind::File {
        path: path.to_path_buf(),
        profile,
    };

    let mut profiles = BTreeMap::new();
    let mut descriptions = BTreeMap::new();
    if let Some(value) = dict.remove("profiles") {
        let Value::Dict(_, tables) = value else {
            return Err(Error::InvalidValue {
                key: "profiles".into(),
                value: "a value".into(),
                origin: Box::new(origin_in(path, &lines, "profiles", None)),
                reason: "expected [profiles.NAME] tables".into(),
            });
        };
        for (name, value) in tables {
            let prefix = format!("profiles.{name}.");
            let Value::Dict(_, mut body) = value else {
                return Err(Error::InvalidValue {
                    key: format!("profiles.{name}"),
                    value: "a value".into(),
                    origin: Box::new(origin_in(path, &lines, &format!("profiles.{name}"), None)),
                    reason: "expected a [profiles.NAME] table".into(),
                });
            };
            let description = body.remove("description");
            if let Some(d) = &description {
                if !matches!(d, Value::String(..)) {
                    return Err(Error::InvalidValue {
                        key: format!("profiles.{name}.description"),
                        value: "a non-string".into(),
                        origin: Box::new(origin_in(
                            path,
                            &lines,
                            &format!("{prefix}description"),
                            None,
                        )),
                        reason: "expected a string".into(),
                    });
                }
            }
            let mut layer = Layer::new(file_kind(Some(name.clone())), body);
            layer.lines = lines
                .iter()
                .filter_map(|(k, l)| k.strip_prefix(&prefix).map(|k| (k.to_string(), *l)))
                .collect();
            descriptions.insert(name.clone(), description.and_then(|d| d.into_string()));
            profiles.insert(name, layer);
        }
    }
    let mut top = Layer::new(file_kind(None), dict);
    top.lines = lines
        .into_iter()
        .filter(|(k, _)| !k.starts_with("profiles."))
        .collect();
    Ok(FileData {
        top,
        profiles,
        descriptions,
    })
}

fn origin_in(
    path: &Path,
    lines: &HashMap<String, usize>,
    key: &str,
    profile: Option<String>,
) -> Origin {
    Origin::File {
        path: path.to_path_buf(),
        line: lines.get(key).copied(),
        profile,
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn convert_table(
    table: &toml::de::DeTable<'_>,
    prefix: &str,
    text: &str,
    lines: &mut HashMap<String, usize>,
) -> Dict {
    let mut dict = Dict::new();
    for (key, value) in table.iter() {
        let path = join(prefix, key.get_ref());
        lines.insert(path.clone(), line_of(text, key.span().start));
        dict.insert(
            key.get_ref().to_string(),
            convert_value(value.get_ref(), &path, text, lines),
        );
    }
    dict
}

fn convert_value(
    value: &toml::de::DeValue<'_>,
    path: &str,
    text: &str,
    lines: &mut HashMap<String, usize>,
) -> Value {
    use toml::de::DeValue;
    match value {
        DeValue::String(s) => Value::from(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(i.as_str().to_string())),
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(f.as_str().to_string())),
        DeValue::Boolean(b) => Value::from(*b),
        DeValue::Datetime(d) => Value::from(d.to_string()),
        DeValue::Array(items) => Value::from(
            items
                .iter()
                .map(|v| convert_value(v.get_ref(), path, text, lines))
                .collect::<Vec<_>>(),
        ),
        DeValue::Table(t) => Value::from(convert_table(t, path, text, lines)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FileData, Error> {
        parse_file(Path::new("/cfg/config.toml"), text)
    }

    #[test]
    fn lines_and_profiles() {
        let f = parse("host = \"a\"\n\n[tls]\nmin_version = \"1.3\"\n[profiles.work]\ndescription = \"w\"\nport = 2525\n")
            .unwrap();
        assert_eq!(f.top.lines["host"], 1);
        assert_eq!(f.top.lines["tls.min_version"], 4);
        let work = &f.profiles["work"];
        assert_eq!(work.lines["port"], 7);
        assert!(work.get("description").is_none());
        assert_eq!(work.get("port"), Some(&Value::from(2525i64)));
        assert_eq!(
            work.origin("port").to_string(),
            "/cfg/config.toml:7 (profile work)"
        );
    }

    #[test]
    fn syntax_error_has_line() {
        let e = parse("host = \"a\"\nport = = 3\n").unwrap_err();
        assert!(matches!(e, Error::Parse { line: Some(2), .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("/cfg/config.toml:2: invalid TOML"),
            "{e}"
        );
    }
}
