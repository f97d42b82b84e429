//! The one error type of smtp-queue.

use std::path::PathBuf;

/// What can go wrong with the spool itself (sending has its own errors,
/// reported per message as [`smtp_core::Error`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing the queue directory failed.
    #[error("queue {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No message with this id is queued.
    #[error("no queued message {id:?}")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// The message is being sent by another process right now.
    #[error("queued message {id} is being sent by another process")]
    Busy {
        /// The message's id.
        id: String,
    },
    /// A queue file could not be parsed (truncated or edited by hand).
    #[error("queue file {path} is unreadable: {reason}")]
    Corrupt {
        /// The metadata file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading the message to queue failed.
    #[error("reading the message to queue failed: {0}")]
    Message(#[source] smtp_core::Error),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
