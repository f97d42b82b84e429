//! A transcript that keeps the session in memory and, optionally, writes
//! it to a file as it happens (the "detailed log file" admins ask for).

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use smtp_core::{Direction, MemoryTranscript, SessionEvent, Transcript};

/// Lines arrive already redacted by the engine.
#[derive(Debug)]
pub struct Recorder {
    /// Kept for commands that read the events back (`smtp test`); a bulk
    /// send keeps none, or its memory would grow with every message.
    memory: Option<MemoryTranscript>,
    file: Option<Mutex<std::fs::File>>,
    /// What to add when the greeting is slow to come (see
    /// [`Recorder::expect_greeting`]).
    greeting_note: OnceLock<String>,
    /// The DSN-dropped warning was printed (once per run, not per message).
    dsn_dropped_said: AtomicBool,
}

impl Recorder {
    /// Writes to `path` only (for `smtp send`): nothing is kept in memory.
    pub fn file_only(path: &Path) -> anyhow::Result<Recorder> {
        let mut r = Recorder::new(Some(path))?;
        r.memory = None;
        Ok(r)
    }

    /// Keeps the session in memory, and writes it to `path` if given.
    pub fn new(path: Option<&Path>) -> anyhow::Result<Recorder> {
        let file = match path {
            // Appended to, so the transcript of yesterday's run survives
            // today's; owner-only, like the queue's files.
            Some(p) => Some(Mutex::new(open_append(p).map_err(|e| {
                anyhow::anyhow!("cannot write transcript {}: {e}", p.display())
            })?)),
            None => None,
        };
        Ok(Recorder {
            memory: Some(MemoryTranscript::new()),
            file,
            greeting_note: OnceLock::new(),
            dsn_dropped_said: AtomicBool::new(false),
        })
    }

    /// Keeps and writes nothing; only says on stderr what a slow session
    /// is waiting for (for `smtp send` without `--transcript`).
    pub fn notices_only() -> Recorder {
        Recorder {
            memory: None,
            file: None,
            greeting_note: OnceLock::new(),
            dsn_dropped_said: AtomicBool::new(false),
        }
    }

    /// Sets what the notice about a slow greeting says about the
    /// connection: its security mode and port.
    pub fn expect_greeting(&self, security: smtp_core::Security, port: u16) {
        let note = if security == smtp_core::Security::ImplicitTls {
            String::new()
        } else if port == 465 {
            "; port 465 usually expects implicit TLS, which never greets in clear: try --security implicit".into()
        } else {
            "; a server that expects implicit TLS never greets in clear: if this port is one (usually 465), try --security implicit".into()
        };
        let _ = self.greeting_note.set(note);
    }

    pub fn events(&self) -> Vec<SessionEvent> {
        self.memory
            .as_ref()
            .map(MemoryTranscript::events)
            .unwrap_or_default()
    }

    fn write(&self, text: &str) {
        if let Some(f) = &self.file
            && let Ok(mut f) = f.lock()
        {
            let _ = writeln!(f, "{text}");
        }
    }
}

fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

impl Transcript for Recorder {
    fn wants_lines(&self) -> bool {
        self.memory.is_some() || self.file.is_some()
    }
    fn line(&self, direction: Direction, line: &str) {
        if self.memory.is_none() && self.file.is_none() {
            return;
        }
        if let Some(m) = &self.memory {
            m.line(direction, line);
        }
        self.write(&format!(
            "{} {}: {}",
            humantime::format_rfc3339_millis(SystemTime::now()),
            direction.tag(),
            line
        ));
    }
    fn event(&self, event: &SessionEvent) {
        if let SessionEvent::Waiting { phase, elapsed } = event {
            // Said at every verbosity: a silent wait looks like a hang.
            eprintln!(
                "still waiting for the server's {phase} after {}s, nothing received yet{}",
                elapsed.as_secs_f64().round(),
                self.greeting_note.get().map(String::as_str).unwrap_or("")
            );
        }
        if matches!(event, SessionEvent::DsnDropped { .. })
            && !self.dsn_dropped_said.swap(true, Ordering::Relaxed)
        {
            eprintln!(
                "warning: the server does not offer DSN: sending without the delivery status \
                 notification request (dsn.if_unsupported = drop)"
            );
        }
        if self.memory.is_none() && self.file.is_none() {
            return;
        }
        if let Some(m) = &self.memory {
            m.event(event);
        }
        let summary = match event {
            SessionEvent::Connected { target, elapsed } => {
                format!("connected to {target} in {elapsed:?}")
            }
            SessionEvent::TlsEstablished { info, elapsed } => {
                format!(
                    "tls {} {} in {elapsed:?} (verified: {})",
                    info.version, info.cipher_suite, info.verified
                )
            }
            SessionEvent::Greeting { text, .. } => format!("greeting: {text}"),
            SessionEvent::Capabilities { capabilities, .. } => {
                format!("capabilities: {}", capabilities.raw.join(", "))
            }
            SessionEvent::StartTlsSkipped { reason } => format!("starttls skipped: {reason}"),
            SessionEvent::Waiting { phase, elapsed } => {
                format!("still waiting for the {phase} after {elapsed:?}")
            }
            SessionEvent::Authenticated { mechanism, .. } => {
                format!("authenticated with {mechanism}")
            }
            SessionEvent::DsnDropped { from } => {
                format!("no DSN offered: message from {from} sent without its DSN request")
            }
            other => format!("{other:?}"),
        };
        self.write(&format!(
            "{} # {summary}",
            humantime::format_rfc3339_millis(SystemTime::now())
        ));
    }
}
