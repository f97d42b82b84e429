//! The one error type of `smtp-auth`.
//!
//! Every message is one line, starting lowercase (acronyms keep their
//! case), that states what failed and what was seen. What to try is
//! [`Error::coded_hint`](crate::Error::coded_hint): the CLI prints it on its
//! own `hint:` line, and `smtp_config::coded_hint` finds it inside a
//! `smtp_core::Error`.

use std::time::Duration;

use crate::mechanism::MechanismKind;

/// Everything that can go wrong while choosing a mechanism, running one,
/// or fetching a password or token.
///
/// No variant ever holds a password, a token or a SASL response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server and this client have no mechanism in common.
    #[error(
        "no usable auth mechanism: the server offers {}, enabled here: {}{}",
        list_or(.offered, "none"),
        list_or(.enabled, "none"),
        .reason.fact()
    )]
    NoCommonMechanism {
        /// What the server advertised (upper case, its order).
        offered: Vec<String>,
        /// What this authenticator could use with its credentials.
        enabled: Vec<String>,
        /// Why the two lists do not meet.
        reason: NoMechanismReason,
    },
    /// Only mechanisms that expose the secret are available, and the
    /// connection has no TLS.
    #[error(
        "auth {} refused: it would send the {secret} in clear over a connection without TLS",
        .mechanisms.join("/")
    )]
    CleartextRefused {
        /// The mechanisms that were refused.
        mechanisms: Vec<String>,
        /// `"password"` or `"token"`.
        secret: &'static str,
    },
    /// A mechanism name that this crate does not implement.
    #[error("unknown auth mechanism {name:?}: supported are {}", .supported.join(", "))]
    UnknownMechanism {
        /// The name as given.
        name: String,
        /// What is supported.
        supported: Vec<String>,
    },
    /// A mechanism was asked for that this build leaves out (its cargo
    /// feature is off).
    #[error(
        "auth mechanism {mechanism} is not in this build: it needs smtp-auth's `{feature}` feature"
    )]
    MechanismNotBuilt {
        /// The mechanism's name.
        mechanism: &'static str,
        /// The cargo feature that brings it in.
        feature: &'static str,
    },
    /// The configuration cannot work (e.g. forcing PLAIN with a token).
    #[error("invalid auth configuration: {0}")]
    Config(String),
    /// The server sent a challenge the mechanism cannot parse, or one too many.
    #[error("invalid {mechanism} challenge from the server: {reason}")]
    InvalidChallenge {
        /// The mechanism running.
        mechanism: &'static str,
        /// What was wrong (never contains secret material).
        reason: String,
    },
    /// SCRAM: the server reported an error (`e=...`).
    #[error("the server reported {message:?} during {mechanism}")]
    ServerError {
        /// The mechanism running.
        mechanism: &'static str,
        /// The server's error value.
        message: String,
    },
    /// SCRAM: the server's nonce does not extend ours (replay or tampering).
    #[error("the {mechanism} server nonce does not start with the client nonce")]
    NonceMismatch {
        /// The mechanism running.
        mechanism: &'static str,
    },
    /// SCRAM: the iteration count is outside what we accept.
    #[error(
        "the server asked for {count} {mechanism} iterations, outside the accepted {min}..={max}"
    )]
    IterationCount {
        /// The mechanism running.
        mechanism: &'static str,
        /// What the server asked for.
        count: u32,
        /// Least accepted.
        min: u32,
        /// Most accepted.
        max: u32,
    },
    /// SCRAM: the server's signature is wrong: it does not know the password.
    #[error("the server's {mechanism} signature is wrong: it does not know the password")]
    ServerSignatureMismatch {
        /// The mechanism running.
        mechanism: &'static str,
    },
    /// SCRAM: the server accepted without ever proving it knows the password.
    #[error("the server accepted {mechanism} without proving it knows the password")]
    ServerNotVerified {
        /// The mechanism running.
        mechanism: &'static str,
    },
    /// A password or token command was configured, but this build left
    /// command support out (smtp-auth's `password-command` feature).
    #[error("{what}s are not in this build: they need smtp-auth's `password-command` feature")]
    CommandNotBuilt {
        /// `"password command"` or `"token command"`.
        what: &'static str,
    },
    /// A password or token command could not be started.
    #[error("{what} could not be started: {source}")]
    CommandSpawn {
        /// `"password command"` or `"token command"`.
        what: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A password or token command failed. Its stderr is not captured, so
    /// it cannot leak a secret; run the command by hand to see it.
    #[error("{what} failed with {}", exit_text(*.code))]
    CommandFailed {
        /// `"password command"` or `"token command"`.
        what: &'static str,
        /// The exit code (`None`: killed by a signal).
        code: Option<i32>,
    },
    /// A password or token command did not finish in time.
    #[error("{what} did not finish within {}s and was killed", .after.as_secs())]
    CommandTimedOut {
        /// `"password command"` or `"token command"`.
        what: &'static str,
        /// The limit.
        after: Duration,
    },
    /// A password file, password command or token command produced nothing usable.
    #[error("{what} produced {problem}")]
    EmptySecret {
        /// `"password file"`, `"password command"`, `"token command"`.
        what: &'static str,
        /// `"no output"`, `"output that is not utf-8"`.
        problem: &'static str,
    },
    /// The password file could not be read.
    #[error("reading password file {path} failed: {source}")]
    PasswordFile {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The token endpoint URL is unusable or not safe.
    #[error("token endpoint {url:?} rejected: {reason}")]
    TokenEndpointUrl {
        /// The URL as given.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// The token endpoint could not be reached or its answer not read.
    #[error("token endpoint request failed: {detail}")]
    TokenHttp {
        /// What failed (the HTTP client's message; never contains the form).
        detail: String,
    },
    /// The token endpoint refused to issue a token (RFC 6749 §5.2).
    #[error("token endpoint refused with HTTP {status}: {error}{}", describe(.description))]
    TokenRefused {
        /// HTTP status.
        status: u16,
        /// The OAuth2 `error` code (`invalid_grant`, ...), or `"unknown"`.
        error: String,
        /// The server's `error_description`, if any.
        description: Option<String>,
    },
    /// The token endpoint answered 200 without a usable access token.
    #[error("token endpoint answer unusable: {0}")]
    TokenResponse(String),
}

fn list_or(items: &[String], empty: &str) -> String {
    if items.is_empty() {
        empty.to_string()
    } else {
        items.join(", ")
    }
}

fn exit_text(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("exit code {c}"),
        None => "a signal".to_string(),
    }
}

fn describe(description: &Option<String>) -> String {
    description
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default()
}

/// Why [`Error::NoCommonMechanism`] found nothing: the fact that decides
/// which hint applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NoMechanismReason {
    /// The server offers mechanisms, but none of them is enabled here.
    NotEnabled,
    /// The connection has TLS and the server offers no AUTH at all.
    NotOffered,
    /// The connection has no TLS and the server offers no AUTH (yet).
    NotOfferedWithoutTls,
    /// The server offers only mechanisms this crate does not implement.
    Unsupported,
    /// The server offers only mechanisms this build leaves out (SCRAM or
    /// CRAM-MD5 without their features).
    NotBuilt,
    /// The credentials are an OAuth2 token; the server offers no OAuth2 mechanism.
    NoOAuth2,
    /// The credentials are a password; the server offers only OAuth2 mechanisms.
    OAuth2Only,
}

