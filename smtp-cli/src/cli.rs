//! Command-line arguments (clap derive). Flags mirror the config keys.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Send mail over SMTP, test a server, inspect configuration.
///
/// With no server configured, `smtp send` writes to a local outbox
/// directory, so it works out of the box.
#[derive(Debug, Parser)]
#[command(name = "smtp", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// More logging (-v info, -vv debug, -vvv trace incl. the protocol).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Config file (also SMTP_CONFIG); layered over /etc/smtp and the user file.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Named connection from `[profiles.NAME]` (also SMTP_PROFILE).
    #[arg(long, value_name = "NAME", global = true)]
    pub profile: Option<String>,
    /// Provider preset (gmail, office365, amazon-ses, ...); see `smtp presets`.
    #[arg(long, value_name = "NAME", global = true)]
    pub preset: Option<String>,
    /// Append one line per delivery attempt to this file (log.file).
    #[arg(long, value_name = "FILE", global = true)]
    pub log_file: Option<PathBuf>,
    /// Refuse SMTP_* variables that name no config key (by default they
    /// are skipped with a warning; `smtp config check` is always strict).
    #[arg(long, global = true)]
    pub strict_env: bool,
}

/// The subcommands.
// Parsed once per process: the size difference of the variants is moot.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send a message (to the outbox when no server is configured).
    Send(SendArgs),
    /// Connect, report every stage, optionally send a test mail.
    Test(TestArgs),
    /// Show or check the effective configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// List provider presets, or describe one.
    Presets {
        /// A preset name to describe.
        name: Option<String>,
    },
    /// Interactive SMTP session (TLS and AUTH done for you), for debugging.
    Shell(ShellArgs),
    /// sendmail-compatible mode: read a message on stdin (for cron, scripts).
    // -V is sendmail's envelope id, not the version.
    #[command(disable_version_flag = true)]
    Sendmail(SendmailArgs),
    /// The local queue: mail kept for later delivery (and the outbox).
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Print shell completions or the man page.
    Generate {
        /// bash, zsh, fish, elvish, powershell, or man.
        what: String,
    },
}

/// `smtp config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration, secrets redacted.
    Show {
        /// Show which layer each value came from.
        #[arg(long)]
        origin: bool,
        /// One JSON document.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        conn: ConnectionArgs,
    },
    /// Validate the configuration; exit 2 on errors.
    Check {
        #[command(flatten)]
        conn: ConnectionArgs,
    },
    /// Print a JSON Schema of the configuration file, for editors:
    /// `smtp config schema > smtp.schema.json`, then `#:schema
    /// ./smtp.schema.json` as the first line of smtp.toml (taplo, Even
    /// Better TOML).
    Schema,
}

/// `smtp queue ...`
#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// List queued messages.
    List {
        /// One JSON document per message, one per line.
        #[arg(long)]
        json: bool,
    },
    /// Show one message: its state, attempts, last error and headers.
    Show {
        /// The queue id (from `smtp queue list`).
        id: String,
    },
    /// Send every queued message now, due or not (not held, failed or
    /// unknown ones).
    Flush {
        #[command(flatten)]
        run: QueueRunArgs,
    },
    /// Send queued messages as they fall due; with --watch, keep running
    /// (for a systemd unit) until SIGTERM.
    Run {
        /// Keep running, checking at least every --interval.
        #[arg(long)]
        watch: bool,
        /// Longest sleep between two looks at the queue.
        #[arg(long, value_name = "DURATION", default_value = "60s")]
        interval: String,
        #[command(flatten)]
        run: QueueRunArgs,
    },
    /// Delete a queued message.
    Remove {
        /// The queue id.
        id: String,
    },
    /// Keep a message back until released.
    Hold {
        /// The queue id.
        id: String,
    },
    /// Make a held, failed or unknown message due now.
    Release {
        /// The queue id.
        id: String,
    },
}

