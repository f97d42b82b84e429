//! DKIM test keys made by openssl, and dkimpy (Debian's python3-dkim) as
//! the independent verifier, given the public key directly (no DNS).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The verifier script, run by Debian's python3 (`-c`).
const VERIFY_PY: &str = include_str!("dkim_verify.py");

/// A fresh private key in a temporary directory, and the DNS TXT record
/// of its public half.
#[derive(Debug)]
pub struct DkimTestKey {
    /// The PEM private key file.
    pub pem: PathBuf,
    /// `v=DKIM1; k=...; p=...`, as published at `selector._domainkey.domain`.
    pub record: String,
    _dir: tempfile::TempDir,
}

/// Which kind of key [`DkimTestKey::generate`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DkimKeyKind {
    /// RSA 2048, PKCS#8 (`BEGIN PRIVATE KEY`).
    Rsa,
    /// RSA 2048, PKCS#1 (`BEGIN RSA PRIVATE KEY`), as older tools write.
    RsaPkcs1,
    /// Ed25519, PKCS#8.
    Ed25519,
}

/// Runs openssl; panics with its error output (or how to install it).
pub fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is needed to make test keys (scripts/peers/install.sh)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

impl DkimTestKey {
    /// Makes a key with openssl.
    pub fn generate(kind: DkimKeyKind) -> DkimTestKey {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let pem = dir.path().join("dkim.pem");
        let p = pem.to_str().expect("a UTF-8 temporary path");
        let rsa = [
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ];
        match kind {
            DkimKeyKind::Rsa => openssl(&[&rsa[..], &["-out", p]].concat()),
            DkimKeyKind::RsaPkcs1 => {
                let pkcs8 = dir.path().join("pkcs8.pem");
                let q = pkcs8.to_str().expect("a UTF-8 temporary path");
                openssl(&[&rsa[..], &["-out", q]].concat());
                openssl(&["pkey", "-in", q, "-traditional", "-out", p])
            }
            DkimKeyKind::Ed25519 => openssl(&["genpkey", "-algorithm", "ed25519", "-out", p]),
        };
        let spki = openssl(&["pkey", "-in", p, "-pubout", "-outform", "DER"]);
        let record = if kind == DkimKeyKind::Ed25519 {
            // RFC 8463: p= is the bare 32-byte key, not the SPKI structure.
            format!("v=DKIM1; k=ed25519; p={}", base64(&spki[spki.len() - 32..]))
        } else {
            format!("v=DKIM1; k=rsa; p={}", base64(&spki))
        };
        DkimTestKey {
            pem,
            record,
            _dir: dir,
        }
    }

    /// The key file's path.
    pub fn path(&self) -> &Path {
        &self.pem
    }

    /// dkimpy's verdict on `message` (LF or CRLF line ends) against this
    /// key: `Ok` on pass, `Err` with its reason.
    pub fn verify(&self, message: &[u8]) -> Result<(), String> {
        dkimpy_verify(message, &self.record)
    }
}

/// dkimpy's verdict on the first signature of `message`, answering its
/// key lookup with `record`. Panics (saying how to install it) when
/// python3-dkim is missing: a missing verifier must fail, not pass.
pub fn dkimpy_verify(message: &[u8], record: &str) -> Result<(), String> {
    // Debian's interpreter: python3-dkim installs there, not into a
    // python3 that a version manager may put first on PATH.
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", VERIFY_PY, record])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("/usr/bin/python3 is needed (scripts/peers/install.sh)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(message)
        .expect("writing to the verifier");
    let out = child.wait_with_output().expect("the verifier's result");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(said),
        _ => panic!("the DKIM verifier could not run: {said}"),
    }
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
