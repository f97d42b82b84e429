//! The network transport: connector + TLS + auth + session engine + pool.

use std::sync::Arc;

use async_trait::async_trait;
use tracing::Instrument;

use super::Transport;
use super::pool::{OPEN_AHEAD_MESSAGES, Pool, PoolConfig};
use crate::address::{Envelope, check_name};
use crate::config::{DEFAULT_PIPELINE_WINDOW, SessionConfig, default_ehlo_name};
use crate::connector::{Connector, Target, TcpConnector};
use crate::delivery::Delivery;
use crate::error::Error;
use crate::message::MessageSource;
use crate::sasl::Authenticator;
use crate::session::Session;
use crate::timeouts::Timeouts;
use crate::tls::{Security, TlsUpgrade};
use crate::transcript::Transcript;

/// Sends mail to one SMTP server over pooled sessions.
///
/// Cheap to clone; clones share the pool.
#[derive(Debug, Clone)]
pub struct SmtpTransport {
    config: Arc<SessionConfig>,
    pool: Arc<Pool>,
}

impl SmtpTransport {
    /// Starts a builder for `host` (a name or an IP literal).
    pub fn builder(host: impl Into<String>) -> SmtpTransportBuilder {
        SmtpTransportBuilder {
            host: host.into(),
            port: None,
            security: Security::default(),
            tls: None,
            server_name: None,
            connector: None,
            authenticator: None,
            ehlo_name: None,
            timeouts: Timeouts::default(),
            transcript: None,
            pool: PoolConfig::default(),
            pipeline_window: DEFAULT_PIPELINE_WINDOW,
        }
    }

    /// Opens a new session outside the pool (for diagnostics and shells).
    pub async fn connect(&self) -> Result<Session, Error> {
        Session::open(self.config.clone()).await
    }

    /// The server this transport sends to.
    pub fn target(&self) -> &Target {
        &self.config.target
    }

    /// The security mode in use.
    pub fn security(&self) -> Security {
        self.config.security
    }

    /// Most transactions in flight at once in a batch (see
    /// [`SmtpTransportBuilder::pipeline_window`]).
    pub fn pipeline_window(&self) -> usize {
        self.config.pipeline_window
    }

    /// Sends several messages over pooled sessions, pipelined across
    /// transactions when the server allows it. One result per message,
    /// in order. A batch longer than a session has left of
    /// [`PoolConfig::max_messages_per_connection`] goes on over the next
    /// session, so servers that cap messages per connection never see
    /// more than the cap.
    pub async fn send_batch(
        &self,
        items: Vec<(Envelope, MessageSource)>,
    ) -> Vec<Result<Delivery, Error>> {
        let mut results = Vec::with_capacity(items.len());
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let mut lease = match self.pool.get(&self.config).await {
                Ok(l) => l,
                Err(e) => {
                    let text = e.to_string();
                    results.push(Err(e));
                    results.extend(items.skip(1).map(|_| {
                        Err(Error::Connect {
                            target: self.config.target.to_string(),
                            source: text.clone().into(),
                        })
                    }));
                    return results;
                }
            };
            let part: Vec<_> = items
                .by_ref()
                .take(self.pool.room(&lease.session))
                .collect();
            let more = items.peek().is_some();
            self.pool
                .plan(&mut lease, &self.config, part.len(), more, 0);
            results.extend(lease.session.send_batch(part).await);
            self.pool.put(lease);
        }
        results
    }

    /// Sends one message on a connection that is closed afterwards, never
    /// put back in the pool: for one-shot use (a command-line send). With
    /// PIPELINING, `QUIT` rides in the same write as the end of data (see
    /// [`Session::send_and_quit`]), so closing costs no extra round trip,
    /// unlike [`Transport::send`] followed by [`SmtpTransport::close`].
    /// Takes an idle pooled session if there is one, else connects; so a
    /// retry after a failure always opens a new connection.
    pub async fn send_and_close(
        &self,
        envelope: &Envelope,
        message: MessageSource,
    ) -> Result<Delivery, Error> {
        let span = tracing::info_span!("smtp.send", server = %self.config.target, recipients = envelope.to().len(), close = true);
        async {
            let (session, _permit) = self.pool.get(&self.config).await?.into_parts();
            let result = session.send_and_quit(envelope, message).await;
            log_outcome(&result);
            result
        }
        .instrument(span)
        .await
    }

    /// Closes idle pooled sessions with QUIT.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn log_outcome(result: &Result<Delivery, Error>) {
    match result {
        Ok(d) => tracing::debug!(
            accepted = d.accepted.len(),
            rejected = d.rejected.len(),
            "sent"
        ),
        Err(e) => tracing::debug!(error = %e, "send failed"),
    }
}

#[async_trait]
impl Transport for SmtpTransport {
    async fn send(&self, envelope: &Envelope, message: MessageSource) -> Result<Delivery, Error> {
        let span = tracing::info_span!("smtp.send", server = %self.config.target, recipients = envelope.to().len());
        async {
            let mut lease = self.pool.get(&self.config).await?;
            self.pool
                .plan(&mut lease, &self.config, 1, false, OPEN_AHEAD_MESSAGES);
            let result = lease.session.send(envelope, message).await;
            self.pool.put(lease);
            log_outcome(&result);
            result
        }
        .instrument(span)
        .await
    }

