//! The server certificate verifier: webpki chain and name checks, the
//! danger switches, and SPKI pins on top.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::info::spki_pin;
use crate::pin::SpkiPin;

/// How much of the normal verification runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checks {
    /// Chain to a trusted root, validity dates, and the server name.
    Full,
    /// Chain and dates, not the name (`accept_invalid_hostnames`).
    ChainOnly,
    /// Nothing but the pins, if any (`accept_invalid_certs`).
    None,
}

pub(crate) struct Verifier {
    pub(crate) roots: Arc<RootCertStore>,
    pub(crate) algorithms: WebPkiSupportedAlgorithms,
    pub(crate) checks: Checks,
    pub(crate) pins: Vec<SpkiPin>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("roots", &self.roots.len())
            .field("checks", &self.checks)
            .field("pins", &self.pins)
            .finish()
    }
}

/// Carried inside `CertificateError::Other` so the handshake error can be
/// turned back into `Error::PinMismatch` with both pins.
#[derive(Debug, Clone)]
pub(crate) struct PinMismatch {
    pub(crate) expected: Vec<SpkiPin>,
    pub(crate) actual: Option<SpkiPin>,
}

impl fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.actual {
            Some(actual) => write!(f, "spki pin mismatch: server key {actual}"),
            None => f.write_str("spki pin mismatch: the server's certificate does not parse"),
        }
    }
}

impl std::error::Error for PinMismatch {}

impl Verifier {
    /// Whether the certificate's key matches one of the pins.
    fn pin_matches(&self, end_entity: &CertificateDer<'_>) -> bool {
        spki_pin(end_entity).is_some_and(|a| self.pins.contains(&a))
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.checks != Checks::None {
            let cert = ParsedCertificate::try_from(end_entity)?;
            let chained = verify_server_cert_signed_by_trust_anchor(
                &cert,
                &self.roots,
                intermediates,
                now,
                self.algorithms.all,
            );
            match chained {
                Ok(()) => {}
                // Pin-only trust: a pinned key is a trust anchor of its
                // own (a self-signed or private-CA server), so an unknown
                // issuer is no failure. Dates are checked all the same:
                // webpki checks the end entity's validity before it looks
                // for an issuer, so an expired certificate never gets here
                // (tests/certificates.rs proves it); the name is checked
                // below.
                Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))
                    if self.pin_matches(end_entity) => {}
                Err(e) => return Err(e),
            }
            if self.checks == Checks::Full {
                verify_server_name(&cert, server_name)?;
            }
        }
        if !self.pins.is_empty() {
            let actual = spki_pin(end_entity);
            if !actual.is_some_and(|a| self.pins.contains(&a)) {
                let mismatch = PinMismatch {
                    expected: self.pins.clone(),
                    actual,
                };
                return Err(CertificateError::Other(OtherError(Arc::new(mismatch))).into());
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    // Signatures are checked even when certificate checks are off: they
    // prove the server holds the key, without which a pin means nothing.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
