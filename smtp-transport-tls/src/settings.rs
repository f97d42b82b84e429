//! [`TlsSettings`], the settings of a [`RustlsUpgrade`], and
//! [`RustlsUpgradeBuilder`], which sets them (versions, trust, client
//! certificate, pins); its `build()` loads every file and returns the
//! upgrade, as rustls' `ClientConfig` builder returns a `ClientConfig`.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};
use smtp_core::TlsVersion;

use crate::danger::DangerousRustlsUpgradeBuilder;
use crate::error::Error;
use crate::load::{self, PemSource};
use crate::pin::SpkiPin;
use crate::upgrade::RustlsUpgrade;
use crate::verify::{Checks, Verifier};
use crate::version::rustls_versions;

/// The settings a [`RustlsUpgrade`] was built from.
///
/// Set with [`RustlsUpgrade::builder`] and read back with
/// [`RustlsUpgrade::settings`]; every default is the safe choice:
/// TLS 1.2 and 1.3, the Mozilla roots shipped in `webpki-roots`, full
/// certificate and name verification, no client certificate, no pins.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub(crate) min_version: TlsVersion,
    pub(crate) max_version: TlsVersion,
    pub(crate) webpki_roots: bool,
    pub(crate) platform_roots: bool,
    pub(crate) ca: Vec<PemSource>,
    pub(crate) client_auth: Option<(PathBuf, PathBuf)>,
    pub(crate) pins: Vec<String>,
    pub(crate) accept_invalid_certs: bool,
    pub(crate) accept_invalid_hostnames: bool,
    pub(crate) crypto_provider: Option<Arc<CryptoProvider>>,
    pub(crate) resumption: bool,
}

impl Default for TlsSettings {
    fn default() -> TlsSettings {
        TlsSettings {
            min_version: TlsVersion::Tls1_2,
            max_version: TlsVersion::Tls1_3,
            webpki_roots: true,
            platform_roots: false,
            ca: Vec::new(),
            client_auth: None,
            pins: Vec::new(),
            accept_invalid_certs: false,
            accept_invalid_hostnames: false,
            crypto_provider: None,
            resumption: true,
        }
    }
}

impl RustlsUpgrade {
    /// A builder with the safe defaults (see [`TlsSettings`]).
    pub fn builder() -> RustlsUpgradeBuilder {
        RustlsUpgradeBuilder {
            settings: TlsSettings::default(),
        }
    }
}

impl TlsSettings {
    /// The lowest TLS version offered.
    pub fn min_version(&self) -> TlsVersion {
        self.min_version
    }

    /// The highest TLS version offered.
    pub fn max_version(&self) -> TlsVersion {
        self.max_version
    }

    /// True when a danger switch weakens certificate verification; such
    /// connections report `TlsInfo::verified == false`.
    pub fn is_dangerous(&self) -> bool {
        self.accept_invalid_certs || self.accept_invalid_hostnames
    }

    pub(crate) fn checks(&self) -> Checks {
        if self.accept_invalid_certs {
            Checks::None
        } else if self.accept_invalid_hostnames {
            Checks::ChainOnly
        } else {
            Checks::Full
        }
    }

    fn provider(&self) -> Result<Arc<CryptoProvider>, Error> {
        if let Some(provider) = &self.crypto_provider {
            return Ok(provider.clone());
        }
        built_in_provider()
            .map(Arc::new)
            .or_else(|| CryptoProvider::get_default().cloned())
            .ok_or(Error::NoCryptoProvider)
    }

    fn roots(&self) -> Result<RootCertStore, Error> {
        let mut roots = RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if self.platform_roots {
            self.add_platform_roots(&mut roots)?;
        }
        for source in &self.ca {
            load::add_ca(&mut roots, source)?;
        }
        Ok(roots)
    }

