//! `platform_roots(true)` trusts what the operating system trusts. The OS
//! store is pointed at the rig's CA through `SSL_CERT_FILE` (honoured by
//! rustls-native-certs) in a child run of this test binary, since a test
//! must not change its own process environment. Without the
//! `platform-roots` feature, asking for them is refused with its own error.

#[cfg(feature = "platform-roots")]
mod common;

#[cfg(feature = "platform-roots")]
use common::*;
use smtp_transport_tls::{Error, RustlsUpgrade};

#[cfg(feature = "platform-roots")]
const CHILD_MARKER: &str = "SMTP_TLS_PLATFORM_ROOTS_CHILD";
#[cfg(feature = "platform-roots")]
const TEST_NAME: &str = "platform_roots_are_the_os_store";

#[cfg(feature = "platform-roots")]
fn platform_only() -> smtp_transport_tls::RustlsUpgrade {
    RustlsUpgrade::builder()
        .webpki_roots(false)
        .platform_roots(true)
        .build()
        .expect("platform roots load")
}

#[cfg(feature = "platform-roots")]
#[tokio::test]
async fn platform_roots_are_the_os_store() {
    let port = peers().postfix_smtps_port;
    if std::env::var_os(CHILD_MARKER).is_some() {
        let (_, info) = handshake(&platform_only(), port, "localhost")
            .await
            .expect("rig CA trusted via SSL_CERT_FILE");
        assert!(info.verified);
        return;
    }

    // This machine's real store does not hold the rig's test CA.
    let err = handshake_err(&platform_only(), port, "localhost").await;
    assert!(matches!(err, Error::UnknownIssuer), "{err:?}");

    // A store holding only the rig's CA makes the same server trusted.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_MARKER, "1")
        .env("SSL_CERT_FILE", &peers().ca_cert)
        .env_remove("SSL_CERT_DIR")
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child run failed:\n{log}");
    assert!(log.contains("1 passed"), "the child ran the test:\n{log}");
}

#[cfg(not(feature = "platform-roots"))]
#[test]
fn platform_roots_without_the_feature_are_refused() {
    let err = RustlsUpgrade::builder()
        .platform_roots(true)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::PlatformRootsNotBuilt), "{err:?}");
    assert_eq!(err.coded_hint().code, "tls-platform-roots-not-built");
    assert!(
        err.to_string().contains("`platform-roots` feature"),
        "{err}"
    );
}
