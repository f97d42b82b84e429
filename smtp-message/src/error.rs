//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong composing or reading a message.
///
/// Values are shown `Debug`-escaped, so a control character in the input
/// is visible in the message (`"x\r\n"`), never acted upon.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value given to [`Composer`](crate::Composer) or
    /// [`Attachment`](crate::Attachment) cannot be written safely.
    #[error("invalid {field} {value:?}: {reason}")]
    InvalidValue {
        /// Which input ("subject", "from name", "header X-Job", ...).
        field: String,
        /// The offending value, exactly as given.
        value: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An address is not a valid mailbox (`local@domain`).
    #[error("invalid address {value:?} in {field}: {reason}")]
    InvalidAddress {
        /// Where the address came from ("to", "cc", "header Bcc", ...).
        field: String,
        /// The offending address, exactly as given or parsed.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// The message has no To, Cc or Bcc recipient.
    #[error("no recipients: add at least one with to, cc or bcc")]
    NoRecipients,
    /// The header block of a raw message is malformed in a way that could
    /// make the envelope and the content disagree.
    #[error("invalid header block: {reason} (at byte {offset})")]
    MalformedHeader {
        /// What is wrong.
        reason: &'static str,
        /// Byte offset in the header block as read.
        offset: usize,
    },
    /// The header block of a raw message has no end within the limit.
    #[error("header block longer than {limit} bytes (RawOptions::max_header_bytes)")]
    HeaderTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// A single-use source (a reader attachment, a message read from a
    /// stream) was already opened once.
    #[error("{what} was already read: a reader can be sent only once")]
    Consumed {
        /// What was consumed ("attachment \"a.bin\"", "raw message").
        what: String,
    },
    /// A file changed between building and sending, so the size announced
    /// to the server would be wrong.
    #[error("{} changed since the message was built: {expected} bytes then, {actual} now", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// Its size when the message was built or read.
        expected: u64,
        /// Its size now.
        actual: u64,
    },
    /// A file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Reading a message stream failed.
    #[error("cannot read the message: {0}")]
    Io(#[from] std::io::Error),
    /// The DKIM key file cannot be read.
    #[cfg(feature = "dkim")]
    #[error("cannot read the DKIM key file {}: {source}", path.display())]
    DkimKeyFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The DKIM key is not a usable private key. The reason never quotes
    /// the key.
    #[cfg(feature = "dkim")]
    #[error("invalid DKIM key{}: {reason}", path.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default())]
    DkimKeyFormat {
        /// The file, when read from one.
        path: Option<PathBuf>,
        /// What is wrong with it.
        reason: String,
    },
    /// A DKIM setting (domain, selector, headers, canonicalization) is
    /// unusable.
    #[cfg(feature = "dkim")]
    #[error("invalid DKIM {setting}: {reason}")]
    DkimSettings {
        /// Which setting.
        setting: &'static str,
        /// Why.
        reason: String,
    },
    /// Signing a message failed.
    #[cfg(feature = "dkim")]
    #[error("cannot DKIM-sign the message: {reason}")]
    DkimSign {
        /// What mail-auth reported.
        reason: String,
    },
}

impl Error {
    /// What to do about a DKIM error, with its stable code (see
    /// docs/troubleshooting.md); `None` for the other errors, whose message
    /// says it all.
    #[cfg(feature = "dkim")]
    pub fn coded_hint(&self) -> Option<smtp_core::Hint> {
        use crate::dkim::hints;
        match self {
            Error::DkimKeyFile { .. } => Some(hints::KEY_FILE),
            Error::DkimKeyFormat { .. } => Some(hints::KEY_FORMAT),
            Error::DkimSettings { .. } => Some(hints::SETTINGS),
            Error::DkimSign { .. } => Some(hints::SIGN),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, value: &str, reason: &'static str) -> Error {
        Error::InvalidValue {
            field: field.into(),
            value: value.to_string(),
            reason,
        }
    }

    pub(crate) fn file(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::File { path, source }
    }
}
