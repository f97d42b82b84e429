//! The OAuth2 refresh-token grant (RFC 6749 §6): trade a long-lived refresh
//! token for short-lived access tokens, cache each until shortly before it
//! expires, and fetch a new one early when the mail server rejects it.

use std::fmt;
use std::sync::Mutex as StdMutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use super::TokenSource;
use crate::error::Error;

/// Default: renew this long before the token's stated expiry.
const DEFAULT_MARGIN: Duration = Duration::from_secs(60);
/// Default limit for one token request.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// A token fetched this recently is not fetched again on rejection: many
/// pooled connections failing at once would otherwise each hit the endpoint.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(5);
/// Largest token endpoint answer read.
const MAX_BODY: u64 = 64 * 1024;

struct Cached {
    token: SecretString,
    expires: Option<Instant>,
    fetched: Instant,
    from_endpoint: bool,
}

/// Access tokens from an OAuth2 token endpoint, via the refresh-token grant.
///
/// The HTTP request runs on tokio's blocking pool (ureq is synchronous).
/// The endpoint must be `https://`, or `http://` on a loopback address
/// (local test endpoints, token helpers). Redirects are not followed, so
/// the client secret and refresh token go to the configured host only.
/// A rotated refresh token in the answer replaces the old one in memory.
///
/// ```no_run
/// # async fn demo() -> Result<(), smtp_auth::Error> {
/// use smtp_auth::{RefreshTokenFlow, TokenSource};
/// let flow = RefreshTokenFlow::builder("https://oauth2.googleapis.com/token", "my-client-id", "1//refresh-token")
///     .client_secret("my-client-secret")
///     .build()?;
/// let token = flow.token().await?;
/// # Ok(()) }
/// ```
pub struct RefreshTokenFlow {
    endpoint: String,
    client_id: String,
    client_secret: Option<SecretString>,
    refresh_token: StdMutex<SecretString>,
    scope: Option<String>,
    margin: Duration,
    timeout: Duration,
    state: Mutex<Option<Cached>>,
}

impl fmt::Debug for RefreshTokenFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenFlow")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .field("margin", &self.margin)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Builds a [`RefreshTokenFlow`].
pub struct RefreshTokenFlowBuilder {
    endpoint: String,
    client_id: String,
    refresh_token: SecretString,
    client_secret: Option<SecretString>,
    scope: Option<String>,
    margin: Duration,
    timeout: Duration,
    cached: Option<(SecretString, Duration)>,
}

impl fmt::Debug for RefreshTokenFlowBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenFlowBuilder")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl RefreshTokenFlow {
    /// Starts a builder: token endpoint URL, client id, refresh token.
    pub fn builder(
        endpoint: impl Into<String>,
        client_id: impl Into<String>,
        refresh_token: impl Into<SecretString>,
    ) -> RefreshTokenFlowBuilder {
        RefreshTokenFlowBuilder {
            endpoint: endpoint.into(),
            client_id: client_id.into(),
            refresh_token: refresh_token.into(),
            client_secret: None,
            scope: None,
            margin: DEFAULT_MARGIN,
            timeout: DEFAULT_TIMEOUT,
            cached: None,
        }
    }

    async fn fetch(&self, state: &mut Option<Cached>) -> Result<SecretString, Error> {
        let request = Request {
            endpoint: self.endpoint.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            refresh_token: self
                .refresh_token
                .lock()
                .map(|r| r.clone())
                .map_err(|_| poisoned())?,
            scope: self.scope.clone(),
            timeout: self.timeout,
        };
        let started = Instant::now();
        // ureq dumps the raw HTTP exchange (client secret, refresh and
        // access tokens) to the `log` crate at DEBUG/TRACE, which
        // tracing-subscriber forwards by default. A no-op subscriber for
        // this thread, for the request alone, keeps it out of whatever the
        // application records. (A `log` backend without tracing, such as
        // env_logger, is not covered: the README says to cap ureq there.)
        let granted = tokio::task::spawn_blocking(move || {
            tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
                request.send()
            })
        })
        .await
        .map_err(|e| Error::TokenHttp {
            detail: format!("token request task failed: {e}"),
        })??;
        tracing::debug!(endpoint = %self.endpoint, expires_in = ?granted.expires_in, elapsed = ?started.elapsed(), "oauth2 access token fetched");
        if let Some(rotated) = granted.refresh_token {
            *self.refresh_token.lock().map_err(|_| poisoned())? = rotated;
        }
        let now = Instant::now();
        let expires = granted.expires_in.map(|secs| {
            let life = Duration::from_secs(secs);
            // A short-lived token must not be "expired" the moment it arrives.
            let margin = self.margin.min(life / 2);
            now + life - margin
        });
        let token = granted.access_token;
        *state = Some(Cached {
            token: token.clone(),
            expires,
            fetched: now,
            from_endpoint: true,
        });
        Ok(token)
    }
}

fn poisoned() -> Error {
    Error::TokenResponse("internal lock poisoned by an earlier panic".into())
}

impl RefreshTokenFlowBuilder {
    /// The client secret (confidential clients; sent in the form body).
    pub fn client_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// A `scope` to request (most providers need none on refresh).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Renew this long before the stated expiry (default 60 s).
    pub fn expiry_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// Time limit for one token request (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Starts with an access token obtained earlier (e.g. persisted across
    /// restarts), trusted for `valid_for`; it is replaced when it runs out
    /// or when the mail server rejects it.
    pub fn cached_token(mut self, token: impl Into<SecretString>, valid_for: Duration) -> Self {
        self.cached = Some((token.into(), valid_for));
        self
    }

