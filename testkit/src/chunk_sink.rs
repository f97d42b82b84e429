//! A discarding SMTP server that offers CHUNKING, for benchmarks: Postfix's
//! `smtp-sink` has no BDAT. It offers PIPELINING, CHUNKING, 8BITMIME, SIZE
//! and ENHANCEDSTATUSCODES, takes DATA and BDAT, accepts every sender and
//! recipient, and counts the messages it accepted so a benchmark can check
//! that every message arrived.
//!
//! Replies are batched as Postfix's `smtpd` does: the sink answers every
//! complete command in its input buffer, and writes the answers only when
//! the buffer holds no complete command any more (RFC 2920 §3.2: a server
//! may hold replies until the client's pipelined group has been read).

mod session;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What a [`ChunkSink`] has seen so far.
#[derive(Debug, Default)]
pub struct SinkCounters {
    /// Messages accepted (a `250` to the end of DATA or to `BDAT ... LAST`).
    pub messages: AtomicU64,
    /// Sessions that ended (QUIT or the client closing).
    pub sessions: AtomicU64,
    /// Message bytes accepted (as received: dot-stuffed for DATA).
    pub bytes: AtomicU64,
}

impl SinkCounters {
    /// Messages accepted so far.
    pub fn messages(&self) -> u64 {
        self.messages.load(Ordering::Relaxed)
    }

    /// Sessions ended so far.
    pub fn sessions(&self) -> u64 {
        self.sessions.load(Ordering::Relaxed)
    }
}

/// Called after every session with the counters (the sink binary prints
/// them, as `smtp-sink -c` does).
pub type SessionEndHook = Arc<dyn Fn(&SinkCounters) + Send + Sync>;

/// A running CHUNKING sink; stops accepting when dropped.
#[derive(Debug)]
pub struct ChunkSink {
    local: SocketAddr,
    counters: Arc<SinkCounters>,
    accept: JoinHandle<()>,
}

impl ChunkSink {
    /// Listens on `listen` (port 0: any free port). Needs a tokio runtime.
    /// `on_session_end` runs after each session.
    pub async fn start(
        listen: SocketAddr,
        on_session_end: Option<SessionEndHook>,
    ) -> io::Result<ChunkSink> {
        let listener = TcpListener::bind(listen).await?;
        let local = listener.local_addr()?;
        let counters = Arc::new(SinkCounters::default());
        let shared = counters.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let counters = shared.clone();
                let hook = on_session_end.clone();
                tokio::spawn(async move {
                    if let Err(e) = session::serve(stream, &counters).await {
                        tracing::debug!(error = %e, "sink session ended with an error");
                    }
                    counters.sessions.fetch_add(1, Ordering::Relaxed);
                    if let Some(hook) = hook {
                        hook(&counters);
                    }
                });
            }
        });
        Ok(ChunkSink {
            local,
            counters,
            accept,
        })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The live counters.
    pub fn counters(&self) -> &Arc<SinkCounters> {
        &self.counters
    }

    /// Messages accepted so far.
    pub fn messages(&self) -> u64 {
        self.counters.messages()
    }
}

impl Drop for ChunkSink {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

#[cfg(test)]
mod tests;
