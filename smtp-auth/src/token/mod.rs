//! OAuth2 access-token sources: [`TokenSource`], [`StaticToken`],
//! [`TokenCommand`] and (feature `refresh-token`) [`RefreshTokenFlow`].

#[cfg(feature = "refresh-token")]
mod refresh;

use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use crate::command::{self, DEFAULT_COMMAND_TIMEOUT};
use crate::error::Error;

#[cfg(feature = "refresh-token")]
pub use refresh::{RefreshTokenFlow, RefreshTokenFlowBuilder};

/// Hands out OAuth2 access tokens, and fresh ones when the server
/// rejected the last.
#[async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// The current access token (fetched or cached).
    async fn token(&self) -> Result<SecretString, Error>;

    /// Called when the server rejected a token: drop it and get a new one.
    ///
    /// `Ok(true)` means a different token is now available and a retry may
    /// succeed; `Ok(false)` means this source cannot do better (a static
    /// token), so the failure stands.
    async fn refresh(&self) -> Result<bool, Error>;
}

/// A fixed token, e.g. from an environment variable. Cannot refresh.
pub struct StaticToken(SecretString);

impl StaticToken {
    /// Wraps `token`.
    pub fn new(token: impl Into<SecretString>) -> StaticToken {
        StaticToken(token.into())
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken(<redacted>)")
    }
}

#[async_trait]
impl TokenSource for StaticToken {
    async fn token(&self) -> Result<SecretString, Error> {
        Ok(self.0.clone())
    }

    async fn refresh(&self) -> Result<bool, Error> {
        Ok(false)
    }
}

/// A token printed by a shell command (`sh -c`), e.g. `oauth2l fetch ...`
/// or a provider's CLI. The trimmed stdout is the token; stderr is
/// discarded; a non-zero exit is an error that shows only the exit code.
///
/// The token is cached until the server rejects it or `max_age` passes
/// (default 5 minutes), so a pool of connections does not run the command
/// for each one.
pub struct TokenCommand {
    command: String,
    timeout: Duration,
    max_age: Duration,
    cached: Mutex<Option<(SecretString, Instant)>>,
}

impl TokenCommand {
    /// A token command with a 60 s time limit and 5 minute cache.
    pub fn new(command: impl Into<String>) -> TokenCommand {
        TokenCommand {
            command: command.into(),
            timeout: DEFAULT_COMMAND_TIMEOUT,
            max_age: Duration::from_secs(300),
            cached: Mutex::new(None),
        }
    }

    /// How long the command may run.
    pub fn timeout(mut self, timeout: Duration) -> TokenCommand {
        self.timeout = timeout;
        self
    }

    /// How long a token is reused before the command runs again (zero: every time).
    pub fn max_age(mut self, max_age: Duration) -> TokenCommand {
        self.max_age = max_age;
        self
    }

    async fn fetch(&self) -> Result<SecretString, Error> {
        let out = command::run("token command", &self.command, self.timeout).await?;
        let token = out.trim();
        if token.is_empty() {
            return Err(Error::EmptySecret {
                what: "token command",
                problem: "no output",
            });
        }
        Ok(SecretString::from(token))
    }
}

impl fmt::Debug for TokenCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let program = self.command.split_whitespace().next().unwrap_or("");
        f.debug_struct("TokenCommand")
            .field("program", &program)
            .field("timeout", &self.timeout)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenSource for TokenCommand {
    async fn token(&self) -> Result<SecretString, Error> {
        let mut cached = self.cached.lock().await;
        if let Some((token, at)) = cached.as_ref()
            && at.elapsed() < self.max_age
        {
            return Ok(token.clone());
        }
        let token = self.fetch().await?;
        *cached = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    async fn refresh(&self) -> Result<bool, Error> {
        let mut cached = self.cached.lock().await;
        let old = cached.take();
        let token = self.fetch().await?;
        // Same token again: the command has nothing better, retrying is pointless.
        let changed = old.is_none_or(|(o, _)| o.expose_secret() != token.expose_secret());
        *cached = Some((token, Instant::now()));
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn static_token_cannot_refresh() {
        let t = StaticToken::new("abc");
        assert_eq!(t.token().await.unwrap().expose_secret(), "abc");
        assert!(!t.refresh().await.unwrap());
        assert_eq!(format!("{t:?}"), "StaticToken(<redacted>)");
    }

    #[cfg(feature = "password-command")]
    #[tokio::test]
    async fn token_command_trims_caches_and_refreshes() {
        let dir = tempfile::tempdir().unwrap();
        let counter = dir.path().join("n");
        // Prints "tok-N" where N counts the runs.
        let cmd = format!(
            "n=$(cat {p} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {p}; printf '  tok-%s \\n' $n",
            p = counter.display()
        );
        let t = TokenCommand::new(cmd);
        assert_eq!(t.token().await.unwrap().expose_secret(), "tok-1");
        assert_eq!(t.token().await.unwrap().expose_secret(), "tok-1", "cached");
        assert!(t.refresh().await.unwrap(), "a new token");
        assert_eq!(t.token().await.unwrap().expose_secret(), "tok-2");
        let d = format!("{t:?}");
        assert!(d.contains("\"n=$(cat\"") && !d.contains("tok-"), "{d}");
    }

    #[cfg(feature = "password-command")]
    #[tokio::test]
    async fn token_command_same_output_means_no_retry() {
        let t = TokenCommand::new("echo same");
        t.token().await.unwrap();
        assert!(!t.refresh().await.unwrap());
    }

    #[cfg(feature = "password-command")]
    #[tokio::test]
    async fn token_command_errors() {
        let e = TokenCommand::new("echo secret-on-stderr >&2; exit 2")
            .token()
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "token command failed with exit code 2");
        let e = TokenCommand::new("printf '  \\n'")
            .token()
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "token command produced no output");
    }
}
