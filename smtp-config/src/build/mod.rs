//! From a [`Loaded`] configuration to a ready transport: the one place
//! that knows every plugin, each behind its cargo feature.

mod auth;
mod dkim;
mod proxy;
mod tls;

use async_trait::async_trait;
use smtp_core::{
    Delivery, Envelope, MessageSource, SmtpTransport, SmtpTransportBuilder, Transport,
};

use crate::error::Error;
use crate::loaded::Loaded;
use crate::model::{MessageConfig, PoolSettings, RateLimitConfig, RetryConfig};

/// A password's source from a `password`, `password_file` and
/// `password_command` trio of keys (`auth.*` and `proxy.*`), in that order
/// of preference: smtp-auth's one implementation reads both, so a proxy
/// password follows the rules of a login password (one trailing newline
/// removed, empty output refused, `sh -c` under the same time limit, stderr
/// never read).
#[cfg(any(feature = "auth", feature = "proxy"))]
fn password_source(
    password: Option<&secrecy::SecretString>,
    file: Option<&std::path::PathBuf>,
    command: Option<&String>,
) -> Option<smtp_auth::PasswordSource> {
    use smtp_auth::PasswordSource;

    if let Some(p) = password {
        Some(PasswordSource::Literal(p.clone()))
    } else if let Some(path) = file {
        Some(PasswordSource::file(path))
    } else {
        command.map(PasswordSource::command)
    }
}

/// Where messages go.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuiltTransport {
    /// An SMTP server (pooled).
    Smtp(SmtpTransport),
    /// No host is configured: messages are queued in the queue directory
    /// (the outbox), for `smtp queue flush` once a host is set.
    Outbox(smtp_queue::QueueTransport),
}

#[async_trait]
impl Transport for BuiltTransport {
    async fn send(
        &self,
        envelope: &Envelope,
        message: MessageSource,
    ) -> Result<Delivery, smtp_core::Error> {
        match self {
            BuiltTransport::Smtp(t) => t.send(envelope, message).await,
            BuiltTransport::Outbox(t) => t.send(envelope, message).await,
        }
    }

    async fn send_batch(
        &self,
        items: Vec<(Envelope, MessageSource)>,
    ) -> Vec<Result<Delivery, smtp_core::Error>> {
        match self {
            BuiltTransport::Smtp(t) => Transport::send_batch(t, items).await,
            BuiltTransport::Outbox(t) => Transport::send_batch(t, items).await,
        }
    }

    async fn send_and_close(
        &self,
        envelope: &Envelope,
        message: MessageSource,
    ) -> Result<Delivery, smtp_core::Error> {
        match self {
            BuiltTransport::Smtp(t) => Transport::send_and_close(t, envelope, message).await,
            BuiltTransport::Outbox(t) => Transport::send_and_close(t, envelope, message).await,
        }
    }

    async fn close(&self) {
        match self {
            BuiltTransport::Smtp(t) => Transport::close(t).await,
            BuiltTransport::Outbox(t) => Transport::close(t).await,
        }
    }
}

/// What [`Loaded::build`] returns: the transport, and the settings smtp-core
/// has no knob for, which the caller applies around `send`.
#[derive(Debug)]
#[non_exhaustive]
pub struct Built {
    /// The transport.
    pub transport: BuiltTransport,
    /// Sender defaults (`message.*`) for composing mail.
    pub message: MessageConfig,
    /// Sending rate, applied by [`Built::bulk_sender`].
    pub rate_limit: RateLimitConfig,
    /// Retries of transient failures, applied by [`Built::bulk_sender`].
    pub retry: RetryConfig,
    /// Pool limits (already applied to the SMTP transport).
    pub pool: PoolSettings,
    /// The DKIM signer (`dkim.*`), key already loaded; wrap each message
    /// with [`DkimSigner::sign`](smtp_message::dkim::DkimSigner::sign)
    /// before handing it to the sender or the queue.
    #[cfg(feature = "dkim")]
    pub dkim: Option<smtp_message::dkim::DkimSigner>,
}

impl Built {
    /// The transport as a trait object, whichever it is.
    pub fn transport(&self) -> std::sync::Arc<dyn smtp_core::Transport> {
        match &self.transport {
            BuiltTransport::Smtp(t) => std::sync::Arc::new(t.clone()),
            BuiltTransport::Outbox(f) => std::sync::Arc::new(f.clone()),
        }
    }

    /// A bulk sender over the transport with the configured rate limit
    /// (`rate_limit.*`) and retry policy (`retry.*`); set its concurrency
    /// and journal, then start it.
    pub fn bulk_sender(&self) -> smtp_core::bulk::BulkSender {
        smtp_core::bulk::BulkSender::new(self.transport())
            .rate_limit(self.rate_limit.min_interval())
            .retry(self.retry.policy())
    }

    /// True when messages go to the outbox directory.
    pub fn is_outbox(&self) -> bool {
        matches!(self.transport, BuiltTransport::Outbox(_))
    }
}

impl Loaded {
    /// Builds the transport: [`BuiltTransport::Smtp`] when a host is set,
    /// else [`BuiltTransport::Outbox`]. Reads no password yet (files and
    /// commands are read when the server asks), but does read TLS files.
    pub fn build(&self) -> Result<Built, Error> {
        self.build_with(|b| b)
    }

