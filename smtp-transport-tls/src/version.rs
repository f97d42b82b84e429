//! TLS protocol versions and the one place they meet the rustls API.

use std::fmt;
use std::str::FromStr;

use rustls::SupportedProtocolVersion;

use crate::error::Error;

/// A TLS protocol version this crate can negotiate.
///
/// Only TLS 1.2 and 1.3 exist here: rustls does not implement SSLv3,
/// TLS 1.0 or TLS 1.1, which RFC 8996 deprecated as insecure. Parsing one
/// of those names is an error that says so.
///
/// ```
/// use smtp_transport_tls::TlsVersion;
///
/// assert_eq!("1.3".parse::<TlsVersion>().unwrap(), TlsVersion::Tls1_3);
/// assert_eq!("TLSv1.2".parse::<TlsVersion>().unwrap(), TlsVersion::Tls1_2);
/// let err = "1.0".parse::<TlsVersion>().unwrap_err();
/// assert!(err.to_string().contains("RFC 8996"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246).
    Tls1_2,
    /// TLS 1.3 (RFC 8446).
    Tls1_3,
}

impl TlsVersion {
    /// The IANA-style name, as `TlsInfo::version` reports it: `TLSv1.2`, `TLSv1.3`.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls1_2 => "TLSv1.2",
            TlsVersion::Tls1_3 => "TLSv1.3",
        }
    }

    /// The version rustls negotiated, if it is one we know.
    pub(crate) fn from_rustls(version: rustls::ProtocolVersion) -> Option<TlsVersion> {
        match version {
            rustls::ProtocolVersion::TLSv1_2 => Some(TlsVersion::Tls1_2),
            rustls::ProtocolVersion::TLSv1_3 => Some(TlsVersion::Tls1_3),
            _ => None,
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TlsVersion {
    type Err = Error;

    /// Accepts `1.2`, `1.3`, `tls1.2`, `TLSv1.3`, `tlsv1_3`, `TLS 1.2`
    /// (case-insensitive).
    fn from_str(s: &str) -> Result<TlsVersion, Error> {
        let compact: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| if c == '_' { '.' } else { c })
            .collect();
        let number = compact
            .strip_prefix("tlsv")
            .or_else(|| compact.strip_prefix("tls"))
            .unwrap_or(&compact);
        match number {
            "1.2" => Ok(TlsVersion::Tls1_2),
            "1.3" => Ok(TlsVersion::Tls1_3),
            "1" | "1.0" | "1.1" => Err(Error::UnsupportedVersion {
                given: s.to_string(),
            }),
            _ if compact.starts_with("ssl") => Err(Error::UnsupportedVersion {
                given: s.to_string(),
            }),
            _ => Err(Error::UnknownVersion {
                given: s.to_string(),
            }),
        }
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
    if min > max {
        return Err(Error::InvalidVersionRange { min, max });
    }
    let all = [
        (TlsVersion::Tls1_2, &rustls::version::TLS12),
        (TlsVersion::Tls1_3, &rustls::version::TLS13),
    ];
    Ok(all
        .into_iter()
        .filter(|(v, _)| (min..=max).contains(v))
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
    fn parses_every_spelling() {
        for s in ["1.2", "tls1.2", "TLSv1.2", "tlsv1_2", "TLS 1.2", " 1.2 "] {
            assert_eq!(s.parse::<TlsVersion>().unwrap(), TlsVersion::Tls1_2, "{s}");
        }
        for s in ["1.3", "tls1.3", "TLSv1.3", "TLSV1_3"] {
            assert_eq!(s.parse::<TlsVersion>().unwrap(), TlsVersion::Tls1_3, "{s}");
        }
    }

    #[test]
    fn old_versions_are_refused_with_the_reason() {
        for s in [
            "1.0", "1.1", "1", "TLSv1.1", "tlsv1", "TLS1.0", "ssl3", "SSLv3", "sslv2",
        ] {
            let err = s.parse::<TlsVersion>().unwrap_err();
            assert!(
                matches!(err, Error::UnsupportedVersion { .. }),
                "{s}: {err:?}"
            );
            let text = err.to_string();
            assert!(text.contains("RFC 8996"), "{text}");
            assert!(text.contains("insecure"), "{text}");
            assert!(text.contains("rustls"), "{text}");
        }
    }

    #[test]
    fn nonsense_is_unknown() {
        let err = "1.4".parse::<TlsVersion>().unwrap_err();
        assert!(matches!(err, Error::UnknownVersion { .. }), "{err:?}");
        assert!(err.to_string().contains("expected 1.2 or 1.3"), "{err}");
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
        assert!(matches!(err, Error::InvalidVersionRange { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "TLS min_version TLSv1.3 is above max_version TLSv1.2"
        );
    }

    #[test]
    fn display_and_range_text() {
        assert_eq!(TlsVersion::Tls1_3.to_string(), "TLSv1.3");
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
