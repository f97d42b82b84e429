//! [`RustlsUpgrade`]: the `smtp_core::TlsUpgrade` implementation.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use smtp_core::{BoxError, BoxStream, TlsInfo, TlsUpgrade};
use tokio_rustls::TlsConnector;

use crate::diagnose::{Attempt, handshake_error};
use crate::error::Error;
use crate::info::tls_info;
use crate::settings::TlsSettings;
use crate::stream::{FirstBytes, Upgraded};
use crate::version::describe_range;

/// Runs the TLS client handshake over any stream (TCP, a SOCKS5 or HTTP
/// CONNECT tunnel): at connect for implicit TLS, after `STARTTLS` for the
/// others. Cheap to clone: the rustls `ClientConfig` (and its session
/// cache) is shared.
///
/// The handshake reads nothing past its own messages, and sends SNI for
/// DNS names (not for IP addresses, as RFC 6066 says); the name given to
/// `upgrade` is the one the certificate must match, so connecting to an IP
/// address while verifying a DNS name is a matter of passing that name.
#[derive(Clone)]
pub struct RustlsUpgrade {
    inner: Arc<Inner>,
}

struct Inner {
    client_config: Arc<ClientConfig>,
    settings: TlsSettings,
    allowed: String,
}

impl RustlsUpgrade {
    /// The safe defaults: TLS 1.2 and 1.3, webpki roots, full verification.
    /// Same as `RustlsUpgrade::builder().build()`.
    pub fn new() -> Result<RustlsUpgrade, Error> {
        RustlsUpgrade::builder().build()
    }

    pub(crate) fn from_settings(settings: TlsSettings) -> Result<RustlsUpgrade, Error> {
        let client_config = Arc::new(settings.client_config()?);
        let allowed = describe_range(settings.min_version, settings.max_version);
        Ok(RustlsUpgrade {
            inner: Arc::new(Inner {
                client_config,
                settings,
                allowed,
            }),
        })
    }

    /// The settings this upgrade was built from.
    pub fn settings(&self) -> &TlsSettings {
        &self.inner.settings
    }

    /// The rustls configuration, to share with code that speaks TLS itself.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        self.inner.client_config.clone()
    }

    /// The handshake with this crate's error type (what
    /// [`TlsUpgrade::upgrade`] boxes).
    pub async fn handshake(
        &self,
        stream: BoxStream,
        server_name: &str,
    ) -> Result<(BoxStream, TlsInfo), Error> {
        let name = parse_server_name(server_name)?;
        let settings = &self.inner.settings;
        if settings.accept_invalid_certs {
            tracing::warn!(
                server = server_name,
                "tls certificate verification is OFF (dangerous_accept_invalid_certs): \
                 anyone on the path can read this connection"
            );
        } else if settings.accept_invalid_hostnames {
            tracing::warn!(
                server = server_name,
                "tls host name verification is OFF (dangerous_accept_invalid_hostnames)"
            );
        }
        let connector = TlsConnector::from(self.inner.client_config.clone());
        match connector
            .connect(name, FirstBytes::new(stream))
            .into_fallible()
            .await
        {
            Ok(tls) => {
                let info = tls_info(tls.get_ref().1, server_name, !settings.is_dangerous());
                tracing::debug!(
                    server = server_name,
                    version = %info.version,
                    cipher = %info.cipher_suite,
                    "tls handshake done"
                );
                let upgraded = Upgraded {
                    tls,
                    allowed: self.inner.allowed.clone(),
                };
                Ok((Box::new(upgraded), info))
            }
            Err((err, recorder)) => {
                let attempt = Attempt {
                    allowed: &self.inner.allowed,
                    first_bytes: recorder.seen(),
                };
                let error = handshake_error(err, &attempt);
                tracing::debug!(server = server_name, error = %error, "tls handshake failed");
                Err(error)
            }
        }
    }
}

/// A DNS name, or an IP address literal (IPv6 with or without brackets).
fn parse_server_name(name: &str) -> Result<ServerName<'static>, Error> {
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    ServerName::try_from(bare.to_string()).map_err(|_| Error::InvalidServerName {
        name: name.to_string(),
    })
}

#[async_trait]
impl TlsUpgrade for RustlsUpgrade {
    async fn upgrade(
        &self,
        stream: BoxStream,
        server_name: &str,
    ) -> Result<(BoxStream, TlsInfo), BoxError> {
        self.handshake(stream, server_name)
            .await
            .map_err(smtp_core::PluginError::boxed)
    }
}

impl fmt::Debug for RustlsUpgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.inner.settings;
        f.debug_struct("RustlsUpgrade")
            .field("versions", &self.inner.allowed)
            .field("webpki_roots", &s.webpki_roots)
            .field("platform_roots", &s.platform_roots)
            .field("ca", &s.ca)
            .field("client_auth", &s.client_auth.is_some())
            .field("pins", &s.pins)
            .field("accept_invalid_certs", &s.accept_invalid_certs)
            .field("accept_invalid_hostnames", &s.accept_invalid_hostnames)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names() {
        assert!(matches!(
            parse_server_name("localhost").unwrap(),
            ServerName::DnsName(_)
        ));
        assert!(matches!(
            parse_server_name("127.0.0.1").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(matches!(
            parse_server_name("::1").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(matches!(
            parse_server_name("[::1]").unwrap(),
            ServerName::IpAddress(_)
        ));
        let err = parse_server_name("bad name!").unwrap_err();
        assert!(matches!(err, Error::InvalidServerName { .. }), "{err:?}");
    }

    #[test]
    fn debug_is_a_summary() {
        let upgrade = RustlsUpgrade::new().unwrap();
        let text = format!("{upgrade:?}");
        assert!(text.contains("TLSv1.2 to TLSv1.3"), "{text}");
        assert!(!upgrade.settings().is_dangerous());
    }
}
