//! Stacks the layers, merges them with figment and reads the model.
//!
//! Order, later wins: defaults < preset < system file < user file <
//! `--config`/`SMTP_CONFIG` < environment < command line. A selected
//! profile sits right above the top level of each file that defines it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::value::{Dict, Value};

use crate::error::Error;
use crate::keys::{self, KEYS, SECRET_SOURCES};
use crate::layers::{self, CheckContext, Layer, LayerKind};
use crate::loaded::Loaded;
use crate::model::Config;
use crate::options::LoadOptions;
use crate::origin::Origin;
use crate::presets::{self, Preset};
use crate::provenance;
use crate::validate;

/// Default system-wide config file.
pub const SYSTEM_CONFIG_FILE: &str = "/etc/smtp/config.toml";

impl Config {
    /// Reads every layer, checks and merges them: see the crate docs for
    /// the order. Fails on the first unknown key or bad value, naming the
    /// key, the value and its layer.
    pub fn load(options: &LoadOptions) -> Result<Loaded, Error> {
        load(options)
    }
}

/// Where the loader looks, given an environment.
#[derive(Debug, Clone)]
pub(crate) struct Dirs {
    pub home: Option<PathBuf>,
    pub user_config: Option<PathBuf>,
    pub outbox: PathBuf,
}

impl Dirs {
    pub fn from_env(env: &BTreeMap<String, String>) -> Dirs {
        let var = |name: &str| env.get(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let home = var("HOME").or_else(|| var("USERPROFILE"));
        // XDG says relative values are invalid and must be ignored.
        let xdg = |name: &str| var(name).filter(|p| p.is_absolute());
        let user_config = xdg("XDG_CONFIG_HOME")
            .or_else(|| if cfg!(windows) { var("APPDATA") } else { None })
            .or_else(|| home.as_ref().map(|h| h.join(".config")))
            .map(|d| d.join("smtp").join("config.toml"));
        let outbox = xdg("XDG_DATA_HOME")
            .or_else(|| {
                if cfg!(windows) {
                    var("LOCALAPPDATA")
                } else {
                    None
                }
            })
            .or_else(|| home.as_ref().map(|h| h.join(".local").join("share")))
            .map(|d| d.join("smtp").join("outbox"))
            .unwrap_or_else(|| PathBuf::from("outbox"));
        Dirs {
            home,
            user_config,
            outbox,
        }
    }
}

pub(crate) fn load(options: &LoadOptions) -> Result<Loaded, Error> {
    let env = options.env_map();
    let dirs = Dirs::from_env(&env);
    let ctx = CheckContext {
        home: dirs.home.clone(),
    };

    let files = read_files(options, &env, &dirs)?;
    let (profile, profile_given_by) = match (&options.profile, env.get("SMTP_PROFILE")) {
        (Some(p), _) => (Some(p.clone()), "--profile"),
        (None, Some(p)) if !p.is_empty() => (Some(p.clone()), "SMTP_PROFILE"),
        _ => (None, ""),
    };

    let mut file_warnings = Vec::new();
    for file in &files {
        let layers = std::iter::once(&file.top).chain(file.profiles.values());
        if let Some(w) = layers.filter_map(readable_secret).next() {
            file_warnings.push(w);
        }
    }
    let mut stack: Vec<Layer> = Vec::new();
    let mut profile_descriptions = BTreeMap::new();
    for mut file in files {
        profile_descriptions.append(&mut file.descriptions);
        stack.push(file.top);
        if let Some(p) = profile.as_ref().and_then(|name| file.profiles.remove(name)) {
            stack.push(p);
        }
    }
    if let Some(name) = &profile {
        if !profile_descriptions.contains_key(name) {
            let available: Vec<String> = profile_descriptions.keys().cloned().collect();
            return Err(Error::UnknownProfile {
                suggestion: crate::suggest::closest(name, available.iter().map(String::as_str))
                    .map(str::to_string),
                name: name.clone(),
                given_by: profile_given_by,
                available,
            });
        }
    }
    let (env_layer, mut more) = layers::env_layer(&env, options.strict_env, &options.ignore_env)?;
    stack.push(env_layer);
    let mut cli = options.overrides.values().to_vec();
    if let Some(preset) = &options.preset {
        cli.retain(|(k, _)| k != "preset");
        cli.push(("preset".into(), preset.clone()));
    }
    stack.push(layers::cli_layer(&cli)?);

    // For the advice on an ambiguous security word: the port as written.
    let raw_port = top_value(&stack, "port").and_then(|(v, _)| {
        v.to_u128()
            .and_then(|n| u16::try_from(n).ok())
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    });
    let mut stack = stack
        .into_iter()
        .map(|l| layers::check(l, &ctx))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| match e {
            Error::AmbiguousSecurity { value, origin, .. } => Error::AmbiguousSecurity {
                value,
                origin,
                port: raw_port,
            },
            other => other,
        })?;

