//! One SMTP connection: greeting, EHLO, STARTTLS, AUTH, transactions.
//!
//! Split one file per verb, after mail-send / smtp-proto: `ehlo`,
//! `starttls`, `auth`, `envelope` (MAIL/RCPT), `data` (reading bodies).
//! Sending messages is a sans-IO planner (`plan/`: the transaction logic
//! of DATA, BDAT and windowed BDAT) run by one driver loop (`drive`);
//! `batch` holds the public send calls. This file holds the connection
//! state and the timed read/write primitives.

mod auth;
mod batch;
mod data;
mod drive;
mod ehlo;
mod envelope;
mod flight_io;
mod guard;
mod plan;
mod starttls;
mod timer;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::Instrument;

use crate::capabilities::Capabilities;
use crate::config::SessionConfig;
use crate::connector::BoxStream;
use crate::error::{Error, Phase};
use crate::reply::{Reply, ReplyParser};
use crate::tls::{Security, TlsInfo};
use crate::transcript::{Direction, SessionEvent};

const READ_CHUNK: usize = 8 * 1024;

/// An open SMTP session, ready for transactions.
///
/// Obtained from [`SmtpTransport::connect`](crate::SmtpTransport::connect)
/// (unpooled) or used inside the transport's pool.
pub struct Session {
    stream: Option<BoxStream>,
    rbuf: Vec<u8>,
    parser: ReplyParser,
    caps: Capabilities,
    greeting: String,
    tls: Option<TlsInfo>,
    mechanism: Option<String>,
    config: Arc<SessionConfig>,
    deadline: Option<Instant>,
    messages: usize,
    broken: bool,
    /// Set while a public operation runs: if the caller drops its future
    /// midway (its own timeout, a `select!`), commands may be half sent or
    /// replies unread, so the session must count as broken from then on.
    in_flight: bool,
    /// The last raw [`Session::command`] got `334`: the next line typed is
    /// a SASL response and must not reach the transcript.
    auth_pending: bool,
    /// During AUTH: what was sent (the base64 blobs, the password), so a
    /// server that echoes it in a reply cannot put it on screen or in the
    /// transcript.
    scrub: Vec<secrecy::SecretString>,
    last_used: Instant,
    timer: timer::SessionTimer,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("target", &self.config.target)
            .field("tls", &self.tls.as_ref().map(|t| &t.version))
            .field("mechanism", &self.mechanism)
            .field("messages", &self.messages)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Connects, reads the greeting, says EHLO, upgrades to TLS as the
    /// security mode says, and authenticates.
    pub(crate) async fn open(config: Arc<SessionConfig>) -> Result<Session, Error> {
        let deadline = config.timeouts.total.map(|t| Instant::now() + t);
        let mut s = Session::open_until(config, deadline).await?;
        s.deadline = None;
        Ok(s)
    }

    /// Like [`Session::open`], but under a deadline the caller started (the
    /// pool: the total limit runs from the start of a send, connect
    /// included), and left armed for the send that follows.
    pub(crate) async fn open_until(
        config: Arc<SessionConfig>,
        deadline: Option<Instant>,
    ) -> Result<Session, Error> {
        let mut s = Session {
            stream: None,
            rbuf: Vec::with_capacity(READ_CHUNK),
            parser: ReplyParser::new(),
            caps: Capabilities::default(),
            greeting: String::new(),
            tls: None,
            mechanism: None,
            config,
            deadline,
            messages: 0,
            broken: false,
            in_flight: false,
            auth_pending: false,
            scrub: Vec::new(),
            last_used: Instant::now(),
            timer: timer::SessionTimer::default(),
        };
        let span = tracing::debug_span!("smtp.connection", server = %s.config.target, security = %s.config.security);
        s.handshake().instrument(span).await?;
        Ok(s)
    }

    /// Connect, TLS as configured, greeting, EHLO, STARTTLS, AUTH.
    async fn handshake(&mut self) -> Result<(), Error> {
        self.connect().await?;
        if self.config.security == Security::ImplicitTls {
            self.upgrade_tls().await?;
        }
        self.read_greeting().await?;
        self.ehlo().await?;
        self.maybe_starttls().await?;
        self.authenticate().await
    }

