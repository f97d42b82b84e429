//! The one error type of `smtp-testkit`.

use std::path::PathBuf;

/// Why the peers file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peers file could not be read (usually: it does not exist).
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not `KEY=VALUE` shell syntax.
    #[error("line {line}: {reason}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A key the typed [`crate::Peers`] needs is absent.
    #[error("no {key}: the file was written by an older start.sh, run it again")]
    MissingKey {
        /// The key.
        key: &'static str,
    },
    /// A value does not have the expected type (a port that is not a u16).
    #[error("{key}={value:?} is not a valid value")]
    BadValue {
        /// The key.
        key: &'static str,
        /// The value found.
        value: String,
    },
    /// A peer listed in the file does not accept TCP connections.
    #[error("{name} does not accept connections on 127.0.0.1:{port}: {source}")]
    PeerDown {
        /// The peer (`postfix`, `squid`, ...).
        name: &'static str,
        /// The port probed.
        port: u16,
        /// The connect error.
        #[source]
        source: std::io::Error,
    },
}
