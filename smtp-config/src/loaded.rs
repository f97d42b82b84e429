//! The result of a load: the model, where each value came from, warnings.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::load::Dirs;
use crate::model::Config;
use crate::origin::Origin;
use crate::presets::Preset;
use crate::provenance::Provenance;

/// Something legal but probably wrong (port 465 with STARTTLS, certificate
/// checks turned off, ...). The CLI prints these; a service logs them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Warning {
    /// The key the warning is about.
    pub key: String,
    /// Where that key's value came from.
    pub origin: Origin,
    /// What is likely wrong and what to do.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {}): {}", self.key, self.origin, self.message)
    }
}

/// A loaded, validated configuration: call [`Loaded::build`] to get a
/// transport, or inspect it ([`Loaded::provenance`], [`Loaded::warnings`]).
///
/// `Debug` shows no secret (they are `secrecy` types).
#[derive(Debug)]
pub struct Loaded {
    pub(crate) config: Config,
    pub(crate) origins: BTreeMap<String, Origin>,
    pub(crate) provenance: Provenance,
    pub(crate) warnings: Vec<Warning>,
    pub(crate) profile: Option<String>,
    pub(crate) preset: Option<&'static Preset>,
    pub(crate) dirs: Dirs,
    pub(crate) profiles: BTreeMap<String, Option<String>>,
}

impl Loaded {
    /// Logs each warning once, for programs that do not print them.
    pub(crate) fn log_warnings(&self) {
        for w in &self.warnings {
            tracing::warn!(key = %w.key, origin = %w.origin, "{}", w.message);
        }
    }

    /// The merged, checked model.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every effective value with its origin; secrets redacted.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// Legal but suspicious settings.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Where the value of a dotted key came from, when it is set.
    pub fn origin(&self, key: &str) -> Option<&Origin> {
        self.origins.get(key)
    }

    /// The selected profile.
    pub fn profile(&self) -> Option<&str> {
        self.profile.as_deref()
    }

    /// Every profile the loaded files define, with its description.
    pub fn profiles(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.profiles
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_deref()))
    }

    /// The preset in effect.
    pub fn preset(&self) -> Option<&'static Preset> {
        self.preset
    }

    /// True when no host is configured: messages go to the outbox.
    pub fn is_outbox(&self) -> bool {
        self.config.host.is_none()
    }

    /// The outbox directory: `outbox`, else `$XDG_DATA_HOME/smtp/outbox`
    /// (`~/.local/share/smtp/outbox`), else `./outbox` without a home.
    pub fn outbox_dir(&self) -> PathBuf {
        self.config
            .outbox
            .clone()
            .unwrap_or_else(|| self.dirs.outbox.clone())
    }

    /// The queue directory: `queue.dir`, else the outbox directory (the
    /// outbox is the queue: what `smtp send` keeps there with no host set
    /// is delivered by `smtp queue flush` once one is).
    pub fn queue_dir(&self) -> PathBuf {
        self.config
            .queue
            .dir
            .clone()
            .unwrap_or_else(|| self.outbox_dir())
    }

    pub(crate) fn origin_or_default(&self, key: &str) -> Origin {
        self.origins.get(key).cloned().unwrap_or(Origin::Default)
    }
}
