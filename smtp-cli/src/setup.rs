//! Flags -> smtp-config -> a ready transport. The merge, validation and
//! plugin wiring all happen in smtp-config; this only translates flags.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use smtp_config::OnFailure;
use smtp_config::{BuiltTransport, CliOverrides, Config, LoadOptions, Loaded};
use smtp_core::bulk::{Job, RetryPolicy};
use smtp_core::{SmtpTransport, Transcript, Transport};
#[cfg(feature = "dkim")]
use smtp_message::dkim::DkimSigner;
use smtp_queue::{ActivityLog, Queue, QueueTransport};

use crate::cli::{ConnectionArgs, GlobalArgs};

/// Where messages go.
pub enum Dest {
    /// A real server.
    Smtp(SmtpTransport),
    /// No host configured: the outbox, which is the local queue.
    Outbox(QueueTransport),
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
    /// `rate_limit.*` as the interval between two messages.
    pub rate_limit: Option<Duration>,
    /// `retry.*`.
    pub retry: RetryPolicy,
    /// `queue.dir` (the outbox unless set apart).
    pub queue_dir: std::path::PathBuf,
    /// `queue.on_failure`.
    pub on_failure: OnFailure,
    /// How the queue is flushed (`queue.*`, `retry.*`, `rate_limit.*`).
    pub flush: smtp_queue::FlushOptions,
    /// `log.file` / `--log-file`.
    pub activity: Option<ActivityLog>,
    /// `dkim.*`: every message handed over is signed (see [`Setup::job_signer`]).
    #[cfg(feature = "dkim")]
    pub dkim: Option<DkimSigner>,
    /// `dsn.*` and `tls.requiretls`, for every message's envelope.
    pub envelope_params: smtp_config::EnvelopeDefaults,
}

impl Setup {
    /// `host:port`, or `outbox`: the server named in the activity log.
    pub fn server(&self) -> String {
        match &self.dest {
            Dest::Smtp(t) => t.target().to_string(),
            Dest::Outbox(_) => "outbox".into(),
        }
    }

    /// The job with its message DKIM-signed, when signing is configured.
    /// Signing happens when the message is opened: for a server, at each
    /// attempt; for the queue or outbox, when it is stored, so a later
    /// `queue run` sends the signed bytes as they are.
    pub fn job_signer(&self) -> impl Fn(Job) -> Job + Send + 'static {
        #[cfg(feature = "dkim")]
        let signer = self.dkim.clone();
        move |job| {
            #[cfg(feature = "dkim")]
            if let Some(signer) = &signer {
                return Job::new(job.key, job.envelope, signer.sign(job.message));
            }
            job
        }
    }

    /// True when messages are signed: a message read from a pipe must then
    /// be kept in a file, since signing reads it twice.
    pub fn signs(&self) -> bool {
        #[cfg(feature = "dkim")]
        return self.dkim.is_some();
        #[cfg(not(feature = "dkim"))]
        false
    }

    /// The queue, created on first use.
    pub fn queue(&self) -> Result<Queue> {
        Queue::open(&self.queue_dir)
            .with_context(|| format!("cannot use the queue {}", self.queue_dir.display()))
    }
}

impl Dest {
    /// The destination as the library's transport.
    pub fn transport(&self) -> Arc<dyn Transport> {
        match self {
            Dest::Smtp(t) => Arc::new(t.clone()),
            Dest::Outbox(f) => Arc::new(f.clone()),
        }
    }
}

