//! The serde model of everything a user sets. Values reach it already
//! checked and in canonical form (see `value.rs`); the model only types them.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use smtp_core::{Security, TlsVersion};

/// The merged configuration. Built by [`Config::load`](crate::Config::load);
/// read it through [`Loaded::config`](crate::Loaded::config).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// Provider preset in effect.
    pub preset: Option<String>,
    /// AWS region for the `amazon-ses` preset.
    pub aws_region: Option<String>,
    /// SMTP server; `None` means "write to the outbox".
    pub host: Option<String>,
    /// Port as set; see [`Config::effective_port`].
    pub port: Option<u16>,
    /// TLS mode.
    #[serde(deserialize_with = "de::security")]
    pub security: Security,
    /// EHLO name.
    pub ehlo_name: Option<String>,
    /// One timeout for every phase.
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub timeout: Option<Duration>,
    /// Per-phase timeouts.
    #[serde(default)]
    pub timeouts: TimeoutsConfig,
    /// TLS settings.
    pub tls: TlsConfig,
    /// Authentication.
    pub auth: AuthConfig,
    /// Proxy.
    #[serde(default)]
    pub proxy: ProxyConfig,
    /// Message defaults for the caller (the CLI).
    #[serde(default)]
    pub message: MessageConfig,
    /// Outbox directory as set; see [`Loaded::outbox_dir`](crate::Loaded::outbox_dir).
    pub outbox: Option<PathBuf>,
    /// Connection pool.
    pub pool: PoolSettings,
    /// Sending rate limits.
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// Retries of transient failures.
    pub retry: RetryConfig,
    /// The local queue.
    pub queue: QueueConfig,
    /// The activity log.
    #[serde(default)]
    pub log: LogConfig,
    /// The protocol transcript.
    #[serde(default)]
    pub transcript: TranscriptConfig,
    /// DKIM signing.
    #[serde(default)]
    pub dkim: DkimConfig,
    /// Delivery status notification requests.
    #[serde(default)]
    pub dsn: DsnConfig,
}

/// `[dkim]`: signing is on when `domain` is set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DkimConfig {
    /// Signing domain (`d=`).
    pub domain: Option<String>,
    /// Selector (`s=`).
    pub selector: Option<String>,
    /// PEM private key file.
    pub key_file: Option<PathBuf>,
    /// Header fields to sign; empty means smtp-message's defaults.
    #[serde(default)]
    pub headers: Vec<String>,
    /// `header/body` canonicalization; unset means `relaxed/relaxed`.
    pub canonicalization: Option<String>,
}

/// `[dsn]`: delivery status notifications asked for every message
/// (RFC 3461), see [`Config::envelope_params`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DsnConfig {
    /// `NOTIFY` for every recipient.
    #[serde(default, deserialize_with = "de::opt_parsed")]
    pub notify: Option<smtp_core::dsn::Notify>,
    /// `RET`.
    #[serde(default, deserialize_with = "de::opt_parsed")]
    pub ret: Option<smtp_core::dsn::Ret>,
    /// `ENVID`, unencoded.
    pub envid: Option<String>,
    /// `ORCPT=rfc822;<recipient>` for every recipient.
    #[serde(default)]
    pub orcpt: bool,
    /// What happens when the server lacks DSN.
    #[serde(default, deserialize_with = "de::parsed")]
    pub if_unsupported: smtp_core::dsn::IfUnsupported,
}

/// What the configuration asks of every message's envelope (see
/// [`Config::envelope_defaults`]); cheap to clone into each sender.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvelopeDefaults {
    dsn: Option<smtp_core::dsn::Dsn>,
    require_tls: bool,
}

impl EnvelopeDefaults {
    /// `envelope` with the configured DSN request, unless it carries its
    /// own (the caller's, per message, wins), and with REQUIRETLS when
    /// `tls.requiretls` is on.
    pub fn apply(&self, mut envelope: smtp_core::Envelope) -> smtp_core::Envelope {
        if envelope.dsn().is_none()
            && let Some(d) = &self.dsn
        {
            envelope = envelope.with_dsn(d.clone());
        }
        if self.require_tls {
            envelope = envelope.with_require_tls(true);
        }
        envelope
    }
}

