//! The running test peers, as described by `peers.env`.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use secrecy::SecretString;

use crate::{Error, envfile};

/// Environment variable naming the peers file; `scripts/test.sh` sets it.
pub const PEERS_ENV_VAR: &str = "SMTP_PEERS_ENV";
/// Where `scripts/peers/start.sh` writes the peers file by default.
pub const DEFAULT_PEERS_ENV: &str = "/tmp/smtp-peers/peers.env";

const HOW_TO_START: &str = "SMTP test peers are not running: run `scripts/test.sh` (installs and starts them) \
                            or `sudo scripts/peers/start.sh`";

macro_rules! field_ty {
    (port) => { u16 };
    (path) => { PathBuf };
    (string) => { String };
    (secret) => { SecretString };
    (list) => { Vec<String> };
}

macro_rules! convert {
    (port, $map:ident, $key:literal) => {
        require($map, $key)?
            .parse::<u16>()
            .map_err(|_| Error::BadValue {
                key: $key,
                value: require($map, $key).unwrap_or_default().to_owned(),
            })?
    };
    (path, $map:ident, $key:literal) => {
        PathBuf::from(require($map, $key)?)
    };
    (string, $map:ident, $key:literal) => {
        require($map, $key)?.to_owned()
    };
    (secret, $map:ident, $key:literal) => {
        SecretString::from(require($map, $key)?)
    };
    (list, $map:ident, $key:literal) => {
        require($map, $key)?
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
}

macro_rules! peers_struct {
    ($( $(#[doc = $doc:literal])+ $field:ident : $kind:ident = $key:literal, )*) => {
        /// Every peer of the rig: ports, credentials, certificate paths,
        /// Maildirs. One typed field per `PEERS_*` key of `peers.env`
        /// (the key is named in each field's docs); [`Peers::get`] reads
        /// any key, including ones added later.
        ///
        /// Passwords and tokens are [`SecretString`]s so that `Debug`
        /// output of a test never shows them.
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub struct Peers {
            $( $(#[doc = $doc])+ #[doc = concat!("\n\n`", $key, "`")] pub $field: field_ty!($kind), )*
            raw: RawKeys,
        }

        /// Every key the typed fields read, in declaration order.
        #[cfg(test)]
        const KEYS: &[&str] = &[$($key),*];

        impl Peers {
            fn from_map(map: BTreeMap<String, String>) -> Result<Self, Error> {
                let m = &map;
                Ok(Peers { $( $field: convert!($kind, m, $key), )* raw: RawKeys(map) })
            }
        }
    };
}

/// All keys and values; `Debug` shows only the keys, values may be secrets.
#[derive(Clone)]
struct RawKeys(BTreeMap<String, String>);

impl std::fmt::Debug for RawKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

fn require<'a>(map: &'a BTreeMap<String, String>, key: &'static str) -> Result<&'a str, Error> {
    map.get(key)
        .map(String::as_str)
        .ok_or(Error::MissingKey { key })
}

peers_struct! {
    /// Directory holding everything the rig made (certs, configs, mail, logs).
    dir: path = "PEERS_DIR",
    /// Peers `start.sh` was told to skip (`PEERS_SKIP`); their ports are not listening.
    skipped: list = "PEERS_SKIPPED",
    /// IPv4 loopback address every peer listens on.
    host: string = "PEERS_HOST",
    /// IPv6 loopback address (Postfix ports only).
    host6: string = "PEERS_HOST6",
    /// Test CA that signed every good server certificate and the client certificate.
    ca_cert: path = "PEERS_CA_CERT",
    /// Name the good server certificate is valid for (`localhost`).
    tls_name: string = "PEERS_TLS_NAME",
    /// Good server certificate (leaf only).
    server_cert: path = "PEERS_SERVER_CERT",
    /// Good server certificate chain (leaf + CA), for a test's own TLS acceptor.
    server_chain: path = "PEERS_SERVER_CHAIN",
    /// Key of the good server certificate.
    server_key: path = "PEERS_SERVER_KEY",
    /// Test-CA certificate valid only for `wrong.example.test`.
    wrong_host_cert: path = "PEERS_WRONG_HOST_CERT",
    /// Key of [`Peers::wrong_host_cert`].
    wrong_host_key: path = "PEERS_WRONG_HOST_KEY",
    /// Test-CA certificate with the right names, expired in 2020.
    expired_cert: path = "PEERS_EXPIRED_CERT",
    /// Key of [`Peers::expired_cert`].
    expired_key: path = "PEERS_EXPIRED_KEY",
    /// Self-signed certificate with the right names (unknown issuer).
    selfsigned_cert: path = "PEERS_SELFSIGNED_CERT",
    /// Key of [`Peers::selfsigned_cert`].
    selfsigned_key: path = "PEERS_SELFSIGNED_KEY",
    /// Client certificate from the test CA, accepted by the mTLS port.
    client_cert: path = "PEERS_CLIENT_CERT",
    /// Key of [`Peers::client_cert`].
    client_key: path = "PEERS_CLIENT_KEY",
    /// Self-signed client certificate, refused by the mTLS port.
    untrusted_client_cert: path = "PEERS_UNTRUSTED_CLIENT_CERT",
    /// Key of [`Peers::untrusted_client_cert`].
    untrusted_client_key: path = "PEERS_UNTRUSTED_CLIENT_KEY",
    /// SASL mechanisms Postfix offers through Dovecot.
    sasl_mechanisms: list = "PEERS_SASL_MECHANISMS",
    /// Postfix: no TLS; AUTH offered in clear; auth optional.
    postfix_plain_port: port = "PEERS_POSTFIX_PLAIN_PORT",
    /// Postfix: STARTTLS required (530 before it); AUTH after TLS, required.
    postfix_submission_port: port = "PEERS_POSTFIX_SUBMISSION_PORT",
    /// Postfix: implicit TLS; AUTH required.
    postfix_smtps_port: port = "PEERS_POSTFIX_SMTPS_PORT",
    /// Postfix: STARTTLS offered but optional; AUTH only after TLS; auth optional.
    postfix_starttls_optional_port: port = "PEERS_POSTFIX_STARTTLS_OPTIONAL_PORT",
    /// Postfix: STARTTLS required, TLS 1.2 only.
    postfix_tls12_starttls_port: port = "PEERS_POSTFIX_TLS12_STARTTLS_PORT",
    /// Postfix: STARTTLS required, TLS 1.3 only.
    postfix_tls13_starttls_port: port = "PEERS_POSTFIX_TLS13_STARTTLS_PORT",
    /// Postfix: implicit TLS, TLS 1.2 only.
    postfix_tls12_smtps_port: port = "PEERS_POSTFIX_TLS12_SMTPS_PORT",
    /// Postfix: implicit TLS, TLS 1.3 only.
    postfix_tls13_smtps_port: port = "PEERS_POSTFIX_TLS13_SMTPS_PORT",
    /// Postfix: implicit TLS with a test-CA certificate for `wrong.example.test`.
    postfix_badcert_host_port: port = "PEERS_POSTFIX_BADCERT_HOST_PORT",
    /// Postfix: implicit TLS with an expired test-CA certificate.
    postfix_badcert_expired_port: port = "PEERS_POSTFIX_BADCERT_EXPIRED_PORT",
    /// Postfix: implicit TLS with a self-signed certificate.
    postfix_badcert_selfsigned_port: port = "PEERS_POSTFIX_BADCERT_SELFSIGNED_PORT",
    /// Postfix: implicit TLS, client certificate from the test CA required.
    /// Without one the handshake completes, then Postfix sends
    /// `421 4.7.1 ... No client certificate presented` (or `Client
    /// certificate not trusted`) instead of the greeting and closes.
    postfix_mtls_port: port = "PEERS_POSTFIX_MTLS_PORT",
    /// Postfix: implicit TLS, AUTH NTLM only (Cyrus SASL's NTLM plugin, NTLMv2).
    postfix_ntlm_port: port = "PEERS_POSTFIX_NTLM_PORT",
    /// Postfix: no TLS; `SIZE 10240`, larger messages get `552 5.3.4`.
    postfix_small_size_port: port = "PEERS_POSTFIX_SMALL_SIZE_PORT",
    /// Maildir every Postfix port delivers to (asynchronously: poll).
    postfix_maildir: path = "PEERS_POSTFIX_MAILDIR",
    /// Postfix's log (one line per command/session, SASL method, TLS).
    postfix_log: path = "PEERS_POSTFIX_LOG",
    /// smtp-sink: accepts and discards everything.
    smtp_sink_port: port = "PEERS_SMTP_SINK_PORT",
    /// smtp-sink without PIPELINING and ENHANCEDSTATUSCODES.
    smtp_sink_nopipe_port: port = "PEERS_SMTP_SINK_NOPIPE_PORT",
    /// smtp-sink answering EHLO with 500 (HELO works).
    smtp_sink_noesmtp_port: port = "PEERS_SMTP_SINK_NOESMTP_PORT",
    /// smtp-sink answering every RCPT with `500 5.3.0`.
    smtp_sink_rcpt5xx_port: port = "PEERS_SMTP_SINK_RCPT5XX_PORT",
    /// smtp-sink answering every MAIL with `450 4.3.0`.
    smtp_sink_mail4xx_port: port = "PEERS_SMTP_SINK_MAIL4XX_PORT",
    /// smtp-sink sending 421 and closing at DATA.
    smtp_sink_data421_port: port = "PEERS_SMTP_SINK_DATA421_PORT",
    /// smtp-sink closing without a reply after the final dot.
    smtp_sink_dotdrop_port: port = "PEERS_SMTP_SINK_DOTDROP_PORT",
    /// aiosmtpd: no TLS; AUTH PLAIN/LOGIN in clear; auth optional.
    aiosmtpd_plain_port: port = "PEERS_AIOSMTPD_PLAIN_PORT",
    /// aiosmtpd: STARTTLS required; AUTH required.
    aiosmtpd_starttls_port: port = "PEERS_AIOSMTPD_STARTTLS_PORT",
    /// aiosmtpd: implicit TLS; AUTH required.
    aiosmtpd_smtps_port: port = "PEERS_AIOSMTPD_SMTPS_PORT",
    /// Maildir aiosmtpd delivers to, before its 250 to the final dot.
    aiosmtpd_maildir: path = "PEERS_AIOSMTPD_MAILDIR",
    /// SMTP user (Postfix/Dovecot and aiosmtpd).
    smtp_user: string = "PEERS_SMTP_USER",
    /// Password of [`Peers::smtp_user`].
    smtp_pass: secret = "PEERS_SMTP_PASS",
    /// Second SMTP user.
    smtp_user2: string = "PEERS_SMTP_USER2",
    /// Password of [`Peers::smtp_user2`] (non-ASCII, UTF-8).
    smtp_pass2: secret = "PEERS_SMTP_PASS2",
    /// Bearer token (JWT) for [`Peers::smtp_user`], XOAUTH2/OAUTHBEARER; valid 7 days from start.
    oauth_token: secret = "PEERS_OAUTH_TOKEN",
    /// Same token, expired.
    oauth_token_expired: secret = "PEERS_OAUTH_TOKEN_EXPIRED",
    /// Base64 HS256 key Dovecot checks tokens with, to mint custom tokens.
    oauth_jwt_key_file: path = "PEERS_OAUTH_JWT_KEY_FILE",
    /// Port of the OAuth2 token endpoint.
    token_endpoint_port: port = "PEERS_TOKEN_ENDPOINT_PORT",
    /// OAuth2 token endpoint URL (refresh_token grant).
    token_endpoint: string = "PEERS_TOKEN_ENDPOINT",
    /// URL answering (GET) how many token requests were made so far.
    token_endpoint_count: string = "PEERS_TOKEN_ENDPOINT_COUNT",
    /// OAuth2 client id the token endpoint accepts.
    oauth_client_id: string = "PEERS_OAUTH_CLIENT_ID",
    /// OAuth2 client secret the token endpoint accepts.
    oauth_client_secret: secret = "PEERS_OAUTH_CLIENT_SECRET",
    /// Refresh token the token endpoint accepts.
    oauth_refresh_token: secret = "PEERS_OAUTH_REFRESH_TOKEN",
    /// SOCKS5 without auth (dante).
    socks5_port: port = "PEERS_SOCKS5_PORT",
    /// HTTPS proxy (TLS to squid, test-CA certificate), CONNECT, no auth.
    squid_https_port: port = "PEERS_SQUID_HTTPS_PORT",
    /// HTTPS proxy, CONNECT with Basic auth.
    squid_https_auth_port: port = "PEERS_SQUID_HTTPS_AUTH_PORT",
    /// SOCKS4/4a without auth (OpenSSH's `ssh -D`; sshd resolves 4a names).
    socks4a_port: port = "PEERS_SOCKS4A_PORT",
    /// SOCKS5 without auth (microsocks).
    socks5_microsocks_port: port = "PEERS_SOCKS5_MICROSOCKS_PORT",
    /// SOCKS5 with username/password (microsocks).
    socks5_auth_port: port = "PEERS_SOCKS5_AUTH_PORT",
    /// HTTP CONNECT without auth (tinyproxy).
    http_proxy_port: port = "PEERS_HTTP_PROXY_PORT",
    /// HTTP CONNECT with Basic auth (tinyproxy).
    http_proxy_auth_port: port = "PEERS_HTTP_PROXY_AUTH_PORT",
    /// HTTP CONNECT without auth (squid).
    squid_port: port = "PEERS_SQUID_PORT",
    /// HTTP CONNECT with Basic auth (squid).
    squid_auth_port: port = "PEERS_SQUID_AUTH_PORT",
    /// Proxy user (SOCKS5 auth, tinyproxy and squid auth ports).
    proxy_user: string = "PEERS_PROXY_USER",
    /// Password of [`Peers::proxy_user`].
    proxy_pass: secret = "PEERS_PROXY_PASS",
}

impl Peers {
    /// Parses the text of a `peers.env` file (no network access).
    pub fn parse(text: &str) -> Result<Peers, Error> {
        Peers::from_map(envfile::parse(text)?)
    }

    /// Reads and parses a `peers.env` file (no network access).
    pub fn load(path: &Path) -> Result<Peers, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Peers::parse(&text)
    }

    /// Any key of the file, typed field or not (secrets included).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.raw.0.get(key).map(String::as_str)
    }

    /// `127.0.0.1:port`, to hand to a connector.
    pub fn addr(&self, port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Checks that one port of every peer process that was not skipped
    /// accepts TCP connections.
    pub fn check_running(&self) -> Result<(), Error> {
        let probes: [(&'static str, u16); 8] = [
            ("postfix", self.postfix_plain_port),
            ("smtp-sink", self.smtp_sink_port),
            ("aiosmtpd", self.aiosmtpd_plain_port),
            ("token-endpoint", self.token_endpoint_port),
            ("dante", self.socks5_port),
            ("microsocks", self.socks5_microsocks_port),
            ("tinyproxy", self.http_proxy_port),
            ("squid", self.squid_port),
        ];
        for (name, port) in probes {
            if self.skipped.iter().any(|s| s == name) {
                continue;
            }
            TcpStream::connect_timeout(&self.addr(port), Duration::from_secs(2))
                .map_err(|source| Error::PeerDown { name, port, source })?;
        }
        Ok(())
    }
}

/// The path of the peers file: `$SMTP_PEERS_ENV`, else
/// `/tmp/smtp-peers/peers.env`.
pub fn peers_env_path() -> PathBuf {
    std::env::var_os(PEERS_ENV_VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PEERS_ENV))
}

/// The running peers, read once per process from [`peers_env_path`].
///
/// # Panics
///
/// If the file is missing or unreadable, lacks a key, or a peer does not
/// accept TCP: the message says how to start the peers. A test that needs a
/// peer must fail, not skip, when the rig is down.
pub fn peers() -> &'static Peers {
    static PEERS: OnceLock<Result<Peers, String>> = OnceLock::new();
    match PEERS.get_or_init(|| load_running(&peers_env_path())) {
        Ok(p) => p,
        Err(msg) => panic!("{msg}"),
    }
}

/// Loads `path` and checks the peers run; the error is the panic message.
fn load_running(path: &Path) -> Result<Peers, String> {
    Peers::load(path)
        .and_then(|p| p.check_running().map(|()| p))
        .map_err(|e| format!("{HOW_TO_START} ({}: {e})", path.display()))
}

#[cfg(test)]
mod tests;