    let preset = select_preset(&stack)?;
    let mut all = vec![defaults_layer(&ctx)?];
    if let Some((preset, _)) = &preset {
        all.push(preset_layer(preset, &stack));
    }
    all.append(&mut stack);
    strip_shadowed_secret_sources(&mut all);

    let figment = all.iter().fold(Figment::new(), |f, layer| f.merge(layer));
    let mut config: Config = figment.extract().map_err(|e| Error::Model(e.to_string()))?;
    if !config.auth.enabled {
        // Anonymous: what lower layers set for logging in no longer counts.
        let a = &mut config.auth;
        a.username = None;
        a.password = None;
        a.password_file = None;
        a.password_command = None;
        a.oauth2 = Default::default();
    }

    let by_name: HashMap<String, usize> =
        all.iter().enumerate().map(|(i, l)| (l.name(), i)).collect();
    let mut values = BTreeMap::new();
    let mut origins = BTreeMap::new();
    for doc in KEYS {
        let Ok(value) = figment.find_value(doc.key) else {
            continue;
        };
        let origin = figment
            .find_metadata(doc.key)
            .and_then(|md| by_name.get(md.name.as_ref()))
            .map(|i| all[*i].origin(doc.key))
            .unwrap_or(Origin::Default);
        values.insert(doc.key.to_string(), value);
        origins.insert(doc.key.to_string(), origin);
    }

    let preset = preset.map(|(p, _)| p);
    let mut warnings = validate::validate(&config, &origins, preset)?;
    let mut env_warnings = file_warnings;
    env_warnings.append(&mut more);
    env_warnings.append(&mut warnings);
    let warnings = env_warnings;
    let provenance = provenance::compute(&config, &values, &origins, &dirs.outbox);
    let loaded = Loaded {
        config,
        origins,
        provenance,
        warnings,
        profile,
        preset,
        dirs,
        profiles: profile_descriptions,
    };
    if options.log_warnings {
        loaded.log_warnings();
    }
    Ok(loaded)
}

