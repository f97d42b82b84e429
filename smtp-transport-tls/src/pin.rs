//! SPKI pins: base64 of the SHA-256 of a certificate's SubjectPublicKeyInfo.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rustls::SupportedCipherSuite;
use rustls::crypto::hash::{Hash, HashAlgorithm};

use crate::error::Error;

/// The SHA-256 of a server's SubjectPublicKeyInfo, the form HPKP and curl's
/// `--pinnedpubkey sha256//...` use.
///
/// A pin survives certificate renewals that keep the key, and fails when the
/// key changes: exactly what pinning is for. Make one from a certificate
/// file with:
///
/// ```text
/// openssl x509 -in cert.pem -pubkey -noout | openssl pkey -pubin -outform der \
///   | openssl dgst -sha256 -binary | base64
/// ```
///
/// ```
/// use smtp_transport_tls::SpkiPin;
///
/// let pin: SpkiPin = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".parse().unwrap();
/// assert_eq!(pin.to_string(), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpkiPin([u8; 32]);

impl SpkiPin {
    /// The pin of a DER-encoded SubjectPublicKeyInfo.
    ///
    /// The SHA-256 is the crypto provider's (the built-in `ring` or
    /// `aws-lc-rs` one, else the process default), so pins cost no digest
    /// crate of their own. `None` only in a build with neither feature and
    /// no process-default provider, where no TLS connection can be made
    /// either.
    pub fn of_spki(spki_der: &[u8]) -> Option<SpkiPin> {
        let digest = sha256()?.hash(spki_der);
        Some(SpkiPin(digest.as_ref().try_into().ok()?))
    }

    /// The raw 32 bytes of the hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The SHA-256 of the provider rustls uses (see [`SpkiPin::of_spki`]).
fn sha256() -> Option<&'static dyn Hash> {
    // With both features on, aws-lc-rs wins, as in `built_in_provider`.
    #[cfg(feature = "aws-lc-rs")]
    let built_in = Some(rustls::crypto::aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256);
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    let built_in = Some(rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256);
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    let built_in: Option<SupportedCipherSuite> = None;
    let default = rustls::crypto::CryptoProvider::get_default();
    built_in
        .into_iter()
        .chain(
            default
                .into_iter()
                .flat_map(|p| p.cipher_suites.iter().copied()),
        )
        .map(|suite| match suite {
            SupportedCipherSuite::Tls13(s) => s.common.hash_provider,
            SupportedCipherSuite::Tls12(s) => s.common.hash_provider,
        })
        .find(|hash| hash.algorithm() == HashAlgorithm::SHA256)
}

impl fmt::Display for SpkiPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&STANDARD.encode(self.0))
    }
}

impl fmt::Debug for SpkiPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpkiPin({self})")
    }
}

impl FromStr for SpkiPin {
    type Err = Error;

    /// Accepts the bare base64 and the `sha256/` and `sha256//` prefixes
    /// (HPKP and curl spellings).
    fn from_str(s: &str) -> Result<SpkiPin, Error> {
        let trimmed = s.trim();
        let b64 = trimmed
            .strip_prefix("sha256//")
            .or_else(|| trimmed.strip_prefix("sha256/"))
            .unwrap_or(trimmed);
        let invalid = |reason: String| Error::InvalidPin {
            pin: s.to_string(),
            reason,
        };
        let bytes = STANDARD
            .decode(b64)
            .map_err(|e| invalid(format!("not base64 ({e})")))?;
        let hash: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| invalid(format!("{} bytes instead of 32", b.len())))?;
        Ok(SpkiPin(hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // SHA-256 of the empty string, a well-known value.
    const EMPTY_SHA256: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    #[test]
    fn hashes_spki_with_the_built_in_provider() {
        assert_eq!(SpkiPin::of_spki(b"").unwrap().to_string(), EMPTY_SHA256);
        // A second well-known value: "abc" (FIPS 180-2, appendix B.1).
        assert_eq!(
            SpkiPin::of_spki(b"abc").unwrap().to_string(),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }

    #[test]
    fn parses_all_spellings() {
        let want = SpkiPin::of_spki(b"").unwrap();
        for s in [
            EMPTY_SHA256.to_string(),
            format!("sha256/{EMPTY_SHA256}"),
            format!("sha256//{EMPTY_SHA256}"),
            format!("  {EMPTY_SHA256}\n"),
        ] {
            assert_eq!(s.parse::<SpkiPin>().unwrap(), want, "{s:?}");
        }
    }

    #[test]
    fn refuses_bad_pins() {
        let err = "not base64!".parse::<SpkiPin>().unwrap_err();
        assert!(matches!(err, Error::InvalidPin { .. }), "{err:?}");
        assert!(err.to_string().contains("not base64"), "{err}");

        // base64 of 20 bytes: a SHA-1 pin, not SHA-256.
        let err = "2jmj7l5rSw0yVb/vlWAYkK/YBwk="
            .parse::<SpkiPin>()
            .unwrap_err();
        assert!(err.to_string().contains("20 bytes instead of 32"), "{err}");
    }

    #[test]
    fn debug_shows_the_pin() {
        let pin = SpkiPin::of_spki(b"").unwrap();
        assert_eq!(format!("{pin:?}"), format!("SpkiPin({EMPTY_SHA256})"));
    }
}
