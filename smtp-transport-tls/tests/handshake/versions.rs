//! TLS version limits against the rig's TLS 1.2-only and 1.3-only Postfix
//! ports, implicit TLS by hand and STARTTLS through the engine.

use crate::common::*;
use smtp_core::Security;
use smtp_transport_tls::{Error, TlsVersion};

const V12: TlsVersion = TlsVersion::Tls1_2;
const V13: TlsVersion = TlsVersion::Tls1_3;

fn upgrade(min: TlsVersion, max: TlsVersion) -> smtp_transport_tls::RustlsUpgrade {
    rig_tls().min_version(min).max_version(max).build().unwrap()
}

/// The negotiated version, or the error, for implicit TLS on `port`.
async fn implicit(port: u16, min: TlsVersion, max: TlsVersion) -> Result<String, Error> {
    handshake(&upgrade(min, max), port, "localhost")
        .await
        .map(|(_, info)| info.version)
}

/// The same through the engine's STARTTLS.
async fn starttls(port: u16, min: TlsVersion, max: TlsVersion) -> Result<String, smtp_core::Error> {
    let transport = transport(port, Security::StartTlsRequired, upgrade(min, max));
    let session = transport.connect().await?;
    let version = session.tls_info().expect("tls info").version.clone();
    session.quit().await;
    Ok(version)
}

fn assert_mismatch(err: &Error, allowed: &str) {
    assert!(matches!(err, Error::VersionMismatch { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&format!("we allowed {allowed}")), "{text}");
}

#[tokio::test]
async fn min_13_against_12_only_fails_naming_versions() {
    let p = peers();
    let err = implicit(p.postfix_tls12_smtps_port, V13, V13)
        .await
        .unwrap_err();
    assert_mismatch(&err, "TLSv1.3 only");
    let err = starttls(p.postfix_tls12_starttls_port, V13, V13)
        .await
        .unwrap_err();
    assert_eq!(err.phase(), smtp_core::Phase::Tls, "{err}");
    assert_mismatch(tls_error(&err), "TLSv1.3 only");
}

#[tokio::test]
async fn max_12_against_13_only_fails_naming_versions() {
    let p = peers();
    let err = implicit(p.postfix_tls13_smtps_port, V12, V12)
        .await
        .unwrap_err();
    assert_mismatch(&err, "TLSv1.2 only");
    let err = starttls(p.postfix_tls13_starttls_port, V12, V12)
        .await
        .unwrap_err();
    assert_mismatch(tls_error(&err), "TLSv1.2 only");
}

#[tokio::test]
async fn matching_ranges_negotiate_the_expected_version() {
    let p = peers();
    for (port, min, max, want) in [
        (p.postfix_tls12_smtps_port, V12, V12, "TLSv1.2"),
        (p.postfix_tls12_smtps_port, V12, V13, "TLSv1.2"),
        (p.postfix_tls13_smtps_port, V13, V13, "TLSv1.3"),
        (p.postfix_tls13_smtps_port, V12, V13, "TLSv1.3"),
        (p.postfix_smtps_port, V12, V12, "TLSv1.2"),
    ] {
        let got = implicit(port, min, max)
            .await
            .unwrap_or_else(|e| panic!("{port} {min}-{max}: {e}"));
        assert_eq!(got, want, "{port} {min}-{max}");
    }
    for (port, min, max, want) in [
        (p.postfix_tls12_starttls_port, V12, V13, "TLSv1.2"),
        (p.postfix_tls13_starttls_port, V12, V13, "TLSv1.3"),
        (p.postfix_tls13_starttls_port, V13, V13, "TLSv1.3"),
    ] {
        let got = starttls(port, min, max)
            .await
            .unwrap_or_else(|e| panic!("{port} {min}-{max}: {e}"));
        assert_eq!(got, want, "{port} {min}-{max}");
    }
}
