//! [`Credentials`] and [`PasswordSource`]: who logs in, with what secret.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::command::{self, DEFAULT_COMMAND_TIMEOUT};
use crate::error::Error;
use crate::token::TokenSource;

/// Where a password comes from.
///
/// `Debug` shows the kind and the file path or the command's program name,
/// never the password or the full command line.
#[derive(Clone)]
#[non_exhaustive]
pub enum PasswordSource {
    /// The password itself.
    Literal(SecretString),
    /// A file holding the password; one trailing newline (`\n` or `\r\n`)
    /// is removed, nothing else.
    File(PathBuf),
    /// A shell command (`sh -c`) printing the password on stdout, e.g.
    /// `pass show mail/smtp`. One trailing newline is removed; stderr is
    /// discarded, never logged.
    Command {
        /// The command line.
        command: String,
        /// How long it may run.
        timeout: Duration,
    },
}

impl PasswordSource {
    /// A command source with the default 60 s time limit.
    pub fn command(command: impl Into<String>) -> PasswordSource {
        PasswordSource::Command {
            command: command.into(),
            timeout: DEFAULT_COMMAND_TIMEOUT,
        }
    }

    /// A file source.
    pub fn file(path: impl Into<PathBuf>) -> PasswordSource {
        PasswordSource::File(path.into())
    }

    /// Reads the password (runs the command, reads the file).
    pub async fn resolve(&self) -> Result<SecretString, Error> {
        match self {
            PasswordSource::Literal(p) => Ok(p.clone()),
            PasswordSource::File(path) => {
                let text = tokio::fs::read_to_string(path).await.map_err(|source| {
                    Error::PasswordFile {
                        path: path.display().to_string(),
                        source,
                    }
                })?;
                let text = secrecy::zeroize::Zeroizing::new(text);
                non_empty("password file", strip_newline(&text))
            }
            PasswordSource::Command { command, timeout } => {
                let out = command::run("password command", command, *timeout).await?;
                non_empty("password command", strip_newline(&out))
            }
        }
    }
}

fn strip_newline(s: &str) -> &str {
    let s = s.strip_suffix('\n').unwrap_or(s);
    s.strip_suffix('\r').unwrap_or(s)
}

fn non_empty(what: &'static str, s: &str) -> Result<SecretString, Error> {
    if s.is_empty() {
        return Err(Error::EmptySecret {
            what,
            problem: "no output",
        });
    }
    Ok(SecretString::from(s))
}

impl fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordSource::Literal(_) => f.write_str("Literal(<redacted>)"),
            PasswordSource::File(path) => f.debug_tuple("File").field(path).finish(),
            PasswordSource::Command { command, .. } => {
                // Only the program: a command line may embed a secret.
                let program = command.split_whitespace().next().unwrap_or("");
                write!(f, "Command({program:?} ...)")
            }
        }
    }
}

impl From<SecretString> for PasswordSource {
    fn from(p: SecretString) -> PasswordSource {
        PasswordSource::Literal(p)
    }
}

/// Longest username: RFC 4616 has servers accept authentication
/// identities of up to 255 octets; longer ones are refused before connecting.
pub(crate) const MAX_USERNAME_LEN: usize = 255;
/// Longest password: the engine's SASL limit.
pub(crate) const MAX_PASSWORD_LEN: usize = smtp_core::sasl::MAX_SECRET_LEN;

/// The secret half of [`Credentials`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Secret {
    /// A password, for SCRAM, CRAM-MD5, PLAIN and LOGIN.
    Password(PasswordSource),
    /// An OAuth2 access-token source, for OAUTHBEARER and XOAUTH2.
    Token(Arc<dyn TokenSource>),
}

/// A username with a password or an OAuth2 token source.
///
/// ```
/// use smtp_auth::Credentials;
/// let c = Credentials::password("me@example.com", "hunter2");
/// assert!(!format!("{c:?}").contains("hunter2"));
/// ```
#[derive(Clone, Debug)]
pub struct Credentials {
    username: String,
    secret: Secret,
}

impl Credentials {
    /// Username and literal password.
    pub fn password(username: impl Into<String>, password: impl Into<SecretString>) -> Credentials {
        Credentials {
            username: username.into(),
            secret: Secret::Password(PasswordSource::Literal(password.into())),
        }
    }

