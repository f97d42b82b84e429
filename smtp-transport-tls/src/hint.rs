//! The stable hint codes of this crate: one per [`Error`] variant.
//!
//! The `Display` of each error already ends with its advice; the hint gives
//! that advice a code so the CLI and `docs/troubleshooting.md` can name it.

use smtp_core::Hint;

use crate::error::Error;

smtp_core::hint_table! {
    /// Every hint smtp-transport-tls gives; [`Error::coded_hint`] returns one.
    pub mod hints {
        UNSUPPORTED_VERSION = "tls-unsupported-version":
            "use tls.min_version = \"1.2\" or \"1.3\"; SSLv3, TLS 1.0 and 1.1 are insecure and not implemented";
        UNKNOWN_VERSION = "tls-unknown-version": "write the version as \"1.2\" or \"1.3\"";
        VERSION_RANGE = "tls-version-range": "make tls.min_version lower than or equal to tls.max_version";
        INVALID_PIN = "tls-invalid-pin":
            "copy the pin from the spki_sha256 field of `smtp test --json`: base64 of 32 bytes, 44 characters";
        CA_FILE = "tls-ca-file": "point tls.ca_file (--ca-file) at a readable PEM file holding CA certificates";
        CLIENT_CERT_FILE = "tls-client-cert-file":
            "point tls.client_cert at a readable PEM file holding the certificate chain";
        CLIENT_KEY_FILE = "tls-client-key-file":
            "point tls.client_key at a readable PEM file holding an unencrypted PKCS#8, PKCS#1 or SEC1 key";
        CLIENT_AUTH_MISMATCH = "tls-client-auth-mismatch":
            "tls.client_key must be the private key of the first certificate in tls.client_cert";
        PLATFORM_ROOTS = "tls-platform-roots":
            "install the system CA bundle (Debian: ca-certificates), or give the server's CA with tls.ca_file";
        NO_TRUST_ANCHORS = "tls-no-trust-anchors": "add a CA file (tls.ca_file) or turn a root store back on";
        NO_CRYPTO_PROVIDER = "tls-no-crypto-provider":
            "enable the `ring` (default) or `aws-lc-rs` feature of smtp-transport-tls";
        INVALID_CONFIG = "tls-invalid-config":
            "the crypto provider has no cipher suite for the allowed versions: widen tls.min_version/max_version";
        INVALID_SERVER_NAME = "tls-invalid-server-name":
            "set tls.server_name to the DNS name on the server's certificate";
        UNKNOWN_ISSUER = "tls-unknown-issuer":
            "give the server's private CA with tls.ca_file (--ca-file), or pin its key with tls.pin_sha256";
        CERTIFICATE_EXPIRED = "tls-certificate-expired":
            "the server must renew its certificate; if the dates look wrong, fix this machine's clock";
        CERTIFICATE_NOT_YET_VALID = "tls-certificate-not-yet-valid": "fix this machine's clock (or the server's certificate)";
        NAME_MISMATCH = "tls-name-mismatch":
            "connect with a name the certificate lists, or set tls.server_name when connecting by IP address or alias";
        PIN_MISMATCH = "tls-pin-mismatch":
            "the server's key changed or the connection is intercepted: update tls.pin_sha256 only if the change is legitimate";
        BAD_CERTIFICATE = "tls-bad-certificate": "the server's certificate is unusable: the server's administrator must replace it";
        VERSION_MISMATCH = "tls-version-mismatch":
            "the server speaks another TLS version: adjust tls.min_version/tls.max_version only if you trust it";
        PLAINTEXT_REPLY = "tls-plaintext-reply":
            "this port speaks plain SMTP first: use security = \"starttls\" (usually port 587 or 25)";
        NOT_TLS = "tls-not-tls": "this port does not speak TLS: check the port, or use security = \"starttls\"";
        HANDSHAKE_EOF = "tls-handshake-eof":
            "try security = \"starttls\"; otherwise the server refused our TLS versions or client certificate";
        CLIENT_CERTIFICATE_REQUIRED = "tls-client-certificate-required":
            "configure tls.client_cert and tls.client_key with a certificate the server trusts";
        ALERT = "tls-alert":
            "the server aborted the handshake: check TLS versions, client certificate, and the server's log";
        HANDSHAKE_FAILED = "tls-handshake-failed": "the TLS handshake failed: retry, and check the server's TLS setup";
    }
}

impl Error {
    /// The advice for this error, with its stable code.
    ///
    /// ```
    /// let e = smtp_transport_tls::Error::UnknownIssuer;
    /// assert_eq!(e.coded_hint().code, "tls-unknown-issuer");
    /// ```
    pub fn coded_hint(&self) -> Hint {
        match self {
            Error::UnsupportedVersion { .. } => hints::UNSUPPORTED_VERSION,
            Error::UnknownVersion { .. } => hints::UNKNOWN_VERSION,
            Error::InvalidVersionRange { .. } => hints::VERSION_RANGE,
            Error::InvalidPin { .. } => hints::INVALID_PIN,
            Error::CaFile { .. } => hints::CA_FILE,
            Error::ClientCertFile { .. } => hints::CLIENT_CERT_FILE,
            Error::ClientKeyFile { .. } => hints::CLIENT_KEY_FILE,
            Error::ClientAuth { .. } => hints::CLIENT_AUTH_MISMATCH,
            Error::PlatformRoots { .. } => hints::PLATFORM_ROOTS,
            Error::NoTrustAnchors => hints::NO_TRUST_ANCHORS,
            Error::NoCryptoProvider => hints::NO_CRYPTO_PROVIDER,
            Error::Config(_) => hints::INVALID_CONFIG,
            Error::InvalidServerName { .. } => hints::INVALID_SERVER_NAME,
            Error::UnknownIssuer => hints::UNKNOWN_ISSUER,
            Error::CertificateExpired { .. } => hints::CERTIFICATE_EXPIRED,
            Error::CertificateNotYetValid { .. } => hints::CERTIFICATE_NOT_YET_VALID,
            Error::NameMismatch { .. } => hints::NAME_MISMATCH,
            Error::PinMismatch { .. } => hints::PIN_MISMATCH,
            Error::BadCertificate(_) => hints::BAD_CERTIFICATE,
            Error::VersionMismatch { .. } => hints::VERSION_MISMATCH,
            Error::PlaintextReply { .. } => hints::PLAINTEXT_REPLY,
            Error::NotTls { .. } => hints::NOT_TLS,
            Error::HandshakeEof => hints::HANDSHAKE_EOF,
            Error::ClientCertificateRequired { .. } => hints::CLIENT_CERTIFICATE_REQUIRED,
            Error::Alert { .. } => hints::ALERT,
            Error::Handshake(_) | Error::Io(_) => hints::HANDSHAKE_FAILED,
        }
    }
}
