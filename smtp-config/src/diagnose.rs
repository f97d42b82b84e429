//! Hints and retry classification that know every plugin's error type.
//!
//! smtp-core carries plugin errors as boxed sources and can only give
//! generic advice; this crate knows the concrete types, so it can ask the
//! plugin itself.

use std::error::Error as StdError;

use smtp_core::Hint;

use crate::error::Error;
use crate::origin::Origin;

smtp_core::hint_table! {
    /// The hints for configuration errors; [`Error::coded_hint`] returns
    /// one of these, or the plugin's own for [`Error::Plugin`].
    pub mod hints {
        READ_FILE = "config-read-file": "check the file's permissions, or move it out of the way";
        FILE_NOT_FOUND = "config-file-not-found":
            "check the path, or unset {ConfigFile} to use the default files";
        PARSE = "config-parse": "fix the TOML syntax at that line";
        UNKNOWN_ENV_KEY = "config-unknown-env-key":
            "every SMTP_* variable must name a key (SMTP_TLS__MIN_VERSION for tls.min_version); unset the variable or fix its name";
        UNKNOWN_KEY = "config-unknown-key": "see docs/config-reference.md for every key";
        INVALID_VALUE = "config-invalid-value":
            "fix the value where the message says it came from (file, SMTP_* variable or flag); `smtp config show` prints every value with its origin";
        CONFLICT = "config-conflict": "keep only one of them in that layer";
        CLEARTEXT_AUTH = "config-cleartext-auth":
            "use {Security=starttls} or {Security=implicit}, or restrict {AuthMechanisms} to CRAM-MD5 or SCRAM-*; only on a trusted network set {AuthAllowCleartext=true}";
        MISSING = "config-missing": "set the key the message names";
        AMBIGUOUS_SECURITY = "config-ambiguous-security":
            "write security = \"implicit\" for TLS from the first byte (port 465, also called SSL or SMTPS) or \"starttls\" for TLS after STARTTLS (ports 587 and 25, also called explicit); see docs/security-modes.md";
        UNKNOWN_PROFILE = "config-unknown-profile":
            "define it as a [profiles.NAME] table in a config file";
        FEATURE_DISABLED = "config-feature-disabled":
            "rebuild with the feature enabled (it is on by default)";
        SECRET_SOURCE = "config-secret-source":
            "check that the file is readable, or run the command by hand to see its error output";
        PLUGIN = "config-plugin": "fix the setting the message names";
        MODEL = "config-internal": "a bug: please report it with the output of `smtp config show`";
    }
}

impl Error {
    /// What a person should do, with its stable code; for a plugin's error
    /// ([`Error::Plugin`]) the plugin's own hint.
    ///
    /// ```
    /// let e = smtp_config::Error::Missing { key: "host".into(), reason: "x".into() };
    /// assert_eq!(e.coded_hint().unwrap().code, "config-missing");
    /// ```
    pub fn coded_hint(&self) -> Option<Hint> {
        let h = match self {
            Error::ReadFile { .. } => hints::READ_FILE,
            Error::FileNotFound { .. } => hints::FILE_NOT_FOUND,
            Error::Parse { .. } => hints::PARSE,
            Error::UnknownKey { origin, .. } if matches!(**origin, Origin::Env { .. }) => {
                hints::UNKNOWN_ENV_KEY
            }
            Error::UnknownKey { .. } => hints::UNKNOWN_KEY,
            Error::InvalidValue { key, value, .. } => {
                tls_version_hint(key, value).unwrap_or(hints::INVALID_VALUE)
            }
            Error::Conflict { .. } => hints::CONFLICT,
            Error::CleartextAuth { .. } => hints::CLEARTEXT_AUTH,
            Error::TlsVersionRange { .. } => smtp_core::hints::TLS_VERSION_RANGE,
            Error::Missing { .. } => hints::MISSING,
            Error::AmbiguousSecurity { .. } => hints::AMBIGUOUS_SECURITY,
            Error::UnknownProfile { .. } => hints::UNKNOWN_PROFILE,
            Error::FeatureDisabled { .. } => hints::FEATURE_DISABLED,
            Error::SecretSource { .. } => hints::SECRET_SOURCE,
            Error::Plugin { source, .. } => {
                return plugin_hint(source.as_ref()).or(Some(hints::PLUGIN));
            }
            Error::Transport(e) => return coded_hint(e),
            Error::Model(_) => hints::MODEL,
        };
        Some(h)
    }
}

/// A configuration error met while sending (a proxy password file or
/// command read at connect time) is permanent: sending again reads the same
/// file or runs the same command.
impl smtp_core::Classify for Error {
    fn retry(&self) -> smtp_core::Retry {
        smtp_core::Retry::Permanent
    }

