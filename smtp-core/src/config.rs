//! Everything a session needs to open, shared by the pool's connections.

use std::sync::Arc;

use crate::connector::{Connector, Target};
use crate::sasl::Authenticator;
use crate::timeouts::Timeouts;
use crate::tls::{Security, TlsUpgrade};
use crate::transcript::Transcript;

#[derive(Debug, Clone)]
pub(crate) struct SessionConfig {
    pub target: Target,
    pub security: Security,
    pub tls: Option<Arc<dyn TlsUpgrade>>,
    pub server_name: String,
    pub connector: Arc<dyn Connector>,
    pub authenticator: Option<Arc<dyn Authenticator>>,
    pub ehlo_name: String,
    pub timeouts: Timeouts,
    pub transcript: Option<Arc<dyn Transcript>>,
    /// Most transactions in flight at once with CHUNKING + PIPELINING
    /// (see [`SmtpTransportBuilder::pipeline_window`](crate::SmtpTransportBuilder::pipeline_window)).
    pub pipeline_window: usize,
}

/// Default for [`SessionConfig::pipeline_window`]: at 16 transactions per
/// round trip, small messages cost about 0.06 round trips each, while the
/// replies a server queues stay a few kilobytes.
pub(crate) const DEFAULT_PIPELINE_WINDOW: usize = 16;

/// The EHLO name when none is configured: the machine's host name if it
/// looks like a domain, else an address literal (RFC 5321 §4.1.4).
pub(crate) fn default_ehlo_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| {
            !h.is_empty()
                && h.contains('.')
                && crate::address::check_wire_value("ehlo name", h).is_ok()
        });
    host.unwrap_or_else(|| "[127.0.0.1]".to_string())
}
