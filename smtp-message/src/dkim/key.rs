//! Reading the private key: PEM only, and errors that say what the file
//! holds without ever showing its bytes.

use std::path::Path;

use mail_auth::common::crypto::{DkimKey, Ed25519Key, RsaKey, Sha256};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

use super::DkimAlgorithm;
use crate::Error;

/// Parses a PEM private key: PKCS#1 RSA, PKCS#8 RSA or PKCS#8 Ed25519.
pub(super) fn parse_pem(
    pem: &[u8],
    path: Option<&Path>,
) -> Result<(DkimKey, DkimAlgorithm), Error> {
    let bad = |reason: String| Error::DkimKeyFormat {
        path: path.map(Path::to_path_buf),
        reason,
    };
    let der = PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
        bad(match e {
            rustls_pki_types::pem::Error::NoItemsFound => {
                "no PEM private key found (expected a BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY block)"
                    .to_string()
            }
            // The variants name positions and section kinds, never key bytes.
            other => format!("not a readable PEM private key ({other:?})"),
        })
    })?;
    match der {
        PrivateKeyDer::Pkcs1(_) => rsa(der).map_err(bad),
        PrivateKeyDer::Pkcs8(ref pkcs8) => {
            match Ed25519Key::from_pkcs8_der(pkcs8.secret_pkcs8_der()) {
                Ok(key) => Ok((DkimKey::Ed25519(key), DkimAlgorithm::Ed25519Sha256)),
                Err(_) => rsa(der).map_err(|_| {
                    bad("the PKCS#8 key is neither RSA nor Ed25519 (or is damaged)".to_string())
                }),
            }
        }
        PrivateKeyDer::Sec1(_) => Err(bad(
            "an EC (SEC1) key: DKIM signs with RSA or Ed25519 only".to_string()
        )),
        _ => Err(bad("an unsupported kind of private key".to_string())),
    }
}

fn rsa(der: PrivateKeyDer<'_>) -> Result<(DkimKey, DkimAlgorithm), String> {
    let key = RsaKey::<Sha256>::from_key_der(der)
        .map_err(|_| "the RSA key cannot be decoded (damaged or truncated?)".to_string())?;
    Ok((DkimKey::Rsa(key), DkimAlgorithm::RsaSha256))
}