    fn hint(&self) -> Option<Hint> {
        self.coded_hint()
    }
}

/// A TLS version is refused by smtp-core's parser, whose hint says why
/// (`tls-unsupported-version`, `tls-unknown-version`): one rule, one code,
/// whether a program or a config file set the version.
fn tls_version_hint(key: &str, value: &str) -> Option<Hint> {
    let doc = crate::keys::find(key)?;
    if doc.kind != crate::keys::KeyKind::TlsVersion {
        return None;
    }
    let err = value
        .trim_matches('"')
        .parse::<smtp_core::TlsVersion>()
        .err()?;
    Some(err.coded_hint())
}

/// Every hint any error can carry: smtp-core's, each enabled plugin's and
/// this crate's. The documentation check walks this list.
pub fn all_hints() -> Vec<Hint> {
    let mut all = smtp_core::hints::ALL.to_vec();
    #[cfg(feature = "tls")]
    all.extend_from_slice(smtp_transport_tls::hints::ALL);
    #[cfg(feature = "auth")]
    all.extend_from_slice(smtp_auth::hints::ALL);
    #[cfg(feature = "proxy")]
    all.extend_from_slice(smtp_proxy::hints::ALL);
    #[cfg(feature = "dkim")]
    all.extend_from_slice(smtp_message::dkim::hints::ALL);
    all.extend_from_slice(hints::ALL);
    all
}

/// The most specific hint for a send error, with its code: the error's
/// own ([`smtp_core::Error::coded_hint`], which asks the plugin that
/// failed), except that an `AUTH` refusal is read by smtp-auth, which
/// knows what providers mean by their replies.
pub fn coded_hint(error: &smtp_core::Error) -> Option<Hint> {
    #[cfg(feature = "auth")]
    if let smtp_core::Error::Rejected {
        phase: smtp_core::Phase::Auth,
        reply,
    } = error
    {
        if !smtp_core::is_rate_limited(reply) {
            return Some(smtp_auth::classify(reply).coded_hint());
        }
    }
    error.coded_hint()
}

/// [`coded_hint`] without the code, worded with config keys
/// ([`hint_text`](crate::hint_text)).
pub fn hint(error: &smtp_core::Error) -> Option<String> {
    coded_hint(error).map(|h| crate::hint_text(&h))
}

/// The hint of a plugin error met while building (not sending).
fn plugin_hint(source: &(dyn StdError + 'static)) -> Option<Hint> {
    if let Some(p) = smtp_core::PluginError::find(source) {
        return p.hint();
    }
    #[cfg(feature = "proxy")]
    if let Some(e) = source.downcast_ref::<smtp_proxy::Error>() {
        return Some(e.coded_hint());
    }
    #[cfg(feature = "tls")]
    if let Some(e) = source.downcast_ref::<smtp_transport_tls::Error>() {
        return Some(e.coded_hint());
    }
    #[cfg(feature = "auth")]
    if let Some(e) = source.downcast_ref::<smtp_auth::Error>() {
        return Some(e.coded_hint());
    }
    #[cfg(feature = "dkim")]
    if let Some(e) = source.downcast_ref::<smtp_message::Error>() {
        return e.coded_hint();
    }
    let _ = source;
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_fall_back_to_the_core_hint() {
        let core = smtp_core::Error::Connect {
            target: "x:25".into(),
            source: Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        };
        assert!(hint(&core).unwrap().contains("refused"));
        assert_eq!(coded_hint(&core).unwrap().code, "connect-refused");
        assert!(core.is_transient());
    }

    #[test]
    fn a_refused_tls_version_gets_the_parser_s_hint() {
        let e = |key: &str, value: &str| Error::InvalidValue {
            key: key.into(),
            value: value.into(),
            origin: Box::new(Origin::Default),
            reason: String::new(),
        };
        let code = |e: Error| e.coded_hint().unwrap().code;
        assert_eq!(
            code(e("tls.min_version", "\"1.1\"")),
            "tls-unsupported-version"
        );
        assert_eq!(code(e("tls.max_version", "1.4")), "tls-unknown-version");
        assert_eq!(code(e("port", "\"x\"")), "config-invalid-value");
    }

    #[test]
    fn codes_are_unique_across_crates() {
        let mut seen = std::collections::HashSet::new();
        for h in all_hints() {
            assert!(seen.insert(h.code), "duplicate hint code {}", h.code);
        }
    }

    #[cfg(feature = "auth")]
    #[test]
    fn auth_refusals_use_the_sasl_classification() {
        let e = smtp_core::Error::Rejected {
            phase: smtp_core::Phase::Auth,
            reply: smtp_core::Reply::new(
                535,
                "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
            ),
        };
        assert_eq!(coded_hint(&e).unwrap().code, "auth-smtp-auth-disabled");
    }
}