    #[cfg(feature = "platform-roots")]
    fn add_platform_roots(&self, roots: &mut RootCertStore) -> Result<(), Error> {
        // Honours SSL_CERT_FILE and SSL_CERT_DIR, like OpenSSL.
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            tracing::debug!(error = %e, "part of the platform trust store could not be read");
        }
        if found.certs.is_empty() {
            let reason = match found.errors.first() {
                Some(e) => e.to_string(),
                None => "the platform's trust store is empty".to_string(),
            };
            // Only an error when nothing else is trusted: a container
            // without a system store still has the bundled roots.
            if !self.webpki_roots && self.ca.is_empty() {
                return Err(Error::PlatformRoots { reason });
            }
            tracing::debug!(%reason, "no platform trust anchors; using the others");
        } else {
            let (added, ignored) = roots.add_parsable_certificates(found.certs);
            tracing::debug!(added, ignored, "loaded platform trust anchors");
        }
        Ok(())
    }

    #[cfg(not(feature = "platform-roots"))]
    fn add_platform_roots(&self, _roots: &mut RootCertStore) -> Result<(), Error> {
        Err(Error::PlatformRootsNotBuilt)
    }

    pub(crate) fn client_config(&self) -> Result<ClientConfig, Error> {
        let versions = rustls_versions(self.min_version, self.max_version)?;
        let pins = self
            .pins
            .iter()
            .map(|p| p.parse::<SpkiPin>())
            .collect::<Result<Vec<_>, _>>()?;
        let roots = self.roots()?;
        let checks = self.checks();
        // Pins are trust anchors too (pin-only trust).
        if roots.is_empty() && checks != Checks::None && pins.is_empty() {
            return Err(Error::NoTrustAnchors);
        }
        let provider = self.provider()?;
        let verifier = Verifier {
            roots: Arc::new(roots),
            algorithms: provider.signature_verification_algorithms,
            checks,
            pins,
        };
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)
            .map_err(Error::Config)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier));
        let mut config = match &self.client_auth {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = load::client_chain(cert)?;
                let private_key = load::client_key(key)?;
                builder
                    .with_client_auth_cert(chain, private_key)
                    .map_err(|e| Error::ClientAuth {
                        cert: cert.clone(),
                        key: key.clone(),
                        reason: e.to_string(),
                    })?
            }
        };
        if !self.resumption {
            config.resumption = rustls::client::Resumption::disabled();
        }
        Ok(config)
    }
}

// With both features on, aws-lc-rs wins: ring is the default, so aws-lc-rs
// being on means someone asked for it.
#[cfg(feature = "aws-lc-rs")]
fn built_in_provider() -> Option<CryptoProvider> {
    Some(rustls::crypto::aws_lc_rs::default_provider())
}

#[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
fn built_in_provider() -> Option<CryptoProvider> {
    Some(rustls::crypto::ring::default_provider())
}

#[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
fn built_in_provider() -> Option<CryptoProvider> {
    None
}

/// Builds a [`RustlsUpgrade`]; see [`TlsSettings`] for the defaults.
///
/// ```no_run
/// # fn main() -> Result<(), smtp_transport_tls::Error> {
/// use smtp_transport_tls::{RustlsUpgrade, TlsVersion};
///
/// let upgrade = RustlsUpgrade::builder()
///     .min_version(TlsVersion::Tls1_3)
///     .add_ca_file("/etc/ssl/private-ca.pem")
///     .client_auth("/etc/smtp/client.pem", "/etc/smtp/client.key")
///     .pin_sha256("REV/XIvuoMH1hz4e9bYXKARcFEFuSS26zaUoFykEStw=")
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RustlsUpgradeBuilder {
    pub(crate) settings: TlsSettings,
}

impl RustlsUpgradeBuilder {
    /// The lowest version to offer (default 1.2).
    pub fn min_version(mut self, version: TlsVersion) -> Self {
        self.settings.min_version = version;
        self
    }

    /// The highest version to offer (default 1.3).
    pub fn max_version(mut self, version: TlsVersion) -> Self {
        self.settings.max_version = version;
        self
    }

    /// Trust the Mozilla root store shipped in `webpki-roots` (default on).
    /// Turn it off to trust only your own CA files.
    pub fn webpki_roots(mut self, on: bool) -> Self {
        self.settings.webpki_roots = on;
        self
    }

    /// Also trust the operating system's store (default off): where a
    /// company CA is installed system-wide. `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` replace the system store when set. An empty or
    /// unreadable store is an error only when nothing else is trusted.
    ///
    /// Needs the `platform-roots` feature (rustls-native-certs); without
    /// it, `build()` fails with [`Error::PlatformRootsNotBuilt`].
    pub fn platform_roots(mut self, on: bool) -> Self {
        self.settings.platform_roots = on;
        self
    }