/// Settings of a queue flush or run.
#[derive(Debug, Args, Clone, Default)]
pub struct QueueRunArgs {
    #[command(flatten)]
    pub conn: ConnectionArgs,
    /// Also send messages whose outcome is unknown (they may arrive twice).
    #[arg(long)]
    pub retry_unknown: bool,
    /// Connections at once.
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// Outcomes as JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// Server, TLS, auth and proxy settings; each overrides the config.
#[derive(Debug, Args, Clone, Default)]
pub struct ConnectionArgs {
    /// SMTP server host name or IP.
    #[arg(long, help_heading = "Connection")]
    pub host: Option<String>,
    /// Port (default from --security: 25, 587 or 465).
    #[arg(long, help_heading = "Connection")]
    pub port: Option<u16>,
    /// none | starttls | starttls-opportunistic | implicit (also the
    /// products' words: explicit/STARTTLS = starttls, SSL/SMTPS = implicit).
    #[arg(long, value_name = "MODE", help_heading = "Connection")]
    pub security: Option<String>,
    /// AWS region for --preset amazon-ses, e.g. eu-west-1 (aws_region).
    #[arg(long, value_name = "REGION", help_heading = "Connection")]
    pub aws_region: Option<String>,
    /// Name sent in EHLO.
    #[arg(long, value_name = "NAME", help_heading = "Connection")]
    pub ehlo_name: Option<String>,
    /// Timeout for every step, e.g. 30s, 2m.
    #[arg(long, value_name = "DURATION", help_heading = "Connection")]
    pub timeout: Option<String>,
    /// Proxy URL: socks5h://user:pass@host:port, socks4a://, http://, https://.
    #[arg(long, value_name = "URL", help_heading = "Connection")]
    pub proxy: Option<String>,
    /// Read the proxy password from this environment variable (the user
    /// is the one in --proxy's URL).
    #[arg(long, value_name = "VAR", help_heading = "Connection")]
    pub proxy_password_env: Option<String>,
    /// Read the proxy password from this file (proxy.password_file).
    #[arg(long, value_name = "FILE", help_heading = "Connection")]
    pub proxy_password_file: Option<PathBuf>,
    /// Run this command and use its output as the proxy password
    /// (proxy.password_command).
    #[arg(long, value_name = "CMD", help_heading = "Connection")]
    pub proxy_password_command: Option<String>,

    /// Minimum TLS version: 1.2 or 1.3.
    #[arg(long, value_name = "VERSION", help_heading = "TLS")]
    pub tls_min_version: Option<String>,
    /// Maximum TLS version: 1.2 or 1.3.
    #[arg(long, value_name = "VERSION", help_heading = "TLS")]
    pub tls_max_version: Option<String>,
    /// Trust only the CA certificates in this PEM file (instead of the OS
    /// trust store and the built-in roots).
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS.
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    pub client_cert: Option<PathBuf>,
    /// Client private key (PEM) for mutual TLS.
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    pub client_key: Option<PathBuf>,
    /// Pin the server key: base64 SHA-256 of its SubjectPublicKeyInfo.
    #[arg(long, value_name = "BASE64", help_heading = "TLS")]
    pub pin_sha256: Vec<String>,
    /// Name the certificate must match (when connecting by IP).
    #[arg(long, value_name = "NAME", help_heading = "TLS")]
    pub tls_server_name: Option<String>,
    /// DANGEROUS: accept any certificate (expired, self-signed, wrong name).
    #[arg(long, help_heading = "TLS")]
    pub dangerous_accept_invalid_certs: bool,

    /// Send without logging in, whatever user the config file or profile
    /// sets (auth.enabled = false).
    #[arg(long, conflicts_with_all = ["user", "password_env", "password_file", "password_command", "oauth2_token_env", "oauth2_token_command"], help_heading = "Authentication")]
    pub no_auth: bool,
    /// Username for AUTH.
    #[arg(long, value_name = "USER", help_heading = "Authentication")]
    pub user: Option<String>,
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR", help_heading = "Authentication")]
    pub password_env: Option<String>,
    /// Read the password from this file (first line).
    #[arg(long, value_name = "FILE", help_heading = "Authentication")]
    pub password_file: Option<PathBuf>,
    /// Run this command and use its output as the password.
    #[arg(long, value_name = "CMD", help_heading = "Authentication")]
    pub password_command: Option<String>,
    /// Allowed mechanisms, comma separated (e.g. SCRAM-SHA-256,PLAIN).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        help_heading = "Authentication"
    )]
    pub auth_mechanisms: Vec<String>,
    /// Allow PLAIN/LOGIN without TLS (trusted networks only).
    #[arg(long, help_heading = "Authentication")]
    pub allow_cleartext_auth: bool,
    /// OAuth2 bearer token from this environment variable.
    #[arg(long, value_name = "VAR", help_heading = "Authentication")]
    pub oauth2_token_env: Option<String>,
    /// Run this command and use its output as the OAuth2 token.
    #[arg(long, value_name = "CMD", help_heading = "Authentication")]
    pub oauth2_token_command: Option<String>,

    #[command(flatten)]
    pub dkim: DkimArgs,
}

