//! The activity log: one appended line per attempt, like msmtp's
//! `logfile`, for operators and their log tools.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::Error;

/// One attempt to deliver one message.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Attempt<'a> {
    /// The queue id, or the Message-ID, or another key naming the message.
    pub id: &'a str,
    /// The envelope sender.
    pub from: &'a str,
    /// The envelope recipients.
    pub to: Vec<&'a str>,
    /// `host:port` (or `outbox`).
    pub server: &'a str,
    /// `sent`, `deferred`, `failed`, `unknown`, `queued`, `expired`.
    pub outcome: &'a str,
    /// The server's reply code, when there was a reply.
    pub code: Option<u16>,
    /// The reply text, or the error.
    pub text: &'a str,
    /// Attempts this line covers (a send with retries logs its last).
    pub attempts: u32,
}

impl<'a> Attempt<'a> {
    /// An attempt with its message's key, envelope and outcome.
    pub fn new(
        id: &'a str,
        from: &'a str,
        to: Vec<&'a str>,
        server: &'a str,
        outcome: &'a str,
    ) -> Attempt<'a> {
        Attempt {
            id,
            from,
            to,
            server,
            outcome,
            code: None,
            text: "",
            attempts: 1,
        }
    }

    /// Sets how many attempts the line covers.
    pub fn attempts(mut self, attempts: u32) -> Attempt<'a> {
        self.attempts = attempts;
        self
    }

    /// Adds the reply code and text (or an error's text).
    pub fn reply(mut self, code: Option<u16>, text: &'a str) -> Attempt<'a> {
        self.code = code;
        self.text = text;
        self
    }

    /// The line, without its newline: `time key=value ...`, values with
    /// spaces quoted, control characters escaped, so one attempt is always
    /// one line.
    pub fn line(&self, at: SystemTime) -> String {
        let mut line = humantime::format_rfc3339_seconds(at).to_string();
        let mut field = |key: &str, value: &str| {
            line.push(' ');
            line.push_str(key);
            line.push('=');
            line.push_str(&quote(value));
        };
        field("id", self.id);
        field("from", &format!("<{}>", self.from));
        field(
            "to",
            &self
                .to
                .iter()
                .map(|t| format!("<{t}>"))
                .collect::<Vec<_>>()
                .join(","),
        );
        field("server", self.server);
        field("outcome", self.outcome);
        field("attempts", &self.attempts.to_string());
        if let Some(code) = self.code {
            field("code", &code.to_string());
        }
        if !self.text.is_empty() {
            field("reply", self.text);
        }
        line
    }
}

fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| !c.is_control() && c != ' ' && c != '"' && c != '\\');
    if plain {
        return value.to_string();
    }
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An append-only log file, opened anew for every line: logrotate can
/// move it at any time (no signal needed) and the next line starts the
/// new file. Lines hold no secret: envelopes and server replies only.
#[derive(Debug, Clone)]
pub struct ActivityLog {
    path: PathBuf,
}

impl ActivityLog {
    /// A log at `path` (created, mode 0600, on the first line).
    pub fn new(path: impl Into<PathBuf>) -> ActivityLog {
        ActivityLog { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line for `attempt`, now.
    pub fn record(&self, attempt: &Attempt<'_>) -> Result<(), Error> {
        let mut line = attempt.line(SystemTime::now());
        line.push('\n');
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&self.path).map_err(Error::io(&self.path))?;
        // One write per line: lines of concurrent writers never mix.
        file.write_all(line.as_bytes())
            .map_err(Error::io(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_attempt_is_one_line_with_every_field() {
        let a = Attempt::new(
            "1733.000001-1f-0",
            "app@example.test",
            vec!["a@x.test", "b@x.test"],
            "mail.example.test:587",
            "deferred",
        )
        .reply(Some(451), "4.7.1 try again\r\nlater \"soon\"");
        let line = a.line(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_764_763_200));
        assert_eq!(
            line,
            "2025-12-03T12:00:00Z id=1733.000001-1f-0 from=<app@example.test> to=<a@x.test>,<b@x.test> server=mail.example.test:587 outcome=deferred attempts=1 code=451 reply=\"4.7.1 try again\\r\\nlater \\\"soon\\\"\""
        );
    }

    #[test]
    fn lines_are_appended_and_a_rotated_file_is_started_again() {
        let dir = tempfile::tempdir().unwrap();
        let log = ActivityLog::new(dir.path().join("smtp.log"));
        let a = Attempt::new("x", "f@x.test", vec!["t@x.test"], "outbox", "queued");
        log.record(&a).unwrap();
        log.record(&a).unwrap();
        std::fs::rename(log.path(), dir.path().join("smtp.log.1")).unwrap();
        log.record(&a).unwrap();
        let lines = |p: &str| {
            std::fs::read_to_string(dir.path().join(p))
                .unwrap()
                .lines()
                .count()
        };
        assert_eq!((lines("smtp.log.1"), lines("smtp.log")), (2, 1));
    }
}
