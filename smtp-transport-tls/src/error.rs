//! The one error type of this crate.
//!
//! Configuration errors come from [`RustlsUpgradeBuilder::build`] and parsing;
//! handshake errors come from [`RustlsUpgrade`]'s `upgrade` (the engine
//! wraps them in `smtp_core::Error::Tls`, reachable with `downcast_ref`
//! through `source()`). Each `Display` is one line stating what failed and
//! what was seen; what to do about it is [`Error::coded_hint`], which the
//! CLI prints on its own `hint:` line (library users call it themselves).
//!
//! [`Error::coded_hint`]: crate::Error::coded_hint
//!
//! [`RustlsUpgradeBuilder::build`]: crate::RustlsUpgradeBuilder::build
//! [`RustlsUpgrade`]: crate::RustlsUpgrade

use std::path::PathBuf;

/// Everything that can go wrong configuring TLS or during a handshake.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A TLS version that cannot be used, or a range whose lowest version
    /// is above its highest.
    #[error(transparent)]
    Version(#[from] smtp_core::TlsVersionError),
    /// A pin that is not base64 of 32 bytes.
    #[error(
        "invalid SPKI pin {pin:?}: {reason}; expected the base64 SHA-256 of the server's \
         SubjectPublicKeyInfo (44 characters)"
    )]
    InvalidPin {
        /// The pin as written.
        pin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A CA certificate file that cannot be read or holds no usable certificate.
    #[error("cannot use CA file {}: {reason}", path.display())]
    CaFile {
        /// The file (or `<memory>` for PEM given as bytes).
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A client certificate file that cannot be read or holds no certificate.
    #[error("cannot use client certificate file {}: {reason}", path.display())]
    ClientCertFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A client key file that cannot be read or holds no usable key.
    #[error("cannot use client key file {}: {reason}", path.display())]
    ClientKeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (never the key itself).
        reason: String,
    },
    /// The client certificate and key were read but rustls refused them
    /// (typically: the key does not belong to the certificate).
    #[error("client certificate {} and key {} do not work together: {reason}", cert.display(), key.display())]
    ClientAuth {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls' reason.
        reason: String,
    },
    /// The platform's trust store could not be loaded.
    #[error("cannot load the platform's trusted certificates: {reason}")]
    PlatformRoots {
        /// What went wrong.
        reason: String,
    },
    /// Platform roots were asked for, but this build has no
    /// `platform-roots` feature.
    #[error(
        "the platform's trust store was asked for, but this build of smtp-transport-tls lacks \
         its `platform-roots` feature"
    )]
    PlatformRootsNotBuilt,
    /// Every source of trust anchors is off.
    #[error(
        "no trusted certificate authority: the webpki roots and platform roots are off and no CA file \
         was given"
    )]
    NoTrustAnchors,
    /// Neither crypto provider feature is enabled and none was given.
    #[error(
        "no rustls crypto provider: neither the `ring` nor the `aws-lc-rs` feature of \
         smtp-transport-tls is enabled, and none was given"
    )]
    NoCryptoProvider,
    /// rustls refused the configuration (e.g. a provider without suites
    /// for the chosen versions).
    #[error("invalid TLS configuration: {0}")]
    Config(#[source] rustls::Error),
    /// The name to verify is neither a DNS name nor an IP address.
    #[error("invalid TLS server name {name:?}: it is neither a DNS name nor an IP address")]
    InvalidServerName {
        /// The name as given.
        name: String,
    },

    /// The server's chain does not lead to a trusted CA.
    #[error("the server's certificate is not signed by a trusted certificate authority")]
    UnknownIssuer,
    /// The server's certificate has expired.
    #[error("the server's certificate expired at {not_after} (now {now})")]
    CertificateExpired {
        /// End of validity (RFC 3339).
        not_after: String,
        /// The time we checked at (RFC 3339).
        now: String,
    },
    /// The server's certificate is not valid yet.
    #[error("the server's certificate is not valid before {not_before} (now {now})")]
    CertificateNotYetValid {
        /// Start of validity (RFC 3339).
        not_before: String,
        /// The time we checked at (RFC 3339).
        now: String,
    },
    /// The certificate is valid, but not for the name we connected to.
    #[error(
        "the server's certificate is for {} but we asked for {expected}",
        if presented.is_empty() { "no name".to_string() } else { presented.join(", ") }
    )]
    NameMismatch {
        /// The name we verified against.
        expected: String,
        /// The names in the certificate (DNS names and IP addresses).
        presented: Vec<String>,
    },
    /// The server's key matches none of the configured pins.
    #[error(
        "the server's public key pin is {actual} but we expected {}",
        expected.join(" or ")
    )]
    PinMismatch {
        /// The configured pins (base64).
        expected: Vec<String>,
        /// The pin of the key the server presented (base64).
        actual: String,
    },
    /// Any other certificate problem (bad signature, revoked, wrong purpose, ...).
    #[error("the server's certificate is invalid: {0}")]
    BadCertificate(#[source] rustls::Error),
    /// No TLS version in common.
    #[error(
        "no TLS version in common with the server: we allowed {allowed} and the handshake failed \
         ({detail})"
    )]
    VersionMismatch {
        /// The range we offered, e.g. `TLSv1.3 only`.
        allowed: String,
        /// What rustls reported.
        detail: String,
    },
    /// The server answered in plaintext SMTP: the port is not an implicit TLS port.
    #[error("the server answered in plaintext ({greeting:?}) instead of TLS")]
    PlaintextReply {
        /// The start of what the server sent.
        greeting: String,
    },
    /// An SMTP reply that cannot be a greeting came where the TLS handshake
    /// should start: after STARTTLS's `220`, the server (or something in
    /// between) kept talking in clear.
    #[error("the server sent an SMTP reply ({reply:?}) where the TLS handshake should start")]
    PlaintextBeforeHandshake {
        /// The start of what the server sent.
        reply: String,
    },
    /// The server sent bytes that are not TLS.
    #[error("the server did not answer with TLS (corrupt message: {detail})")]
    NotTls {
        /// What rustls reported.
        detail: String,
    },
    /// The server closed the connection in the middle of the handshake.
    #[error("the server closed the connection during the TLS handshake")]
    HandshakeEof,
    /// The server wants a client certificate and we sent none (or one it refused).
    #[error("the server requires a client certificate ({alert} alert)")]
    ClientCertificateRequired {
        /// The alert the server sent.
        alert: String,
    },
    /// The server aborted the handshake with an alert.
    #[error("the server aborted the TLS handshake with a {alert} alert")]
    Alert {
        /// The alert, e.g. `HandshakeFailure`.
        alert: String,
    },
    /// Any other handshake failure reported by rustls.
    #[error("TLS handshake failed: {0}")]
    Handshake(#[source] rustls::Error),
    /// Reading or writing the stream failed during the handshake.
    #[error("TLS handshake failed: {0}")]
    Io(#[source] std::io::Error),
}