impl DsnConfig {
    /// The request these settings make, `None` when they ask for nothing.
    pub fn request(&self) -> Result<Option<smtp_core::dsn::Dsn>, smtp_core::Error> {
        let mut d = smtp_core::dsn::Dsn::new()
            .orcpt(self.orcpt)
            .if_unsupported(self.if_unsupported);
        if let Some(n) = self.notify {
            d = d.notify(n);
        }
        if let Some(r) = self.ret {
            d = d.ret(r);
        }
        if let Some(e) = &self.envid {
            d = d.envid(e)?;
        }
        Ok((!d.is_empty()).then_some(d))
    }
}

/// `[transcript]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TranscriptConfig {
    /// The file the transcript is appended to.
    pub file: Option<PathBuf>,
}

/// `[queue]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct QueueConfig {
    /// Directory as set; see [`Loaded::queue_dir`](crate::Loaded::queue_dir).
    pub dir: Option<PathBuf>,
    /// What to do with a message that cannot go now.
    pub on_failure: OnFailure,
    /// Older queued messages expire.
    #[serde(deserialize_with = "de::duration")]
    pub max_age: Duration,
}

/// `queue.on_failure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum OnFailure {
    /// Report the failure (exit 75 for a transient one).
    Fail,
    /// Keep the message in the queue for a later flush.
    Queue,
}

/// `[log]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LogConfig {
    /// The activity log file.
    pub file: Option<PathBuf>,
}

impl Config {
    /// What the configuration asks of every message's envelope: the
    /// `[dsn]` request and `tls.requiretls`.
    pub fn envelope_defaults(&self) -> Result<EnvelopeDefaults, smtp_core::Error> {
        Ok(EnvelopeDefaults {
            dsn: self.dsn.request()?,
            require_tls: self.tls.requiretls,
        })
    }

    /// `envelope` with [`Config::envelope_defaults`] applied.
    pub fn envelope_params(
        &self,
        envelope: smtp_core::Envelope,
    ) -> Result<smtp_core::Envelope, smtp_core::Error> {
        Ok(self.envelope_defaults()?.apply(envelope))
    }

    /// How a queue flush runs under this configuration: `queue.max_age`,
    /// `rate_limit.*`, `retry.unknown_outcome`, and a backoff of
    /// `retry.backoff` but at least a minute (a queue retries in minutes,
    /// not seconds).
    pub fn flush_options(&self) -> smtp_queue::FlushOptions {
        let mut o = smtp_queue::FlushOptions::default();
        o.retry_unknown = self.retry.unknown_outcome;
        o.max_age = self.queue.max_age;
        o.backoff = self.retry.backoff.max(Duration::from_secs(60));
        o.rate_limit = self.rate_limit.min_interval();
        o
    }

    /// `port`, or the conventional port of `security`.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or_else(|| self.security.default_port())
    }

    /// The per-phase timeouts: each set phase, else `timeout` for every
    /// phase, else smtp-core's RFC 5321 defaults.
    pub fn effective_timeouts(&self) -> smtp_core::Timeouts {
        let mut t = self
            .timeout
            .map(smtp_core::Timeouts::uniform)
            .unwrap_or_default();
        let p = &self.timeouts;
        for (slot, set) in [
            (&mut t.connect, p.connect),
            (&mut t.tls, p.tls),
            (&mut t.greeting, p.greeting),
            (&mut t.command, p.command),
            (&mut t.data_start, p.data_start),
            (&mut t.data_block, p.data_block),
            (&mut t.data_end, p.data_end),
        ] {
            if let Some(d) = set {
                *slot = d;
            }
        }
        if p.total.is_some() {
            t.total = p.total;
        }
        t
    }
}