/// DKIM signing; each overrides `dkim.*` in the config.
#[derive(Debug, Args, Clone, Default)]
pub struct DkimArgs {
    /// Sign with DKIM for this domain (d=; dkim.domain).
    #[arg(long, value_name = "DOMAIN", help_heading = "DKIM")]
    pub dkim_domain: Option<String>,
    /// DKIM selector (s=; dkim.selector).
    #[arg(long, value_name = "NAME", help_heading = "DKIM")]
    pub dkim_selector: Option<String>,
    /// PEM private key, RSA or Ed25519 (dkim.key_file).
    #[arg(long, value_name = "FILE", help_heading = "DKIM")]
    pub dkim_key: Option<PathBuf>,
    /// Header fields to sign, comma separated; must include From (dkim.headers).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        help_heading = "DKIM"
    )]
    pub dkim_headers: Vec<String>,
    /// relaxed/relaxed (default), relaxed/simple, simple/relaxed or
    /// simple/simple (dkim.canonicalization).
    #[arg(long, value_name = "HEADER/BODY", help_heading = "DKIM")]
    pub dkim_canonicalization: Option<String>,
}

/// Message content and addresses.
#[derive(Debug, Args, Clone, Default)]
pub struct MessageArgs {
    /// Sender address (default: message.from).
    #[arg(long, value_name = "ADDR", help_heading = "Message")]
    pub from: Option<String>,
    /// Sender display name (default: message.from_name).
    #[arg(long, value_name = "NAME", help_heading = "Message")]
    pub from_name: Option<String>,
    /// Recipient (repeatable).
    #[arg(long, value_name = "ADDR", help_heading = "Message")]
    pub to: Vec<String>,
    /// Copy recipient (repeatable).
    #[arg(long, value_name = "ADDR", help_heading = "Message")]
    pub cc: Vec<String>,
    /// Blind copy recipient (repeatable; never in the headers).
    #[arg(long, value_name = "ADDR", help_heading = "Message")]
    pub bcc: Vec<String>,
    /// Reply-To address.
    #[arg(long, value_name = "ADDR", help_heading = "Message")]
    pub reply_to: Option<String>,
    /// Subject.
    #[arg(long, default_value = "", help_heading = "Message")]
    pub subject: String,
    /// Prefix for the subject (default: message.subject_prefix).
    #[arg(long, value_name = "TEXT", help_heading = "Message")]
    pub subject_prefix: Option<String>,
    /// Plain-text body (without it or --body-file, a body piped on stdin
    /// is read).
    #[arg(long, conflicts_with = "body_file", help_heading = "Message")]
    pub body: Option<String>,
    /// Plain-text body from a file.
    #[arg(long, value_name = "FILE", help_heading = "Message")]
    pub body_file: Option<PathBuf>,
    /// HTML body from a file.
    #[arg(long, value_name = "FILE", help_heading = "Message")]
    pub html_file: Option<PathBuf>,
    /// Attach a file (repeatable).
    #[arg(long, value_name = "FILE", help_heading = "Message")]
    pub attach: Vec<PathBuf>,
    /// Extra header "Name: value" (repeatable).
    #[arg(long, value_name = "HEADER", help_heading = "Message")]
    pub header: Vec<String>,
}

/// Envelope extensions asked for every message: delivery status
/// notifications (RFC 3461) and REQUIRETLS (RFC 8689); each overrides
/// its config key.
#[derive(Debug, Args, Clone, Default)]
pub struct EnvelopeArgs {
    /// Ask the servers to report: never, or any of success,failure,delay
    /// (dsn.notify).
    #[arg(long, value_name = "LIST", help_heading = "Delivery status")]
    pub dsn_notify: Option<String>,
    /// What a failure report returns: full or hdrs (dsn.ret).
    #[arg(long, value_name = "full|hdrs", help_heading = "Delivery status")]
    pub dsn_ret: Option<String>,
    /// Id the reports carry back as Original-Envelope-Id (dsn.envid).
    #[arg(long, value_name = "ID", help_heading = "Delivery status")]
    pub dsn_envid: Option<String>,
    /// Send each recipient as its original recipient, ORCPT (dsn.orcpt).
    #[arg(long, help_heading = "Delivery status")]
    pub dsn_orcpt: bool,
    /// When the server does not offer DSN: fail, or drop the request and
    /// send anyway (dsn.if_unsupported).
    #[arg(long, value_name = "fail|drop", help_heading = "Delivery status")]
    pub dsn_if_unsupported: Option<String>,
    /// Send only over verified TLS to a server offering REQUIRETLS, which
    /// must keep the message on verified TLS (tls.requiretls).
    #[arg(long, help_heading = "Delivery status")]
    pub require_tls: bool,
}

impl EnvelopeArgs {
    /// The flags as config keys and values (the command-line layer).
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut set = |k, v: Option<String>| {
            if let Some(v) = v {
                out.push((k, v));
            }
        };
        set("dsn.notify", self.dsn_notify.clone());
        set("dsn.ret", self.dsn_ret.clone());
        set("dsn.envid", self.dsn_envid.clone());
        set("dsn.orcpt", self.dsn_orcpt.then(|| "true".into()));
        set("dsn.if_unsupported", self.dsn_if_unsupported.clone());
        set("tls.requiretls", self.require_tls.then(|| "true".into()));
        out
    }
}

