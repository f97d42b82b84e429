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
