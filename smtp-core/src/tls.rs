//! The TLS seam: [`TlsUpgrade`], the [`Security`] policy and [`TlsInfo`].
//!
//! `smtp-core` has no TLS code; `smtp-transport-tls` implements
//! [`TlsUpgrade`] over rustls.

use std::fmt;

use async_trait::async_trait;

use crate::connector::BoxStream;
use crate::error::BoxError;

/// How (and whether) the connection is encrypted.
///
/// | mode | port | on the wire |
/// |------|------|-------------|
/// | `None` | 25 | cleartext; never use with a password unless on a trusted network |
/// | `ImplicitTls` | 465 | TLS from the first byte (SMTPS, RFC 8314) |
/// | `StartTlsRequired` | 587 | cleartext greeting, then `STARTTLS`; fails closed if not offered or refused |
/// | `StartTlsOpportunistic` | 587 | `STARTTLS` when offered, else cleartext; an active attacker can strip it |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Security {
    /// No TLS at all.
    None,
    /// TLS from the first byte (SMTPS, port 465). The recommended mode
    /// (RFC 8314 §3.3).
    ImplicitTls,
    /// `STARTTLS` must succeed, or nothing is sent.
    #[default]
    StartTlsRequired,
    /// `STARTTLS` when offered; cleartext if the server does not offer it.
    /// Secrets are still never sent in clear unless explicitly allowed.
    StartTlsOpportunistic,
}

impl Security {
    /// The conventional port for the mode: 25, 465 or 587.
    pub fn default_port(self) -> u16 {
        match self {
            Security::None => 25,
            Security::ImplicitTls => 465,
            Security::StartTlsRequired | Security::StartTlsOpportunistic => 587,
        }
    }
    /// True when the mode needs a [`TlsUpgrade`] implementation.
    pub fn uses_tls(self) -> bool {
        !matches!(self, Security::None)
    }
    /// The config spelling: `none`, `implicit`, `starttls`, `starttls-opportunistic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::None => "none",
            Security::ImplicitTls => "implicit",
            Security::StartTlsRequired => "starttls",
            Security::StartTlsOpportunistic => "starttls-opportunistic",
        }
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Security {
    type Err = String;
    fn from_str(s: &str) -> Result<Security, String> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "plain" | "plaintext" => Ok(Security::None),
            "implicit" | "implicit-tls" | "tls" | "ssl" | "smtps" => Ok(Security::ImplicitTls),
            "starttls" | "starttls-required" => Ok(Security::StartTlsRequired),
            "starttls-opportunistic" | "opportunistic" => Ok(Security::StartTlsOpportunistic),
            _ => Err(format!(
                "unknown security mode {s:?}: expected none, implicit, starttls or starttls-opportunistic"
            )),
        }
    }
}

/// One certificate of the peer's chain, as shown to a person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Subject alternative names (DNS names and IP addresses).
    pub subject_alt_names: Vec<String>,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// SHA-256 of the SubjectPublicKeyInfo, base64 (for pinning).
    pub spki_sha256: String,
}

/// What was negotiated on a TLS connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// Protocol version, e.g. `TLSv1.3`.
    pub version: String,
    /// Cipher suite name, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: String,
    /// ALPN protocol, if any (SMTP uses none).
    pub alpn: Option<String>,
    /// The peer's chain, leaf first. Empty when the TLS plugin does not
    /// report certificates (smtp-transport-tls without its `cert-details`
    /// feature).
    pub peer_certificates: Vec<CertificateInfo>,
    /// False when a `dangerous_*` switch let an unverified certificate through.
    pub verified: bool,
    /// The name the certificate was checked against (SNI).
    pub server_name: String,
    /// True when the handshake resumed an earlier session (a TLS 1.3
    /// ticket or a TLS 1.2 session ID): the server sent no certificate,
    /// `peer_certificates` are those of the session resumed.
    pub resumed: bool,
}

/// Turns a stream into a TLS stream: at connect (implicit TLS) or after
/// `STARTTLS`. Must work over any stream (TCP, SOCKS, HTTP CONNECT).
#[async_trait]
pub trait TlsUpgrade: Send + Sync + fmt::Debug {
    /// Runs the client handshake with `server_name` as SNI and as the name
    /// the certificate must match.
    async fn upgrade(
        &self,
        stream: BoxStream,
        server_name: &str,
    ) -> Result<(BoxStream, TlsInfo), BoxError>;
}