    /// Arms (or clears) the total deadline for the next send.
    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    async fn connect(&mut self) -> Result<(), Error> {
        let target = self.config.target.clone();
        let started = Instant::now();
        let limit = self.limit(self.config.timeouts.connect);
        tracing::debug!(%target, "connecting");
        let stream = match tokio::time::timeout(limit, self.config.connector.connect(&target)).await
        {
            Err(_) => {
                return Err(Error::Timeout {
                    phase: Phase::Connect,
                    after: limit,
                });
            }
            Ok(Err(source)) => {
                return Err(Error::Connect {
                    target: target.to_string(),
                    source,
                });
            }
            Ok(Ok(s)) => s,
        };
        self.stream = Some(stream);
        self.event(SessionEvent::Connected {
            target: target.to_string(),
            elapsed: started.elapsed(),
        });
        Ok(())
    }

    async fn read_greeting(&mut self) -> Result<(), Error> {
        let started = Instant::now();
        let reply = self
            .read_reply(Phase::Greeting, self.config.timeouts.greeting)
            .await?;
        if reply.code != 220 {
            return Err(Error::Rejected {
                phase: Phase::Greeting,
                reply,
            });
        }
        self.greeting = reply.text();
        self.event(SessionEvent::Greeting {
            text: self.greeting.clone(),
            elapsed: started.elapsed(),
        });
        Ok(())
    }

