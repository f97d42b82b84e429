//! The one table of every configuration key.
//!
//! Unknown-key detection, environment-variable typing, secret redaction and
//! the documentation check (`docs/config-reference.md`) all read [`KEYS`],
//! so a key added here is known everywhere at once.

/// What kind of value a key takes; decides how text from an environment
/// variable or the command line is parsed, and how it is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// Free text without control characters.
    Text,
    /// A host or server name: no spaces, no control characters.
    HostName,
    /// A secret string: never shown, never logged.
    Secret,
    /// `true` / `false`.
    Bool,
    /// A TCP port, 1-65535.
    Port,
    /// A positive integer.
    Count,
    /// Messages in flight at once on one connection: 1 to [`MAX_WINDOW`].
    Window,
    /// A duration such as `"30s"`, `"2m"`, `"1h 30m"` (an integer means seconds).
    Duration,
    /// `none`, `starttls`, `starttls-opportunistic` or `implicit`.
    Security,
    /// `"1.2"` or `"1.3"`.
    TlsVersion,
    /// A file or directory path (`~` expands; relative to the config file).
    Path,
    /// One path or a list of paths.
    PathList,
    /// A list of strings.
    TextList,
    /// A list of SASL mechanism names.
    Mechanisms,
    /// A shell command whose standard output is the secret.
    Command,
    /// An `https://` URL (`http://` only to a loopback host).
    Url,
    /// A proxy URL such as `socks5h://user:pass@host:1080`; the password is redacted.
    ProxyUrl,
    /// A mailbox address `local@domain`.
    Address,
    /// A provider preset name.
    Preset,
    /// A cloud region name, e.g. `eu-west-1`.
    Region,
    /// What to do with a message that cannot go now: `fail` or `queue`.
    OnFailure,
    /// DSN `NOTIFY` conditions: `never`, or any of `success`, `failure`,
    /// `delay` (a comma-separated string or a list).
    DsnNotify,
    /// DSN `RET`: `full` or `hdrs`.
    DsnRet,
    /// A DSN envelope id: 1-100 printable ASCII characters.
    EnvelopeId,
    /// What to do with a DSN request the server cannot carry: `fail` or `drop`.
    IfUnsupported,
}

impl KeyKind {
    /// The type as written in the reference documentation.
    pub fn type_name(self) -> &'static str {
        match self {
            KeyKind::Text => "string",
            KeyKind::HostName => "host name",
            KeyKind::Secret => "secret string",
            KeyKind::Bool => "bool",
            KeyKind::Port => "port",
            KeyKind::Count => "integer",
            KeyKind::Window => "window",
            KeyKind::Duration => "duration",
            KeyKind::Security | KeyKind::OnFailure | KeyKind::DsnRet | KeyKind::IfUnsupported => {
                "enum"
            }
            KeyKind::DsnNotify => "DSN conditions",
            KeyKind::EnvelopeId => "envelope id",
            KeyKind::TlsVersion => "TLS version",
            KeyKind::Path => "path",
            KeyKind::PathList => "path or list of paths",
            KeyKind::TextList => "list of strings",
            KeyKind::Mechanisms => "list of mechanisms",
            KeyKind::Command => "command",
            KeyKind::Url => "URL",
            KeyKind::ProxyUrl => "proxy URL",
            KeyKind::Address => "address",
            KeyKind::Preset => "preset name",
            KeyKind::Region => "region",
        }
    }

    /// True for values that must never be shown (the proxy URL is shown
    /// with its password part redacted).
    pub fn is_secret(self) -> bool {
        matches!(self, KeyKind::Secret)
    }
}

/// One configuration key and its documentation.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct KeyDoc {
    /// Dotted path, e.g. `tls.min_version`.
    pub key: &'static str,
    /// Value type.
    pub kind: KeyKind,
    /// The default as a person reads it, or `None` for "unset".
    pub default: Option<&'static str>,
    /// One-line description.
    pub description: &'static str,
}

impl KeyDoc {
    /// The environment variable that sets this key: `SMTP_` + the path in
    /// upper case with `__` for each dot (`SMTP_TLS__MIN_VERSION`).
    pub fn env_var(&self) -> String {
        env_var_for(self.key)
    }
}

/// The environment variable name for a dotted key path.
pub fn env_var_for(key: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        key.replace('.', "__").to_ascii_uppercase()
    )
}

/// Largest [`KeyKind::Window`]. The client writes a whole window before
/// it reads replies, so the server's replies to one must fit in the socket
/// buffers; and past a few dozen a wider window saves nothing measurable
/// (at 16, a small message costs about 0.06 round trips).
pub const MAX_WINDOW: u32 = 64;

