//! The stable hint codes of this crate, and which error gets which.
//!
//! An error's `Display` states only what failed; the advice lives here. Each
//! text names settings as [`smtp_core::Setting`]s (`{ProxyUrl}`): the hint's
//! `Display` words them as library methods, smtp-config as config keys,
//! the CLI as keys and flags.

use smtp_core::Hint;

use crate::error::{Error, ProxyPhase};
use crate::reply::{Socks4Reply, Socks5Reply};

smtp_core::hint_table! {
    /// Every hint smtp-proxy gives; [`Error::coded_hint`] returns one.
    pub mod hints {
        INVALID_CREDENTIALS = "proxy-invalid-credentials":
            "fix the user name and password in {ProxyUrl}: the message says which limit of the proxy protocol they break";
        UNSUPPORTED_TARGET = "proxy-unsupported-target":
            "use socks5h:// (or socks5://) in {ProxyUrl}: it can reach any host name and IPv6 address";
        CONNECT_TO_PROXY = "proxy-unreachable":
            "check the proxy host and port in {ProxyUrl}, and that the proxy is running";
        RESOLVE = "proxy-resolve-locally":
            "the server name does not resolve on this machine: use socks5h:// or socks4a:// in {ProxyUrl} so that the proxy resolves it";
        CONNECT_TIMEOUT = "proxy-connect-timeout":
            "the proxy does not answer: check its host and port in {ProxyUrl}, and any firewall in between";
        HANDSHAKE_TIMEOUT = "proxy-handshake-timeout":
            "the proxy accepted the connection but stopped answering: check that its port speaks the protocol of the {ProxyUrl} scheme, or raise {ConnectTimeout}";
        WRONG_PROTOCOL = "proxy-wrong-protocol":
            "check that the proxy port speaks the protocol of the {ProxyUrl} scheme: socks5h/socks5, socks4a/socks4 or http";
        PROXY_TLS = "proxy-tls":
            "TLS with the https:// proxy failed: its certificate is checked with the mail server's trust settings, so add its CA with {TlsCaFile}, and check that the port speaks TLS (squid's https_port), not plain http://";
        CLOSED_ON_TUNNEL = "proxy-closed-on-tunnel":
            "the proxy hung up instead of answering the tunnel request: it may refuse this destination without saying so (OpenSSH's ssh -D does; see the proxy's log and its allowed destinations), or its port may speak another protocol than the {ProxyUrl} scheme";
        AUTH_REQUIRED = "proxy-auth-required":
            "the proxy requires authentication: put user:password@ in {ProxyUrl}";
        AUTH_METHOD_UNSUPPORTED = "proxy-auth-method-unsupported":
            "the proxy wants an authentication method this client does not support (GSSAPI, NTLM, ...): ask for a user name and password (Basic) account";
        AUTH_REJECTED = "proxy-auth-rejected":
            "check the proxy user name and password in {ProxyUrl}; percent-encode @ : / % in them";
        SOCKS5_GENERAL_FAILURE = "proxy-socks5-general-failure":
            "the proxy failed for its own reasons: see the proxy's log";
        DESTINATION_NOT_ALLOWED = "proxy-destination-not-allowed":
            "the proxy refuses this destination: ask its administrator to allow the server and port";
        SERVER_UNREACHABLE = "proxy-server-unreachable":
            "the proxy could not reach the server: check {Host} and {Port}, and that the proxy's network can reach it";
        SERVER_REFUSED = "proxy-server-refused":
            "the server refused the proxy's connection: check {Port}, and that the server runs";
        SOCKS5_TTL_EXPIRED = "proxy-socks5-ttl-expired":
            "the proxy could not reach the server in time: try again later";
        CONNECT_NOT_SUPPORTED = "proxy-connect-not-supported":
            "the proxy does not allow CONNECT tunnels: use another proxy (or, for http://, check it is an HTTP proxy)";
        SOCKS5_ADDRESS_TYPE = "proxy-socks5-address-type":
            "the proxy cannot handle this kind of address: switch {ProxyUrl} between socks5h:// (the proxy resolves names) and socks5:// (names are resolved here)";
        UNKNOWN_REPLY = "proxy-unknown-reply":
            "the proxy sent a reply code outside its protocol: check that the {ProxyUrl} scheme fits this proxy, and see its log";
        SOCKS4_REJECTED = "proxy-socks4-rejected":
            "the proxy refuses this destination or could not reach it (SOCKS4 does not say which): check host and port, or use socks5h:// for a precise reason";
        SOCKS4_IDENTD = "proxy-socks4-identd":
            "the proxy checks the user with identd, which does not run here or disagrees: use socks5h:// with a user name and password";
        HTTP_BAD_REQUEST = "proxy-http-bad-request":
            "the proxy did not understand the request: check {Host}";
        HTTP_REFUSED = "proxy-http-refused": "the proxy refused the tunnel: see its log";
    }
}

