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
    let url = smtp_core::ProxyUrl::parse(url.expose_secret()).map_err(Error::Transport)?;
    // An https:// proxy's certificate is checked with the mail server's
    // trust (tls.ca_file, platform roots, accept-invalid...), not its pins.
    #[cfg(feature = "tls")]
    let tls = match url.scheme() {
        smtp_core::ProxyScheme::Https => Some(super::tls::proxy_upgrade(loaded)?),
        _ => None,
    };
    #[cfg(not(feature = "tls"))]
    let tls = None;
    let proxy = Proxy {
        url,
        tls,
        handshake_timeout,
    };
    let Some((key, source)) = password_source(loaded) else {
        return Ok(Some(proxy.connector()));
    };
    let Some(user) = proxy.url.credentials().map(|c| c.username().to_string()) else {
        return Err(Error::Missing {
            key: "proxy.url".into(),
            reason: format!(
                "{key} is set (from {}) but proxy.url names no user: write it as scheme://USER@host:port",
                loaded.origin_or_default(key)
            ),
        });
    };
    Ok(Some(Arc::new(ProxyWithPasswordSource {
        proxy,
        user,
        source,
        key,
        origin: loaded.origin_or_default(key),
    })))
}

/// The proxy password's source (see [`super::password_source`]) with the
/// key that gave it.
#[cfg(feature = "proxy")]
pub(super) fn password_source(
    loaded: &Loaded,
) -> Option<(&'static str, smtp_auth::PasswordSource)> {
    let p = &loaded.config.proxy;
    let key = if p.password.is_some() {
        "proxy.password"
    } else if p.password_file.is_some() {
        "proxy.password_file"
    } else {
        "proxy.password_command"
    };
    let source = super::password_source(
        p.password.as_ref(),
        p.password_file.as_ref(),
        p.password_command.as_ref(),
    )?;
    Some((key, source))
}

/// What reaching the proxy needs besides its password.
#[cfg(feature = "proxy")]
#[derive(Debug)]
struct Proxy {
    url: smtp_core::ProxyUrl,
    tls: Option<Arc<dyn smtp_core::TlsUpgrade>>,
    handshake_timeout: Duration,
}

#[cfg(feature = "proxy")]
impl Proxy {
    fn connector(&self) -> Arc<dyn Connector> {
        use smtp_proxy::ProxyUrlExt;

        self.url.connector_with_tls(
            smtp_core::TcpConnector::new(),
            self.tls.clone(),
            self.handshake_timeout,
        )
    }
}

/// The proxy, its password read at each connection (as a login password
/// is read when the server asks): building reads no secret, and a password
/// file or command that changes is seen by the next connection.
#[cfg(feature = "proxy")]
#[derive(Debug)]
struct ProxyWithPasswordSource {
    proxy: Proxy,
    user: String,
    source: smtp_auth::PasswordSource,
    key: &'static str,
    origin: crate::origin::Origin,
}

#[cfg(feature = "proxy")]
#[async_trait::async_trait]
impl Connector for ProxyWithPasswordSource {
    async fn connect(
        &self,
        target: &smtp_core::Target,
    ) -> Result<smtp_core::BoxStream, smtp_core::BoxError> {
        // smtp-auth's message names the file or the failure, never the
        // secret; the key and its origin say which setting it was.
        let password = self.source.resolve().await.map_err(|e| {
            smtp_core::PluginError::boxed(Error::SecretSource {
                key: self.key.into(),
                origin: Box::new(self.origin.clone()),
                reason: e.to_string(),
            })
        })?;
        let credentials = smtp_core::ProxyCredentials::new(self.user.clone(), password);
        let proxy = Proxy {
            url: self.proxy.url.clone().with_credentials(credentials),
            tls: self.proxy.tls.clone(),
            handshake_timeout: self.proxy.handshake_timeout,
        };
        proxy.connector().connect(target).await
    }
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