    /// Like [`Loaded::build`], letting the caller adjust the SMTP builder
    /// last (a transcript, a custom connector in tests).
    pub fn build_with(
        &self,
        customize: impl FnOnce(SmtpTransportBuilder) -> SmtpTransportBuilder,
    ) -> Result<Built, Error> {
        let c = &self.config;
        // The key is read first: a bad key file fails before any connection.
        #[cfg(feature = "dkim")]
        let dkim = self.dkim_signer()?;
        #[cfg(not(feature = "dkim"))]
        dkim::refuse_without_feature(self)?;
        let transport = match &c.host {
            None => {
                let dir = self.queue_dir();
                tracing::info!(dir = %dir.display(), "no host configured: queueing messages in the outbox");
                let queue = smtp_queue::Queue::open(&dir).map_err(|e| {
                    Error::Transport(smtp_core::Error::Outbox {
                        path: dir.display().to_string(),
                        source: std::io::Error::other(e.to_string()),
                    })
                })?;
                BuiltTransport::Outbox(smtp_queue::QueueTransport::new(queue))
            }
            Some(host) => BuiltTransport::Smtp(
                customize(self.smtp_builder(host)?)
                    .build()
                    .map_err(Error::Transport)?,
            ),
        };
        Ok(Built {
            transport,
            message: c.message.clone(),
            rate_limit: c.rate_limit,
            retry: c.retry,
            pool: c.pool,
            #[cfg(feature = "dkim")]
            dkim,
        })
    }

    fn smtp_builder(&self, host: &str) -> Result<SmtpTransportBuilder, Error> {
        let c = &self.config;
        let timeouts = c.effective_timeouts();
        let mut b = SmtpTransport::builder(host)
            .port(c.effective_port())
            .security(c.security)
            .timeouts(timeouts)
            .pool(c.pool.limits)
            .pipeline_window(c.pool.pipeline_window as usize);
        if let Some(name) = &c.ehlo_name {
            b = b.ehlo_name(name);
        }
        if let Some(name) = &c.tls.server_name {
            b = b.tls_server_name(name);
        }
        if c.security.uses_tls() {
            b = b.tls(tls::upgrade(self)?);
        }
        if let Some(a) = auth::authenticator(self)? {
            b = b.authenticator(a);
        }
        if let Some(connector) = proxy::connector(self, timeouts.connect)? {
            b = b.connector(connector);
        }
        Ok(b)
    }
}

#[cfg(all(test, feature = "auth", feature = "proxy"))]
mod tests {
    use secrecy::ExposeSecret;

    use crate::{Config, LoadOptions};

    /// The auth and proxy sources the same `*_command` / `*_file` value
    /// gives, from a loaded configuration.
    fn both(key: &str, value: &str) -> [smtp_auth::PasswordSource; 2] {
        let env = [
            ("SMTP_HOST".to_string(), "mail.example.test".to_string()),
            ("SMTP_AUTH__USERNAME".to_string(), "user".to_string()),
            (
                "SMTP_PROXY__URL".to_string(),
                "socks5h://user@127.0.0.1:1080".to_string(),
            ),
            (format!("SMTP_AUTH__{key}"), value.to_string()),
            (format!("SMTP_PROXY__{key}"), value.to_string()),
        ];
        let options = LoadOptions::new().skip_system_files(true).env(env);
        let loaded = Config::load(&options).unwrap();
        let a = &loaded.config.auth;
        let auth = super::password_source(
            a.password.as_ref(),
            a.password_file.as_ref(),
            a.password_command.as_ref(),
        )
        .unwrap();
        let (proxy_key, proxy) = super::proxy::password_source(&loaded).unwrap();
        assert_eq!(proxy_key, format!("proxy.{}", key.to_lowercase()));
        [auth, proxy]
    }

    async fn outcome(source: &smtp_auth::PasswordSource) -> Result<String, String> {
        source
            .resolve()
            .await
            .map(|p| p.expose_secret().to_string())
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn proxy_and_auth_password_commands_behave_the_same() {
        let cases: [(&str, Result<&str, &str>); 5] = [
            ("printf 'pw\\n'", Ok("pw")),
            ("printf 'pw\\r\\n'", Ok("pw")),
            ("printf 'pw\\n\\n'", Ok("pw\n")),
            ("printf ''", Err("password command produced no output")),
            ("exit 3", Err("password command failed with exit code 3")),
        ];
        for (command, expected) in cases {
            let [auth, proxy] = both("PASSWORD_COMMAND", command);
            let expected = expected.map(str::to_string).map_err(str::to_string);
            assert_eq!(outcome(&auth).await, expected, "auth: {command}");
            assert_eq!(outcome(&proxy).await, expected, "proxy: {command}");
            // The same time limit: a hung command is killed after as long.
            let timeout = |s: &smtp_auth::PasswordSource| match s {
                smtp_auth::PasswordSource::Command { timeout, .. } => *timeout,
                other => panic!("not a command: {other:?}"),
            };
            assert_eq!(timeout(&auth), smtp_auth::DEFAULT_COMMAND_TIMEOUT);
            assert_eq!(timeout(&proxy), timeout(&auth));
        }
    }

    #[tokio::test]
    async fn proxy_and_auth_password_files_behave_the_same() {
        let dir = tempfile::tempdir().unwrap();
        for (text, expected) in [
            ("pw\n", Ok("pw")),
            ("pw\r\n", Ok("pw")),
            ("\n", Err("password file produced no output")),
        ] {
            let path = dir.path().join("pass");
            std::fs::write(&path, text).unwrap();
            let expected = expected.map(str::to_string).map_err(str::to_string);
            for source in both("PASSWORD_FILE", &path.display().to_string()) {
                assert_eq!(outcome(&source).await, expected, "{text:?}");
            }
        }
    }
}