impl Error {
    /// What a person should try, with its stable code.
    ///
    /// ```
    /// let e = smtp_proxy::Error::UnsupportedTarget {
    ///     proxy: "socks4://h:1080".into(),
    ///     target: "[::1]:25".into(),
    ///     reason: "SOCKS4 reaches IPv4 only",
    /// };
    /// assert_eq!(e.coded_hint().code, "proxy-unsupported-target");
    /// ```
    pub fn coded_hint(&self) -> Hint {
        match self {
            Error::InvalidCredentials { .. } => hints::INVALID_CREDENTIALS,
            Error::UnsupportedTarget { .. } => hints::UNSUPPORTED_TARGET,
            Error::ConnectToProxy { .. } => hints::CONNECT_TO_PROXY,
            Error::ProxyTls { .. } => hints::PROXY_TLS,
            Error::Resolve { .. } => hints::RESOLVE,
            Error::Timeout {
                phase: ProxyPhase::Connect,
                ..
            } => hints::CONNECT_TIMEOUT,
            Error::Timeout { .. } => hints::HANDSHAKE_TIMEOUT,
            Error::Closed {
                phase: ProxyPhase::Auth,
                ..
            } => hints::AUTH_REJECTED,
            Error::Closed {
                phase: ProxyPhase::Tunnel,
                ..
            } => hints::CLOSED_ON_TUNNEL,
            Error::Closed { .. } | Error::Io { .. } | Error::Protocol { .. } => {
                hints::WRONG_PROTOCOL
            }
            Error::NoAcceptableAuthMethod {
                had_credentials: false,
                ..
            } => hints::AUTH_REQUIRED,
            Error::NoAcceptableAuthMethod { .. } => hints::AUTH_METHOD_UNSUPPORTED,
            Error::AuthRejected { .. } => hints::AUTH_REJECTED,
            Error::Socks5Refused { reply, .. } => socks5_hint(*reply),
            Error::Socks4Refused { reply, .. } => socks4_hint(*reply),
            Error::HttpRefused {
                status,
                authenticate,
                sent_credentials,
                ..
            } => http_hint(*status, authenticate, *sent_credentials),
        }
    }
}

pub(crate) fn socks5_hint(reply: Socks5Reply) -> Hint {
    match reply {
        Socks5Reply::GeneralFailure => hints::SOCKS5_GENERAL_FAILURE,
        Socks5Reply::NotAllowed => hints::DESTINATION_NOT_ALLOWED,
        Socks5Reply::NetworkUnreachable | Socks5Reply::HostUnreachable => hints::SERVER_UNREACHABLE,
        Socks5Reply::ConnectionRefused => hints::SERVER_REFUSED,
        Socks5Reply::TtlExpired => hints::SOCKS5_TTL_EXPIRED,
        Socks5Reply::CommandNotSupported => hints::CONNECT_NOT_SUPPORTED,
        Socks5Reply::AddressTypeNotSupported => hints::SOCKS5_ADDRESS_TYPE,
        Socks5Reply::Unassigned(_) => hints::UNKNOWN_REPLY,
    }
}

pub(crate) fn socks4_hint(reply: Socks4Reply) -> Hint {
    match reply {
        Socks4Reply::RejectedOrFailed => hints::SOCKS4_REJECTED,
        Socks4Reply::IdentdUnreachable | Socks4Reply::IdentdMismatch => hints::SOCKS4_IDENTD,
        Socks4Reply::Unassigned(_) => hints::UNKNOWN_REPLY,
    }
}

fn http_hint(status: u16, authenticate: &[String], sent_credentials: bool) -> Hint {
    match status {
        401 | 407
            if !authenticate.is_empty()
                && !authenticate.iter().any(|s| s.eq_ignore_ascii_case("basic")) =>
        {
            hints::AUTH_METHOD_UNSUPPORTED
        }
        401 | 407 if !sent_credentials => hints::AUTH_REQUIRED,
        401 | 407 => hints::AUTH_REJECTED,
        403 => hints::DESTINATION_NOT_ALLOWED,
        502..=504 => hints::SERVER_UNREACHABLE,
        405 | 501 => hints::CONNECT_NOT_SUPPORTED,
        400 => hints::HTTP_BAD_REQUEST,
        _ => hints::HTTP_REFUSED,
    }
}

/// The engine's classification: a refused proxy login is permanent even
/// though it fails while connecting.
impl smtp_core::Classify for Error {
    fn retry(&self) -> smtp_core::Retry {
        smtp_core::Retry::transient_if(self.is_transient())
    }

    fn hint(&self) -> Option<Hint> {
        Some(self.coded_hint())
    }
}