impl NoMechanismReason {
    /// The fact, as the tail of the error message (empty when the two
    /// lists say it all).
    fn fact(self) -> &'static str {
        match self {
            NoMechanismReason::NotEnabled => "",
            NoMechanismReason::NotOffered => "; the server offers no AUTH at all on this port",
            NoMechanismReason::NotOfferedWithoutTls => {
                "; the server offers no AUTH before STARTTLS"
            }
            NoMechanismReason::Unsupported => {
                "; this client implements none of the server's mechanisms"
            }
            NoMechanismReason::NotBuilt => {
                "; the server's mechanisms are left out of this build (smtp-auth features `scram`, `cram-md5`)"
            }
            NoMechanismReason::NoOAuth2 => {
                "; the server offers no OAuth2 mechanism and the credentials are a token"
            }
            NoMechanismReason::OAuth2Only => {
                "; the server offers only OAuth2 and the credentials are a password"
            }
        }
    }
}

impl Error {
    /// A server-side or network failure that may pass: token endpoint
    /// unreachable or 5xx, a command that timed out.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::TokenHttp { .. } | Error::CommandTimedOut { .. } => true,
            Error::TokenRefused { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

impl Error {
    /// [`Error::MechanismNotBuilt`] for `kind`.
    pub(crate) fn not_built(kind: MechanismKind) -> Error {
        Error::MechanismNotBuilt {
            mechanism: kind.name(),
            feature: kind.feature().unwrap_or("default"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_start_lowercase_without_trailing_period() {
        let errors = [
            Error::NoCommonMechanism {
                offered: vec![],
                enabled: vec!["PLAIN".into()],
                reason: NoMechanismReason::NotOfferedWithoutTls,
            },
            Error::CleartextRefused {
                mechanisms: vec!["PLAIN".into()],
                secret: "password",
            },
            Error::CommandFailed {
                what: "token command",
                code: Some(3),
            },
            Error::TokenRefused {
                status: 400,
                error: "invalid_grant".into(),
                description: None,
            },
            Error::ServerNotVerified {
                mechanism: "SCRAM-SHA-256",
            },
        ];
        for e in errors {
            let text = e.to_string();
            let first = text.chars().next().unwrap();
            assert!(first.is_lowercase(), "{text}");
            assert!(!text.ends_with('.'), "{text}");
        }
    }

    #[test]
    fn command_failure_shows_only_the_exit_code() {
        let e = Error::CommandFailed {
            what: "token command",
            code: Some(3),
        };
        assert_eq!(e.to_string(), "token command failed with exit code 3");
    }

    #[test]
    fn token_refusal_states_the_fact_and_the_hint_says_what_to_do() {
        let e = Error::TokenRefused {
            status: 400,
            error: "invalid_grant".into(),
            description: Some("expired".into()),
        };
        assert_eq!(
            e.to_string(),
            "token endpoint refused with HTTP 400: invalid_grant (expired)"
        );
        assert_eq!(e.coded_hint().code, "auth-token-expired");
        assert!(!e.is_transient());
        assert!(
            Error::TokenRefused {
                status: 503,
                error: "unknown".into(),
                description: None
            }
            .is_transient()
        );
    }
}
