//! [`TlsVersion`]: the one type for a TLS protocol version, its one parser,
//! and the one check of a version range, shared by the TLS plugin and the
//! configuration (which must parse versions even when built without TLS).

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use crate::hint::{Hint, hints};
use crate::setting::Setting;

/// A TLS protocol version this toolkit can negotiate.
///
/// Only TLS 1.2 and 1.3 exist here: rustls does not implement SSLv3,
/// TLS 1.0 or TLS 1.1, which RFC 8996 deprecated as insecure. Parsing one
/// of those names is an error that says so.
///
/// ```
/// use smtp_core::TlsVersion;
///
/// assert_eq!("1.3".parse::<TlsVersion>().unwrap(), TlsVersion::Tls1_3);
/// assert_eq!("TLSv1.2".parse::<TlsVersion>().unwrap(), TlsVersion::Tls1_2);
/// assert_eq!(TlsVersion::Tls1_2.to_string(), "TLSv1.2");
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
    /// Every version, lowest first.
    pub const ALL: [TlsVersion; 2] = [TlsVersion::Tls1_2, TlsVersion::Tls1_3];

    /// The IANA-style name, as [`TlsInfo::version`](crate::TlsInfo::version)
    /// reports it and `Display` writes it: `TLSv1.2`, `TLSv1.3`.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls1_2 => "TLSv1.2",
            TlsVersion::Tls1_3 => "TLSv1.3",
        }
    }

    /// The bare number, as configuration files write it: `1.2`, `1.3`.
    pub fn number(self) -> &'static str {
        match self {
            TlsVersion::Tls1_2 => "1.2",
            TlsVersion::Tls1_3 => "1.3",
        }
    }

    /// The versions from `min` to `max`: the one check that a lowest
    /// version is not above a highest one.
    ///
    /// ```
    /// use smtp_core::TlsVersion::{Tls1_2, Tls1_3};
    ///
    /// assert!(smtp_core::TlsVersion::range(Tls1_2, Tls1_3).unwrap().contains(&Tls1_3));
    /// assert!(smtp_core::TlsVersion::range(Tls1_3, Tls1_2).is_err());
    /// ```
    pub fn range(
        min: TlsVersion,
        max: TlsVersion,
    ) -> Result<RangeInclusive<TlsVersion>, TlsVersionError> {
        if min > max {
            return Err(TlsVersionError::Range { min, max });
        }
        Ok(min..=max)
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TlsVersion {
    type Err = TlsVersionError;

    /// Accepts `1.2`, `1.3`, `tls1.2`, `TLSv1.3`, `tlsv1_3`, `TLS 1.2`,
    /// `TLS_1.2`, `v1.3` (case-insensitive).
    fn from_str(s: &str) -> Result<TlsVersion, TlsVersionError> {
        let compact: String = s
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let number = compact
            .strip_prefix("tls")
            .unwrap_or(&compact)
            .trim_start_matches(['v', '_', '-'])
            .replace('_', ".");
        match number.as_str() {
            "1.2" => Ok(TlsVersion::Tls1_2),
            "1.3" => Ok(TlsVersion::Tls1_3),
            "1" | "1.0" | "1.1" => Err(TlsVersionError::Unsupported {
                given: s.to_string(),
            }),
            _ if compact.starts_with("ssl") => Err(TlsVersionError::Unsupported {
                given: s.to_string(),
            }),
            _ => Err(TlsVersionError::Unknown {
                given: s.to_string(),
            }),
        }
    }
}

/// A TLS version or version range that cannot be used. The structured
/// cause: which version was given, or which two versions are out of order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsVersionError {
    /// A TLS version rustls does not implement (SSLv3, TLS 1.0, TLS 1.1).
    #[error(
        "TLS version {given:?} is not supported: rustls implements only TLS 1.2 and 1.3 \
         (RFC 8996 deprecated SSLv3, TLS 1.0 and 1.1 as insecure)"
    )]
    Unsupported {
        /// The version as written.
        given: String,
    },
    /// A TLS version that is not a version at all.
    #[error("unknown TLS version {given:?}: expected 1.2 or 1.3")]
    Unknown {
        /// The version as written.
        given: String,
    },
    /// The lowest version is above the highest.
    #[error("the lowest TLS version {min} is above the highest {max}")]
    Range {
        /// The lowest version allowed.
        min: TlsVersion,
        /// The highest version allowed.
        max: TlsVersion,
    },
}

