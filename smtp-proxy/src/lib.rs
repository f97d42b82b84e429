#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod from_url;
mod handshake;
mod hint;
mod http;
mod http_head;
mod reply;
mod socks4;
mod socks5;
mod tls;

use std::time::Duration;

pub use error::{Error, ProxyPhase};
pub use from_url::ProxyUrlExt;
pub use hint::hints;
pub use http::HttpConnect;
pub use reply::{Socks4Reply, Socks5Reply};
pub use socks4::Socks4;
pub use socks5::Socks5;
pub use tls::ProxyTls;

/// How long reaching a proxy and finishing its handshake may take, unless
/// set with `handshake_timeout`: 30 seconds.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Who resolves the target server's host name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dns {
    /// The proxy resolves it (`socks5h`, `socks4a`): this machine makes no
    /// DNS query for the server, and names only the proxy can resolve work.
    #[default]
    Remote,
    /// This machine resolves it and sends an IP address (`socks5`, `socks4`);
    /// the first IPv4 address is preferred, since many proxies reach only IPv4.
    Local,
}
