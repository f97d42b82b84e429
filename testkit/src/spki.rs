//! SPKI pins computed by openssl: an independent check of what the TLS
//! crate computes, and the pins tests give the client.

use std::path::Path;

/// The base64 SHA-256 of a PEM certificate's SubjectPublicKeyInfo, as
/// `openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst
/// -sha256 -binary | base64` prints it (the form `tls.pin_sha256` takes).
pub fn openssl_pin(cert: impl AsRef<Path>) -> String {
    let script = format!(
        "openssl x509 -in '{}' -pubkey -noout | openssl pkey -pubin -outform der \
         | openssl dgst -sha256 -binary | base64",
        cert.as_ref().display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .expect("openssl is installed with the rig (scripts/peers/install.sh)");
    assert!(
        out.status.success(),
        "openssl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
