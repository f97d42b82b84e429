//! Flags -> smtp-config -> a ready transport. The merge, validation and
//! plugin wiring all happen in smtp-config; this only translates flags.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use smtp_config::{BuiltTransport, CliOverrides, Config, LoadOptions, Loaded};
use smtp_core::{FileTransport, PoolConfig, SmtpTransport, Transcript};
use tokio::sync::Mutex;

use crate::cli::{ConnectionArgs, GlobalArgs};

/// Where messages go.
pub enum Dest {
    /// A real server.
    Smtp(SmtpTransport),
    /// No host configured: the local outbox directory.
    Outbox(FileTransport),
}

/// Message defaults from the config.
#[derive(Debug, Clone, Default)]
pub struct MessageDefaults {
    pub from: Option<String>,
    pub from_name: Option<String>,
    pub subject_prefix: Option<String>,
    pub test_recipient: Option<String>,
}

/// Everything a command needs.
pub struct Setup {
    pub dest: Dest,
    pub message: MessageDefaults,
    pub proxy_redacted: Option<String>,
    pub rate: Pacing,
}

/// Translates connection flags into config overrides (the CLI layer).
pub fn overrides(conn: &ConnectionArgs) -> Result<CliOverrides> {
    let mut o = CliOverrides::new();
    let mut set = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            o.push(k, v);
        }
    };
    set("host", conn.host.clone());
    set("port", conn.port.map(|p| p.to_string()));
    set("security", conn.security.clone());
    set("ehlo_name", conn.ehlo_name.clone());
    set("timeout", conn.timeout.clone());
    set("proxy.url", conn.proxy.clone());
    set("tls.min_version", conn.tls_min_version.clone());
    set("tls.max_version", conn.tls_max_version.clone());
    set(
        "tls.ca_file",
        conn.ca_file.as_ref().map(|p| p.display().to_string()),
    );
    set(
        "tls.client_cert",
        conn.client_cert.as_ref().map(|p| p.display().to_string()),
    );
    set(
        "tls.client_key",
        conn.client_key.as_ref().map(|p| p.display().to_string()),
    );
    set("tls.server_name", conn.tls_server_name.clone());
    if !conn.pin_sha256.is_empty() {
        set("tls.pin_sha256", Some(conn.pin_sha256.join(",")));
    }
    if conn.dangerous_accept_invalid_certs {
        set("tls.dangerous_accept_invalid_certs", Some("true".into()));
    }
    set("auth.username", conn.user.clone());
    set(
        "auth.password_file",
        conn.password_file.as_ref().map(|p| p.display().to_string()),
    );
    set("auth.password_command", conn.password_command.clone());
    if let Some(var) = &conn.password_env {
        let value = std::env::var(var)
            .with_context(|| format!("--password-env {var}: the variable is not set"))?;
        set("auth.password", Some(value));
    }
    if !conn.auth_mechanisms.is_empty() {
        set("auth.mechanisms", Some(conn.auth_mechanisms.join(",")));
    }
    if conn.allow_cleartext_auth {
        set("auth.allow_cleartext", Some("true".into()));
    }
    if let Some(var) = &conn.oauth2_token_env {
        let value = std::env::var(var)
            .with_context(|| format!("--oauth2-token-env {var}: the variable is not set"))?;
        set("auth.oauth2.token", Some(value));
    }
    set(
        "auth.oauth2.token_command",
        conn.oauth2_token_command.clone(),
    );
    Ok(o)
}

fn options(global: &GlobalArgs, overrides: CliOverrides) -> LoadOptions {
    // `load` below prints warnings itself; no second copy through tracing.
    let mut opts = LoadOptions::new().overrides(overrides).log_warnings(false);
    if let Some(c) = &global.config {
        opts = opts.config_file(c);
    }
    if let Some(p) = &global.profile {
        opts = opts.profile(p);
    }
    if let Some(p) = &global.preset {
        opts = opts.preset(p);
    }
    opts
}

/// Loads and validates the layered configuration; prompts for a missing
/// password when a person is at the terminal.
pub fn load(global: &GlobalArgs, conn: &ConnectionArgs) -> Result<Loaded> {
    load_with(global, conn, &[])
}

