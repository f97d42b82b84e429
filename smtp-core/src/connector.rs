//! How bytes reach the server: the [`Connector`] trait and [`TcpConnector`].

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::error::BoxError;

/// A bidirectional byte stream the session can run over: TCP, a proxy
/// tunnel, TLS on top of either, or an in-memory pipe in tests.
pub trait AsyncStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncStream for T {}

/// A boxed [`AsyncStream`]; what connectors and TLS upgrades hand over.
pub type BoxStream = Box<dyn AsyncStream>;

/// Where to connect: a host name or IP literal, and a port.
///
/// The host is kept as given, not resolved, so a proxy can resolve it
/// (SOCKS5 `socks5h` semantics).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// Host name or IP address literal (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Target {
    /// A target from host and port.
    pub fn new(host: impl Into<String>, port: u16) -> Target {
        let host = host.into();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .map(str::to_string)
            .unwrap_or(host);
        Target { host, port }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Opens a byte stream to a target. Decorators (proxies) wrap an inner
/// connector, hyper-util style, so `TCP -> SOCKS5 -> HTTP CONNECT` composes.
#[async_trait]
pub trait Connector: Send + Sync + fmt::Debug {
    /// Connects to `target`. Timeouts are applied by the caller.
    async fn connect(&self, target: &Target) -> Result<BoxStream, BoxError>;
}

#[async_trait]
impl<C: Connector + ?Sized> Connector for std::sync::Arc<C> {
    async fn connect(&self, target: &Target) -> Result<BoxStream, BoxError> {
        (**self).connect(target).await
    }
}

/// Plain TCP: resolves the host (IPv4 and IPv6), tries each address in
/// turn, and turns on `TCP_NODELAY` (the engine coalesces its own writes).
#[derive(Debug, Clone, Default)]
pub struct TcpConnector {
    per_address_timeout: Option<Duration>,
}

impl TcpConnector {
    /// A TCP connector with no per-address limit (the session's connect
    /// timeout still applies to the whole attempt).
    pub fn new() -> TcpConnector {
        TcpConnector::default()
    }

    /// Gives up on one resolved address after `limit` and tries the next,
    /// so a dead IPv6 route does not eat the whole connect timeout.
    pub fn per_address_timeout(mut self, limit: Duration) -> TcpConnector {
        self.per_address_timeout = Some(limit);
        self
    }

    /// Connects and returns the concrete stream (used by proxies that need
    /// a `TcpStream`).
    pub async fn connect_tcp(&self, target: &Target) -> Result<TcpStream, std::io::Error> {
        // Resolution failures say so by kind, not by their text, so the
        // hint (connect-dns) never depends on the resolver's wording.
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("cannot resolve {}: {e}", target.host),
                )
            })?
            .collect();
        if addrs.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} resolves to no address", target.host),
            ));
        }
        let mut last = None;
        for addr in addrs {
            let attempt = TcpStream::connect(addr);
            let result = match self.per_address_timeout {
                Some(limit) => match tokio::time::timeout(limit, attempt).await {
                    Ok(r) => r,
                    Err(_) => Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("connecting to {addr} timed out"),
                    )),
                },
                None => attempt.await,
            };
            match result {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    tracing::debug!(%addr, "tcp connected");
                    return Ok(stream);
                }
                Err(e) => {
                    tracing::debug!(%addr, error = %e, "tcp connect failed");
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no address to connect to")))
    }
}

#[async_trait]
impl Connector for TcpConnector {
    async fn connect(&self, target: &Target) -> Result<BoxStream, BoxError> {
        let stream = self.connect_tcp(target).await?;
        Ok(Box::new(crate::quick_ack::QuickAckStream::new(stream)))
    }
}
