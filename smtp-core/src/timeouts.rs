//! Per-phase timeouts, defaulting to RFC 5321 §4.5.3.2.

use std::time::Duration;

/// How long a wait for the greeting goes on with nothing received before
/// the session reports [`SessionEvent::Waiting`](crate::SessionEvent::Waiting).
pub const WAITING_NOTICE_AFTER: Duration = Duration::from_secs(5);

/// Time limits for each phase of a session. A silent server can never
/// hang the caller: every read and write runs under one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Reaching the server (TCP or proxy tunnel). Not in the RFC; 30 s.
    pub connect: Duration,
    /// The TLS handshake. Not in the RFC; 30 s.
    pub tls: Duration,
    /// The `220` greeting: 5 min.
    pub greeting: Duration,
    /// EHLO, STARTTLS, AUTH, MAIL, RCPT, RSET, NOOP, QUIT replies: 5 min.
    pub command: Duration,
    /// The `354` reply to `DATA`: 2 min.
    pub data_start: Duration,
    /// Writing each block of message data: 3 min.
    pub data_block: Duration,
    /// The reply after the final `.` or `BDAT LAST`: 10 min.
    pub data_end: Duration,
    /// An optional cap on a whole send: for the pooled transport, from taking
    /// a connection (connect or health check) to the final reply; on an
    /// unpooled [`Session`](crate::Session), each message separately.
    pub total: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(30),
            tls: Duration::from_secs(30),
            greeting: Duration::from_secs(300),
            command: Duration::from_secs(300),
            data_start: Duration::from_secs(120),
            data_block: Duration::from_secs(180),
            data_end: Duration::from_secs(600),
            total: None,
        }
    }
}

impl Timeouts {
    /// Every phase limited to `limit` (what a single "timeout" setting in
    /// an admin screen means). The end-of-data wait keeps the larger of
    /// `limit` and 4 x `limit` capped at the RFC's 10 minutes, since servers
    /// scan mail before answering.
    pub fn uniform(limit: Duration) -> Timeouts {
        // Saturating: a limit of centuries is silly, not a reason to panic.
        let end = limit
            .saturating_mul(4)
            .min(Duration::from_secs(600))
            .max(limit);
        Timeouts {
            connect: limit,
            tls: limit,
            greeting: limit,
            command: limit,
            data_start: limit,
            data_block: limit,
            data_end: end,
            total: None,
        }
    }
}