    /// Username and a password read from a file or a command when needed.
    pub fn password_from(username: impl Into<String>, source: PasswordSource) -> Credentials {
        Credentials {
            username: username.into(),
            secret: Secret::Password(source),
        }
    }

    /// Username (the mailbox the token was issued for) and an OAuth2 token source.
    pub fn oauth2(username: impl Into<String>, tokens: Arc<dyn TokenSource>) -> Credentials {
        Credentials {
            username: username.into(),
            secret: Secret::Token(tokens),
        }
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The secret: a password source or a token source.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// True when the secret is an OAuth2 token source.
    pub fn is_oauth2(&self) -> bool {
        matches!(self.secret, Secret::Token(_))
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.username.is_empty() {
            return Err(Error::Config("the username is empty".into()));
        }
        if self
            .username
            .chars()
            .any(|c| matches!(c, '\0' | '\r' | '\n' | '\x01'))
        {
            return Err(Error::Config(
                "the username contains a control character (NUL, CR, LF or ^A)".into(),
            ));
        }
        if self.username.len() > MAX_USERNAME_LEN {
            return Err(Error::Config(format!(
                "the username is longer than {MAX_USERNAME_LEN} bytes"
            )));
        }
        if let Secret::Password(PasswordSource::Literal(p)) = &self.secret {
            let p = p.expose_secret();
            if p.is_empty() {
                return Err(Error::Config("the password is empty".into()));
            }
            // NUL separates the fields of a PLAIN message (RFC 4616).
            if p.contains('\0') {
                return Err(Error::Config("the password contains NUL".into()));
            }
            if p.len() > MAX_PASSWORD_LEN {
                return Err(Error::Config(format!(
                    "the password is longer than {MAX_PASSWORD_LEN} bytes"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::StaticToken;

    #[test]
    fn debug_shows_no_secret() {
        let c = Credentials::password("tester@example.test", "Tester-Pass-1");
        let d = format!("{c:?}");
        assert!(d.contains("tester@example.test"), "{d}");
        assert!(!d.contains("Tester-Pass-1"), "{d}");
        let c = Credentials::oauth2("u", Arc::new(StaticToken::new("tok-abc-123")));
        assert!(!format!("{c:?}").contains("tok-abc-123"));
        let c = Credentials::password_from("u", PasswordSource::command("printf %s Inline-Secret"));
        let d = format!("{c:?}");
        assert!(d.contains("printf") && !d.contains("Inline-Secret"), "{d}");
    }

    #[tokio::test]
    async fn file_source_strips_one_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, " spaced pw \r\n").unwrap();
        let p = PasswordSource::file(&path).resolve().await.unwrap();
        assert_eq!(p.expose_secret(), " spaced pw ");
        std::fs::write(&path, "two\n\n").unwrap();
        assert_eq!(
            PasswordSource::file(&path)
                .resolve()
                .await
                .unwrap()
                .expose_secret(),
            "two\n"
        );
        std::fs::write(&path, "\n").unwrap();
        let e = PasswordSource::file(&path).resolve().await.unwrap_err();
        assert_eq!(e.to_string(), "password file produced no output");
        let e = PasswordSource::file(dir.path().join("missing"))
            .resolve()
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with("reading password file "), "{e}");
    }

    #[cfg(feature = "password-command")]
    #[tokio::test]
    async fn command_source_uses_stdout() {
        let p = PasswordSource::command("printf 'pässwörd-2\\n'")
            .resolve()
            .await
            .unwrap();
        assert_eq!(p.expose_secret(), "pässwörd-2");
        let e = PasswordSource::command("exit 3")
            .resolve()
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::CommandFailed { code: Some(3), .. }),
            "{e}"
        );
    }

    #[test]
    fn validation() {
        assert!(Credentials::password("", "x").validate().is_err());
        assert!(Credentials::password("a\r\nRSET", "x").validate().is_err());
        assert!(Credentials::password("a", "").validate().is_err());
        assert!(Credentials::password("a", "x").validate().is_ok());
        assert!(Credentials::password("a", "x\0y").validate().is_err());
        assert!(
            Credentials::password("u".repeat(256), "x")
                .validate()
                .is_err()
        );
        assert!(
            Credentials::password("a", "p".repeat(8193))
                .validate()
                .is_err()
        );
        assert!(
            Credentials::password("u".repeat(255), "p".repeat(8192))
                .validate()
                .is_ok()
        );
    }
}
