//! `[tls]` -> `smtp_transport_tls::RustlsUpgrade` (feature `tls`).

use std::sync::Arc;

use smtp_core::TlsUpgrade;

use crate::error::Error;
use crate::loaded::Loaded;

#[cfg(feature = "tls")]
pub(super) fn upgrade(loaded: &Loaded) -> Result<Arc<dyn TlsUpgrade>, Error> {
    let t = &loaded.config.tls;
    let mut b = trusting(loaded);
    if let (Some(cert), Some(key)) = (&t.client_cert, &t.client_key) {
        b = b.client_auth(cert, key);
    }
    for pin in &t.pin_sha256 {
        b = b.pin_sha256(pin);
    }
    built(b)
}

/// The TLS of an `https://` proxy: the mail server's trust (CA files,
/// platform roots, versions, accept-invalid) but not its identity
/// settings. A key pin names the mail server's key, so checking the
/// proxy against it would refuse every proxy but one sharing that key;
/// a client certificate is the mail account's, not something to show the
/// proxy.
#[cfg(all(feature = "tls", feature = "proxy"))]
pub(super) fn proxy_upgrade(loaded: &Loaded) -> Result<Arc<dyn TlsUpgrade>, Error> {
    built(trusting(loaded))
}

/// A builder with the `[tls]` trust and version settings.
#[cfg(feature = "tls")]
fn trusting(loaded: &Loaded) -> smtp_transport_tls::RustlsUpgradeBuilder {
    use smtp_transport_tls::RustlsUpgrade;

    let t = &loaded.config.tls;
    let mut b = RustlsUpgrade::builder()
        .min_version(t.min_version)
        .max_version(t.max_version)
        .dangerous_accept_invalid_certs(t.dangerous_accept_invalid_certs)
        .dangerous_accept_invalid_hostnames(t.dangerous_accept_invalid_hostnames);
    if !t.ca_file.is_empty() {
        // A private CA replaces the public roots: a public CA should not be
        // able to vouch for a server the user pinned to their own CA.
        b = b.webpki_roots(false);
        for file in &t.ca_file {
            b = b.add_ca_file(file);
        }
    } else {
        // A company CA installed on the machine works with no setting.
        b = b.platform_roots(t.platform_roots);
    }
    b
}

#[cfg(feature = "tls")]
fn built(b: smtp_transport_tls::RustlsUpgradeBuilder) -> Result<Arc<dyn TlsUpgrade>, Error> {
    let upgrade = b.build().map_err(|e| Error::Plugin {
        what: "tls",
        source: Box::new(e),
    })?;
    Ok(Arc::new(upgrade))
}

#[cfg(not(feature = "tls"))]
pub(super) fn upgrade(loaded: &Loaded) -> Result<Arc<dyn TlsUpgrade>, Error> {
    Err(Error::FeatureDisabled {
        feature: "tls",
        key: format!("security = {}", loaded.config.security),
        origin: Box::new(loaded.origin_or_default("security")),
    })
}