/// Prefix of every environment variable the loader reads.
pub const ENV_PREFIX: &str = "SMTP_";

/// SASL mechanism names accepted in `auth.mechanisms`.
pub const MECHANISMS: &[&str] = &[
    "SCRAM-SHA-256",
    "SCRAM-SHA-1",
    "CRAM-MD5",
    "NTLM",
    "PLAIN",
    "LOGIN",
    "XOAUTH2",
    "OAUTHBEARER",
];

/// Mechanisms that reveal a reusable secret to anyone reading the connection.
/// NTLM counts: its response can be cracked offline or relayed.
pub(crate) const CLEARTEXT_MECHANISMS: &[&str] =
    &["NTLM", "PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"];

/// Keys that each name a source of the authentication secret. Only one
/// may be set per layer; a higher layer that sets one replaces all of
/// them from lower layers.
pub(crate) const SECRET_SOURCES: &[&str] = &[
    "auth.password",
    "auth.password_file",
    "auth.password_command",
    "auth.oauth2.token",
    "auth.oauth2.token_command",
    "auth.oauth2.token_url",
    "auth.oauth2.client_id",
    "auth.oauth2.client_secret",
    "auth.oauth2.refresh_token",
];

/// Sections (tables) of the configuration.
pub(crate) const TABLES: &[&str] = &[
    "queue",
    "log",
    "transcript",
    "timeouts",
    "tls",
    "auth",
    "auth.oauth2",
    "proxy",
    "message",
    "pool",
    "rate_limit",
    "dkim",
    "retry",
    "dsn",
];

use KeyKind as K;

macro_rules! keys {
    ($( $key:literal : $kind:ident, $default:expr, $desc:literal; )*) => {
        /// Every configuration key, in documentation order.
        pub const KEYS: &[KeyDoc] = &[
            $( KeyDoc { key: $key, kind: K::$kind, default: $default, description: $desc }, )*
        ];
    };
}

