//! STARTTLS (RFC 3207) and the TLS upgrade, with the injection defences.

use std::time::Instant;

use super::Session;
use crate::capabilities::Capabilities;
use crate::error::{Error, Phase};
use crate::tls::Security;
use crate::transcript::{Direction, SessionEvent};

impl Session {
    /// Runs STARTTLS when the security mode asks for it.
    pub(super) async fn maybe_starttls(&mut self) -> Result<(), Error> {
        match self.config.security {
            Security::StartTlsRequired => {
                if !self.caps.starttls {
                    return Err(Error::StartTlsNotOffered);
                }
            }
            Security::StartTlsOpportunistic => {
                if !self.caps.starttls {
                    // Opportunistic mode chose this; the event reports it.
                    tracing::info!(target = %self.config.target, "server does not offer STARTTLS; continuing without TLS");
                    self.event(SessionEvent::StartTlsSkipped {
                        reason: "the server does not offer STARTTLS".into(),
                    });
                    return Ok(());
                }
            }
            _ => return Ok(()),
        }
        let timeout = self.config.timeouts.command;
        // A `220` sent ahead of STARTTLS would be taken as its answer.
        self.ensure_no_surplus(Phase::StartTls).await?;
        self.log(Direction::Client, "STARTTLS");
        self.write_all(b"STARTTLS\r\n", Phase::StartTls, timeout)
            .await?;
        let reply = self.read_reply(Phase::StartTls, timeout).await?;
        if reply.code != 220 {
            // Refused STARTTLS: required mode fails closed; opportunistic
            // mode may go on in clear, but the session is then unprotected.
            if self.config.security == Security::StartTlsOpportunistic {
                self.event(SessionEvent::StartTlsSkipped {
                    reason: format!("STARTTLS refused: {reply}"),
                });
                return Ok(());
            }
            return Err(Error::Rejected {
                phase: Phase::StartTls,
                reply,
            });
        }
        // Anything already buffered was sent before the handshake, in
        // clear, by the server or by someone in the middle: it must never
        // be read as if it came over TLS (CVE-2011-0411 class).
        if !self.rbuf.is_empty() || self.parser.in_reply() {
            let bytes = self.rbuf.len();
            self.rbuf.clear();
            self.broken = true;
            return Err(Error::StartTlsInjection { bytes });
        }
        self.upgrade_tls().await?;
        // Forget everything learnt in clear (RFC 3207 §4.2).
        self.caps = Capabilities::default();
        self.ehlo().await
    }

    /// Hands the stream to the TLS implementation.
    pub(super) async fn upgrade_tls(&mut self) -> Result<(), Error> {
        let tls = self.config.tls.clone().ok_or(Error::TlsNotConfigured)?;
        let stream = self
            .stream
            .take()
            .ok_or(Error::ConnectionClosed { phase: Phase::Tls })?;
        let server = self.config.server_name.clone();
        let started = Instant::now();
        let limit = self.limit(self.config.timeouts.tls);
        let (stream, info) = match tokio::time::timeout(limit, tls.upgrade(stream, &server)).await {
            Err(_) => {
                return Err(Error::Timeout {
                    phase: Phase::Tls,
                    after: limit,
                });
            }
            Ok(Err(source)) => return Err(Error::Tls { server, source }),
            Ok(Ok(pair)) => pair,
        };
        tracing::debug!(version = %info.version, cipher = %info.cipher_suite, "tls established");
        self.stream = Some(stream);
        self.rbuf.clear();
        self.event(SessionEvent::TlsEstablished {
            info: info.clone(),
            elapsed: started.elapsed(),
        });
        self.tls = Some(info);
        Ok(())
    }
}
