//! Reading certificates and keys from PEM files (or PEM bytes), with errors
//! that name the file and the reason.
//!
//! Runs once, in `RustlsUpgradeBuilder::build`, so a bad file is reported
//! before the first connection, not in the middle of one.

use std::path::{Path, PathBuf};

use rustls::RootCertStore;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::Error;

/// Where PEM data comes from: a file, or bytes the caller already has.
#[derive(Clone)]
pub(crate) enum PemSource {
    File(PathBuf),
    Memory(Vec<u8>),
}

impl PemSource {
    /// The file, or `<memory>`, for error messages.
    pub(crate) fn path(&self) -> PathBuf {
        match self {
            PemSource::File(p) => p.clone(),
            PemSource::Memory(_) => PathBuf::from("<memory>"),
        }
    }

    fn read(&self) -> Result<Vec<u8>, String> {
        match self {
            PemSource::File(p) => std::fs::read(p).map_err(|e| format!("cannot read it: {e}")),
            PemSource::Memory(bytes) => Ok(bytes.clone()),
        }
    }
}

impl std::fmt::Debug for PemSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PemSource::File(p) => write!(f, "{}", p.display()),
            PemSource::Memory(bytes) => write!(f, "<{} bytes of PEM>", bytes.len()),
        }
    }
}

/// Adds every certificate of a CA file to `roots`.
pub(crate) fn add_ca(roots: &mut RootCertStore, source: &PemSource) -> Result<(), Error> {
    let fail = |reason: String| Error::CaFile {
        path: source.path(),
        reason,
    };
    let bytes = source.read().map_err(fail)?;
    let certs = certificates(&bytes).map_err(fail)?;
    for cert in certs {
        roots.add(cert).map_err(|e| {
            fail(format!(
                "a certificate in it is not a usable trust anchor: {e}"
            ))
        })?;
    }
    Ok(())
}

/// The certificate chain of a client certificate file, leaf first.
pub(crate) fn client_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let fail = |reason: String| Error::ClientCertFile {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = PemSource::File(path.to_path_buf()).read().map_err(fail)?;
    certificates(&bytes).map_err(fail)
}

/// The private key of a key file: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
///
/// Reasons never quote the file's content: it is a secret.
pub(crate) fn client_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    let fail = |reason: &str| Error::ClientKeyFile {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let bytes = std::fs::read(path).map_err(|e| Error::ClientKeyFile {
        path: path.to_path_buf(),
        reason: format!("cannot read it: {e}"),
    })?;
    match PrivateKeyDer::from_pem_slice(&bytes) {
        Ok(key) => Ok(key),
        Err(pem::Error::NoItemsFound) if contains(&bytes, b"ENCRYPTED") => {
            Err(fail("the key is encrypted"))
        }
        Err(pem::Error::NoItemsFound) => Err(fail(
            "no private key in it (expected a PEM block BEGIN PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)",
        )),
        Err(pem::Error::Base64Decode(_)) => Err(fail("the PEM block is not valid base64")),
        Err(pem::Error::MissingSectionEnd { .. }) => Err(fail("a PEM block has no END line")),
        Err(_) => Err(fail("it is not a valid PEM file")),
    }
}

fn certificates(bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("it is not a valid PEM file ({e})"))?;
    if certs.is_empty() {
        return Err("no certificate in it (expected a PEM block BEGIN CERTIFICATE)".to_string());
    }
    Ok(certs)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &[u8] = include_bytes!("../tests/data/localhost.pem");

    fn write(dir: &tempfile::TempDir, name: &str, content: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn ca_from_memory_and_file() {
        let mut roots = RootCertStore::empty();
        add_ca(&mut roots, &PemSource::Memory(CERT.to_vec())).unwrap();
        let dir = tempfile::tempdir().unwrap();
        add_ca(&mut roots, &PemSource::File(write(&dir, "ca.pem", CERT))).unwrap();
        assert_eq!(roots.len(), 2);
    }

    #[test]
    fn missing_ca_file_names_path_and_reason() {
        let err = add_ca(
            &mut RootCertStore::empty(),
            &PemSource::File("/nonexistent/ca.pem".into()),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::CaFile { .. }), "{err:?}");
        assert!(
            text.starts_with("cannot use CA file /nonexistent/ca.pem: cannot read it"),
            "{text}"
        );
    }

    #[test]
    fn ca_file_without_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "empty.pem", b"just text\n");
        let err = add_ca(&mut RootCertStore::empty(), &PemSource::File(path)).unwrap_err();
        assert!(err.to_string().contains("no certificate in it"), "{err}");
    }

    #[test]
    fn ca_file_with_broken_base64() {
        let broken = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let err = add_ca(
            &mut RootCertStore::empty(),
            &PemSource::Memory(broken.to_vec()),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("<memory>: it is not a valid PEM file"),
            "{err}"
        );
    }

    #[test]
    fn client_chain_reads_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let chain = client_chain(&write(&dir, "c.pem", CERT)).unwrap();
        assert_eq!(chain.len(), 1);
        let err = client_chain(Path::new("/nonexistent/c.pem")).unwrap_err();
        assert!(matches!(err, Error::ClientCertFile { .. }), "{err:?}");
    }

    #[test]
    fn keys_of_every_kind() {
        let dir = tempfile::tempdir().unwrap();
        // Key bodies need only be valid base64 here: their DER is parsed
        // by rustls later, when it pairs the key with the certificate.
        for (label, want) in [
            ("PRIVATE KEY", "Pkcs8"),
            ("RSA PRIVATE KEY", "Pkcs1"),
            ("EC PRIVATE KEY", "Sec1"),
        ] {
            let pem = format!("-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n");
            let key = client_key(&write(&dir, "k.pem", pem.as_bytes())).unwrap();
            assert!(format!("{key:?}").starts_with(want), "{label}: {key:?}");
        }
    }

    #[test]
    fn key_errors_never_quote_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let secret = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nU2VjcmV0S2V5\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let err = client_key(&write(&dir, "enc.pem", secret.as_bytes())).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("the key is encrypted"), "{text}");
        assert!(!text.contains("U2VjcmV0S2V5"), "{text}");

        let broken = "-----BEGIN PRIVATE KEY-----\nU2VjcmV0S2V5!!\n-----END PRIVATE KEY-----\n";
        let err = client_key(&write(&dir, "broken.pem", broken.as_bytes())).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(text.contains("not valid base64"), "{text}");
        assert!(!text.contains("U2VjcmV0S2V5"), "{text}");

        let err = client_key(&write(&dir, "cert.pem", CERT)).unwrap_err();
        assert!(err.to_string().contains("no private key in it"), "{err}");
    }
}