    /// Also trust every certificate in a PEM file (a private CA, or a
    /// self-signed server certificate). Read by [`build`](Self::build).
    pub fn add_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.ca.push(PemSource::File(path.into()));
        self
    }

    /// Also trust every certificate in PEM text the caller already holds.
    pub fn add_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.settings.ca.push(PemSource::Memory(pem.into()));
        self
    }

    /// Present a client certificate (mutual TLS). `cert_path` holds the
    /// chain in PEM, leaf first; `key_path` its private key in PEM
    /// (PKCS#8, PKCS#1 or SEC1, unencrypted).
    pub fn client_auth(
        mut self,
        cert_path: impl Into<PathBuf>,
        key_path: impl Into<PathBuf>,
    ) -> Self {
        self.settings.client_auth = Some((cert_path.into(), key_path.into()));
        self
    }

    /// Require the server's key to match this pin (base64 of the SHA-256 of
    /// its SubjectPublicKeyInfo; `sha256//` prefix allowed). With several
    /// pins any one may match. Parsed by [`build`](Self::build).
    ///
    /// A pin is also a trust anchor (pin-only trust): a certificate whose
    /// key matches a pin is accepted even when no trusted CA issued it (a
    /// self-signed or private-CA server), as long as its dates are valid
    /// and it is for the server name. A certificate that does chain to a
    /// trusted CA must still match a pin.
    pub fn pin_sha256(mut self, pin: impl Into<String>) -> Self {
        self.settings.pins.push(pin.into());
        self
    }

    /// Like [`pin_sha256`](Self::pin_sha256), with an already parsed pin.
    pub fn pin(mut self, pin: SpkiPin) -> Self {
        self.settings.pins.push(pin.to_string());
        self
    }

    /// The rustls crypto provider to use instead of the one the crate's
    /// `ring`/`aws-lc-rs` feature selects (e.g. a FIPS provider).
    pub fn crypto_provider(mut self, provider: Arc<CryptoProvider>) -> Self {
        self.settings.crypto_provider = Some(provider);
        self
    }

    /// The switches that weaken verification. See [`crate::danger`].
    pub fn danger(self) -> DangerousRustlsUpgradeBuilder {
        DangerousRustlsUpgradeBuilder { builder: self }
    }

    /// Same as `.danger().accept_invalid_certs(on)`, for settings read from
    /// a config file. See [`crate::danger`].
    pub fn dangerous_accept_invalid_certs(mut self, on: bool) -> Self {
        self.settings.accept_invalid_certs = on;
        self
    }

    /// Same as `.danger().accept_invalid_hostnames(on)`, for settings read
    /// from a config file. See [`crate::danger`].
    pub fn dangerous_accept_invalid_hostnames(mut self, on: bool) -> Self {
        self.settings.accept_invalid_hostnames = on;
        self
    }

    /// Resume earlier sessions (default on): rustls keeps up to 256 TLS
    /// 1.3 tickets and TLS 1.2 session IDs in memory, shared by every
    /// connection made with this upgrade (and the transport's pool), so a
    /// new connection to a server seen before skips the certificate and
    /// key exchange signatures. Off: every handshake is a full one (a
    /// ticket links the connections it resumes, which may matter for
    /// privacy).
    pub fn resumption(mut self, on: bool) -> Self {
        self.settings.resumption = on;
        self
    }

    /// Checks the settings, reads every file, and returns the upgrade.
    pub fn build(self) -> Result<RustlsUpgrade, Error> {
        RustlsUpgrade::from_settings(self.settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_safe() {
        let settings = TlsSettings::default();
        assert_eq!(settings.min_version(), TlsVersion::Tls1_2);
        assert_eq!(settings.max_version(), TlsVersion::Tls1_3);
        assert!(!settings.is_dangerous());
        assert_eq!(settings.checks(), Checks::Full);
        assert!(RustlsUpgrade::builder().build().is_ok());
    }

    #[test]
    fn bad_settings_fail_at_build() {
        let err = RustlsUpgrade::builder()
            .min_version(TlsVersion::Tls1_3)
            .max_version(TlsVersion::Tls1_2)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Version(_)), "{err:?}");

        let err = RustlsUpgrade::builder()
            .pin_sha256("abc")
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidPin { .. }), "{err:?}");

        let err = RustlsUpgrade::builder()
            .add_ca_file("/nonexistent.pem")
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::CaFile { .. }), "{err:?}");

        let err = RustlsUpgrade::builder()
            .client_auth("/nonexistent-cert.pem", "/nonexistent-key.pem")
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::ClientCertFile { .. }), "{err:?}");
    }

    #[test]
    fn no_roots_is_an_error_unless_nothing_is_checked() {
        let err = RustlsUpgrade::builder()
            .webpki_roots(false)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::NoTrustAnchors), "{err:?}");
        let own_ca = RustlsUpgrade::builder()
            .webpki_roots(false)
            .add_ca_pem(include_bytes!("../tests/data/localhost.pem").as_slice());
        assert!(own_ca.build().is_ok());
        // A pin is a trust anchor of its own.
        let pinned = RustlsUpgrade::builder()
            .webpki_roots(false)
            .pin_sha256("REV/XIvuoMH1hz4e9bYXKARcFEFuSS26zaUoFykEStw=");
        assert!(pinned.build().is_ok());
        let unchecked = RustlsUpgrade::builder()
            .webpki_roots(false)
            .danger()
            .accept_invalid_certs(true);
        assert!(unchecked.build().is_ok());
    }

    #[test]
    fn key_that_does_not_match_the_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        // A syntactically valid PKCS#8 block that is no usable key.
        std::fs::write(
            &key,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let cert = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/localhost.pem");
        let err = RustlsUpgrade::builder()
            .client_auth(cert, &key)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::ClientAuth { .. }), "{err:?}");
        assert!(err.to_string().contains("do not work together"), "{err}");
    }
}