/// `[timeouts]`: per-phase limits.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TimeoutsConfig {
    /// Reaching the server.
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub connect: Option<Duration>,
    /// TLS handshake.
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub tls: Option<Duration>,
    /// The greeting.
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub greeting: Option<Duration>,
    /// Each command reply.
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub command: Option<Duration>,
    /// The reply to DATA.
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub data_start: Option<Duration>,
    /// Each data block.
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub data_block: Option<Duration>,
    /// The reply after the data.
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub data_end: Option<Duration>,
    /// The whole send.
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub total: Option<Duration>,
}

/// `[tls]`: the TLS settings as a file states them (paths, pins as text).
///
/// Not a second TLS settings type: it holds only what the file says, and
/// is turned into the TLS plugin's `smtp_transport_tls::TlsSettings`
/// (through its `RustlsUpgradeBuilder`, which checks and loads everything)
/// in one place, `build/tls.rs`. `server_name` and `requiretls` are not
/// rustls settings: they go to the transport and to each envelope.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsConfig {
    /// Lowest version.
    #[serde(deserialize_with = "de::tls_version")]
    pub min_version: TlsVersion,
    /// Highest version.
    #[serde(deserialize_with = "de::tls_version")]
    pub max_version: TlsVersion,
    /// CA files to trust instead of the platform's roots.
    #[serde(default)]
    pub ca_file: Vec<PathBuf>,
    /// Client certificate chain (PEM).
    pub client_cert: Option<PathBuf>,
    /// Client key (PEM).
    pub client_key: Option<PathBuf>,
    /// SPKI SHA-256 pins, base64.
    #[serde(default)]
    pub pin_sha256: Vec<String>,
    /// SNI / certificate name.
    pub server_name: Option<String>,
    /// Also trust the operating system's trust store.
    #[serde(default = "de::yes")]
    pub platform_roots: bool,
    /// Accept any certificate.
    pub dangerous_accept_invalid_certs: bool,
    /// Accept a certificate for another name.
    pub dangerous_accept_invalid_hostnames: bool,
    /// Send every message with REQUIRETLS (RFC 8689).
    #[serde(default)]
    pub requiretls: bool,
}

/// `[auth]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuthConfig {
    /// `false` turns authentication off, whatever user name or secret a
    /// lower layer (a file, a profile, a preset) sets: the loader clears
    /// them.
    #[serde(default = "de::yes")]
    pub enabled: bool,
    /// SASL user name.
    pub username: Option<String>,
    /// Password.
    #[serde(default, deserialize_with = "de::opt_secret")]
    pub password: Option<SecretString>,
    /// File holding the password.
    pub password_file: Option<PathBuf>,
    /// Command printing the password.
    pub password_command: Option<String>,
    /// Allowed mechanisms, upper case; empty means all.
    #[serde(default)]
    pub mechanisms: Vec<String>,
    /// Allow secrets over a connection without TLS.
    pub allow_cleartext: bool,
    /// OAuth2.
    #[serde(default)]
    pub oauth2: OAuth2Config,
}

impl AuthConfig {
    /// True when any password or token source is set.
    pub fn has_secret(&self) -> bool {
        self.password.is_some()
            || self.password_file.is_some()
            || self.password_command.is_some()
            || self.oauth2.is_set()
    }
}

/// `[auth.oauth2]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OAuth2Config {
    /// Access token.
    #[serde(default, deserialize_with = "de::opt_secret")]
    pub token: Option<SecretString>,
    /// Command printing an access token.
    pub token_command: Option<String>,
    /// Token endpoint (refresh flow).
    pub token_url: Option<String>,
    /// Client id (refresh flow).
    pub client_id: Option<String>,
    /// Client secret (refresh flow).
    #[serde(default, deserialize_with = "de::opt_secret")]
    pub client_secret: Option<SecretString>,
    /// Refresh token (refresh flow).
    #[serde(default, deserialize_with = "de::opt_secret")]
    pub refresh_token: Option<SecretString>,
}

