//! The one place TLS versions ([`smtp_core::TlsVersion`]) meet the rustls API.

use rustls::SupportedProtocolVersion;
use smtp_core::TlsVersion;

use crate::error::Error;

/// The version rustls negotiated, if it is one we know.
pub(crate) fn from_rustls(version: rustls::ProtocolVersion) -> Option<TlsVersion> {
    match version {
        rustls::ProtocolVersion::TLSv1_2 => Some(TlsVersion::Tls1_2),
        rustls::ProtocolVersion::TLSv1_3 => Some(TlsVersion::Tls1_3),
        _ => None,
    }
}

/// A human summary of an allowed range: "TLSv1.3 only", "TLSv1.2 to TLSv1.3".
pub(crate) fn describe_range(min: TlsVersion, max: TlsVersion) -> String {
    if min == max {
        format!("{min} only")
    } else {
        format!("{min} to {max}")
    }
}

/// Maps our version range onto rustls' list. The only function that knows
/// rustls' version constants, so a rustls upgrade touches one place.
pub(crate) fn rustls_versions(
    min: TlsVersion,
    max: TlsVersion,
) -> Result<Vec<&'static SupportedProtocolVersion>, Error> {
    let allowed = TlsVersion::range(min, max)?;
    let all = [
        (TlsVersion::Tls1_2, &rustls::version::TLS12),
        (TlsVersion::Tls1_3, &rustls::version::TLS13),
    ];
    Ok(all
        .into_iter()
        .filter(|(v, _)| allowed.contains(v))
        .map(|(_, rustls_version)| rustls_version)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(versions: &[&'static SupportedProtocolVersion]) -> Vec<rustls::ProtocolVersion> {
        versions.iter().map(|v| v.version).collect()
    }

    #[test]
    fn maps_ranges_onto_rustls() {
        use rustls::ProtocolVersion::{TLSv1_2, TLSv1_3};
        let (v12, v13) = (TlsVersion::Tls1_2, TlsVersion::Tls1_3);
        assert_eq!(ids(&rustls_versions(v12, v13).unwrap()), [TLSv1_2, TLSv1_3]);
        assert_eq!(ids(&rustls_versions(v12, v12).unwrap()), [TLSv1_2]);
        assert_eq!(ids(&rustls_versions(v13, v13).unwrap()), [TLSv1_3]);
    }

    #[test]
    fn min_above_max_is_an_error() {
        let err = rustls_versions(TlsVersion::Tls1_3, TlsVersion::Tls1_2).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Version(smtp_core::TlsVersionError::Range { .. })
            ),
            "{err:?}"
        );
        assert_eq!(err.coded_hint().code, "tls-version-range");
    }

    #[test]
    fn range_text() {
        assert_eq!(
            describe_range(TlsVersion::Tls1_3, TlsVersion::Tls1_3),
            "TLSv1.3 only"
        );
        assert_eq!(
            describe_range(TlsVersion::Tls1_2, TlsVersion::Tls1_3),
            "TLSv1.2 to TLSv1.3"
        );
    }
}
