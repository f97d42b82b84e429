//! Bad certificates from the rig's Postfix (expired, wrong host,
//! self-signed) and pins: each refused with its own error, and accepted
//! only by the matching remedy.

use crate::common::*;
use smtp_core::Security;
use smtp_testkit::openssl_pin;
use smtp_transport_tls::{Error, RustlsUpgradeBuilder};

async fn try_port(config: RustlsUpgradeBuilder, port: u16, name: &str) -> Result<bool, Error> {
    let upgrade = config.build().expect("valid tls settings");
    handshake(&upgrade, port, name)
        .await
        .map(|(_, info)| info.verified)
}

#[tokio::test]
async fn expired_certificate() {
    let port = peers().postfix_badcert_expired_port;
    let err = try_port(rig_tls(), port, "localhost").await.unwrap_err();
    match &err {
        Error::CertificateExpired { not_after, now } => {
            assert_eq!(not_after, "2020-01-02T00:00:00Z");
            assert!(now.as_str() > "2020-01-02", "{now}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("expired at 2020-01-02T00:00:00Z"),
        "{err}"
    );

    // Skipping only the name check does not excuse an expired certificate.
    let err = try_port(
        rig_tls().danger().accept_invalid_hostnames(true).safe(),
        port,
        "localhost",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::CertificateExpired { .. }), "{err:?}");

    let verified = try_port(
        rig_tls().danger().accept_invalid_certs(true).safe(),
        port,
        "localhost",
    );
    assert!(!verified.await.expect("accepted under accept_invalid_certs"));
}

/// Pin-only trust excuses an unknown issuer, never an expired certificate.
#[tokio::test]
async fn pin_only_trust_refuses_an_expired_certificate() {
    let p = peers();
    let pinned = smtp_transport_tls::RustlsUpgrade::builder()
        .webpki_roots(false)
        .pin_sha256(openssl_pin(&p.expired_cert));
    let err = try_port(pinned, p.postfix_badcert_expired_port, "localhost")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::CertificateExpired { not_after, .. } if not_after == "2020-01-02T00:00:00Z"),
        "{err:?}"
    );
}

#[tokio::test]
async fn wrong_host_certificate() {
    let port = peers().postfix_badcert_host_port;
    let err = try_port(rig_tls(), port, "localhost").await.unwrap_err();
    match &err {
        Error::NameMismatch {
            expected,
            presented,
        } => {
            assert_eq!(expected, "localhost");
            assert_eq!(presented, &["wrong.example.test"]);
        }
        other => panic!("{other:?}"),
    }

    // The right name is the real remedy, and stays verified.
    assert!(
        try_port(rig_tls(), port, "wrong.example.test")
            .await
            .unwrap()
    );
    // The danger switch accepts it, unverified.
    let config = rig_tls().dangerous_accept_invalid_hostnames(true);
    assert!(!try_port(config, port, "localhost").await.unwrap());
}

#[tokio::test]
async fn self_signed_certificate() {
    let p = peers();
    let port = p.postfix_badcert_selfsigned_port;
    let err = try_port(rig_tls(), port, "localhost").await.unwrap_err();
    assert!(matches!(err, Error::UnknownIssuer), "{err:?}");
    let err = try_port(
        rig_tls().dangerous_accept_invalid_hostnames(true),
        port,
        "localhost",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::UnknownIssuer), "{err:?}");

    // Trusting the certificate itself: verified.
    let own = rig_tls().add_ca_file(&p.selfsigned_cert);
    assert!(try_port(own, port, "localhost").await.unwrap());
    // ...but only for its names.
    let own = rig_tls().add_ca_file(&p.selfsigned_cert);
    let err = try_port(own, port, "aiosmtpd.example.test")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NameMismatch { .. }), "{err:?}");

    // Its key alone, pinned: accepted and verified (pin-only trust).
    let pinned =
        smtp_transport_tls::RustlsUpgrade::builder().pin_sha256(openssl_pin(&p.selfsigned_cert));
    assert!(try_port(pinned, port, "localhost").await.unwrap());

    // Its key alone, under the danger switch: accepted, unverified.
    let pinned = rig_tls()
        .pin_sha256(openssl_pin(&p.selfsigned_cert))
        .danger()
        .accept_invalid_certs(true)
        .safe();
    assert!(!try_port(pinned, port, "localhost").await.unwrap());
}

#[tokio::test]
async fn pins_are_checked_on_top_of_verification() {
    let p = peers();
    let port = p.postfix_smtps_port;
    let right = openssl_pin(&p.server_cert);
    let wrong = openssl_pin(&p.selfsigned_cert);

    assert!(
        try_port(rig_tls().pin_sha256(&right), port, "localhost")
            .await
            .unwrap()
    );
    let several = rig_tls()
        .pin_sha256(&wrong)
        .pin_sha256(format!("sha256//{right}"));
    assert!(try_port(several, port, "localhost").await.unwrap());

    let err = try_port(rig_tls().pin_sha256(&wrong), port, "localhost")
        .await
        .unwrap_err();
    match &err {
        Error::PinMismatch { expected, actual } => {
            assert_eq!(expected, std::slice::from_ref(&wrong));
            assert_eq!(actual, &right);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains(&format!("pin is {right} but we expected {wrong}")),
        "{err}"
    );

    // Pin-only trust: a right pin is a trust anchor of its own, so a chain
    // to no trusted CA is accepted (name and dates still checked)...
    let pinned_only = || smtp_transport_tls::RustlsUpgrade::builder().webpki_roots(false);
    assert!(
        try_port(pinned_only().pin_sha256(&right), port, "localhost")
            .await
            .unwrap()
    );
    let err = try_port(pinned_only().pin_sha256(&right), port, "wrong.example.test")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NameMismatch { .. }), "{err:?}");
    // ...and a wrong one is not.
    let err = try_port(pinned_only().pin_sha256(&wrong), port, "localhost")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownIssuer), "{err:?}");

    // With every check off, a wrong pin still refuses the server.
    let err = try_port(
        rig_tls()
            .pin_sha256(&wrong)
            .dangerous_accept_invalid_certs(true),
        port,
        "localhost",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::PinMismatch { .. }), "{err:?}");
}

#[tokio::test]
async fn engine_wraps_certificate_errors() {
    let p = peers();
    let transport = transport(
        p.postfix_badcert_expired_port,
        Security::ImplicitTls,
        rig_tls().build().unwrap(),
    );
    let err = transport.connect().await.unwrap_err();
    assert!(matches!(err, smtp_core::Error::Tls { .. }), "{err:?}");
    assert!(
        matches!(tls_error(&err), Error::CertificateExpired { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("expired at 2020-01-02T00:00:00Z"),
        "{err}"
    );
}
