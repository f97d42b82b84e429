//! TLS to the proxy itself, for `https://` proxies (as curl has them): the
//! caller's [`TlsUpgrade`] checks the proxy's certificate, so smtp-config
//! gives it the mail server's trust settings (CA file, platform roots,
//! accept-invalid). SMTP's own TLS then runs end to end inside the tunnel.

use std::sync::Arc;

use async_trait::async_trait;
use smtp_core::{BoxError, BoxStream, Connector, Target, TlsUpgrade};

use crate::error::Error;

/// Reaches the proxy through `inner`, then runs TLS with it, checking its
/// certificate against the proxy's host name. The stream carries the
/// proxy protocol ([`HttpConnect`](crate::HttpConnect) wraps this).
#[derive(Debug, Clone)]
pub struct ProxyTls<C> {
    inner: C,
    tls: Option<Arc<dyn TlsUpgrade>>,
}

impl<C> ProxyTls<C> {
    /// TLS over `inner` with `tls`; `None` fails every connection with a
    /// clear error (an `https://` URL was given no TLS settings).
    pub fn new(inner: C, tls: Option<Arc<dyn TlsUpgrade>>) -> ProxyTls<C> {
        ProxyTls { inner, tls }
    }

    /// The connector used to reach the proxy.
    pub fn inner(&self) -> &C {
        &self.inner
    }
}

#[async_trait]
impl<C: Connector> Connector for ProxyTls<C> {
    async fn connect(&self, proxy: &Target) -> Result<BoxStream, BoxError> {
        let fail = |source: BoxError| -> BoxError {
            Box::new(Error::ProxyTls {
                proxy: format!("https://{proxy}"),
                source,
            })
        };
        let Some(tls) = &self.tls else {
            return Err(fail(
                "no TLS settings were given for this https:// proxy \
                 (library callers: ProxyUrl::connector_with_tls)"
                    .into(),
            ));
        };
        let stream = self.inner.connect(proxy).await?;
        let (stream, _info) = tls.upgrade(stream, &proxy.host).await.map_err(fail)?;
        Ok(stream)
    }
}
