//! A bounded pool of open sessions.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::SessionConfig;
use crate::error::Error;
use crate::session::Session;

/// A session idle for less than this is reused after a check that needs
/// no round trip; older ones get an `RSET` first.
const QUIET_REUSE: Duration = Duration::from_secs(1);

/// Limits of the connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most sessions open at once (in use or idle). Default 4.
    pub max_connections: usize,
    /// An idle session older than this is closed, not reused. Default 60 s
    /// (servers drop idle clients after a few minutes; RFC 5321 §4.5.3.2.7
    /// lets them after 5).
    pub idle_timeout: Duration,
    /// A session is closed after this many messages. Default 100.
    pub max_messages_per_connection: usize,
}

impl Default for PoolConfig {
    fn default() -> PoolConfig {
        PoolConfig {
            max_connections: 4,
            idle_timeout: Duration::from_secs(60),
            max_messages_per_connection: 100,
        }
    }
}

/// A session checked out of the pool; the permit bounds open sessions.
pub(crate) struct Lease {
    pub session: Session,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    /// For a session that will be closed, not put back: the permit must
    /// live until it is, or the pool would open one connection too many.
    pub fn into_parts(self) -> (Session, OwnedSemaphorePermit) {
        (self.session, self._permit)
    }
}

#[derive(Debug)]
pub(crate) struct Pool {
    config: PoolConfig,
    idle: Mutex<Vec<Session>>,
    permits: Arc<Semaphore>,
}

impl Pool {
    pub fn new(config: PoolConfig) -> Pool {
        let max = config.max_connections.max(1);
        Pool {
            config,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(max)),
        }
    }

    /// An idle session that passes a health check (RSET), or a new one,
    /// with the total time limit of the coming send already running.
    pub async fn get(&self, session_config: &Arc<SessionConfig>) -> Result<Lease, Error> {
        let permit =
            self.permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| Error::ConnectionClosed {
                    phase: crate::Phase::Connect,
                })?;
        // `Timeouts::total` caps a whole send, connect to final reply: the
        // clock starts here, not when the transaction does.
        let deadline = session_config.timeouts.total.map(|t| Instant::now() + t);
        while let Some(mut session) = self.take_idle() {
            if session.idle_for() > self.config.idle_timeout {
                tokio::spawn(session.quit());
                continue;
            }
            session.set_deadline(deadline);
            // Just used and still quiet: reuse without a round trip. After
            // a longer pause an RSET proves the server still listens.
            if session.idle_for() < QUIET_REUSE && session.is_quiet().await {
                return Ok(Lease {
                    session,
                    _permit: permit,
                });
            }
            match session.rset().await {
                Ok(()) => {
                    return Ok(Lease {
                        session,
                        _permit: permit,
                    });
                }
                Err(e) => tracing::debug!(error = %e, "pooled session failed its health check"),
            }
        }
        let session = Session::open_until(session_config.clone(), deadline).await?;
        Ok(Lease {
            session,
            _permit: permit,
        })
    }

    /// How many more messages `session` may carry (at least one).
    pub fn room(&self, session: &Session) -> usize {
        self.config
            .max_messages_per_connection
            .saturating_sub(session.messages_sent())
            .max(1)
    }

    /// Returns a session for reuse, unless it is broken or used up.
    pub fn put(&self, lease: Lease) {
        let Lease { session, _permit } = lease;
        if session.is_broken() || session.messages_sent() >= self.config.max_messages_per_connection
        {
            if !session.is_broken() {
                tokio::spawn(session.quit());
            }
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(session);
        }
    }

    fn take_idle(&self) -> Option<Session> {
        self.idle.lock().ok().and_then(|mut idle| idle.pop())
    }

    /// Closes every idle session politely.
    pub async fn close(&self) {
        let sessions: Vec<Session> = self
            .idle
            .lock()
            .map(|mut i| i.drain(..).collect())
            .unwrap_or_default();
        for s in sessions {
            s.quit().await;
        }
    }
}
