//! A hook that sees every protocol line (secrets redacted) and each stage
//! of the session, for the CLI's transcript and `smtp test`, and tracing.

use std::sync::Mutex;
use std::time::Duration;

use crate::capabilities::Capabilities;
use crate::tls::TlsInfo;

/// Who sent a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to server (`C:`).
    Client,
    /// Server to client (`S:`).
    Server,
}

impl Direction {
    /// `"C"` or `"S"`.
    pub fn tag(self) -> &'static str {
        match self {
            Direction::Client => "C",
            Direction::Server => "S",
        }
    }
}

/// A milestone of a session, with the time it took.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SessionEvent {
    /// The connector returned a stream (TCP, or proxy tunnel).
    Connected {
        /// `host:port`.
        target: String,
        /// Time to connect.
        elapsed: Duration,
    },
    /// The TLS handshake finished.
    TlsEstablished {
        /// What was negotiated.
        info: TlsInfo,
        /// Handshake time.
        elapsed: Duration,
    },
    /// The server's greeting arrived.
    Greeting {
        /// Greeting text.
        text: String,
        /// Time waited.
        elapsed: Duration,
    },
    /// EHLO (or HELO) succeeded.
    Capabilities {
        /// What the server offers.
        capabilities: Capabilities,
        /// Round-trip time.
        elapsed: Duration,
    },
    /// STARTTLS was offered but skipped or not offered (opportunistic mode).
    StartTlsSkipped {
        /// Why.
        reason: String,
    },
    /// Still waiting for the server, with nothing received yet: sent once,
    /// [`WAITING_NOTICE_AFTER`](crate::WAITING_NOTICE_AFTER) into a wait for
    /// the greeting, so a caller can say what it is waiting for long before
    /// the timeout (a server that expects implicit TLS never greets).
    Waiting {
        /// What is awaited (today only [`Phase::Greeting`](crate::Phase::Greeting)).
        phase: crate::Phase,
        /// Time waited so far.
        elapsed: Duration,
    },
    /// A message asked for delivery status notifications, the server does
    /// not offer `DSN`, and the request said to send it anyway
    /// ([`IfUnsupported::Drop`](crate::dsn::IfUnsupported::Drop)): it
    /// went without its `NOTIFY`/`RET`/`ENVID`/`ORCPT` parameters.
    DsnDropped {
        /// The message's envelope sender, `<>` for the null sender.
        from: String,
    },
    /// Authentication succeeded.
    Authenticated {
        /// The mechanism used.
        mechanism: String,
        /// Time taken.
        elapsed: Duration,
    },
}

/// Receives protocol lines and events. Lines arrive without CRLF; AUTH
/// payloads are already replaced by `<redacted>` and message bodies are
/// summarised, never shown.
pub trait Transcript: Send + Sync + std::fmt::Debug {
    /// One protocol line.
    fn line(&self, direction: Direction, line: &str);
    /// A session milestone. Default: ignored.
    fn event(&self, _event: &SessionEvent) {}
    /// False for a transcript that keeps only events: the session then
    /// neither formats nor sends it any line (in a bulk send that is
    /// several lines per message). May be asked for every line, so the
    /// answer must not change during the transcript's life (a transcript
    /// would miss lines). Default: true.
    fn wants_lines(&self) -> bool {
        true
    }
}

/// A transcript kept in memory (tests, `smtp test`).
#[derive(Debug, Default)]
pub struct MemoryTranscript {
    lines: Mutex<Vec<String>>,
    events: Mutex<Vec<SessionEvent>>,
}

impl MemoryTranscript {
    /// Empty transcript.
    pub fn new() -> MemoryTranscript {
        MemoryTranscript::default()
    }
    /// Every line so far, as `C: ...` / `S: ...`.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
    /// Every event so far.
    pub fn events(&self) -> Vec<SessionEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
    /// The whole transcript as text.
    pub fn text(&self) -> String {
        let mut s = self.lines().join("\n");
        s.push('\n');
        s
    }
}

impl Transcript for MemoryTranscript {
    fn line(&self, direction: Direction, line: &str) {
        if let Ok(mut l) = self.lines.lock() {
            l.push(format!("{}: {}", direction.tag(), line));
        }
    }
    fn event(&self, event: &SessionEvent) {
        if let Ok(mut e) = self.events.lock() {
            e.push(event.clone());
        }
    }
}

/// Sends transcript lines to `tracing` at TRACE level (target `smtp::wire`).
///
/// The session traces every line at that target by itself, so as a
/// session's transcript this type asks for no lines ([`wants_lines`] is
/// false) rather than tracing each one twice; [`Transcript::line`] still
/// traces what it is given.
///
/// [`wants_lines`]: Transcript::wants_lines
#[derive(Debug, Default, Clone, Copy)]
pub struct TracingTranscript;

impl Transcript for TracingTranscript {
    fn wants_lines(&self) -> bool {
        false
    }
    fn line(&self, direction: Direction, line: &str) {
        tracing::trace!(target: "smtp::wire", "{}: {}", direction.tag(), line);
    }
}
