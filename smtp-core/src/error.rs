//! The one error type of `smtp-core`.

use std::fmt;
use std::time::Duration;

use crate::classify::{PluginError, Retry};
use crate::delivery::RecipientOutcome;
use crate::reply::Reply;

/// A boxed error from a plugin (connector, TLS upgrade, SASL mechanism).
///
/// Plugins keep their own error enums; the engine carries them here so
/// callers can `downcast_ref` to the plugin's type.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The stage of a session an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// Building or validating input before any byte goes out.
    Input,
    /// Reaching the server (TCP, or a proxy tunnel).
    Connect,
    /// The TLS handshake (implicit TLS or after STARTTLS).
    Tls,
    /// Waiting for the server's `220` greeting.
    Greeting,
    /// `EHLO` / `HELO`.
    Ehlo,
    /// The `STARTTLS` command.
    StartTls,
    /// `AUTH`.
    Auth,
    /// `MAIL FROM`.
    Mail,
    /// `RCPT TO`.
    Rcpt,
    /// `DATA` or `BDAT`, up to and including the end-of-data reply.
    Data,
    /// `RSET` or `NOOP` (connection reuse).
    Reset,
    /// `QUIT`.
    Quit,
    /// Writing to a local outbox (file transport).
    Outbox,
}

impl Phase {
    /// A short lowercase name, as used in messages (`"rcpt"`, `"tls"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Input => "input",
            Phase::Connect => "connect",
            Phase::Tls => "tls",
            Phase::Greeting => "greeting",
            Phase::Ehlo => "ehlo",
            Phase::StartTls => "starttls",
            Phase::Auth => "auth",
            Phase::Mail => "mail",
            Phase::Rcpt => "rcpt",
            Phase::Data => "data",
            Phase::Reset => "reset",
            Phase::Quit => "quit",
            Phase::Outbox => "outbox",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong while sending mail.
///
/// `Display` is one line, starting lowercase (acronyms such as TLS keep
/// their case), naming the phase and what the server replied or did; it
/// states the fact only. [`Error::hint`] / [`Error::coded_hint`] say what to
/// try (for plugin errors, `smtp_config::coded_hint` asks the plugin).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An address, EHLO name or parameter was rejected before connecting.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidInput {
        /// What was being checked ("address", "ehlo name", ...).
        what: &'static str,
        /// The offending value, with control characters escaped by `Debug`.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A proxy URL could not be parsed (see [`ProxyUrl`](crate::ProxyUrl)).
    #[error("invalid proxy URL {url:?}: {reason}")]
    InvalidProxyUrl {
        /// The URL as given, with any password replaced by `<redacted>`.
        url: String,
        /// What is wrong with it; never quotes the user name or password.
        reason: String,
    },
    /// The connector (TCP or proxy) could not reach the server.
    #[error("connect to {target} failed: {source}")]
    Connect {
        /// `host:port` being reached.
        target: String,
        /// The connector's own error.
        #[source]
        source: BoxError,
    },
    /// The TLS handshake or TLS configuration failed.
    #[error("TLS with {server} failed: {source}")]
    Tls {
        /// The name the certificate was checked against.
        server: String,
        /// The TLS plugin's own error.
        #[source]
        source: BoxError,
    },
    /// The server answered with a non-success reply.
    #[error("{phase} rejected by server: {reply}")]
    Rejected {
        /// Which command was refused.
        phase: Phase,
        /// The server's reply.
        reply: Reply,
    },
    /// No recipient of the transaction was accepted: nothing was sent.
    #[error("no recipient accepted: {}", summarize(.rejected))]
    NoRecipientsAccepted {
        /// Every recipient with the server's reply to it.
        rejected: Vec<RecipientOutcome>,
    },
    /// The server did not answer in time.
    #[error("{phase} timed out after {}", humanize(*.after))]
    Timeout {
        /// What we were waiting for.
        phase: Phase,
        /// The configured limit that ran out.
        after: Duration,
    },
    /// Reading or writing the connection failed.
    #[error("{phase} failed: {source}")]
    Io {
        /// What we were doing.
        phase: Phase,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The server closed the connection.
    #[error("{phase} failed: the server closed the connection")]
    ConnectionClosed {
        /// What we were doing.
        phase: Phase,
    },
    /// A message of a batch that never had its turn: an earlier failure
    /// on the same connection ended the batch first. Its commands may have
    /// ridden ahead, or the server refused its `MAIL` only because of the
    /// earlier message, but nothing of it was accepted: sending it again is
    /// safe, and is not a retry of a failed attempt.
    #[error("not started: the connection failed before this message's turn ({cause})")]
    NotStarted {
        /// The failure that stopped the batch.
        cause: String,
    },
    /// The server sent something that is not SMTP.
    #[error("{phase} failed: protocol violation by server: {detail}")]
    Protocol {
        /// What we were doing.
        phase: Phase,
        /// What was wrong.
        detail: String,
    },
    /// The connection broke after the message was handed over, before the
    /// server confirmed it: it may or may not have been delivered.
    #[error("unknown outcome: {detail}; the message may or may not have been accepted")]
    UnknownOutcome {
        /// What happened.
        detail: String,
    },
    /// STARTTLS was required but the server does not offer it.
    #[error("STARTTLS required but the server does not offer it")]
    StartTlsNotOffered,
    /// The server sent bytes after its `220` to STARTTLS, before the TLS
    /// handshake: a response-injection attempt (CVE-2011-0411 class).
    #[error("STARTTLS aborted: the server sent {bytes} unexpected bytes before the TLS handshake")]
    StartTlsInjection {
        /// How many bytes were pending.
        bytes: usize,
    },
    /// TLS is wanted but no TLS implementation is configured.
    #[error("TLS requested but no TLS implementation is configured")]
    TlsNotConfigured,
    /// The SASL layer (mechanism choice or a mechanism) failed locally.
    #[error("auth failed: {source}")]
    Sasl {
        /// The mechanism's or authenticator's error.
        #[source]
        source: BoxError,
    },
    /// A mechanism that exposes the secret was about to run without TLS.
    #[error(
        "auth {mechanism} refused: it would send the password in clear over a connection without TLS"
    )]
    CleartextAuthRefused {
        /// The mechanism that was refused.
        mechanism: String,
    },
    /// The message is larger than the server's advertised `SIZE` limit.
    #[error("message of {size} bytes exceeds the server's size limit of {limit} bytes")]
    MessageTooBig {
        /// Size of the message.
        size: u64,
        /// The server's limit.
        limit: u64,
    },
    /// Reading the message body failed.
    #[error("reading the message failed: {0}")]
    Message(#[source] std::io::Error),
    /// The message has 8-bit bytes and the server does not offer
    /// `8BITMIME` (RFC 6152): sent raw, it could be mangled on the way.
    /// Refused before the body when the message is known to be 8-bit,
    /// else when the first such byte is read (the connection is then
    /// dropped so the server discards the partial message).
    #[error("the message has 8-bit content but the server does not offer 8BITMIME")]
    EightBitNotSupported,
    /// The message asks for delivery status notifications (RFC 3461:
    /// `NOTIFY`, `RET`, `ENVID`, `ORCPT`) but the server does not offer
    /// `DSN`, and [`IfUnsupported::Fail`](crate::dsn::IfUnsupported::Fail)
    /// is in effect. Nothing of the message was sent.
    #[error(
        "mail not sent: the message asks for delivery status notifications (NOTIFY/RET/ENVID/ORCPT) but the server does not offer DSN"
    )]
    DsnNotSupported,
    /// The message must go with REQUIRETLS (RFC 8689) and this session
    /// cannot carry it. Nothing of the message was sent.
    #[error("mail not sent: REQUIRETLS is required but {problem}")]
    RequireTls {
        /// What is missing.
        problem: RequireTlsProblem,
    },
    /// Writing to the outbox directory failed.
    #[error("writing to outbox {path} failed: {source}")]
    Outbox {
        /// The outbox path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Why a message asking for REQUIRETLS cannot go on this session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequireTlsProblem {
    /// The session is not encrypted.
    NoTls,
    /// TLS is on, but a `dangerous_*` switch let the certificate through
    /// unverified.
    UnverifiedCertificate,
    /// The server does not offer `REQUIRETLS`.
    NotOffered,
}

