//! The one error type of `smtp-proxy` and the phase it belongs to.
//!
//! Each `Display` is one line stating what failed and what the proxy said;
//! what to try is [`Error::coded_hint`] (in `hint.rs`), which the CLI prints
//! on its own `hint:` line.

use std::fmt;
use std::time::Duration;

use smtp_core::BoxError;

use crate::reply::{Socks4Reply, Socks5Reply};

/// The step of a proxy connection an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyPhase {
    /// Parsing the proxy URL or checking settings; nothing was sent.
    Config,
    /// Reaching the proxy itself (through the inner connector).
    Connect,
    /// Authenticating to the proxy.
    Auth,
    /// Asking the proxy for the tunnel to the target server.
    Tunnel,
}

impl ProxyPhase {
    /// The phase as used in messages: `"connect to proxy"`, `"proxy auth"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyPhase::Config => "proxy config",
            ProxyPhase::Connect => "connect to proxy",
            ProxyPhase::Auth => "proxy auth",
            ProxyPhase::Tunnel => "tunnel to target",
        }
    }
}

impl fmt::Display for ProxyPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong while parsing a proxy URL or opening a
/// tunnel.
///
/// `proxy` fields name the proxy as `scheme://host:port`, never with
/// credentials. [`Error::phase`] says which step failed and
/// [`Error::hint`] what to try.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The credentials cannot be expressed in this proxy protocol.
    #[error("proxy credentials for {proxy} are unusable: {reason}")]
    InvalidCredentials {
        /// The proxy.
        proxy: String,
        /// Why (too long, a `:` in a Basic user name, ...).
        reason: &'static str,
    },
    /// The target cannot be asked for with this proxy protocol.
    #[error("cannot ask {proxy} for {target}: {reason}")]
    UnsupportedTarget {
        /// The proxy.
        proxy: String,
        /// The target server, `host:port`.
        target: String,
        /// Why.
        reason: &'static str,
    },
    /// TLS with an `https://` proxy failed (its certificate, or the handshake).
    #[error("TLS to proxy {proxy} failed: {source}")]
    ProxyTls {
        /// The proxy.
        proxy: String,
        /// The TLS layer's error.
        #[source]
        source: BoxError,
    },
    /// The inner connector could not reach the proxy.
    #[error("connect to proxy {proxy} failed: {source}")]
    ConnectToProxy {
        /// The proxy.
        proxy: String,
        /// The inner connector's error.
        #[source]
        source: BoxError,
    },
    /// Resolving the target locally failed (`socks5://`, `socks4://`).
    #[error("tunnel to target via {proxy} failed: resolving {host:?} locally failed: {source}")]
    Resolve {
        /// The proxy.
        proxy: String,
        /// The target host name.
        host: String,
        /// The resolver's error.
        #[source]
        source: std::io::Error,
    },
    /// A phase did not finish within the handshake timeout.
    #[error("{phase} via {proxy} timed out after {}", humanize(*.after))]
    Timeout {
        /// The proxy.
        proxy: String,
        /// The phase that was running when time ran out.
        phase: ProxyPhase,
        /// The configured handshake timeout.
        after: Duration,
    },
    /// The proxy closed the connection in the middle of the handshake.
    #[error("{phase} via {proxy} failed: the proxy closed the connection")]
    Closed {
        /// The proxy.
        proxy: String,
        /// The phase.
        phase: ProxyPhase,
    },
    /// Reading from or writing to the proxy failed.
    #[error("{phase} via {proxy} failed: {source}")]
    Io {
        /// The proxy.
        proxy: String,
        /// The phase.
        phase: ProxyPhase,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The proxy answered something its protocol does not allow.
    #[error("{phase} via {proxy} failed: protocol violation: {detail}")]
    Protocol {
        /// The proxy.
        proxy: String,
        /// The phase.
        phase: ProxyPhase,
        /// What was wrong.
        detail: String,
    },
    /// SOCKS5: the proxy accepts none of the authentication methods offered.
    #[error(
        "proxy auth via {proxy} failed: the proxy accepts none of the offered methods ({offered})"
    )]
    NoAcceptableAuthMethod {
        /// The proxy.
        proxy: String,
        /// What we offered, e.g. `"no authentication"`.
        offered: &'static str,
        /// True when credentials were configured (and offered).
        had_credentials: bool,
    },
    /// The proxy rejected the credentials.
    #[error("proxy auth via {proxy} failed: {detail}")]
    AuthRejected {
        /// The proxy.
        proxy: String,
        /// What the proxy did.
        detail: String,
    },
    /// A SOCKS5 proxy refused the tunnel.
    #[error("tunnel to {target} via {proxy} refused: SOCKS5 reply {:#04x}: {reply}", .reply.code())]
    Socks5Refused {
        /// The proxy.
        proxy: String,
        /// The target server, `host:port`.
        target: String,
        /// The proxy's reply.
        reply: Socks5Reply,
    },
    /// A SOCKS4 proxy refused the tunnel.
    #[error("tunnel to {target} via {proxy} refused: SOCKS4 reply {:#04x}: {reply}", .reply.code())]
    Socks4Refused {
        /// The proxy.
        proxy: String,
        /// The target server, `host:port`.
        target: String,
        /// The proxy's reply.
        reply: Socks4Reply,
    },
    /// An HTTP proxy answered `CONNECT` with a non-2xx status.
    #[error("{}", http_line(.proxy, .target, *.status, .reason, .authenticate, *.sent_credentials))]
    HttpRefused {
        /// The proxy.
        proxy: String,
        /// The target server, `host:port`.
        target: String,
        /// The status code.
        status: u16,
        /// The reason phrase (control characters removed, shortened).
        reason: String,
        /// Authentication schemes the proxy offers (`Proxy-Authenticate`,
        /// or `WWW-Authenticate` from proxies that answer 401).
        authenticate: Vec<String>,
        /// Whether the request carried credentials (`Proxy-Authorization`):
        /// a 407 without them means they are missing, not wrong.
        sent_credentials: bool,
    },
}

