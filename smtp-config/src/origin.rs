//! Where a value came from: the layer, and the line when it is a file.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// The layer an effective value (or a bad one) came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "layer", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Origin {
    /// A built-in default.
    Default,
    /// Computed from other keys when unset (for example `port` from `security`).
    Derived {
        /// What it was derived from, e.g. `security = starttls`.
        from: String,
    },
    /// A provider preset.
    Preset {
        /// The preset's name.
        name: String,
    },
    /// A TOML file (system, user, or `--config`).
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line of the key, when known.
        line: Option<usize>,
        /// The `[profiles.NAME]` table the value sits in, if any.
        profile: Option<String>,
    },
    /// An environment variable.
    Env {
        /// The variable's name, e.g. `SMTP_TLS__MIN_VERSION`.
        var: String,
    },
    /// A command-line flag (or `--set key=value`).
    CommandLine,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::Derived { from } => write!(f, "default (from {from})"),
            Origin::Preset { name } => write!(f, "preset {name}"),
            Origin::File {
                path,
                line,
                profile,
            } => {
                write!(f, "{}", path.display())?;
                if let Some(line) = line {
                    write!(f, ":{line}")?;
                }
                if let Some(profile) = profile {
                    write!(f, " (profile {profile})")?;
                }
                Ok(())
            }
            Origin::Env { var } => write!(f, "env {var}"),
            Origin::CommandLine => f.write_str("command line"),
        }
    }
}
