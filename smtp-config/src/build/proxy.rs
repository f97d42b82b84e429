//! `proxy.url` -> an `smtp_proxy` connector over TCP (feature `proxy`).

use std::sync::Arc;
use std::time::Duration;

use smtp_core::Connector;

use crate::error::Error;
use crate::loaded::Loaded;

#[cfg(feature = "proxy")]
pub(super) fn connector(
    loaded: &Loaded,
    handshake_timeout: Duration,
) -> Result<Option<Arc<dyn Connector>>, Error> {
    use secrecy::ExposeSecret;

    let Some(url) = &loaded.config.proxy.url else {
        return Ok(None);
    };
    // The plugin's error redacts the password itself.
    let url = smtp_proxy::ProxyUrl::parse(url.expose_secret()).map_err(|e| Error::Plugin {
        what: "proxy",
        source: Box::new(e),
    })?;
    Ok(Some(url.connector_with_timeout(
        smtp_core::TcpConnector::new(),
        handshake_timeout,
    )))
}

#[cfg(not(feature = "proxy"))]
pub(super) fn connector(
    loaded: &Loaded,
    _handshake_timeout: Duration,
) -> Result<Option<Arc<dyn Connector>>, Error> {
    match &loaded.config.proxy.url {
        None => Ok(None),
        Some(_) => Err(Error::FeatureDisabled {
            feature: "proxy",
            key: "proxy.url".into(),
            origin: Box::new(loaded.origin_or_default("proxy.url")),
        }),
    }
}
