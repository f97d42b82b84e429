//! A proxy URL → the connector that speaks its protocol.

use std::sync::Arc;
use std::time::Duration;

use smtp_core::{Connector, ProxyScheme, ProxyUrl, TlsUpgrade};

use crate::{DEFAULT_HANDSHAKE_TIMEOUT, Dns, HttpConnect, Socks4, Socks5};

/// Connectors from a [`ProxyUrl`] (parsed by smtp-core, so smtp-config
/// checks `proxy.url` with the same rules without this crate).
///
/// ```no_run
/// use smtp_core::{ProxyUrl, TcpConnector};
/// use smtp_proxy::ProxyUrlExt;
/// # fn main() -> Result<(), smtp_core::Error> {
/// let url = ProxyUrl::parse("socks5h://127.0.0.1:1080")?;
/// let connector = url.connector(TcpConnector::new());
/// # let _ = connector; Ok(()) }
/// ```
pub trait ProxyUrlExt {
    /// A connector that reaches servers through this proxy, reaching the
    /// proxy itself through `inner` (usually [`smtp_core::TcpConnector`],
    /// or another proxy connector for a chain). The handshake timeout is
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`].
    fn connector<C: Connector + 'static>(&self, inner: C) -> Arc<dyn Connector> {
        self.connector_with_timeout(inner, DEFAULT_HANDSHAKE_TIMEOUT)
    }

    /// Like [`ProxyUrlExt::connector`], with the time allowed to reach the
    /// proxy and finish the handshake.
    fn connector_with_timeout<C: Connector + 'static>(
        &self,
        inner: C,
        handshake_timeout: Duration,
    ) -> Arc<dyn Connector> {
        self.connector_with_tls(inner, None, handshake_timeout)
    }

    /// Like [`ProxyUrlExt::connector_with_timeout`], with the TLS settings
    /// an `https://` proxy's certificate is checked with (ignored by the
    /// other schemes). Without them an `https://` connector fails every
    /// connection with [`Error::ProxyTls`](crate::Error::ProxyTls).
    fn connector_with_tls<C: Connector + 'static>(
        &self,
        inner: C,
        tls: Option<Arc<dyn TlsUpgrade>>,
        handshake_timeout: Duration,
    ) -> Arc<dyn Connector>;
}

impl ProxyUrlExt for ProxyUrl {
    fn connector_with_tls<C: Connector + 'static>(
        &self,
        inner: C,
        tls: Option<Arc<dyn TlsUpgrade>>,
        handshake_timeout: Duration,
    ) -> Arc<dyn Connector> {
        let proxy = self.target();
        let creds = self.credentials().cloned();
        let dns = match self.scheme() {
            ProxyScheme::Socks5h
            | ProxyScheme::Socks4a
            | ProxyScheme::Http
            | ProxyScheme::Https => Dns::Remote,
            ProxyScheme::Socks5 | ProxyScheme::Socks4 => Dns::Local,
        };
        match self.scheme() {
            ProxyScheme::Socks5h | ProxyScheme::Socks5 => {
                let mut c = Socks5::new(inner, proxy)
                    .dns(dns)
                    .handshake_timeout(handshake_timeout);
                if let Some(creds) = creds {
                    c = c.credentials(creds);
                }
                Arc::new(c)
            }
            ProxyScheme::Socks4a | ProxyScheme::Socks4 => {
                let mut c = Socks4::new(inner, proxy)
                    .dns(dns)
                    .handshake_timeout(handshake_timeout);
                if let Some(creds) = creds {
                    c = c.user_id(creds.username());
                }
                Arc::new(c)
            }
            ProxyScheme::Http => {
                let mut c = HttpConnect::new(inner, proxy).handshake_timeout(handshake_timeout);
                if let Some(creds) = creds {
                    c = c.credentials(creds);
                }
                Arc::new(c)
            }
            ProxyScheme::Https => {
                let mut c = match tls {
                    Some(tls) => HttpConnect::https(inner, proxy, tls),
                    None => HttpConnect::new(crate::ProxyTls::new(inner, None), proxy),
                }
                .handshake_timeout(handshake_timeout);
                if let Some(creds) = creds {
                    c = c.credentials(creds);
                }
                Arc::new(c)
            }
        }
    }
}