/// A message read from stdin. A signed message is read twice (hash, then
/// send), which a pipe cannot do: smtp-message then keeps a private copy.
pub async fn stdin_message(
    setup: &Setup,
    options: &smtp_message::RawOptions,
) -> Result<smtp_message::RawMessage> {
    use smtp_message::RawMessage;
    #[cfg(feature = "dkim")]
    if setup.signs() {
        return RawMessage::read_spooled(tokio::io::stdin(), options)
            .await
            .context("cannot keep the message to sign in a temporary file");
    }
    let _ = setup;
    Ok(RawMessage::read(tokio::io::stdin(), options).await?)
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
    set("aws_region", conn.aws_region.clone());
    set("timeout", conn.timeout.clone());
    set("proxy.url", conn.proxy.clone());
    set(
        "proxy.password_file",
        conn.proxy_password_file
            .as_ref()
            .map(|p| p.display().to_string()),
    );
    set(
        "proxy.password_command",
        conn.proxy_password_command.clone(),
    );
    if let Some(var) = &conn.proxy_password_env {
        let value = std::env::var(var)
            .with_context(|| format!("--proxy-password-env {var}: the variable is not set"))?;
        set("proxy.password", Some(value));
    }
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
    if conn.no_auth {
        set("auth.enabled", Some("false".into()));
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
    let dkim = &conn.dkim;
    set("dkim.domain", dkim.dkim_domain.clone());
    set("dkim.selector", dkim.dkim_selector.clone());
    set(
        "dkim.key_file",
        dkim.dkim_key.as_ref().map(|p| p.display().to_string()),
    );
    if !dkim.dkim_headers.is_empty() {
        set("dkim.headers", Some(dkim.dkim_headers.join(",")));
    }
    set("dkim.canonicalization", dkim.dkim_canonicalization.clone());
    Ok(o)
}

fn options(global: &GlobalArgs, conn: &ConnectionArgs, overrides: CliOverrides) -> LoadOptions {
    // `load` below prints warnings itself; no second copy through tracing.
    let mut opts = LoadOptions::new()
        .overrides(overrides)
        .log_warnings(false)
        .strict_env(global.strict_env);
    // A variable named to hold a secret is that secret, never a key.
    for var in [
        &conn.password_env,
        &conn.oauth2_token_env,
        &conn.proxy_password_env,
    ]
    .into_iter()
    .flatten()
    {
        opts = opts.ignore_env_var(var);
    }
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
    if let Some(log) = &global.log_file {
        o.push("log.file", log.display().to_string());
    }
    for (key, value) in extra {
        o.push(*key, *value);
    }
    let loaded = Config::load(&options(global, conn, o.clone()))?;
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
        return Ok(Config::load(&options(global, conn, o))?);
    }
    Ok(loaded)
}

/// The transcript file: `--transcript`, else `transcript.file`.
pub fn transcript_path(
    loaded: &Loaded,
    flag: Option<&std::path::Path>,
) -> Option<std::path::PathBuf> {
    flag.map(std::path::Path::to_path_buf)
        .or_else(|| loaded.config().transcript.file.clone())
}

/// Builds the destination. `concurrency` widens the pool for bulk sends.
pub fn build(
    loaded: &Loaded,
    transcript: Option<Arc<impl Transcript + 'static>>,
    concurrency: Option<usize>,
) -> Result<Setup> {
    build_with_timeouts(loaded, transcript, concurrency, None)
}

/// [`build`], with `timeouts` in place of the configured ones when given.
pub fn build_with_timeouts(
    loaded: &Loaded,
    transcript: Option<Arc<impl Transcript + 'static>>,
    concurrency: Option<usize>,
    timeouts: Option<smtp_core::Timeouts>,
) -> Result<Setup> {
    let c = loaded.config();
    let message = MessageDefaults {
        from: c.message.from.clone(),
        from_name: c.message.from_name.clone(),
        subject_prefix: c.message.subject_prefix.clone(),
        test_recipient: c.message.test_recipient.clone(),
    };
    let mut pool = c.pool.limits;
    pool.max_connections = pool.max_connections.max(concurrency.unwrap_or(1));
    let built = loaded.build_with(|mut b| {
        if let Some(t) = transcript {
            b = b.transcript(t);
        }
        if let Some(t) = timeouts {
            b = b.timeouts(t);
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
        rate_limit: c.rate_limit.min_interval(),
        // timeouts.total caps a message's retries too, not only one try.
        retry: c.retry.policy().total(c.timeouts.total),
        queue_dir: loaded.queue_dir(),
        on_failure: c.queue.on_failure,
        flush: c.flush_options(),
        activity: c.log.file.clone().map(ActivityLog::new),
        #[cfg(feature = "dkim")]
        dkim: built.dkim,
        envelope_params: c.envelope_defaults()?,
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
