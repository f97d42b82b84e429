#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod chunk_sink;
mod dkim;
#[cfg(feature = "engine")]
pub mod engine;
mod envfile;
mod error;
mod maildir;
mod peers;
pub mod relay;
mod scripted;
mod spki;
mod trap;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub use dkim::{DkimKeyKind, DkimTestKey, dkimpy_verify, openssl};
pub use error::Error;
pub use maildir::{remove_mail, wait_for_mail, wait_for_mail_async, wait_for_mail_count};
pub use peers::{DEFAULT_PEERS_ENV, PEERS_ENV_VAR, Peers, peers, peers_env_path};
#[cfg(feature = "tls")]
pub use scripted::rig_tls_accept;
pub use scripted::{Duplex, ScriptConn, ScriptedServer, Step, TlsAccept};
pub use spki::openssl_pin;
pub use trap::ConnectionTrap;

/// A string no other test (in this or another process, in this or an
/// earlier run) produces: `label-<unix nanos>-<pid>-<counter>`. Put it in a
/// Subject or Message-ID and look for it with [`wait_for_mail`]: the peers'
/// Maildirs are shared by every test and keep mail across runs.
pub fn unique_tag(label: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{label}-{nanos}-{}-{n}", std::process::id())
}

#[cfg(test)]
mod tests {
    #[test]
    fn unique_tags_differ() {
        let a = super::unique_tag("t");
        let b = super::unique_tag("t");
        assert_ne!(a, b);
        assert!(a.starts_with("t-"));
    }
}