impl TlsVersionError {
    /// The advice, with its stable code.
    ///
    /// ```
    /// let e = smtp_core::TlsVersion::range(
    ///     smtp_core::TlsVersion::Tls1_3,
    ///     smtp_core::TlsVersion::Tls1_2,
    /// )
    /// .unwrap_err();
    /// assert_eq!(e.coded_hint().code, "tls-version-range");
    /// ```
    pub fn coded_hint(&self) -> Hint {
        match self {
            TlsVersionError::Unsupported { .. } => hints::TLS_UNSUPPORTED_VERSION,
            TlsVersionError::Unknown { .. } => hints::TLS_UNKNOWN_VERSION,
            TlsVersionError::Range { .. } => hints::TLS_VERSION_RANGE,
        }
    }

    /// The settings at fault: both ends of the range (a parse error does
    /// not know which end it was read for).
    pub fn settings(&self) -> [Setting; 2] {
        [Setting::TlsMinVersion, Setting::TlsMaxVersion]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        for s in [
            "1.2", "tls1.2", "TLSv1.2", "tlsv1_2", "TLS 1.2", " 1.2 ", "TLS_1.2", "v1.2", "1_2",
        ] {
            assert_eq!(s.parse::<TlsVersion>().unwrap(), TlsVersion::Tls1_2, "{s}");
        }
        for s in ["1.3", "tls1.3", "TLSv1.3", "TLSV1_3", "tls-1.3"] {
            assert_eq!(s.parse::<TlsVersion>().unwrap(), TlsVersion::Tls1_3, "{s}");
        }
    }

    #[test]
    fn display_and_number_round_trip_through_the_parser() {
        for v in TlsVersion::ALL {
            assert_eq!(v.to_string().parse::<TlsVersion>().unwrap(), v);
            assert_eq!(v.number().parse::<TlsVersion>().unwrap(), v);
        }
        assert_eq!(TlsVersion::Tls1_3.to_string(), "TLSv1.3");
        assert_eq!(TlsVersion::Tls1_3.number(), "1.3");
    }

    #[test]
    fn old_versions_are_refused_with_the_reason() {
        for s in [
            "1.0", "1.1", "1", "TLSv1.1", "tlsv1", "TLS1.0", "ssl3", "SSLv3", "sslv2",
        ] {
            let err = s.parse::<TlsVersion>().unwrap_err();
            assert!(
                matches!(err, TlsVersionError::Unsupported { .. }),
                "{s}: {err:?}"
            );
            let text = err.to_string();
            for part in ["RFC 8996", "insecure", "rustls"] {
                assert!(text.contains(part), "{text}");
            }
            assert_eq!(err.coded_hint().code, "tls-unsupported-version");
        }
    }

    #[test]
    fn nonsense_is_unknown() {
        for s in ["1.4", "2", "", "tls", "1.2.3"] {
            let err = s.parse::<TlsVersion>().unwrap_err();
            assert!(
                matches!(err, TlsVersionError::Unknown { .. }),
                "{s}: {err:?}"
            );
            assert!(err.to_string().contains("expected 1.2 or 1.3"), "{err}");
            assert_eq!(err.coded_hint().code, "tls-unknown-version");
        }
    }

    #[test]
    fn a_range_with_the_lowest_above_the_highest_is_refused() {
        use TlsVersion::{Tls1_2, Tls1_3};
        assert_eq!(TlsVersion::range(Tls1_2, Tls1_3).unwrap(), Tls1_2..=Tls1_3);
        assert_eq!(TlsVersion::range(Tls1_3, Tls1_3).unwrap(), Tls1_3..=Tls1_3);
        let err = TlsVersion::range(Tls1_3, Tls1_2).unwrap_err();
        assert_eq!(
            err,
            TlsVersionError::Range {
                min: Tls1_3,
                max: Tls1_2
            }
        );
        assert_eq!(
            err.to_string(),
            "the lowest TLS version TLSv1.3 is above the highest TLSv1.2"
        );
        assert_eq!(err.coded_hint().code, "tls-version-range");
        assert_eq!(
            err.settings(),
            [Setting::TlsMinVersion, Setting::TlsMaxVersion]
        );
    }
}