impl OAuth2Config {
    /// True when any OAuth2 token source is set.
    pub fn is_set(&self) -> bool {
        self.token.is_some()
            || self.token_command.is_some()
            || self.token_url.is_some()
            || self.client_id.is_some()
            || self.client_secret.is_some()
            || self.refresh_token.is_some()
    }
}

/// `[proxy]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ProxyConfig {
    /// The proxy URL; secret because it may hold a password.
    #[serde(default, deserialize_with = "de::opt_secret")]
    pub url: Option<SecretString>,
    /// The proxy password, replacing any in the URL.
    #[serde(default, deserialize_with = "de::opt_secret")]
    pub password: Option<SecretString>,
    /// File holding the proxy password.
    pub password_file: Option<PathBuf>,
    /// Command printing the proxy password.
    pub password_command: Option<String>,
}

impl ProxyConfig {
    /// The URL with its password replaced by `<redacted>`, for display.
    pub fn url_redacted(&self) -> Option<String> {
        use secrecy::ExposeSecret;
        self.url
            .as_ref()
            .map(|u| smtp_core::ProxyUrl::redact(u.expose_secret()))
    }
}

/// `[message]`: defaults the caller applies when composing mail.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MessageConfig {
    /// Sender address.
    pub from: Option<String>,
    /// Sender display name.
    pub from_name: Option<String>,
    /// Subject prefix.
    pub subject_prefix: Option<String>,
    /// Recipient for `smtp test`.
    pub test_recipient: Option<String>,
}

/// `[pool]`: the library's pool limits, and the pipelining window (a
/// setting of the transport builder, not of the pool).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PoolSettings {
    /// `pool.max_connections`, `pool.idle_timeout` and
    /// `pool.max_messages_per_connection`, as smtp-core takes them.
    pub limits: smtp_core::PoolConfig,
    /// `pool.pipeline_window`: with CHUNKING and PIPELINING, most messages
    /// in flight at once on one connection (1-64, see
    /// [`KeyKind::Window`](crate::keys::KeyKind::Window)).
    pub pipeline_window: u32,
}

// By hand, not derived: smtp-core has no serde, and a derived mirror of
// its PoolConfig would be a second type with the same fields.
impl<'de> Deserialize<'de> for PoolSettings {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PoolSettings, D::Error> {
        d.deserialize_map(de::PoolVisitor)
    }
}

/// `[rate_limit]`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RateLimitConfig {
    /// Messages per second.
    pub per_second: Option<u32>,
    /// Messages per minute.
    pub per_minute: Option<u32>,
}

impl RateLimitConfig {
    /// The smallest gap between two sends that honours both limits.
    pub fn min_interval(&self) -> Option<Duration> {
        let per_second = self.per_second.map(|n| Duration::from_secs(1) / n);
        let per_minute = self.per_minute.map(|n| Duration::from_secs(60) / n);
        per_second.into_iter().chain(per_minute).max()
    }
}

/// `[retry]`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Attempts, first included.
    pub attempts: u32,
    /// First wait; doubles after each retry.
    #[serde(deserialize_with = "de::duration")]
    pub backoff: Duration,
    /// Also retry a message whose outcome is unknown (the connection broke
    /// after the whole message was handed over): it may then arrive twice.
    pub unknown_outcome: bool,
}

impl RetryConfig {
    /// The library's retry policy with these settings (jitter on, waits
    /// capped at an hour), for [`smtp_core::bulk::BulkSender::retry`].
    pub fn policy(&self) -> smtp_core::bulk::RetryPolicy {
        smtp_core::bulk::RetryPolicy::default()
            .attempts(self.attempts)
            .backoff(self.backoff)
            .unknown_outcome(self.unknown_outcome)
    }
}

mod de {
    use std::time::Duration;

    use secrecy::SecretString;
    use serde::{Deserialize, Deserializer};
    use smtp_core::Security;

