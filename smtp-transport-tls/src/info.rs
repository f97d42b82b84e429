//! What a handshake negotiated, as `smtp_core::TlsInfo`, and (feature
//! `cert-details`) the fields of one certificate as
//! `smtp_core::CertificateInfo`.

#[cfg(feature = "cert-details")]
use std::net::IpAddr;

use rustls::ClientConnection;
use rustls::server::ParsedCertificate;
use rustls_pki_types::CertificateDer;
#[cfg(feature = "cert-details")]
use smtp_core::CertificateInfo;
use smtp_core::TlsInfo;
#[cfg(feature = "cert-details")]
use x509_parser::extensions::GeneralName;
#[cfg(feature = "cert-details")]
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::pin::SpkiPin;
use crate::version::from_rustls;

/// The fields of a DER certificate a person needs to judge it: subject,
/// issuer, names, validity (RFC 3339) and the SPKI pin.
///
/// Returns `None` when the bytes are not an X.509 certificate. Needs the
/// `cert-details` feature (x509-parser).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use rustls_pki_types::CertificateDer;
/// use rustls_pki_types::pem::PemObject;
///
/// # let pem = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/localhost.pem"))?;
/// let der = CertificateDer::from_pem_slice(&pem)?;
/// let info = smtp_transport_tls::certificate_info(&der).expect("a certificate");
/// assert!(info.subject_alt_names.contains(&"localhost".to_string()));
/// # Ok(()) }
/// ```
#[cfg(feature = "cert-details")]
pub fn certificate_info(der: &[u8]) -> Option<CertificateInfo> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let validity = cert.validity();
    Some(CertificateInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        subject_alt_names: subject_alt_names(&cert),
        not_before: rfc3339(validity.not_before.timestamp()),
        not_after: rfc3339(validity.not_after.timestamp()),
        spki_sha256: SpkiPin::of_spki(cert.public_key().raw)
            .map(|pin| pin.to_string())
            .unwrap_or_default(),
    })
}

/// The pin of a DER certificate's key, `None` if it does not parse.
///
/// webpki's parse (the one verification uses), so pins need no X.509
/// parser of their own.
pub(crate) fn spki_pin(der: &[u8]) -> Option<SpkiPin> {
    let der = CertificateDer::from(der);
    let cert = ParsedCertificate::try_from(&der).ok()?;
    SpkiPin::of_spki(cert.subject_public_key_info().as_ref())
}

#[cfg(feature = "cert-details")]
fn subject_alt_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some((*dns).to_string()),
            GeneralName::IPAddress(bytes) => ip_from_bytes(bytes).map(|ip| ip.to_string()),
            _ => None,
        })
        .collect()
}

#[cfg(feature = "cert-details")]
fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// `TlsInfo` of a finished handshake.
pub(crate) fn tls_info(conn: &ClientConnection, server_name: &str, verified: bool) -> TlsInfo {
    let version = conn
        .protocol_version()
        .map(|v| match from_rustls(v) {
            Some(known) => known.as_str().to_string(),
            None => format!("{v:?}"),
        })
        .unwrap_or_default();
    let cipher_suite = conn
        .negotiated_cipher_suite()
        .map(|s| {
            let suite = s.suite();
            suite
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{suite:?}"))
        })
        .unwrap_or_default();
    // Without `cert-details` the list stays empty: parsing subject and
    // issuer names takes x509-parser, which only a report needs.
    #[cfg(feature = "cert-details")]
    let peer_certificates = conn
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .filter_map(|der| certificate_info(der))
        .collect();
    #[cfg(not(feature = "cert-details"))]
    let peer_certificates = Vec::new();
    TlsInfo {
        version,
        cipher_suite,
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        peer_certificates,
        verified,
        server_name: server_name.to_string(),
        resumed: conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
    }
}

/// Seconds since the Unix epoch as RFC 3339 UTC (`2020-01-02T00:00:00Z`).
pub(crate) fn rfc3339(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar),
// so dates need no calendar dependency.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    use super::*;

    /// A certificate shaped like the rig's server certificate; the expected
    /// values were read with openssl (see tests/data/README.md).
    const LOCALHOST_PEM: &[u8] = include_bytes!("../tests/data/localhost.pem");

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_577_923_200), "2020-01-02T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn spki_pin_matches_openssl() {
        let der = CertificateDer::from_pem_slice(LOCALHOST_PEM).unwrap();
        assert_eq!(
            spki_pin(&der).unwrap().to_string(),
            "REV/XIvuoMH1hz4e9bYXKARcFEFuSS26zaUoFykEStw="
        );
    }

    #[cfg(feature = "cert-details")]
    #[test]
    fn extracts_certificate_fields() {
        let der = CertificateDer::from_pem_slice(LOCALHOST_PEM).unwrap();
        let info = certificate_info(&der).unwrap();
        assert_eq!(info.subject, "O=smtp test rig, CN=localhost");
        assert_eq!(info.issuer, "O=smtp test rig, CN=smtp test rig CA");
        assert_eq!(
            info.subject_alt_names,
            [
                "localhost",
                "mail.example.test",
                "aiosmtpd.example.test",
                "127.0.0.1",
                "::1"
            ]
        );
        assert_eq!(info.not_before, "2026-11-23T09:31:36Z");
        assert_eq!(info.not_after, "2126-10-30T09:31:36Z");
        assert_eq!(
            info.spki_sha256,
            "REV/XIvuoMH1hz4e9bYXKARcFEFuSS26zaUoFykEStw="
        );
        assert_eq!(spki_pin(&der).unwrap().to_string(), info.spki_sha256);
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        #[cfg(feature = "cert-details")]
        assert!(certificate_info(b"not a certificate").is_none());
        assert!(spki_pin(b"not a certificate").is_none());
        assert!(spki_pin(b"").is_none());
    }
}