    /// What the server offers (from the latest EHLO, post-TLS when TLS is on).
    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// The server's greeting text.
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    /// TLS details, when the connection is encrypted.
    pub fn tls_info(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// The SASL mechanism used, when the session authenticated.
    pub fn authenticated_mechanism(&self) -> Option<&str> {
        self.mechanism.as_deref()
    }

    /// Messages accepted on this connection so far.
    pub fn messages_sent(&self) -> usize {
        self.messages
    }

    /// True after a protocol or I/O error, or when an operation was
    /// cancelled midway: the connection must not be reused.
    pub fn is_broken(&self) -> bool {
        self.broken || self.in_flight
    }

    pub(crate) fn idle_for(&self) -> Duration {
        self.last_used.elapsed()
    }

    /// A health check without a round trip: true when the server has sent
    /// nothing since the last reply (no EOF, no stray `421`). Polls the
    /// stream once and never waits, so a session reused right after a
    /// send costs no extra RSET.
    pub(crate) async fn is_quiet(&mut self) -> bool {
        if self.broken || self.in_flight || !self.rbuf.is_empty() || self.stream.is_none() {
            return false;
        }
        let mut byte = [0u8; 1];
        match self.poll_read_once(&mut byte).await {
            None => true,
            Some(n) => {
                // EOF, an error, or a stray byte: not reusable.
                self.rbuf.extend_from_slice(&byte[..n.unwrap_or(0)]);
                self.broken = true;
                false
            }
        }
    }

    /// Sends one raw command line (no CRLF) and returns the reply: for
    /// interactive debugging (`smtp shell`). The line is checked for CR/LF.
    pub async fn command(&mut self, line: &str) -> Result<Reply, Error> {
        if line.contains(['\r', '\n', '\0']) {
            return Err(Error::InvalidInput {
                what: "command",
                value: line.to_string(),
                reason: "contains CR, LF or NUL",
            });
        }
        self.begin(Phase::Reset)?;
        let result = self.raw_command(line).await;
        self.in_flight = false;
        result
    }

    async fn raw_command(&mut self, line: &str) -> Result<Reply, Error> {
        let phase = Phase::Reset;
        // A person typing AUTH by hand (`smtp shell`) sends secrets in the
        // command itself or in the lines that answer 334 challenges.
        let shown = if self.auth_pending {
            "<redacted>".to_string()
        } else {
            redact_auth_command(line)
        };
        self.log(Direction::Client, &shown);
        self.write_all(
            format!("{line}\r\n").as_bytes(),
            phase,
            self.config.timeouts.command,
        )
        .await?;
        let reply = self.read_reply(phase, self.config.timeouts.command).await?;
        self.auth_pending = reply.code == 334;
        Ok(reply)
    }

    /// `NOOP`: checks the connection is alive.
    pub async fn noop(&mut self) -> Result<(), Error> {
        self.begin(Phase::Reset)?;
        let result = self.simple("NOOP", Phase::Reset).await;
        self.in_flight = false;
        result
    }

    /// Asks whether the server would take mail from this sender to these
    /// recipients, without sending any: `MAIL FROM`, each `RCPT TO`, then
    /// `RSET` (also after a refusal). The first refusal is returned as
    /// [`Error::Rejected`] with phase `mail` or `rcpt`, so an anonymous
    /// session that may not relay is found before a real send fails.
    /// Addresses needing SMTPUTF8, a DSN request without DSN and
    /// REQUIRETLS without verified TLS are refused as a send would.
    pub async fn check_envelope(&mut self, envelope: &crate::Envelope) -> Result<(), Error> {
        self.begin(Phase::Mail)?;
        let result = self.check_envelope_inner(envelope).await;
        self.in_flight = false;
        result
    }

    async fn check_envelope_inner(&mut self, envelope: &crate::Envelope) -> Result<(), Error> {
        let lines = envelope::envelope_lines(&self.caps, self.tls.as_ref(), envelope, "")?;
        self.note_dsn_dropped(envelope);
        let mut result = Ok(());
        for (i, line) in lines.iter().enumerate() {
            let phase = if i == 0 { Phase::Mail } else { Phase::Rcpt };
            result = self.simple(line, phase).await;
            if result.is_err() {
                break;
            }
        }
        // A refusal leaves the connection usable: reset it either way.
        match result {
            Err(e) if e.reply().is_none() => Err(e),
            other => {
                self.reset().await?;
                other
            }
        }
    }

    /// `RSET`: aborts any transaction; also the pool's health check.
    pub async fn rset(&mut self) -> Result<(), Error> {
        self.begin(Phase::Reset)?;
        let result = self.reset().await;
        self.in_flight = false;
        result
    }

    /// Starts a public operation; refuses one on a connection that broke,
    /// or whose previous operation was cancelled midway (its future
    /// dropped): what the server is in the middle of is then unknown.
    fn begin(&mut self, phase: Phase) -> Result<(), Error> {
        if self.in_flight {
            self.broken = true;
        }
        if self.broken {
            return Err(Error::ConnectionClosed { phase });
        }
        self.in_flight = true;
        Ok(())
    }

    /// `RSET` inside an operation that already counts as in flight.
    async fn reset(&mut self) -> Result<(), Error> {
        self.simple("RSET", Phase::Reset).await
    }

    /// `QUIT`, then closes the connection. Errors are ignored: the server
    /// may close first.
    pub async fn quit(mut self) {
        // A cancelled operation may have left the server reading message
        // data: a QUIT line would become part of the message.
        if !self.is_broken() && self.stream.is_some() {
            let _ = self.simple("QUIT", Phase::Quit).await;
        }
        if let Some(mut s) = self.stream.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), s.shutdown()).await;
        }
    }

    async fn simple(&mut self, cmd: &str, phase: Phase) -> Result<(), Error> {
        self.ensure_no_surplus(phase).await?;
        self.log(Direction::Client, cmd);
        let timeout = self.config.timeouts.command;
        self.write_all(format!("{cmd}\r\n").as_bytes(), phase, timeout)
            .await?;
        let reply = self.read_reply(phase, timeout).await?;
        if reply.is_positive() {
            Ok(())
        } else {
            Err(Error::Rejected { phase, reply })
        }
    }

    // ----- primitives -------------------------------------------------------

    /// The time allowed for a step: the phase's limit, cut short by the
    /// total deadline if one is running.
    fn limit(&self, phase_limit: Duration) -> Duration {
        match self.deadline {
            Some(d) => phase_limit.min(d.saturating_duration_since(Instant::now())),
            None => phase_limit,
        }
    }

    /// Whether protocol lines go anywhere: a transcript that wants them,
    /// or a `smtp::wire` trace. Lets the hot paths skip formatting them.
    pub(super) fn lines_wanted(&self) -> bool {
        self.config
            .transcript
            .as_ref()
            .is_some_and(|t| t.wants_lines())
            || tracing::enabled!(target: "smtp::wire", tracing::Level::TRACE)
    }

    fn log(&self, direction: Direction, line: &str) {
        let line = match direction {
            Direction::Server => self.scrubbed(line),
            _ => std::borrow::Cow::Borrowed(line),
        };
        if let Some(t) = self.config.transcript.as_ref().filter(|t| t.wants_lines()) {
            t.line(direction, &line);
        }
        tracing::trace!(target: "smtp::wire", "{}: {}", direction.tag(), line);
    }

    /// `text` with every secret sent during AUTH replaced by `<redacted>`.
    fn scrubbed<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        use secrecy::ExposeSecret;
        let mut out = std::borrow::Cow::Borrowed(text);
        for secret in &self.scrub {
            let s = secret.expose_secret();
            if out.contains(s) {
                out = std::borrow::Cow::Owned(out.replace(s, "<redacted>"));
            }
        }
        out
    }

    fn event(&self, event: SessionEvent) {
        if let Some(t) = &self.config.transcript {
            t.event(&event);
        }
    }

    /// Writes and flushes `bytes` in one go, under `timeout`.
    async fn write_all(
        &mut self,
        bytes: &[u8],
        phase: Phase,
        timeout: Duration,
    ) -> Result<(), Error> {
        self.write_counted(bytes, phase, timeout).await.1
    }

    /// Reads one complete reply, logging each line as it is consumed. A
    /// failure (silence, EOF, bytes that are no reply, a reply no command
    /// of the phase can get) leaves no known reply boundary: the session
    /// is broken.
    async fn read_reply(&mut self, phase: Phase, timeout: Duration) -> Result<Reply, Error> {
        let result = self.await_reply(phase, timeout).await;
        self.broken |= result.is_err();
        result
    }

    /// A reply already buffered costs no clock read and no timer; a read
    /// goes into the buffer's spare capacity (no zero fill) under the
    /// session's one timer, armed only if the read has to wait.
    async fn await_reply(&mut self, phase: Phase, timeout: Duration) -> Result<Reply, Error> {
        if let Some(reply) = self.parse_buffered(phase)? {
            return self.check_reply(phase, reply);
        }
        let limit = self.limit(timeout);
        let started = Instant::now();
        let mut noticed = false;
        loop {
            let remaining = limit.saturating_sub(started.elapsed());
            // Waiting for the greeting with nothing received: wake up once
            // to say so (see SessionEvent::Waiting), then wait on.
            let notice = (phase == Phase::Greeting && !noticed && self.rbuf.is_empty())
                .then(|| crate::WAITING_NOTICE_AFTER.saturating_sub(started.elapsed()))
                .filter(|until| *until < remaining);
            if self.rbuf.capacity() - self.rbuf.len() < READ_CHUNK / 2 {
                self.rbuf.reserve(READ_CHUNK);
            }
            let read = {
                let stream = self
                    .stream
                    .as_mut()
                    .ok_or(Error::ConnectionClosed { phase })?;
                self.timer
                    .run(notice.unwrap_or(remaining), stream.read_buf(&mut self.rbuf))
                    .await
            };
            let n = match read {
                None if notice.is_some() => {
                    noticed = true;
                    let elapsed = started.elapsed();
                    tracing::info!(target = %self.config.target, ?elapsed, "still waiting for the greeting");
                    self.event(SessionEvent::Waiting { phase, elapsed });
                    continue;
                }
                Some(Ok(n)) => n,
                Some(Err(source)) => return Err(io_error(phase, source)),
                None => {
                    return Err(Error::Timeout {
                        phase,
                        after: limit,
                    });
                }
            };
            if n == 0 {
                return Err(Error::ConnectionClosed { phase });
            }
            // Replies taken from the buffer later arrived in this read.
            self.last_used = Instant::now();
            if let Some(reply) = self.parse_buffered(phase)? {
                return self.check_reply(phase, reply);
            }
        }
    }

    fn log_server_bytes(&self, used: usize) {
        if !self.lines_wanted() {
            return;
        }
        for line in self.rbuf[..used]
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
        {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line = String::from_utf8_lossy(line);
            self.log(Direction::Server, &crate::reply::printable(&line));
        }
    }
}

/// Runs a plugin's future (authenticator, token refresh) under `limit`: a
/// plugin that never answers must not hang the caller.
async fn bounded<T>(
    phase: Phase,
    limit: Duration,
    fut: impl Future<Output = T>,
) -> Result<T, Error> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| Error::Timeout {
            phase,
            after: limit,
        })
}

/// `AUTH <mechanism> <initial response>` as shown in transcripts.
fn redact_auth_command(line: &str) -> String {
    let mut words = line.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some(verb), Some(mechanism), Some(_)) if verb.eq_ignore_ascii_case("AUTH") => {
            format!("{verb} {mechanism} <redacted>")
        }
        _ => line.to_string(),
    }
}

fn io_error(phase: Phase, source: std::io::Error) -> Error {
    match source.kind() {
        std::io::ErrorKind::UnexpectedEof
        | std::io::ErrorKind::ConnectionReset
        | std::io::ErrorKind::BrokenPipe
        | std::io::ErrorKind::ConnectionAborted => Error::ConnectionClosed { phase },
        _ => Error::Io { phase, source },
    }
}