    pub(super) fn security<'de, D: Deserializer<'de>>(d: D) -> Result<Security, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }

    pub(super) fn tls_version<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<smtp_core::TlsVersion, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }

    pub(super) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(serde::de::Error::custom)
    }

    pub(super) fn parsed<'de, D: Deserializer<'de>, T>(d: D) -> Result<T, D::Error>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }

    pub(super) fn opt_parsed<'de, D: Deserializer<'de>, T>(d: D) -> Result<Option<T>, D::Error>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        parsed(d).map(Some)
    }

    const POOL_KEYS: &[&str] = &[
        "max_connections",
        "idle_timeout",
        "max_messages_per_connection",
        "pipeline_window",
    ];

    pub(super) struct PoolVisitor;

    impl<'de> serde::de::Visitor<'de> for PoolVisitor {
        type Value = super::PoolSettings;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("the [pool] table")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<super::PoolSettings, A::Error> {
            use serde::de::Error;
            // Every key has a default in the key table, so each is present;
            // smtp-core's defaults only fill a hand-made partial table.
            let mut pool = super::PoolSettings {
                limits: smtp_core::PoolConfig::default(),
                pipeline_window: 16, // pool.pipeline_window's default in the key table
            };
            while let Some(key) = map.next_key::<String>()? {
                match key.as_str() {
                    "max_connections" => pool.limits.max_connections = map.next_value()?,
                    "idle_timeout" => {
                        let text = map.next_value::<String>()?;
                        pool.limits.idle_timeout =
                            humantime::parse_duration(&text).map_err(A::Error::custom)?;
                    }
                    "max_messages_per_connection" => {
                        pool.limits.max_messages_per_connection = map.next_value()?
                    }
                    "pipeline_window" => pool.pipeline_window = map.next_value()?,
                    other => return Err(A::Error::unknown_field(other, POOL_KEYS)),
                }
            }
            Ok(pool)
        }
    }

    pub(super) fn opt_duration<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        duration(d).map(Some)
    }

    // The secret passes through one plain `String` on its way in; from here
    // on it lives only inside `SecretString`.
    pub(super) fn yes() -> bool {
        true
    }

    pub(super) fn opt_secret<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SecretString>, D::Error> {
        String::deserialize(d).map(|s| Some(SecretString::from(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_backoff_doubles() {
        let r = RetryConfig {
            attempts: 5,
            backoff: Duration::from_secs(2),
            unknown_outcome: false,
        };
        let p = r.policy().jitter(false);
        let waits: Vec<_> = (1..=3).map(|n| p.delay(n, None, 0.0).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8]);
        assert_eq!(p.delay(200, None, 0.0), Duration::from_secs(3600));
        assert_eq!(p.attempts, 5);
    }

    #[test]
    fn rate_interval() {
        let r = RateLimitConfig {
            per_second: Some(10),
            per_minute: Some(30),
        };
        assert_eq!(r.min_interval(), Some(Duration::from_secs(2)));
        assert_eq!(RateLimitConfig::default().min_interval(), None);
    }

    #[test]
    fn envelope_defaults_fill_in_but_never_replace_a_message_request() {
        use smtp_core::dsn::{Dsn, Notify};
        let d = EnvelopeDefaults {
            dsn: Some(Dsn::new().notify(Notify::SUCCESS)),
            require_tls: true,
        };
        let env =
            smtp_core::Envelope::new(None, vec![smtp_core::Address::new("a@b.example").unwrap()])
                .unwrap();
        let filled = d.apply(env.clone());
        assert_eq!(filled.dsn().unwrap().notify_value(), Some(Notify::SUCCESS));
        assert!(filled.requires_tls());
        let own = env.with_dsn(Dsn::new().notify(Notify::NEVER));
        assert_eq!(
            d.apply(own).dsn().unwrap().notify_value(),
            Some(Notify::NEVER)
        );
    }
}
