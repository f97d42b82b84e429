//! The one error type of `smtp-config`.

use std::path::PathBuf;

use smtp_core::BoxError;

use crate::origin::Origin;

/// Everything that can go wrong while loading, validating or building a
/// configuration. `Display` is one lowercase line naming the key, the bad
/// value (secrets as `<redacted>`) and where it came from; [`Error::hint`]
/// says what to do when that is not obvious.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A config file exists but could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A config file given explicitly (`--config`, `SMTP_CONFIG`) does not exist.
    #[error("config file {} not found (given by {given_by})", path.display())]
    FileNotFound {
        /// The file.
        path: PathBuf,
        /// `--config` or `SMTP_CONFIG`.
        given_by: &'static str,
    },
    /// A config file is not valid TOML.
    #[error("{}{}: invalid TOML: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error, when known.
        line: Option<usize>,
        /// The parser's message.
        message: String,
    },
    /// A key that does not exist.
    #[error("unknown key `{key}` in {origin}{}", suggestion.map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownKey {
        /// The dotted key as written.
        key: String,
        /// Where it was found.
        origin: Box<Origin>,
        /// The closest known key.
        suggestion: Option<&'static str>,
    },
    /// A value of the wrong type or out of range.
    #[error("invalid value {value} for `{key}` in {origin}: {reason}")]
    InvalidValue {
        /// The dotted key.
        key: String,
        /// The value as written (`<redacted>` for secrets).
        value: String,
        /// Where it came from.
        origin: Box<Origin>,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// Two keys that exclude each other are set in the same layer.
    #[error("{} are all set in {origin}: {reason}", keys.join(", "))]
    Conflict {
        /// The keys that collide.
        keys: Vec<String>,
        /// The layer that sets them.
        origin: Box<Origin>,
        /// Which one to keep.
        reason: String,
    },
    /// A password or token would cross a connection without TLS.
    #[error(
        "refusing to send a password in clear: security = none (from {security_origin}) with \
         authentication (from {auth_origin}) and auth.mechanisms allowing PLAIN, LOGIN, XOAUTH2 or \
         OAUTHBEARER, which send the secret as is"
    )]
    CleartextAuth {
        /// Where `security = none` came from.
        security_origin: Box<Origin>,
        /// Where the credentials came from.
        auth_origin: Box<Origin>,
    },
    /// `tls.min_version` above `tls.max_version`: smtp-core's range check
    /// ([`smtp_core::TlsVersion::range`]) refused them; here with where
    /// each end was set.
    #[error(
        "tls.min_version = {} (from {min_origin}) is higher than tls.max_version = {} (from {max_origin})",
        min.number(),
        max.number()
    )]
    TlsVersionRange {
        /// The lowest version.
        min: smtp_core::TlsVersion,
        /// The highest version.
        max: smtp_core::TlsVersion,
        /// Where `tls.min_version` came from.
        min_origin: Box<Origin>,
        /// Where `tls.max_version` came from.
        max_origin: Box<Origin>,
    },
    /// `security = "TLS"`: products use the word for implicit TLS and for
    /// STARTTLS alike.
    #[error(
        "security {value:?} (from {origin}) is ambiguous: products say TLS for implicit TLS and for STARTTLS alike{}",
        match port {
            Some(465) => "; port 465 means implicit".to_string(),
            Some(p @ (587 | 25)) => format!("; port {p} means starttls"),
            Some(p) => format!("; port {p} says neither"),
            None => String::new(),
        }
    )]
    AmbiguousSecurity {
        /// The word as written.
        value: String,
        /// Where it came from.
        origin: Box<Origin>,
        /// The port configured in any layer, when one is.
        port: Option<u16>,
    },
    /// A value needed by another one is missing.
    #[error("missing `{key}`: {reason}")]
    Missing {
        /// The key to set.
        key: String,
        /// Why it is needed, with where the needing value came from.
        reason: String,
    },
    /// `--profile` / `SMTP_PROFILE` names a profile no file defines.
    #[error(
        "unknown profile {name:?} (from {given_by}){}; {}",
        suggestion.as_ref().map(|s| format!("; did you mean {s:?}?")).unwrap_or_default(),
        if available.is_empty() { "no config file defines [profiles.*]".to_string() } else { format!("defined: {}", available.join(", ")) }
    )]
    UnknownProfile {
        /// The requested profile.
        name: String,
        /// `--profile` or `SMTP_PROFILE`.
        given_by: &'static str,
        /// Profiles the loaded files define.
        available: Vec<String>,
        /// The closest defined profile.
        suggestion: Option<String>,
    },
    /// The configuration needs a plugin this build of `smtp-config` lacks.
    #[error(
        "`{key}` (from {origin}) needs the `{feature}` feature of smtp-config, which this build lacks"
    )]
    FeatureDisabled {
        /// The cargo feature.
        feature: &'static str,
        /// The key that needs it.
        key: String,
        /// Where that key came from.
        origin: Box<Origin>,
    },
    /// Reading a password or token from a file or a command failed.
    #[error("cannot get the secret from `{key}` (from {origin}): {reason}")]
    SecretSource {
        /// `auth.password_file`, `auth.password_command`, ...
        key: String,
        /// Where the key came from.
        origin: Box<Origin>,
        /// What failed (never the secret, never the command's stderr).
        reason: String,
    },
    /// A plugin (TLS, SASL, proxy) refused its settings.
    #[error("{} setup failed: {source}", plugin_name(what))]
    Plugin {
        /// `tls`, `auth` or `proxy` (an identifier; messages write `TLS`).
        what: &'static str,
        /// The plugin's own error.
        #[source]
        source: BoxError,
    },
    /// smtp-core refused the transport settings.
    #[error("building the transport failed: {0}")]
    Transport(#[source] smtp_core::Error),
    /// The merged configuration did not fit the model (a bug: values are
    /// checked before this point).
    #[error("configuration could not be read: {0}")]
    Model(String),
}

/// The plugin as messages name it: acronyms keep their case.
fn plugin_name(what: &str) -> &str {
    match what {
        "tls" => "TLS",
        "dkim" => "DKIM",
        other => other,
    }
}

impl Error {
    /// What a person should do, when the message alone does not say
    /// ([`Error::coded_hint`] without the code, worded with config keys).
    pub fn hint(&self) -> Option<String> {
        self.coded_hint().map(|h| crate::hint_text(&h))
    }
}
