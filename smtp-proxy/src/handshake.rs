//! What every proxy handshake shares: one deadline over all its steps,
//! I/O errors named by phase, and local name resolution.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use smtp_core::{BoxStream, Connector, Target};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use crate::error::{Error, ProxyPhase};

/// One handshake in progress: the proxy's name for errors, and a deadline
/// that covers reaching the proxy, authenticating and opening the tunnel,
/// so a proxy that trickles bytes cannot stretch the limit step by step.
pub(crate) struct Handshake {
    pub(crate) proxy: String,
    limit: Duration,
    deadline: Instant,
}

impl Handshake {
    pub(crate) fn new(proxy: String, limit: Duration) -> Handshake {
        Handshake {
            proxy,
            limit,
            deadline: Instant::now() + limit,
        }
    }

    pub(crate) async fn connect_inner<C: Connector + ?Sized>(
        &self,
        inner: &C,
        proxy: &Target,
    ) -> Result<BoxStream, Error> {
        match tokio::time::timeout_at(self.deadline, inner.connect(proxy)).await {
            Err(_) => Err(self.timeout(ProxyPhase::Connect)),
            Ok(Err(source)) => match source.downcast::<Error>() {
                // TLS to an https:// proxy: already names the proxy.
                Ok(tls) if matches!(*tls, Error::ProxyTls { .. }) => Err(*tls),
                Ok(other) => Err(Error::ConnectToProxy {
                    proxy: self.proxy.clone(),
                    source: other,
                }),
                Err(source) => Err(Error::ConnectToProxy {
                    proxy: self.proxy.clone(),
                    source,
                }),
            },
            Ok(Ok(stream)) => Ok(stream),
        }
    }

    /// Runs one I/O step under the deadline.
    pub(crate) async fn io<T>(
        &self,
        phase: ProxyPhase,
        step: impl Future<Output = io::Result<T>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout_at(self.deadline, step).await {
            Err(_) => Err(self.timeout(phase)),
            Ok(Err(e)) => Err(self.io_error(phase, e)),
            Ok(Ok(v)) => Ok(v),
        }
    }

    pub(crate) async fn send<S: AsyncWrite + Unpin + ?Sized>(
        &self,
        phase: ProxyPhase,
        stream: &mut S,
        bytes: &[u8],
    ) -> Result<(), Error> {
        self.io(phase, async {
            stream.write_all(bytes).await?;
            stream.flush().await
        })
        .await
    }

    pub(crate) async fn read_exact<S: AsyncRead + Unpin + ?Sized>(
        &self,
        phase: ProxyPhase,
        stream: &mut S,
        buf: &mut [u8],
    ) -> Result<(), Error> {
        self.io(phase, stream.read_exact(buf)).await.map(|_| ())
    }

    pub(crate) fn timeout(&self, phase: ProxyPhase) -> Error {
        Error::Timeout {
            proxy: self.proxy.clone(),
            phase,
            after: self.limit,
        }
    }

    pub(crate) fn io_error(&self, phase: ProxyPhase, e: io::Error) -> Error {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Error::Closed {
                proxy: self.proxy.clone(),
                phase,
            }
        } else {
            Error::Io {
                proxy: self.proxy.clone(),
                phase,
                source: e,
            }
        }
    }

    pub(crate) fn protocol(&self, phase: ProxyPhase, detail: impl Into<String>) -> Error {
        Error::Protocol {
            proxy: self.proxy.clone(),
            phase,
            detail: detail.into(),
        }
    }

    pub(crate) fn unsupported(&self, target: &Target, reason: &'static str) -> Error {
        Error::UnsupportedTarget {
            proxy: self.proxy.clone(),
            target: target.to_string(),
            reason,
        }
    }

    /// Resolves the target on this machine (`socks5://`, `socks4://`).
    /// IPv4 comes first: most SOCKS proxies reach IPv4 and only some IPv6.
    pub(crate) async fn resolve(&self, target: &Target, ipv4_only: bool) -> Result<IpAddr, Error> {
        if let Ok(ip) = target.host.parse::<IpAddr>() {
            return Ok(ip);
        }
        let lookup = tokio::time::timeout_at(
            self.deadline,
            tokio::net::lookup_host((target.host.as_str(), target.port)),
        );
        let addrs: Vec<SocketAddr> = match lookup.await {
            Err(_) => return Err(self.timeout(ProxyPhase::Tunnel)),
            Ok(Err(source)) => return Err(self.resolve_error(target, source)),
            Ok(Ok(addrs)) => addrs.collect(),
        };
        let v4 = addrs.iter().find(|a| a.is_ipv4());
        let pick = if ipv4_only { v4 } else { v4.or(addrs.first()) };
        let none = if ipv4_only {
            "the name has no IPv4 address"
        } else {
            "the name has no address"
        };
        pick.map(|a| a.ip()).ok_or_else(|| {
            self.resolve_error(target, io::Error::new(io::ErrorKind::NotFound, none))
        })
    }

    fn resolve_error(&self, target: &Target, source: io::Error) -> Error {
        Error::Resolve {
            proxy: self.proxy.clone(),
            host: target.host.clone(),
            source,
        }
    }
}