    async fn send_batch(
        &self,
        items: Vec<(Envelope, MessageSource)>,
    ) -> Vec<Result<Delivery, Error>> {
        SmtpTransport::send_batch(self, items).await
    }

    async fn send_and_close(
        &self,
        envelope: &Envelope,
        message: MessageSource,
    ) -> Result<Delivery, Error> {
        SmtpTransport::send_and_close(self, envelope, message).await
    }

    async fn close(&self) {
        SmtpTransport::close(self).await;
    }
}

/// Builds an [`SmtpTransport`]; defaults are the safe choice
/// (STARTTLS required, RFC timeouts, anonymous).
#[derive(Debug)]
#[must_use]
pub struct SmtpTransportBuilder {
    host: String,
    port: Option<u16>,
    security: Security,
    tls: Option<Arc<dyn TlsUpgrade>>,
    server_name: Option<String>,
    connector: Option<Arc<dyn Connector>>,
    authenticator: Option<Arc<dyn Authenticator>>,
    ehlo_name: Option<String>,
    timeouts: Timeouts,
    transcript: Option<Arc<dyn Transcript>>,
    pool: PoolConfig,
    pipeline_window: usize,
}

impl SmtpTransportBuilder {
    /// The port; default follows the security mode (25, 465 or 587).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }
    /// How the connection is protected. Default: STARTTLS required.
    pub fn security(mut self, security: Security) -> Self {
        self.security = security;
        self
    }
    /// The TLS implementation (e.g. `smtp-transport-tls`'s rustls upgrade).
    pub fn tls(mut self, tls: Arc<dyn TlsUpgrade>) -> Self {
        self.tls = Some(tls);
        self
    }
    /// The name the certificate must match, when it differs from the host
    /// (connecting by IP address). Default: the host.
    pub fn tls_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }
    /// How bytes reach the server (a proxy). Default: plain TCP.
    pub fn connector(mut self, connector: Arc<dyn Connector>) -> Self {
        self.connector = Some(connector);
        self
    }
    /// Authentication. Default: none (anonymous).
    pub fn authenticator(mut self, authenticator: Arc<dyn Authenticator>) -> Self {
        self.authenticator = Some(authenticator);
        self
    }
    /// The name sent in EHLO. Default: this machine's name, or `[127.0.0.1]`.
    pub fn ehlo_name(mut self, name: impl Into<String>) -> Self {
        self.ehlo_name = Some(name.into());
        self
    }
    /// Per-phase time limits. Default: RFC 5321 §4.5.3.2.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }
    /// Receives every protocol line (secrets redacted) and session event.
    pub fn transcript(mut self, transcript: Arc<dyn Transcript>) -> Self {
        self.transcript = Some(transcript);
        self
    }
    /// Pool limits.
    pub fn pool(mut self, pool: PoolConfig) -> Self {
        self.pool = pool;
        self
    }

    /// With CHUNKING and PIPELINING, how many transactions may be in flight
    /// at once in [`SmtpTransport::send_batch`]: each message's `MAIL`,
    /// `RCPT`s and `BDAT n LAST` go out without waiting for the replies of
    /// the messages before it, up to this many unanswered. Default 16;
    /// 1 waits for each message's replies (one round trip per message);
    /// 0 counts as 1. Replies are matched to messages strictly in order,
    /// and a failed message never costs another one its result.
    pub fn pipeline_window(mut self, transactions: usize) -> Self {
        self.pipeline_window = transactions.max(1);
        self
    }

    /// Checks the settings and builds the transport. Nothing connects yet.
    pub fn build(self) -> Result<SmtpTransport, Error> {
        let host = self.host.trim().to_string();
        if host.is_empty() || host.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(Error::InvalidInput {
                what: "host",
                value: self.host,
                reason: "empty or contains spaces or control characters",
            });
        }
        check_name("host", &host)?;
        let ehlo_name = self.ehlo_name.unwrap_or_else(default_ehlo_name);
        check_name("ehlo name", &ehlo_name)?;
        if let Some(name) = &self.server_name {
            check_name("tls server name", name)?;
        }
        if self.security.uses_tls() && self.tls.is_none() {
            return Err(Error::TlsNotConfigured);
        }
        let target = Target::new(host, self.port.unwrap_or(self.security.default_port()));
        let config = SessionConfig {
            server_name: self.server_name.unwrap_or_else(|| target.host.clone()),
            target,
            security: self.security,
            tls: self.tls,
            connector: self
                .connector
                .unwrap_or_else(|| Arc::new(TcpConnector::new())),
            authenticator: self.authenticator,
            ehlo_name,
            timeouts: self.timeouts,
            transcript: self.transcript,
            pipeline_window: self.pipeline_window,
        };
        Ok(SmtpTransport {
            config: Arc::new(config),
            pool: Arc::new(Pool::new(self.pool)),
        })
    }
}
