//! Switches that weaken certificate verification. Read this before using
//! one.
//!
//! | switch | what is still checked | what an attacker on the path can do |
//! |--------|-----------------------|-------------------------------------|
//! | none (default) | chain to a trusted CA, validity dates, server name, pins | nothing |
//! | [`accept_invalid_hostnames`](DangerousRustlsUpgradeBuilder::accept_invalid_hostnames) | chain and dates, pins | present any valid certificate for *another* name from a trusted CA |
//! | [`accept_invalid_certs`](DangerousRustlsUpgradeBuilder::accept_invalid_certs) | only pins, if any | everything, unless a pin is set: read the password and the mail |
//!
//! Both switches:
//! - log a `tracing::warn!` on **every** connection, so they cannot be
//!   forgotten in production;
//! - make `TlsInfo::verified` false;
//! - keep checking the handshake signatures, so a pin still proves the
//!   server holds the pinned key. `accept_invalid_certs` together with
//!   [`pin_sha256`](crate::RustlsUpgradeBuilder::pin_sha256) is the way to
//!   trust one self-signed server by its key alone.
//!
//! Prefer, in this order: the right name ([`TlsUpgrade`] gets the name to
//! verify, which may differ from the host connected to); the server's CA
//! in [`add_ca_file`](crate::RustlsUpgradeBuilder::add_ca_file); a pin.
//!
//! ```no_run
//! # fn main() -> Result<(), smtp_transport_tls::Error> {
//! use smtp_transport_tls::RustlsUpgrade;
//!
//! // A lab server with a self-signed certificate, trusted by its key only.
//! let upgrade = RustlsUpgrade::builder()
//!     .pin_sha256("REV/XIvuoMH1hz4e9bYXKARcFEFuSS26zaUoFykEStw=")
//!     .danger()
//!     .accept_invalid_certs(true)
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! [`TlsUpgrade`]: smtp_core::TlsUpgrade

use crate::error::Error;
use crate::settings::RustlsUpgradeBuilder;
use crate::upgrade::RustlsUpgrade;

/// The dangerous part of [`RustlsUpgradeBuilder`], reached with
/// [`RustlsUpgradeBuilder::danger`].
#[derive(Debug, Clone)]
pub struct DangerousRustlsUpgradeBuilder {
    pub(crate) builder: RustlsUpgradeBuilder,
}

impl DangerousRustlsUpgradeBuilder {
    /// Accept any certificate: expired, self-signed, for another name.
    /// Only pins (if any) and handshake signatures are still checked.
    pub fn accept_invalid_certs(mut self, on: bool) -> Self {
        self.builder.settings.accept_invalid_certs = on;
        self
    }

    /// Verify the chain and dates but not the name: for a server known
    /// only by an alias its certificate does not list.
    pub fn accept_invalid_hostnames(mut self, on: bool) -> Self {
        self.builder.settings.accept_invalid_hostnames = on;
        self
    }

    /// Back to the safe options.
    pub fn safe(self) -> RustlsUpgradeBuilder {
        self.builder
    }

    /// Same as [`RustlsUpgradeBuilder::build`].
    pub fn build(self) -> Result<RustlsUpgrade, Error> {
        self.builder.build()
    }
}
