#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod danger;
mod diagnose;
mod error;
mod hint;
mod info;
mod load;
mod pin;
mod settings;
mod stream;
mod upgrade;
mod verify;
mod version;

pub use error::Error;
pub use hint::hints;
#[cfg(feature = "cert-details")]
pub use info::certificate_info;
pub use pin::SpkiPin;
pub use settings::{RustlsUpgradeBuilder, TlsSettings};
pub use smtp_core::TlsVersion;
pub use smtp_core::{Security, TlsInfo};
pub use upgrade::RustlsUpgrade;

#[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
pub use intent::{implicit_tls, starttls_required};

/// Safe constructors named by intent. They need a built-in crypto
/// provider, so they exist only with the `ring` or `aws-lc-rs` feature.
#[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
mod intent {
    use std::sync::Arc;

    use smtp_core::{Security, SmtpTransport, SmtpTransportBuilder};

    use crate::RustlsUpgrade;

    fn default_upgrade() -> Arc<RustlsUpgrade> {
        // The defaults use a built-in provider that has suites for TLS 1.2
        // and 1.3, and the non-empty webpki root store: building cannot
        // fail (the unit tests build it).
        Arc::new(RustlsUpgrade::new().expect("the default rustls configuration is valid"))
    }

    /// A transport builder for implicit TLS (SMTPS, RFC 8314): port 465,
    /// [`Security::ImplicitTls`], rustls with the webpki roots and full
    /// verification. The recommended mode where the server offers it.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), smtp_core::Error> {
    /// let transport = smtp_transport_tls::implicit_tls("smtp.example.com").build()?;
    /// # Ok(()) }
    /// ```
    pub fn implicit_tls(host: impl Into<String>) -> SmtpTransportBuilder {
        SmtpTransport::builder(host)
            .port(Security::ImplicitTls.default_port())
            .security(Security::ImplicitTls)
            .tls(default_upgrade())
    }

    /// A transport builder for submission with STARTTLS required: port
    /// 587, [`Security::StartTlsRequired`] (nothing is sent if the server
    /// does not offer STARTTLS or the handshake fails), rustls with the
    /// webpki roots and full verification.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), smtp_core::Error> {
    /// let transport = smtp_transport_tls::starttls_required("smtp.example.com").build()?;
    /// # Ok(()) }
    /// ```
    pub fn starttls_required(host: impl Into<String>) -> SmtpTransportBuilder {
        SmtpTransport::builder(host)
            .port(Security::StartTlsRequired.default_port())
            .security(Security::StartTlsRequired)
            .tls(default_upgrade())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn constructors_pick_mode_and_port() {
            let t = implicit_tls("mail.example.test").build().unwrap();
            assert_eq!(t.security(), Security::ImplicitTls);
            assert_eq!(t.target().port, 465);
            let t = starttls_required("mail.example.test").build().unwrap();
            assert_eq!(t.security(), Security::StartTlsRequired);
            assert_eq!(t.target().port, 587);
        }
    }
}