/// Like [`load`], with settings of the command's own flags (`key`,
/// `value`) in the command-line layer.
pub fn load_with(
    global: &GlobalArgs,
    conn: &ConnectionArgs,
    extra: &[(&str, &str)],
) -> Result<Loaded> {
    let mut o = overrides(conn)?;
    for (key, value) in extra {
        o.push(*key, *value);
    }
    let loaded = Config::load(&options(global, o.clone()))?;
    for w in loaded.warnings() {
        eprintln!("warning: {w}");
    }
    let auth = &loaded.config().auth;
    if auth.username.is_some()
        && !auth.has_secret()
        && !loaded.is_outbox()
        && std::io::stdin().is_terminal()
    {
        let user = auth.username.clone().unwrap_or_default();
        let password = rpassword::prompt_password(format!("password for {user}: "))
            .context("reading the password from the terminal")?;
        o.push("auth.password", password);
        return Ok(Config::load(&options(global, o))?);
    }
    Ok(loaded)
}

/// Builds the destination. `concurrency` widens the pool for bulk sends.
pub fn build(
    loaded: &Loaded,
    transcript: Option<Arc<impl Transcript + 'static>>,
    concurrency: Option<usize>,
) -> Result<Setup> {
    let c = loaded.config();
    let message = MessageDefaults {
        from: c.message.from.clone(),
        from_name: c.message.from_name.clone(),
        subject_prefix: c.message.subject_prefix.clone(),
        test_recipient: c.message.test_recipient.clone(),
    };
    let rate = Pacing::new(c.rate_limit.min_interval(), &c.retry);
    let mut pool = PoolConfig::default();
    pool.max_connections = (c.pool.max_connections as usize).max(concurrency.unwrap_or(1));
    pool.idle_timeout = c.pool.idle_timeout;
    pool.max_messages_per_connection = c.pool.max_messages_per_connection as usize;
    let built = loaded.build_with(|mut b| {
        if let Some(t) = transcript {
            b = b.transcript(t);
        }
        b.pool(pool)
    })?;
    let dest = match built.transport {
        BuiltTransport::Smtp(t) => Dest::Smtp(t),
        BuiltTransport::Outbox(f) => Dest::Outbox(f),
        _ => bail!("this build of smtp does not know the configured transport"),
    };
    Ok(Setup {
        dest,
        message,
        proxy_redacted: c.proxy.url_redacted(),
        rate,
    })
}

/// The error line, with the plugin's own wording where there is one.
pub fn describe(e: &smtp_core::Error) -> String {
    e.to_string()
}

/// The most specific hint: the plugin's (TLS, auth, proxy), else the core's.
pub fn coded_hint(e: &smtp_core::Error) -> Option<smtp_core::Hint> {
    smtp_config::coded_hint(e)
}

/// Rate limit and retry policy for bulk sends.
#[derive(Debug, Clone)]
pub struct Pacing {
    interval: Option<Duration>,
    attempts: u32,
    backoff: Duration,
    retry_unknown: bool,
    next: Arc<Mutex<tokio::time::Instant>>,
}

/// The longest wait before a retry, whatever the server asks for.
const MAX_WAIT: Duration = Duration::from_secs(3600);

impl Pacing {
    fn new(interval: Option<Duration>, retry: &smtp_config::RetryConfig) -> Pacing {
        Pacing {
            interval,
            attempts: retry.attempts,
            backoff: retry.backoff,
            retry_unknown: retry.unknown_outcome,
            next: Arc::new(Mutex::new(tokio::time::Instant::now())),
        }
    }

    /// Waits for this send's slot: the rate limit's interval, and any
    /// pause a rate-limiting server asked for (see [`Pacing::back_off`]),
    /// which holds every sender back, with or without a rate limit.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(tokio::time::Instant::now());
            if let Some(interval) = self.interval {
                *next = slot + interval;
            }
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// Whether sends are spaced by a rate limit: then messages go one by
    /// one, each in its own slot, rather than in pipelined batches.
    pub fn is_rate_limited(&self) -> bool {
        self.interval.is_some()
    }

    /// Whether a send that failed with `e` after `retried` retries goes
    /// again: transient failures (4xx, 421, timeouts, drops; a plugin's
    /// own verdict first) while attempts are left; 5xx and protocol
    /// errors never; an unknown outcome only when the user allowed it,
    /// since the message may already have been delivered.
    pub fn may_retry(&self, e: &smtp_core::Error, retried: u32) -> bool {
        let retryable = if e.is_unknown_outcome() {
            self.retry_unknown
        } else {
            smtp_config::is_transient(e)
        };
        retryable && retried < self.attempts.saturating_sub(1)
    }