impl fmt::Display for RequireTlsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequireTlsProblem::NoTls => "the session is not encrypted (no TLS)",
            RequireTlsProblem::UnverifiedCertificate => {
                "the server's certificate was not verified (a dangerous_* TLS switch is on)"
            }
            RequireTlsProblem::NotOffered => "the server does not offer REQUIRETLS",
        })
    }
}

fn humanize(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn summarize(rejected: &[RecipientOutcome]) -> String {
    let parts: Vec<String> = rejected
        .iter()
        .map(|r| format!("{}: {}", r.recipient, r.reply))
        .collect();
    parts.join("; ")
}

impl Error {
    /// The phase the error belongs to.
    pub fn phase(&self) -> Phase {
        match self {
            Error::InvalidInput { .. }
            | Error::InvalidProxyUrl { .. }
            | Error::MessageTooBig { .. }
            | Error::Message(_)
            | Error::EightBitNotSupported => Phase::Input,
            Error::DsnNotSupported | Error::RequireTls { .. } => Phase::Mail,
            Error::Connect { .. } => Phase::Connect,
            Error::Tls { .. } | Error::TlsNotConfigured => Phase::Tls,
            Error::Rejected { phase, .. }
            | Error::Timeout { phase, .. }
            | Error::Io { phase, .. }
            | Error::ConnectionClosed { phase }
            | Error::Protocol { phase, .. } => *phase,
            Error::NoRecipientsAccepted { .. } => Phase::Rcpt,
            Error::UnknownOutcome { .. } => Phase::Data,
            Error::NotStarted { .. } => Phase::Mail,
            Error::StartTlsNotOffered | Error::StartTlsInjection { .. } => Phase::StartTls,
            Error::Sasl { .. } | Error::CleartextAuthRefused { .. } => Phase::Auth,
            Error::Outbox { .. } => Phase::Outbox,
        }
    }

    /// The server's reply, when the error came from one.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Error::Rejected { reply, .. } => Some(reply),
            Error::NoRecipientsAccepted { rejected } => rejected.first().map(|r| &r.reply),
            _ => None,
        }
    }

    /// What retrying can achieve: the one classification rule. A plugin's
    /// error ([`PluginError`]) gives its own verdict; otherwise 4xx
    /// replies, timeouts, dropped or refused connections are transient,
    /// a broken connection after the end of data is an unknown outcome,
    /// and everything else (5xx, bad input, TLS, protocol violations) is
    /// permanent.
    pub fn retry(&self) -> Retry {
        if let Some(p) = self.plugin() {
            return p.retry();
        }
        let transient = match self {
            Error::UnknownOutcome { .. } => return Retry::UnknownOutcome,
            Error::Rejected { reply, .. } => reply.is_transient(),
            Error::NoRecipientsAccepted { rejected } => {
                rejected.iter().any(|r| r.reply.is_transient())
            }
            Error::Connect { .. }
            | Error::Timeout { .. }
            | Error::Io { .. }
            | Error::ConnectionClosed { .. }
            | Error::NotStarted { .. } => true,
            _ => false,
        };
        if transient {
            Retry::Transient
        } else {
            Retry::Permanent
        }
    }

    /// The plugin error this error carries, with the plugin's own
    /// classification (see [`Classify`](crate::Classify)).
    pub fn plugin(&self) -> Option<&PluginError> {
        match self {
            Error::Connect { source, .. } | Error::Tls { source, .. } | Error::Sasl { source } => {
                PluginError::find(source.as_ref())
            }
            _ => None,
        }
    }

    /// A later attempt may succeed (see [`Error::retry`]).
    pub fn is_transient(&self) -> bool {
        self.retry() == Retry::Transient
    }

    /// Retrying the same thing will fail the same way (see [`Error::retry`]).
    pub fn is_permanent(&self) -> bool {
        self.retry() == Retry::Permanent
    }

    /// The message never started (see [`Error::NotStarted`]): send it
    /// again without counting an attempt.
    pub fn is_not_started(&self) -> bool {
        matches!(self, Error::NotStarted { .. })
    }

    /// The outcome is unknown: the message may have been delivered.
    pub fn is_unknown_outcome(&self) -> bool {
        self.retry() == Retry::UnknownOutcome
    }

    /// What a person should try, when there is a likely cause.
    pub fn hint(&self) -> Option<String> {
        self.coded_hint().map(|h| h.to_string())
    }

    /// [`Error::hint`] with its stable code (see [`Hint`](crate::Hint)):
    /// the plugin's own for a plugin error that gives one.
    pub fn coded_hint(&self) -> Option<crate::Hint> {
        if let Some(h) = self.plugin().and_then(PluginError::hint) {
            return Some(h);
        }
        crate::hint::hint_for(self)
    }
}
