//! SPKI pins: base64 of the SHA-256 of a certificate's SubjectPublicKeyInfo.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

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
    pub fn of_spki(spki_der: &[u8]) -> SpkiPin {
        SpkiPin(Sha256::digest(spki_der).into())
    }

    /// The raw 32 bytes of the hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
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
    fn hashes_spki() {
        assert_eq!(SpkiPin::of_spki(b"").to_string(), EMPTY_SHA256);
    }

    #[test]
    fn parses_all_spellings() {
        let want = SpkiPin::of_spki(b"");
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
        let pin = SpkiPin::of_spki(b"");
        assert_eq!(format!("{pin:?}"), format!("SpkiPin({EMPTY_SHA256})"));
    }
}
