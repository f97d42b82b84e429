//! What the caller (the CLI, a service, a test) tells the loader.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use smtp_core::Security;

use crate::keys;

/// Where to look and what to override. `LoadOptions::default()` is what a
/// program without flags wants: system file, user file, `SMTP_CONFIG`,
/// the process environment.
#[derive(Clone)]
#[non_exhaustive]
pub struct LoadOptions {
    /// `--config FILE` (wins over `SMTP_CONFIG`); must exist.
    pub config_file: Option<PathBuf>,
    /// `--profile NAME` (wins over `SMTP_PROFILE`).
    pub profile: Option<String>,
    /// `--preset NAME`: the same as `preset = NAME` on the command line.
    pub preset: Option<String>,
    /// Command-line flags, the highest layer.
    pub overrides: CliOverrides,
    /// Skip `/etc/smtp/config.toml` and the user's config file.
    pub skip_system_files: bool,
    /// The environment to read instead of the process's (tests); also the
    /// source of `HOME`, `XDG_CONFIG_HOME` and `XDG_DATA_HOME`.
    pub env: Option<BTreeMap<String, String>>,
    /// The system file to read instead of `/etc/smtp/config.toml`.
    pub system_file: Option<PathBuf>,
    /// Log each [`Warning`](crate::Warning) with `tracing::warn!` (default
    /// true). A program that prints [`Loaded::warnings`](crate::Loaded::warnings)
    /// itself turns this off to avoid saying everything twice.
    pub log_warnings: bool,
    /// Refuse an `SMTP_*` variable that names no key (default false: it is
    /// skipped with a [`Warning`](crate::Warning), since other programs on
    /// the same machine use names like `SMTP_USER` and `SMTP_PASS`).
    pub strict_env: bool,
    /// Variables the environment layer skips: one the program reads a
    /// password from by name is a secret, never a key.
    pub ignore_env: Vec<String>,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            config_file: None,
            profile: None,
            preset: None,
            overrides: CliOverrides::default(),
            skip_system_files: false,
            env: None,
            system_file: None,
            log_warnings: true,
            strict_env: false,
            ignore_env: Vec::new(),
        }
    }
}

impl LoadOptions {
    /// The defaults: every layer, process environment.
    pub fn new() -> LoadOptions {
        LoadOptions::default()
    }

    /// Sets [`LoadOptions::config_file`].
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> LoadOptions {
        self.config_file = Some(path.into());
        self
    }

    /// Sets [`LoadOptions::profile`].
    pub fn profile(mut self, name: impl Into<String>) -> LoadOptions {
        self.profile = Some(name.into());
        self
    }

    /// Sets [`LoadOptions::preset`].
    pub fn preset(mut self, name: impl Into<String>) -> LoadOptions {
        self.preset = Some(name.into());
        self
    }

    /// Sets [`LoadOptions::overrides`].
    pub fn overrides(mut self, overrides: CliOverrides) -> LoadOptions {
        self.overrides = overrides;
        self
    }

    /// Sets [`LoadOptions::skip_system_files`].
    pub fn skip_system_files(mut self, skip: bool) -> LoadOptions {
        self.skip_system_files = skip;
        self
    }

    /// Sets [`LoadOptions::env`] from any `(name, value)` pairs.
    pub fn env<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> LoadOptions {
        self.env = Some(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// Sets [`LoadOptions::system_file`].
    pub fn system_file(mut self, path: impl Into<PathBuf>) -> LoadOptions {
        self.system_file = Some(path.into());
        self
    }

    /// Sets [`LoadOptions::log_warnings`].
    pub fn log_warnings(mut self, on: bool) -> LoadOptions {
        self.log_warnings = on;
        self
    }

    /// Sets [`LoadOptions::strict_env`].
    pub fn strict_env(mut self, strict: bool) -> LoadOptions {
        self.strict_env = strict;
        self
    }

    /// Adds a variable to [`LoadOptions::ignore_env`].
    pub fn ignore_env_var(mut self, name: impl Into<String>) -> LoadOptions {
        self.ignore_env.push(name.into());
        self
    }

    /// The environment in effect: the injected map, or the process's
    /// (variables that are not UTF-8 are skipped).
    pub(crate) fn env_map(&self) -> BTreeMap<String, String> {
        match &self.env {
            Some(env) => env.clone(),
            None => std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }
}

// The injected environment may hold passwords: show variable names only.
impl fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadOptions")
            .field("config_file", &self.config_file)
            .field("profile", &self.profile)
            .field("preset", &self.preset)
            .field("overrides", &self.overrides)
            .field("skip_system_files", &self.skip_system_files)
            .field(
                "env",
                &self.env.as_ref().map(|e| e.keys().collect::<Vec<_>>()),
            )
            .field("system_file", &self.system_file)
            .field("log_warnings", &self.log_warnings)
            .field("strict_env", &self.strict_env)
            .field("ignore_env", &self.ignore_env)
            .finish()
    }
}

/// Command-line values, as `(dotted key, text)` pairs: parsed and checked
/// exactly like environment variables, reported as "command line".
///
/// Secret keys (`auth.password`, tokens) are accepted, for a password a
/// program read from a prompt or from a variable the user named; never put
/// one here from argv, which every user of the machine can read (`ps`).
/// `Debug` redacts them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CliOverrides {
    values: Vec<(String, String)>,
}

impl CliOverrides {
    /// No overrides.
    pub fn new() -> CliOverrides {
        CliOverrides::default()
    }

    /// Sets any key (`--set key=value`); a later call for the same key wins.
    pub fn set(mut self, key: impl Into<String>, value: impl Into<String>) -> CliOverrides {
        self.push(key, value);
        self
    }

    /// Like [`CliOverrides::set`], in place.
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        self.values.retain(|(k, _)| *k != key);
        self.values.push((key, value.into()));
    }

    /// Parses `key=value` (what `--set` receives).
    pub fn push_assignment(&mut self, assignment: &str) -> Result<(), String> {
        match assignment.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                self.push(k.trim(), v);
                Ok(())
            }
            _ => Err(format!("expected key=value, got {assignment:?}")),
        }
    }

    /// `--host`.
    pub fn host(self, host: impl Into<String>) -> CliOverrides {
        self.set("host", host)
    }

    /// `--port`.
    pub fn port(self, port: u16) -> CliOverrides {
        self.set("port", port.to_string())
    }

    /// `--security`.
    pub fn security(self, security: Security) -> CliOverrides {
        self.set("security", security.as_str())
    }

    /// `--timeout`.
    pub fn timeout(self, timeout: Duration) -> CliOverrides {
        self.set("timeout", humantime::format_duration(timeout).to_string())
    }

    /// `--user`.
    pub fn username(self, username: impl Into<String>) -> CliOverrides {
        self.set("auth.username", username)
    }

    /// `--proxy`.
    pub fn proxy(self, url: impl Into<String>) -> CliOverrides {
        self.set("proxy.url", url)
    }

    /// `--from`.
    pub fn from(self, address: impl Into<String>) -> CliOverrides {
        self.set("message.from", address)
    }

    /// True when nothing is overridden.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The pairs, in the order given.
    pub fn values(&self) -> &[(String, String)] {
        &self.values
    }
}

impl fmt::Debug for CliOverrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (k, v) in &self.values {
            let shown = match keys::find(k).map(|d| d.kind) {
                Some(keys::KeyKind::Secret) => "<redacted>".to_string(),
                Some(keys::KeyKind::ProxyUrl) => smtp_core::ProxyUrl::redact(v),
                _ => v.clone(),
            };
            map.entry(k, &shown);
        }
        map.finish()
    }
}
