//! `[tls]` -> `smtp_transport_tls::RustlsUpgrade` (feature `tls`).

use std::sync::Arc;

use smtp_core::TlsUpgrade;

use crate::error::Error;
use crate::loaded::Loaded;

#[cfg(feature = "tls")]
pub(super) fn upgrade(loaded: &Loaded) -> Result<Arc<dyn TlsUpgrade>, Error> {
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
    if let (Some(cert), Some(key)) = (&t.client_cert, &t.client_key) {
        b = b.client_auth(cert, key);
    }
    for pin in &t.pin_sha256 {
        b = b.pin_sha256(pin);
    }
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