    /// Checks the endpoint URL and builds the flow.
    pub fn build(self) -> Result<RefreshTokenFlow, Error> {
        check_endpoint(&self.endpoint)?;
        if self.client_id.is_empty() {
            return Err(Error::Config("the OAuth2 client id is empty".into()));
        }
        if self.refresh_token.expose_secret().is_empty() {
            return Err(Error::Config("the OAuth2 refresh token is empty".into()));
        }
        let now = Instant::now();
        let state = self.cached.map(|(token, valid_for)| Cached {
            token,
            expires: Some(now + valid_for),
            fetched: now,
            from_endpoint: false,
        });
        Ok(RefreshTokenFlow {
            endpoint: self.endpoint,
            client_id: self.client_id,
            client_secret: self.client_secret,
            refresh_token: StdMutex::new(self.refresh_token),
            scope: self.scope,
            margin: self.margin,
            timeout: self.timeout,
            state: Mutex::new(state),
        })
    }
}

#[async_trait]
impl TokenSource for RefreshTokenFlow {
    async fn token(&self) -> Result<SecretString, Error> {
        let mut state = self.state.lock().await;
        if let Some(c) = state.as_ref()
            && c.expires.is_none_or(|e| Instant::now() < e)
        {
            return Ok(c.token.clone());
        }
        self.fetch(&mut state).await
    }

    async fn refresh(&self) -> Result<bool, Error> {
        let mut state = self.state.lock().await;
        if let Some(c) = state.as_ref()
            && c.from_endpoint
            && c.fetched.elapsed() < MIN_REFRESH_INTERVAL
        {
            // Another connection refreshed a moment ago: use its token.
            return Ok(true);
        }
        self.fetch(&mut state).await.map(|_| true)
    }
}

/// `https://`, or `http://` to a loopback host; no user info.
fn check_endpoint(url: &str) -> Result<(), Error> {
    let bad = |reason| {
        Err(Error::TokenEndpointUrl {
            url: url.to_string(),
            reason,
        })
    };
    let lower = url.to_ascii_lowercase();
    let (rest, https) = if let Some(r) = lower.strip_prefix("https://") {
        (r, true)
    } else if let Some(r) = lower.strip_prefix("http://") {
        (r, false)
    } else {
        return bad("it must start with https://");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return bad("it has no host");
    }
    if authority.contains('@') {
        return bad("credentials in the URL are not allowed; use client_secret");
    }
    if !https {
        let host = if let Some(v6) = authority.strip_prefix('[') {
            v6.split(']').next().unwrap_or("")
        } else {
            authority.split(':').next().unwrap_or("")
        };
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return bad(
                "plain http would expose the client secret and refresh token; use https://",
            );
        }
    }
    Ok(())
}

struct Request {
    endpoint: String,
    client_id: String,
    client_secret: Option<SecretString>,
    refresh_token: SecretString,
    scope: Option<String>,
    timeout: Duration,
}

#[derive(Debug)] // SecretString fields print as [REDACTED]
struct Granted {
    access_token: SecretString,
    expires_in: Option<u64>,
    refresh_token: Option<SecretString>,
}

impl Request {
    fn send(self) -> Result<Granted, Error> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", self.refresh_token.expose_secret()),
            ("client_id", &self.client_id),
        ];
        if let Some(s) = &self.client_secret {
            form.push(("client_secret", s.expose_secret()));
        }
        if let Some(s) = &self.scope {
            form.push(("scope", s));
        }
        let http = |e: ureq::Error| Error::TokenHttp {
            detail: e.to_string(),
        };
        let mut response = agent
            .post(&self.endpoint)
            .header("Accept", "application/json")
            .send_form(form)
            .map_err(http)?;
        let status = response.status().as_u16();
        let body = Zeroizing::new(
            response
                .body_mut()
                .with_config()
                .limit(MAX_BODY)
                .read_to_string()
                .map_err(http)?,
        );
        parse_response(status, &body)
    }
}

fn parse_response(status: u16, body: &str) -> Result<Granted, Error> {
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    if status != 200 {
        let field = |k: &str| {
            json.as_ref()
                .and_then(|j| j.get(k))
                .and_then(|v| v.as_str())
                .map(short)
        };
        return Err(Error::TokenRefused {
            status,
            error: field("error").unwrap_or_else(|| "unknown".into()),
            description: field("error_description"),
        });
    }
    let Some(serde_json::Value::Object(map)) = json else {
        return Err(Error::TokenResponse("the body is not a JSON object".into()));
    };
    let access_token = match map.get("access_token").and_then(|v| v.as_str()) {
        Some(t) if !t.trim().is_empty() => SecretString::from(t.trim()),
        _ => return Err(Error::TokenResponse("no access_token in the answer".into())),
    };
    if let Some(kind) = map.get("token_type").and_then(|v| v.as_str())
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(Error::TokenResponse(format!(
            "token_type {:?} is not Bearer",
            short(kind)
        )));
    }
    // Some providers send expires_in as a string.
    let expires_in = match map.get("expires_in") {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let refresh_token = map
        .get("refresh_token")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(SecretString::from);
    Ok(Granted {
        access_token,
        expires_in,
        refresh_token,
    })
}

fn short(s: &str) -> String {
    s.chars().take(200).collect()
}

#[cfg(test)]
mod tests;
