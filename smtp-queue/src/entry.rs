//! One queued message's metadata: the `<id>.json` beside its `<id>.eml`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use smtp_core::{Address, Envelope};

use crate::error::Error;
use crate::params::EnvelopeParams;

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum State {
    /// Waiting for its next attempt.
    Queued,
    /// Kept back by the operator (`hold`) until released.
    Held,
    /// An attempt is under way; found after a crash, it becomes `Unknown`.
    Sending,
    /// The connection broke after the end of data (or the sender died
    /// mid-attempt): it may have been delivered. Sent again only when
    /// asked (`retry.unknown_outcome`, `flush --retry-unknown`).
    Unknown,
    /// Refused for good, or expired (`queue.max_age`); kept for the
    /// operator to read and remove.
    Failed,
}

impl State {
    /// `queued`, `held`, `sending`, `unknown` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Held => "held",
            State::Sending => "sending",
            State::Unknown => "unknown",
            State::Failed => "failed",
        }
    }
}

/// A queued message as its metadata file describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Entry {
    /// The queue id (also the file names).
    pub id: String,
    /// The envelope sender (`None`: the null sender `<>`).
    pub from: Option<String>,
    /// The envelope recipients.
    pub to: Vec<String>,
    /// The message's `Message-ID`, when it has one.
    pub message_id: Option<String>,
    /// Bytes of the message file.
    pub size: u64,
    /// Unix seconds when it was queued.
    pub created: u64,
    /// Where it stands.
    pub state: State,
    /// Attempts made so far.
    pub attempts: u32,
    /// Unix seconds before which it is not tried again.
    pub next_attempt: u64,
    /// Unix seconds of the last attempt.
    pub last_attempt: Option<u64>,
    /// The last error (server reply included), if any.
    pub last_error: Option<String>,
    /// DSN and REQUIRETLS settings (absent in metadata written before
    /// they existed, and when the message has none).
    #[serde(default, skip_serializing_if = "EnvelopeParams::is_empty")]
    pub params: EnvelopeParams,
}

/// Unix seconds now.
pub fn now_unix() -> u64 {
    now()
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(crate) fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Entry {
    pub(crate) fn new(
        id: String,
        envelope: &Envelope,
        size: u64,
        message_id: Option<String>,
    ) -> Entry {
        let created = now();
        Entry {
            id,
            from: envelope.from().map(|a| a.to_string()),
            to: envelope.to().iter().map(|a| a.to_string()).collect(),
            message_id,
            size,
            created,
            state: State::Queued,
            attempts: 0,
            next_attempt: created,
            last_attempt: None,
            last_error: None,
            params: EnvelopeParams::of(envelope),
        }
    }

    /// The envelope to send it with.
    pub fn envelope(&self) -> Result<Envelope, smtp_core::Error> {
        let from = self.from.as_deref().map(Address::new).transpose()?;
        let to = self.to.iter().map(Address::new).collect::<Result<_, _>>()?;
        self.params.apply(Envelope::new(from, to)?)
    }

    /// How long it has been queued.
    pub fn age(&self) -> Duration {
        Duration::from_secs(now().saturating_sub(self.created))
    }

    /// When it was queued, RFC 3339.
    pub fn created_rfc3339(&self) -> String {
        rfc3339(self.created)
    }

    /// When it is tried next, RFC 3339.
    pub fn next_attempt_rfc3339(&self) -> String {
        rfc3339(self.next_attempt)
    }

    pub(crate) fn parse(bytes: &[u8], path: &std::path::Path) -> Result<Entry, Error> {
        serde_json::from_slice(bytes).map_err(|e| Error::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }
}

/// Unix seconds as RFC 3339 (UTC).
pub fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}