    /// Sleeps before retry `attempt`: the backoff doubling each time, four
    /// times that when the server said it is rate limiting (later sends
    /// are pushed back too), and at least what the reply asks for ("retry
    /// after 30 seconds").
    pub async fn back_off(&self, attempt: u32, reply: Option<&smtp_core::Reply>) {
        let wait = self.hold(attempt, reply).await;
        tokio::time::sleep(wait).await;
    }

    /// The wait before retry `attempt` after `reply`; when the server said
    /// it is rate limiting, every later send is held back that long from
    /// now on (whoever sends it). Returns at once: a sender that got the
    /// reply records the pause before it sends anything else.
    pub async fn hold(&self, attempt: u32, reply: Option<&smtp_core::Reply>) -> Duration {
        let rate_limited = reply.is_some_and(smtp_core::is_rate_limited);
        let wait = self.delay(attempt, rate_limited, reply.and_then(requested_delay));
        if rate_limited {
            let mut next = self.next.lock().await;
            *next = (*next).max(tokio::time::Instant::now() + wait);
        }
        wait
    }

    fn delay(&self, attempt: u32, rate_limited: bool, asked: Option<Duration>) -> Duration {
        let base = self.backoff.saturating_mul(
            1u32.checked_shl(attempt.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        let ours = if rate_limited {
            base.saturating_mul(4)
        } else {
            base
        };
        ours.max(asked.unwrap_or_default()).min(MAX_WAIT)
    }
}

/// The wait a reply asks for in words: "retry after 30 seconds", "try
/// again in 2 minutes", "retry in 45s". Seconds when no unit is given.
fn requested_delay(reply: &smtp_core::Reply) -> Option<Duration> {
    let text = reply.text().to_ascii_lowercase();
    let rest = ["retry after", "try again in", "retry in", "try again after"]
        .iter()
        .find_map(|p| text.split_once(p).map(|(_, rest)| rest))?;
    let rest = rest.trim_start();
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let n: u64 = rest[..digits].parse().ok()?;
    let unit = rest[digits..].trim_start();
    let secs = if unit.starts_with("min") || unit.starts_with("m ") || unit == "m" {
        n.saturating_mul(60)
    } else if unit.starts_with('h') {
        n.saturating_mul(3600)
    } else {
        n
    };
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use smtp_core::Reply;

    fn pacing(unknown: bool) -> Pacing {
        let mut retry: smtp_config::RetryConfig =
            serde_json::from_str(r#"{"attempts": 3, "backoff": "1s", "unknown_outcome": false}"#)
                .unwrap();
        retry.unknown_outcome = unknown;
        Pacing::new(None, &retry)
    }

    #[test]
    fn reply_asks_for_a_delay() {
        let asked = |t| requested_delay(&Reply::new(451, t));
        assert_eq!(
            asked("4.7.1 rate limit exceeded, retry after 30 seconds"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            asked("try again in 2 minutes"),
            Some(Duration::from_secs(120))
        );
        assert_eq!(asked("Retry in 45s"), Some(Duration::from_secs(45)));
        assert_eq!(asked("try again later"), None);
    }

    #[test]
    fn delay_doubles_grows_when_rate_limited_and_honours_the_reply() {
        let p = pacing(false);
        let secs = |a, r, asked| p.delay(a, r, asked).as_secs();
        assert_eq!(
            [
                secs(1, false, None),
                secs(2, false, None),
                secs(3, false, None)
            ],
            [1, 2, 4]
        );
        assert_eq!(secs(1, true, None), 4);
        assert_eq!(secs(1, true, Some(Duration::from_secs(30))), 30);
        assert_eq!(secs(1, false, Some(Duration::from_secs(90_000))), 3600);
    }

    #[test]
    fn classification() {
        let p = pacing(false);
        let rejected = |code, text| smtp_core::Error::Rejected {
            phase: smtp_core::Phase::Mail,
            reply: Reply::new(code, text),
        };
        let unknown = smtp_core::Error::UnknownOutcome { detail: "x".into() };
        assert!(p.may_retry(&rejected(451, "later"), 0));
        assert!(p.may_retry(&rejected(421, "closing"), 1));
        assert!(
            !p.may_retry(&rejected(451, "later"), 2),
            "3 attempts in all"
        );
        assert!(!p.may_retry(&rejected(550, "no"), 0));
        let garbage = smtp_core::Error::Protocol {
            phase: smtp_core::Phase::Rcpt,
            detail: "malformed reply".into(),
        };
        assert!(!p.may_retry(&garbage, 0), "garbage stays garbage");
        assert!(!p.may_retry(&unknown, 0));
        assert!(pacing(true).may_retry(&unknown, 0));
    }
}