keys! {
    "preset": Preset, None, "Provider preset (gmail, office365, ...) that fills in host, port, security and notes";
    "aws_region": Region, None, "AWS region for the amazon-ses preset (host email-smtp.REGION.amazonaws.com)";
    "host": HostName, None, "SMTP server host name or IP; unset means write messages to the outbox directory instead";
    "port": Port, Some("from security: none 25, starttls 587, starttls-opportunistic 587, implicit 465"), "SMTP server port";
    "security": Security, Some("starttls"), "none, starttls (required; also explicit), starttls-opportunistic or implicit (TLS from the first byte; also SSL, SMTPS); TLS alone is refused as ambiguous";
    "ehlo_name": HostName, Some("smtp-core's default"), "Name sent in EHLO/HELO; use a fully qualified name";
    "timeout": Duration, None, "One limit for every phase (connect, TLS, each command); end of data gets up to 4x, at most 10m";
    "timeouts.connect": Duration, Some("timeout, else 30s"), "Reaching the server (TCP or proxy tunnel)";
    "timeouts.tls": Duration, Some("timeout, else 30s"), "The TLS handshake";
    "timeouts.greeting": Duration, Some("timeout, else 5m"), "Waiting for the server's 220 greeting";
    "timeouts.command": Duration, Some("timeout, else 5m"), "Each command's reply (EHLO, STARTTLS, AUTH, MAIL, RCPT, ...)";
    "timeouts.data_start": Duration, Some("timeout, else 2m"), "The 354 reply to DATA";
    "timeouts.data_block": Duration, Some("timeout, else 3m"), "Writing each block of message data";
    "timeouts.data_end": Duration, Some("4x timeout (at most 10m), else 10m"), "The reply after the end of data";
    "timeouts.total": Duration, None, "A cap on one whole send, connect to final reply";
    "tls.min_version": TlsVersion, Some("1.2"), "Lowest TLS version: 1.2 or 1.3 (1.0 and 1.1 are not supported)";
    "tls.max_version": TlsVersion, Some("1.3"), "Highest TLS version: 1.2 or 1.3";
    "tls.ca_file": PathList, Some("the OS trust store and Mozilla's roots (webpki-roots)"), "PEM file(s) of CA certificates to trust instead of the OS trust store and the built-in Mozilla roots";
    "tls.platform_roots": Bool, Some("true"), "Also trust the operating system's trust store (SSL_CERT_FILE/SSL_CERT_DIR replace it when set), beside the built-in Mozilla roots; unused when tls.ca_file is set";
    "tls.client_cert": Path, None, "PEM client certificate chain for TLS client authentication (needs tls.client_key)";
    "tls.client_key": Path, None, "PEM private key of tls.client_cert";
    "tls.pin_sha256": TextList, None, "Accept only these server keys: base64 SHA-256 of the SubjectPublicKeyInfo; a matching key is trusted even without a trusted CA (pin-only trust)";
    "tls.server_name": HostName, Some("host"), "Name sent as SNI and checked against the certificate";
    "tls.dangerous_accept_invalid_certs": Bool, Some("false"), "DANGEROUS: accept any certificate (expired, self-signed, wrong issuer)";
    "tls.dangerous_accept_invalid_hostnames": Bool, Some("false"), "DANGEROUS: accept a valid certificate issued for another name";
    "tls.requiretls": Bool, Some("false"), "Send every message with REQUIRETLS (RFC 8689): only over TLS with a verified certificate, to a server that offers REQUIRETLS and must then relay it over verified TLS only; otherwise the message is refused before MAIL";
    "auth.enabled": Bool, Some("true"), "false turns authentication off (send anonymously) even when a file, profile or preset sets a user name or password";
    "auth.username": Text, None, "SASL user name; setting it turns authentication on";
    "auth.password": Secret, None, "Password (prefer SMTP_AUTH__PASSWORD, password_file or password_command)";
    "auth.password_file": Path, None, "File whose content (trailing newline removed) is the password";
    "auth.password_command": Command, None, "Shell command whose standard output is the password, e.g. `pass show smtp`";
    "auth.mechanisms": Mechanisms, Some("every supported mechanism, strongest first"), "Allow-list of SASL mechanisms, e.g. [\"SCRAM-SHA-256\", \"PLAIN\"]";
    "auth.allow_cleartext": Bool, Some("false"), "Allow PLAIN/LOGIN/XOAUTH2 on a connection without TLS (trusted networks only)";
    "auth.oauth2.token": Secret, None, "OAuth2 access token (XOAUTH2/OAUTHBEARER)";
    "auth.oauth2.token_command": Command, None, "Shell command whose standard output is a fresh OAuth2 access token";
    "auth.oauth2.token_url": Url, None, "OAuth2 token endpoint for the refresh-token flow";
    "auth.oauth2.client_id": Text, None, "OAuth2 client id for the refresh-token flow";
    "auth.oauth2.client_secret": Secret, None, "OAuth2 client secret for the refresh-token flow";
    "auth.oauth2.refresh_token": Secret, None, "OAuth2 refresh token for the refresh-token flow";
    "proxy.url": ProxyUrl, None, "Proxy to connect through: socks5://, socks5h://, socks4://, socks4a://, http:// or https:// (CONNECT), with optional user:pass@";
    "proxy.password": Secret, None, "Proxy password, replacing any in proxy.url (prefer SMTP_PROXY__PASSWORD, password_file or password_command); proxy.url names the user";
    "proxy.password_file": Path, None, "File whose content (trailing newline removed) is the proxy password";
    "proxy.password_command": Command, None, "Shell command whose standard output is the proxy password";
    "message.from": Address, None, "Default sender address (envelope and From header)";
    "message.from_name": Text, None, "Display name for the From header";
    "message.subject_prefix": Text, None, "Text put before every subject, e.g. \"[monitoring] \"";
    "message.test_recipient": Address, None, "Recipient of `smtp test` messages";
    "dsn.notify": DsnNotify, None, "Delivery status notifications asked for every recipient (RFC 3461 NOTIFY): never, or any of success, failure, delay, e.g. \"success,failure\"";
    "dsn.ret": DsnRet, None, "What a failure report returns (RFC 3461 RET): full (the whole message) or hdrs (its headers only)";
    "dsn.envid": EnvelopeId, None, "Envelope id the reports carry back as Original-Envelope-Id (RFC 3461 ENVID): 1-100 printable ASCII characters, the same for every message sent with this setting";
    "dsn.orcpt": Bool, Some("false"), "Give every recipient its own address as original recipient (RFC 3461 ORCPT=rfc822;ADDRESS), shown in the reports";
    "dsn.if_unsupported": IfUnsupported, Some("fail"), "When a dsn.* request is set and the server does not offer DSN: fail (refuse the message, nothing sent) or drop (send it without the request, with a warning)";
    "outbox": Path, Some("$XDG_DATA_HOME/smtp/outbox (~/.local/share/smtp/outbox)"), "Older name of queue.dir: where messages are queued as .eml files when no host is set";
    "queue.dir": Path, Some("outbox, else $XDG_DATA_HOME/smtp/outbox (~/.local/share/smtp/outbox)"), "The queue directory (mode 0700, files 0600): mail kept for later delivery, and the outbox when no host is set";
    "queue.on_failure": OnFailure, Some("fail"), "fail: report a transient failure and exit 75; queue: keep the message in the queue for `smtp queue run`/`flush` and exit 0";
    "queue.max_age": Duration, Some("5d"), "A queued message older than this is not sent any more: it fails as expired";
    "log.file": Path, None, "Append one line per delivery attempt to this file (time, id, envelope, server, outcome, reply); never a secret";
    "transcript.file": Path, None, "Append the protocol transcript of send, test and shell (secrets redacted) to this file, each line stamped with RFC 3339 time";
    "pool.max_connections": Count, Some("4"), "Most connections open at once to the server";
    "pool.idle_timeout": Duration, Some("60s"), "Close a pooled connection unused for this long";
    "pool.max_messages_per_connection": Count, Some("100"), "Reconnect after this many messages on one connection";
    "pool.pipeline_window": Window, Some("16"), "Most messages in flight at once on one connection when the server offers CHUNKING and PIPELINING (1 waits for each message's replies)";
    "rate_limit.per_second": Count, None, "Send at most this many messages per second";
    "rate_limit.per_minute": Count, None, "Send at most this many messages per minute";
    "retry.attempts": Count, Some("3"), "Attempts for a transient failure (4xx, timeout, dropped connection), first one included";
    "retry.backoff": Duration, Some("1s"), "Wait before the first retry; doubles after each one (a rate-limit reply waits longer)";
    "dkim.domain": HostName, None, "Sign every message with DKIM for this domain (d=); needs dkim.selector and dkim.key_file";
    "dkim.selector": Text, None, "DKIM selector (s=): the public key is published at SELECTOR._domainkey.DOMAIN";
    "dkim.key_file": Path, None, "PEM private key (RSA PKCS#1/PKCS#8 or Ed25519 PKCS#8); the algorithm follows from the key; never logged";
    "dkim.headers": TextList, Some("From, Reply-To, Subject, Date, To, Cc, Message-ID, In-Reply-To, References, MIME-Version, Content-Type, Content-Transfer-Encoding, Content-Disposition"), "Header fields to sign (must include From); of these, the ones a message has are signed";
    "dkim.canonicalization": Text, Some("relaxed/relaxed"), "Header/body canonicalization: relaxed/relaxed, relaxed/simple, simple/relaxed or simple/simple";
    "retry.unknown_outcome": Bool, Some("false"), "Also retry a message whose outcome is unknown (connection lost after the end of data); it may then be delivered twice";
}