fn read_files(
    options: &LoadOptions,
    env: &BTreeMap<String, String>,
    dirs: &Dirs,
) -> Result<Vec<layers::FileData>, Error> {
    let mut paths: Vec<PathBuf> = Vec::new();
    if !options.skip_system_files {
        let system = options
            .system_file
            .clone()
            .unwrap_or_else(|| PathBuf::from(SYSTEM_CONFIG_FILE));
        paths.extend(
            [Some(system), dirs.user_config.clone()]
                .into_iter()
                .flatten()
                .filter(|p| p.is_file()),
        );
    }
    let explicit = match (&options.config_file, env.get("SMTP_CONFIG")) {
        (Some(p), _) => Some((p.clone(), "--config")),
        (None, Some(p)) if !p.is_empty() => Some((PathBuf::from(p), "SMTP_CONFIG")),
        _ => None,
    };
    if let Some((path, given_by)) = explicit {
        if !path.exists() {
            return Err(Error::FileNotFound { path, given_by });
        }
        // The same file twice would only shadow itself.
        if !paths.iter().any(|p| same_file(p, &path)) {
            paths.push(path);
        }
    }
    paths.iter().map(|p| layers::read_file(p)).collect()
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// A warning when a file layer holds a secret (a password, a token, a
/// proxy URL with a password) and every user of the machine may read it.
fn readable_secret(layer: &Layer) -> Option<crate::loaded::Warning> {
    let LayerKind::File { path, .. } = &layer.kind else {
        return None;
    };
    let key = KEYS
        .iter()
        .map(|k| k.key)
        .find(|key| match layers::find(&layer.dict, key) {
            None => false,
            Some(v) => match keys::find(key).map(|d| d.kind) {
                Some(keys::KeyKind::Secret) => true,
                Some(keys::KeyKind::ProxyUrl) => v
                    .as_str()
                    .and_then(|u| smtp_core::ProxyUrl::parse(u).ok())
                    .is_some_and(|p| p.credentials().is_some_and(|c| c.has_password())),
                _ => false,
            },
        })?;
    let mode = world_readable(path)?;
    Some(crate::loaded::Warning {
        key: key.to_string(),
        origin: layer.origin(key),
        message: format!(
            "{} holds a secret and every user of this machine can read it (mode {mode:04o}): \
             chmod 600 it, or move the secret to a password_file or password_command",
            path.display()
        ),
    })
}

/// The permission bits of a file others may read (Unix only).
fn world_readable(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
        (mode & 0o004 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The highest layer's `preset`, and the preset it names.
fn select_preset(stack: &[Layer]) -> Result<Option<(&'static Preset, Origin)>, Error> {
    let Some((value, origin)) = top_value(stack, "preset") else {
        return Ok(None);
    };
    let name = value.as_str().unwrap_or_default();
    // Names were checked by `value::normalize`.
    let preset =
        presets::find(name).ok_or_else(|| Error::Model(format!("preset {name:?} vanished")))?;
    if preset.needs_region()
        && top_value(stack, "aws_region").is_none()
        && top_value(stack, "host").is_none()
    {
        return Err(Error::Missing {
            key: "aws_region".into(),
            reason: format!(
                "preset {} (from {origin}) builds its host from it: set aws_region = \"eu-west-1\" \
                 (or SMTP_AWS_REGION, --aws-region), or set host",
                preset.name
            ),
        });
    }
    Ok(Some((preset, origin)))
}

pub(crate) fn top_value<'a>(stack: &'a [Layer], key: &str) -> Option<(&'a Value, Origin)> {
    stack
        .iter()
        .rev()
        .find_map(|l| l.get(key).map(|v| (v, l.origin(key))))
}

fn defaults_layer(ctx: &CheckContext) -> Result<Layer, Error> {
    let mut dict = Dict::new();
    for (key, value) in keys::BUILTIN_DEFAULTS {
        layers::insert(&mut dict, key, Value::from(*value));
    }
    layers::check(Layer::new(LayerKind::Default, dict), ctx)
}

fn preset_layer(preset: &Preset, stack: &[Layer]) -> Layer {
    let region = top_value(stack, "aws_region").and_then(|(v, _)| v.as_str());
    let mut dict = Dict::new();
    if let Some(host) = preset.host_for(region) {
        layers::insert(&mut dict, "host", Value::from(host));
    }
    // The port follows the mode: a layer that picks another mode than the
    // preset's (gmail with security = "implicit") gets that mode's port
    // (465), unless a port is set explicitly.
    let security = top_value(stack, "security").and_then(|(v, _)| v.as_str());
    if security.is_none_or(|s| s == preset.security.as_str()) {
        layers::insert(&mut dict, "port", Value::from(preset.port));
    }
    layers::insert(&mut dict, "security", Value::from(preset.security.as_str()));
    if let Some(v) = preset.min_tls {
        layers::insert(&mut dict, "tls.min_version", Value::from(v));
    }
    if let Some(user) = preset.username {
        layers::insert(&mut dict, "auth.username", Value::from(user));
    }
    Layer::new(LayerKind::Preset(preset.name.to_string()), dict)
}

/// A layer that picks a secret source (say `SMTP_AUTH__PASSWORD`) replaces
/// every other kind of source from lower layers (say a file's
/// `password_command`), so the later layer wins as a person expects.
/// Keys of the same source (the four refresh-flow keys) still merge.
fn strip_shadowed_secret_sources(all: &mut [Layer]) {
    let Some(top) = all
        .iter()
        .rposition(|l| SECRET_SOURCES.iter().any(|k| l.contains(k)))
    else {
        return;
    };
    let groups: Vec<&str> = SECRET_SOURCES
        .iter()
        .filter(|k| all[top].contains(k))
        .map(|k| layers::secret_source_group(k))
        .collect();
    for layer in &mut all[..top] {
        for key in SECRET_SOURCES {
            if !groups.contains(&layers::secret_source_group(key)) {
                layer.remove(key);
            }
        }
    }
}
