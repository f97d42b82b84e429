//! The stable hint codes of this crate: one per [`Error`] variant.
//!
//! An error's `Display` states only what failed; the advice lives here,
//! with a stable code the CLI prints and `docs/troubleshooting.md` explains.
//! Each text names settings as [`smtp_core::Setting`]s (`{TlsCaFile}`):
//! the hint's `Display` words them as this crate's methods, smtp-config as
//! config keys, the CLI as keys and flags. The version errors' hints are
//! smtp-core's, where [`smtp_core::TlsVersion`] lives.

use smtp_core::Hint;

use crate::error::Error;

smtp_core::hint_table! {
    /// Every hint smtp-transport-tls gives; [`Error::coded_hint`] returns one.
    pub mod hints {
        INVALID_PIN = "tls-invalid-pin":
            "set {TlsPinSha256} to the server key's spki_sha256 (base64 of the SHA-256 of its SubjectPublicKeyInfo, as the connection's certificate details report it)";
        CA_FILE = "tls-ca-file":
            "point {TlsCaFile} at a readable PEM file holding CA certificates";
        CLIENT_CERT_FILE = "tls-client-cert-file":
            "point {TlsClientCert} at a readable PEM file holding the certificate chain";
        CLIENT_KEY_FILE = "tls-client-key-file":
            "point {TlsClientKey} at a readable PEM file holding an unencrypted PKCS#8, PKCS#1 or SEC1 key (decrypt one with `openssl pkey -in key.pem -out plain-key.pem`)";
        CLIENT_AUTH_MISMATCH = "tls-client-auth-mismatch":
            "{TlsClientKey} must be the private key of the first certificate in {TlsClientCert}";
        PLATFORM_ROOTS = "tls-platform-roots":
            "install the system CA bundle (Debian: ca-certificates), or give the server's CA with {TlsCaFile}";
        PLATFORM_ROOTS_NOT_BUILT = "tls-platform-roots-not-built":
            "build smtp-transport-tls with its `platform-roots` feature (the smtp CLI has it), turn {TlsPlatformRoots} off, or trust the server's CA with {TlsCaFile}";
        NO_TRUST_ANCHORS = "tls-no-trust-anchors":
            "give a CA file ({TlsCaFile}) or turn a root store back on ({TlsWebpkiRoots})";
        NO_CRYPTO_PROVIDER = "tls-no-crypto-provider":
            "enable the `ring` (default) or `aws-lc-rs` feature of smtp-transport-tls, or pass a provider with {TlsCryptoProvider}";
        INVALID_CONFIG = "tls-invalid-config":
            "the crypto provider has no cipher suite for the allowed versions: widen {TlsMinVersion} / {TlsMaxVersion}";
        INVALID_SERVER_NAME = "tls-invalid-server-name":
            "set {TlsServerName} to the DNS name on the server's certificate";
        UNKNOWN_ISSUER = "tls-unknown-issuer":
            "if the server uses a private CA or a self-signed certificate, trust it with {TlsCaFile}, or pin its key with {TlsPinSha256}";
        CERTIFICATE_EXPIRED = "tls-certificate-expired":
            "the server's administrator must renew the certificate; if the dates look wrong, fix this machine's clock";
        CERTIFICATE_NOT_YET_VALID = "tls-certificate-not-yet-valid":
            "fix this machine's clock; if it is right, the server's administrator must fix the certificate's dates";
        NAME_MISMATCH = "tls-name-mismatch":
            "connect with a name the certificate lists, or set {TlsServerName} to one when connecting by IP address or alias";
        PIN_MISMATCH = "tls-pin-mismatch":
            "the server's key changed or the connection is intercepted: update {TlsPinSha256} only if the change is legitimate";
        BAD_CERTIFICATE = "tls-bad-certificate":
            "the server's certificate is unusable: the server's administrator must replace it";
        VERSION_MISMATCH = "tls-version-mismatch":
            "the server speaks another TLS version: widen {TlsMinVersion} / {TlsMaxVersion} only if you trust its choice";
        PLAINTEXT_REPLY = "tls-plaintext-reply":
            "this port speaks plain SMTP first: use {Security=starttls}, usually on port 587 or 25";
        REPLY_BEFORE_HANDSHAKE = "tls-reply-before-handshake":
            "a broken server or someone tampering with the connection (STARTTLS injection): report it to the server's administrator and do not send mail over this path";
        NOT_TLS = "tls-not-tls":
            "this port does not speak TLS: check the port (implicit TLS is usually 465), or use {Security=starttls}";
        HANDSHAKE_EOF = "tls-handshake-eof":
            "the port may not speak TLS: try {Security=starttls}; otherwise the server refused our TLS versions or client certificate (see its log)";
        CLIENT_CERTIFICATE_REQUIRED = "tls-client-certificate-required":
            "set {TlsClientCert} and {TlsClientKey} to a certificate the server trusts";
        CLIENT_CERTIFICATE_REFUSED = "tls-client-certificate-refused":
            "the server refused our client certificate: use one issued by a CA the server trusts ({TlsClientCert})";
        ALERT = "tls-alert":
            "usually no cipher suite or TLS version in common, or the server wants a client certificate: check {TlsMinVersion} / {TlsMaxVersion}, {TlsClientCert}, and the server's log";
        HANDSHAKE_FAILED = "tls-handshake-failed":
            "retry; if it keeps failing, check the server's TLS setup and log";
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
            Error::Version(e) => e.coded_hint(),
            Error::InvalidPin { .. } => hints::INVALID_PIN,
            Error::CaFile { .. } => hints::CA_FILE,
            Error::ClientCertFile { .. } => hints::CLIENT_CERT_FILE,
            Error::ClientKeyFile { .. } => hints::CLIENT_KEY_FILE,
            Error::ClientAuth { .. } => hints::CLIENT_AUTH_MISMATCH,
            Error::PlatformRoots { .. } => hints::PLATFORM_ROOTS,
            Error::PlatformRootsNotBuilt => hints::PLATFORM_ROOTS_NOT_BUILT,
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
            Error::PlaintextBeforeHandshake { .. } => hints::REPLY_BEFORE_HANDSHAKE,
            Error::NotTls { .. } => hints::NOT_TLS,
            Error::HandshakeEof => hints::HANDSHAKE_EOF,
            Error::ClientCertificateRequired { .. } => hints::CLIENT_CERTIFICATE_REQUIRED,
            Error::Alert { alert } => match alert.as_str() {
                // Alerts a server sends about the certificate we presented.
                "BadCertificate" | "UnknownCA" | "CertificateUnknown" => {
                    hints::CLIENT_CERTIFICATE_REFUSED
                }
                _ => hints::ALERT,
            },
            Error::Handshake(_) | Error::Io(_) => hints::HANDSHAKE_FAILED,
        }
    }
}

/// The engine's classification: a connection that broke during the
/// handshake is transient; certificates, versions and configuration are
/// permanent (retrying meets the same certificate).
impl smtp_core::Classify for Error {
    fn retry(&self) -> smtp_core::Retry {
        match self {
            Error::Io(_) => smtp_core::Retry::Transient,
            _ => smtp_core::Retry::Permanent,
        }
    }

    fn hint(&self) -> Option<Hint> {
        Some(self.coded_hint())
    }
}