/// Looks a key up in [`KEYS`].
pub fn find(key: &str) -> Option<&'static KeyDoc> {
    KEYS.iter().find(|k| k.key == key)
}

/// True when `path` names a table (`tls`, `auth.oauth2`, ...).
pub(crate) fn is_table(path: &str) -> bool {
    TABLES.contains(&path)
}

/// Values written into the lowest layer. Everything else without a
/// default is either unset or derived (port, per-phase timeouts, outbox).
pub(crate) const BUILTIN_DEFAULTS: &[(&str, &str)] = &[
    ("security", "starttls"),
    ("tls.min_version", "1.2"),
    ("tls.max_version", "1.3"),
    ("tls.platform_roots", "true"),
    ("tls.dangerous_accept_invalid_certs", "false"),
    ("tls.dangerous_accept_invalid_hostnames", "false"),
    ("tls.requiretls", "false"),
    ("auth.allow_cleartext", "false"),
    ("auth.enabled", "true"),
    ("pool.max_connections", "4"),
    ("pool.idle_timeout", "60s"),
    ("pool.max_messages_per_connection", "100"),
    ("pool.pipeline_window", "16"),
    ("retry.attempts", "3"),
    ("retry.backoff", "1s"),
    ("retry.unknown_outcome", "false"),
    ("queue.on_failure", "fail"),
    ("queue.max_age", "5d"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        assert_eq!(
            find("tls.min_version").unwrap().env_var(),
            "SMTP_TLS__MIN_VERSION"
        );
        assert_eq!(env_var_for("auth.oauth2.token"), "SMTP_AUTH__OAUTH2__TOKEN");
        assert_eq!(env_var_for("aws_region"), "SMTP_AWS_REGION");
    }

    #[test]
    fn table_is_consistent() {
        let mut seen = std::collections::HashSet::new();
        for k in KEYS {
            assert!(seen.insert(k.key), "duplicate key {}", k.key);
            if let Some((table, _)) = k.key.rsplit_once('.') {
                assert!(is_table(table), "{} sits in an undeclared table", k.key);
            }
            assert!(
                !k.description.ends_with('.'),
                "{}: no trailing period",
                k.key
            );
        }
        for (key, _) in BUILTIN_DEFAULTS {
            assert!(find(key).is_some_and(|k| k.default.is_some()), "{key}");
        }
        for key in SECRET_SOURCES {
            assert!(find(key).is_some(), "{key}");
        }
    }
}