fn http_line(
    proxy: &str,
    target: &str,
    status: u16,
    reason: &str,
    authenticate: &[String],
    sent_credentials: bool,
) -> String {
    let sep = if reason.is_empty() { "" } else { " " };
    // Say which schemes the proxy wants when Basic (the only one we speak)
    // is not among them: the hint cannot name them, it is static text.
    let unsupported =
        !authenticate.is_empty() && !authenticate.iter().any(|s| s.eq_ignore_ascii_case("basic"));
    match status {
        401 | 407 if unsupported => format!(
            "proxy auth via {proxy} failed: HTTP {status}{sep}{reason}: the proxy asks for {}, \
             and this client speaks only Basic",
            authenticate.join(", ")
        ),
        401 | 407 if !sent_credentials => format!(
            "proxy {proxy} requires authentication and none was given: HTTP {status}{sep}{reason}"
        ),
        401 | 407 => format!("proxy auth via {proxy} failed: HTTP {status}{sep}{reason}"),
        _ => format!("tunnel to {target} via {proxy} refused: HTTP {status}{sep}{reason}"),
    }
}

pub(crate) fn humanize(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

impl Error {
    /// The step that failed.
    pub fn phase(&self) -> ProxyPhase {
        match self {
            Error::InvalidCredentials { .. } | Error::UnsupportedTarget { .. } => {
                ProxyPhase::Config
            }
            Error::ConnectToProxy { .. } | Error::ProxyTls { .. } => ProxyPhase::Connect,
            Error::Resolve { .. } => ProxyPhase::Tunnel,
            Error::Timeout { phase, .. }
            | Error::Closed { phase, .. }
            | Error::Io { phase, .. }
            | Error::Protocol { phase, .. } => *phase,
            Error::NoAcceptableAuthMethod { .. } | Error::AuthRejected { .. } => ProxyPhase::Auth,
            Error::Socks5Refused { .. } => ProxyPhase::Tunnel,
            Error::Socks4Refused { reply, .. } => match reply {
                Socks4Reply::IdentdUnreachable | Socks4Reply::IdentdMismatch => ProxyPhase::Auth,
                _ => ProxyPhase::Tunnel,
            },
            // tinyproxy answers bad credentials with 401, not 407
            Error::HttpRefused {
                status: 401 | 407, ..
            } => ProxyPhase::Auth,
            Error::HttpRefused { .. } => ProxyPhase::Tunnel,
        }
    }

    /// A later attempt may succeed: timeouts, dropped connections, and
    /// proxy replies that say the server could not be reached.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::ConnectToProxy { .. }
            | Error::Timeout { .. }
            | Error::Closed { .. }
            | Error::Io { .. } => true,
            Error::Socks5Refused { reply, .. } => reply.is_transient(),
            Error::Socks4Refused { reply, .. } => matches!(reply, Socks4Reply::RejectedOrFailed),
            Error::HttpRefused { status, .. } => matches!(status, 502..=504),
            _ => false,
        }
    }

    /// What a person should try ([`Error::coded_hint`] without the code).
    pub fn hint(&self) -> Option<String> {
        Some(self.coded_hint().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, authenticate: &[&str]) -> Error {
        Error::HttpRefused {
            proxy: "http://127.0.0.1:3128".into(),
            target: "127.0.0.1:25".into(),
            status,
            reason: "x".into(),
            authenticate: authenticate.iter().map(|s| s.to_string()).collect(),
            sent_credentials: true,
        }
    }

    #[test]
    fn http_status_hints_and_phases() {
        assert_eq!(
            http(407, &["Basic"]).coded_hint().code,
            "proxy-auth-rejected"
        );
        assert_eq!(http(407, &[]).phase(), ProxyPhase::Auth);
        assert_eq!(http(401, &["Basic"]).phase(), ProxyPhase::Auth);
        assert!(
            http(401, &["Basic"])
                .hint()
                .unwrap()
                .contains("`smtp_core::ProxyUrl::parse`")
        );
        assert!(
            http(407, &["NTLM", "Negotiate"])
                .to_string()
                .contains("asks for NTLM, Negotiate")
        );
        assert_eq!(
            http(407, &["NTLM"]).coded_hint().code,
            "proxy-auth-method-unsupported"
        );
        assert!(
            http(403, &[])
                .hint()
                .unwrap()
                .contains("the proxy refuses this destination")
        );
        assert_eq!(http(403, &[]).phase(), ProxyPhase::Tunnel);
        for s in [502, 503, 504] {
            assert!(
                http(s, &[])
                    .hint()
                    .unwrap()
                    .contains("the proxy could not reach the server")
            );
            assert!(http(s, &[]).is_transient());
        }
        assert!(!http(403, &[]).is_transient());
    }

    #[test]
    fn display_is_one_line_of_facts_without_period() {
        let e = Error::Timeout {
            proxy: "socks5h://127.0.0.1:1080".into(),
            phase: ProxyPhase::Tunnel,
            after: Duration::from_secs(30),
        };
        assert_eq!(
            e.to_string(),
            "tunnel to target via socks5h://127.0.0.1:1080 timed out after 30s"
        );
        let e = http(407, &["Basic"]);
        assert_eq!(
            e.to_string(),
            "proxy auth via http://127.0.0.1:3128 failed: HTTP 407 x"
        );
        assert_eq!(
            http(403, &[]).to_string(),
            "tunnel to 127.0.0.1:25 via http://127.0.0.1:3128 refused: HTTP 403 x"
        );
        assert!(!e.to_string().ends_with('.'));
    }
}
