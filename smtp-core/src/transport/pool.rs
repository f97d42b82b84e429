//! A bounded pool of open sessions.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::config::SessionConfig;
use crate::error::Error;
use crate::session::Session;

/// A session idle for less than this is reused after a check that needs
/// no round trip; older ones get an `RSET` first.
const QUIET_REUSE: Duration = Duration::from_secs(1);

/// A session sending one message at a time opens its successor when it has
/// this many messages of room left: a set-up with STARTTLS and AUTH takes
/// about 8 round trips, a pipelined message one or two.
pub(crate) const OPEN_AHEAD_MESSAGES: usize = 4;

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
    ///
    /// When a session is about to reach it (its last batch, or its last few
    /// single messages), its successor is opened in the background, so the
    /// next send finds a session ready instead of waiting for connect,
    /// greeting, EHLO, STARTTLS and AUTH. The successor counts against
    /// `max_connections` like any session and is opened only when the
    /// limit leaves room (never with `max_connections` 1). A successor
    /// never used is closed by
    /// [`SmtpTransport::close`](crate::SmtpTransport::close).
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
    /// Its successor is already being opened (see [`Pool::plan`]).
    successor: bool,
}

/// An idle session and whether its successor is already being opened.
#[derive(Debug)]
struct Idle {
    session: Session,
    successor: bool,
}

/// A session being opened ahead of need, or opened and not yet used, with
/// the permit that counts it.
type Spare = (JoinHandle<Result<Session, Error>>, OwnedSemaphorePermit);

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
    idle: Mutex<Vec<Idle>>,
    /// Successors opened ahead, oldest first.
    spares: Mutex<VecDeque<Spare>>,
    permits: Arc<Semaphore>,
}

impl Pool {
    pub fn new(config: PoolConfig) -> Pool {
        let max = config.max_connections.max(1);
        Pool {
            config,
            idle: Mutex::new(Vec::new()),
            spares: Mutex::new(VecDeque::new()),
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
        while let Some(Idle {
            mut session,
            successor,
        }) = self.take_idle()
        {
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
                    successor,
                });
            }
            match session.rset().await {
                Ok(()) => {
                    return Ok(Lease {
                        session,
                        _permit: permit,
                        successor,
                    });
                }
                Err(e) => tracing::debug!(error = %e, "pooled session failed its health check"),
            }
        }
        let session = match self.take_spare().await {
            Some(mut session) => {
                session.set_deadline(deadline);
                session
            }
            None => Session::open_until(session_config.clone(), deadline).await?,
        };
        Ok(Lease {
            session,
            _permit: permit,
            successor: false,
        })
    }

    /// A successor opened ahead that is (or becomes) ready; waiting for
    /// one already connecting beats starting over. One that failed or sat
    /// too long is dropped, and the caller opens a session itself (so a
    /// failure surfaces with its own error). The caller holds a permit of
    /// its own: the spare's is given back.
    async fn take_spare(&self) -> Option<Session> {
        loop {
            let (spare, _its_permit) = self.spares.lock().ok()?.pop_front()?;
            match spare.await {
                Ok(Ok(mut session)) if session.idle_for() <= self.config.idle_timeout => {
                    // A spare that waited may have been dropped by the server.
                    let fresh = session.idle_for() < QUIET_REUSE;
                    if session.is_quiet().await && (fresh || session.rset().await.is_ok()) {
                        return Some(session);
                    }
                }
                Ok(Ok(session)) => {
                    tokio::spawn(session.quit());
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "opening a session ahead failed"),
                Err(e) => tracing::debug!(error = %e, "opening a session ahead was cancelled"),
            }
        }
    }

    /// Called once the caller knows how many messages `lease` will carry
    /// (`messages`) and whether more are waiting for another session
    /// (`more`): when they leave the session `ahead` messages of room or
    /// fewer, its successor starts opening in the background (once per
    /// session, and only when `max_connections` leaves room). Batches pass 0
    /// (the next call needs a new session only once this one is used
    /// up), single sends [`OPEN_AHEAD_MESSAGES`].
    pub fn plan(
        &self,
        lease: &mut Lease,
        session_config: &Arc<SessionConfig>,
        messages: usize,
        more: bool,
        ahead: usize,
    ) {
        if lease.successor {
            return;
        }
        let left = self
            .config
            .max_messages_per_connection
            .saturating_sub(lease.session.messages_sent() + messages);
        if !more && left > ahead {
            return;
        }
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            return;
        };
        let Ok(mut spares) = self.spares.lock() else {
            return;
        };
        lease.successor = true;
        let opening = tokio::spawn(Session::open(session_config.clone()));
        spares.push_back((opening, permit));
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
        let Lease {
            session,
            _permit,
            successor,
        } = lease;
        if session.is_broken() || session.messages_sent() >= self.config.max_messages_per_connection
        {
            if !session.is_broken() {
                tokio::spawn(session.quit());
            }
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(Idle { session, successor });
        }
    }

    fn take_idle(&self) -> Option<Idle> {
        self.idle.lock().ok().and_then(|mut idle| idle.pop())
    }

    /// Closes every idle session politely, and those opened ahead.
    pub async fn close(&self) {
        let sessions: Vec<Idle> = self
            .idle
            .lock()
            .map(|mut i| i.drain(..).collect())
            .unwrap_or_default();
        for s in sessions {
            s.session.quit().await;
        }
        let spares: Vec<Spare> = self
            .spares
            .lock()
            .map(|mut s| s.drain(..).collect())
            .unwrap_or_default();
        for (spare, _permit) in spares {
            if let Ok(Ok(session)) = spare.await {
                session.quit().await;
            }
        }
    }
}