/// `smtp send`
#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub conn: ConnectionArgs,
    #[command(flatten)]
    pub message: MessageArgs,
    #[command(flatten)]
    pub envelope: EnvelopeArgs,
    /// Send an existing RFC 5322 message file ('-' for stdin), repeatable.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["body", "body_file", "html_file", "attach"], help_heading = "Message")]
    pub raw: Vec<PathBuf>,
    /// One message per recipient listed in this file (one address per line).
    #[arg(long, value_name = "FILE", help_heading = "Bulk")]
    pub to_file: Option<PathBuf>,
    /// Connections used in bulk mode; each sends pipelined batches of up
    /// to 100 messages, or one message at a time under a rate limit.
    #[arg(long, default_value_t = 1, help_heading = "Bulk")]
    pub concurrency: usize,
    /// Also retry a message whose outcome is unknown (the connection broke
    /// after the end of data): it may then be delivered twice
    /// (retry.unknown_outcome).
    #[arg(long, help_heading = "Bulk")]
    pub retry_unknown_outcome: bool,
    /// If a message cannot go now (server down, 4xx), keep it in the queue
    /// for `smtp queue run`/`flush` and exit 0 (queue.on_failure = "queue").
    #[arg(long, help_heading = "Bulk")]
    pub queue: bool,
    /// Record every accepted message here; the same command run again
    /// (after an interrupt, say) sends only what is not in it.
    #[arg(long, value_name = "FILE", help_heading = "Bulk")]
    pub journal: Option<PathBuf>,
    /// Append the protocol transcript here, RFC 3339 timestamps, secrets
    /// redacted (transcript.file).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub transcript: Option<PathBuf>,
    /// Results as JSON lines, one per message as it completes.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

/// `smtp test`
#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub conn: ConnectionArgs,
    /// Also send a test mail to this address (default: message.test_recipient, then the sender).
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "")]
    pub send_to: Option<String>,
    /// Sender of the test mail (default: message.from).
    #[arg(long, value_name = "ADDR")]
    pub from: Option<String>,
    /// What the test mail (and the relay check's MAIL FROM) asks, as every
    /// real message would.
    #[command(flatten)]
    pub envelope: EnvelopeArgs,
    /// The report as one JSON document.
    #[arg(long)]
    pub json: bool,
    /// Append the protocol transcript here, RFC 3339 timestamps, secrets
    /// redacted (transcript.file).
    #[arg(long, value_name = "FILE")]
    pub transcript: Option<PathBuf>,
}

/// `smtp shell`
#[derive(Debug, Args)]
pub struct ShellArgs {
    #[command(flatten)]
    pub conn: ConnectionArgs,
    /// Append the protocol transcript here, RFC 3339 timestamps, secrets
    /// redacted (transcript.file).
    #[arg(long, value_name = "FILE")]
    pub transcript: Option<PathBuf>,
}

/// `smtp sendmail`: the subset of sendmail(8) that scripts use.
#[derive(Debug, Args)]
pub struct SendmailArgs {
    /// Take recipients from To/Cc/Bcc headers (Bcc is removed).
    #[arg(short = 't')]
    pub read_recipients: bool,
    /// Envelope sender.
    #[arg(short = 'f', value_name = "ADDR")]
    pub from: Option<String>,
    /// Sender's full name: added to a From header that has no display
    /// name, or used with the sender for a From header when there is none.
    #[arg(short = 'F', value_name = "NAME")]
    pub full_name: Option<String>,
    /// Delivery status notifications: never, or any of
    /// success,failure,delay (dsn.notify).
    #[arg(short = 'N', value_name = "DSN")]
    pub dsn_notify: Option<String>,
    /// What a failure report returns: full or hdrs (dsn.ret).
    #[arg(short = 'R', value_name = "RETURN")]
    pub dsn_ret: Option<String>,
    /// Envelope id for delivery status notifications (dsn.envid).
    #[arg(short = 'V', value_name = "ENVID")]
    pub dsn_envid: Option<String>,
    /// Ignored (sendmail compatibility: -i, -oi, -odi, -em...).
    #[arg(short = 'i', hide = true)]
    pub ignore_dots: bool,
    /// Ignored sendmail option (-oXXX).
    #[arg(short = 'o', value_name = "OPT", hide = true)]
    pub option: Vec<String>,
    /// Recipients.
    pub recipients: Vec<String>,
}
