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
    use smtp_proxy::ProxyUrlExt;

    let Some(url) = &loaded.config.proxy.url else {
        return Ok(None);
    };
    // The plugin's error redacts the password itself.
    let mut url = smtp_core::ProxyUrl::parse(url.expose_secret()).map_err(Error::Transport)?;
    if let Some((key, password)) = password(loaded)? {
        let Some(user) = url.credentials().map(|c| c.username().to_string()) else {
            return Err(Error::Missing {
                key: "proxy.url".into(),
                reason: format!(
                    "{key} is set (from {}) but proxy.url names no user: write it as scheme://USER@host:port",
                    loaded.origin_or_default(key)
                ),
            });
        };
        url = url.with_credentials(smtp_core::ProxyCredentials::new(user, password));
    }
    // An https:// proxy's certificate is checked with the mail server's
    // trust (tls.ca_file, platform roots, accept-invalid...), not its pins.
    #[cfg(feature = "tls")]
    let tls = match url.scheme() {
        smtp_core::ProxyScheme::Https => Some(super::tls::proxy_upgrade(loaded)?),
        _ => None,
    };
    #[cfg(not(feature = "tls"))]
    let tls = None;
    Ok(Some(url.connector_with_tls(
        smtp_core::TcpConnector::new(),
        tls,
        handshake_timeout,
    )))
}

/// The proxy password from `proxy.password`, `proxy.password_file` or
/// `proxy.password_command` (in that order), with the key that gave it.
#[cfg(feature = "proxy")]
fn password(loaded: &Loaded) -> Result<Option<(&'static str, secrecy::SecretString)>, Error> {
    let p = &loaded.config.proxy;
    let fail = |key: &'static str, reason: String| Error::SecretSource {
        key: key.into(),
        origin: Box::new(loaded.origin_or_default(key)),
        reason,
    };
    let (key, text) = if let Some(pw) = &p.password {
        return Ok(Some(("proxy.password", pw.clone())));
    } else if let Some(path) = &p.password_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| fail("proxy.password_file", format!("{}: {e}", path.display())))?;
        (
            "proxy.password_file",
            secrecy::zeroize::Zeroizing::new(text),
        )
    } else if let Some(cmd) = &p.password_command {
        let out = std::process::Command::new("sh")
            .args(["-c", cmd])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .map_err(|e| fail("proxy.password_command", format!("cannot run sh: {e}")))?;
        if !out.status.success() {
            return Err(fail(
                "proxy.password_command",
                format!("the command failed ({})", out.status),
            ));
        }
        let text = String::from_utf8(out.stdout)
            .map_err(|_| fail("proxy.password_command", "the output is not UTF-8".into()))?;
        (
            "proxy.password_command",
            secrecy::zeroize::Zeroizing::new(text),
        )
    } else {
        return Ok(None);
    };
    let trimmed = text.strip_suffix('\n').unwrap_or(&text);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Err(fail(key, "it gave an empty password".into()));
    }
    Ok(Some((key, secrecy::SecretString::from(trimmed))))
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
