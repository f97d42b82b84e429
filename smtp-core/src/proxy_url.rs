//! Proxy URLs (`socks5h://user:password@host:port` and friends): the one
//! parser and redactor, used by smtp-config to check `proxy.url` and by
//! smtp-proxy to connect, so both agree on what a URL means and neither
//! ever shows its password.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};

use crate::connector::Target;
use crate::error::Error;

/// The proxy protocol named by a URL scheme.
///
/// | scheme | protocol | who resolves the server name | default port |
/// |---|---|---|---|
/// | `socks5h` | SOCKS5 | the proxy | 1080 |
/// | `socks5` | SOCKS5 | this machine | 1080 |
/// | `socks4a` | SOCKS4a | the proxy | 1080 |
/// | `socks4` | SOCKS4 (IPv4 only) | this machine | 1080 |
/// | `http` | HTTP `CONNECT` | the proxy | 8080 |
/// | `https` | TLS to the proxy, then HTTP `CONNECT` | the proxy | 443 |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProxyScheme {
    /// SOCKS5, the proxy resolves host names (no DNS leak). The default.
    Socks5h,
    /// SOCKS5, host names resolved locally and sent as IP addresses.
    Socks5,
    /// SOCKS4a, the proxy resolves host names.
    Socks4a,
    /// SOCKS4, resolved locally to an IPv4 address.
    Socks4,
    /// HTTP/1.1 `CONNECT` (plain TCP to the proxy).
    Http,
    /// HTTP/1.1 `CONNECT` over TLS to the proxy (curl's HTTPS proxy); needs
    /// `smtp_proxy::ProxyUrlExt::connector_with_tls`.
    Https,
}

impl ProxyScheme {
    /// The scheme as written in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyScheme::Socks5h => "socks5h",
            ProxyScheme::Socks5 => "socks5",
            ProxyScheme::Socks4a => "socks4a",
            ProxyScheme::Socks4 => "socks4",
            ProxyScheme::Http => "http",
            ProxyScheme::Https => "https",
        }
    }

    /// The port used when the URL has none: 1080 for SOCKS, 8080 for
    /// HTTP, 443 for HTTPS.
    pub fn default_port(self) -> u16 {
        match self {
            ProxyScheme::Http => 8080,
            ProxyScheme::Https => 443,
            _ => 1080,
        }
    }
}

impl fmt::Display for ProxyScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed proxy URL: scheme, host, port and optional credentials.
///
/// `Display` and `Debug` show the user name but never the password
/// (`socks5h://alice:<redacted>@proxy.example:1080`).
#[derive(Clone)]
pub struct ProxyUrl {
    scheme: ProxyScheme,
    host: String,
    port: u16,
    credentials: Option<ProxyCredentials>,
}

impl ProxyUrl {
    /// The text with any password replaced by `<redacted>`, for showing a
    /// URL that may not parse: without an `@`, a non-numeric "port" may be
    /// a password typed with the host forgotten, so it is hidden too.
    ///
    /// ```
    /// use smtp_core::ProxyUrl;
    /// assert_eq!(
    ///     ProxyUrl::redact("socks5h://alice:hunter2@h:1080"),
    ///     "socks5h://alice:<redacted>@h:1080"
    /// );
    /// assert_eq!(ProxyUrl::redact("socks5h://alice:hunter2"), "socks5h://alice:<redacted>");
    /// ```
    pub fn redact(text: &str) -> String {
        redact(text)
    }

    /// A proxy URL from its parts; no credentials.
    pub fn new(scheme: ProxyScheme, host: impl Into<String>, port: u16) -> ProxyUrl {
        ProxyUrl {
            scheme,
            host: Target::new(host, port).host,
            port,
            credentials: None,
        }
    }

    /// Adds credentials (replacing any).
    pub fn with_credentials(mut self, credentials: ProxyCredentials) -> ProxyUrl {
        self.credentials = Some(credentials);
        self
    }

    /// Parses `scheme://[user[:password]@]host[:port][/]`.
    ///
    /// - schemes: `socks5h`, `socks5`, `socks4a`, `socks4`, `http`
    ///   (case-insensitive); see [`ProxyScheme`] for default ports;
    /// - user and password are percent-decoded (UTF-8); the user may be
    ///   `DOMAIN\user` (or `DOMAIN%5Cuser`), passed through as the user name;
    ///   the last `@` ends the credentials, so a raw `@` or `/` in a
    ///   password works, but percent-encoding `@ : / %` is safer;
    /// - IPv6 hosts in brackets: `socks5h://[::1]:1080`;
    /// - SOCKS4 carries a user id but no password.
    pub fn parse(input: &str) -> Result<ProxyUrl, Error> {
        parse(input).map_err(|reason| Error::InvalidProxyUrl {
            url: redact(input),
            reason,
        })
    }

    /// The scheme.
    pub fn scheme(&self) -> ProxyScheme {
        self.scheme
    }

    /// The proxy host (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The proxy's own address, for the inner connector.
    pub fn target(&self) -> Target {
        Target::new(self.host.clone(), self.port)
    }

    /// The credentials, if any.
    pub fn credentials(&self) -> Option<&ProxyCredentials> {
        self.credentials.as_ref()
    }
}

impl FromStr for ProxyUrl {
    type Err = Error;
    fn from_str(s: &str) -> Result<ProxyUrl, Error> {
        ProxyUrl::parse(s)
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if let Some(c) = &self.credentials {
            f.write_str(&encode_userinfo(c.username()))?;
            if c.has_password() {
                f.write_str(":<redacted>")?;
            }
            f.write_str("@")?;
        }
        write!(f, "{}", self.target())
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ProxyUrl")
            .field(&format_args!("{self}"))
            .finish()
    }
}

/// Longest proxy host, user name and password (SOCKS5 carries each in a
/// length byte, RFC 1928/1929).
const MAX_FIELD_LEN: usize = 255;

fn parse(input: &str) -> Result<ProxyUrl, String> {
    let (scheme, rest) = input
        .split_once("://")
        .ok_or("missing scheme: write socks5h://host:port or http://host:port")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "socks5h" => ProxyScheme::Socks5h,
        "socks5" => ProxyScheme::Socks5,
        "socks4a" => ProxyScheme::Socks4a,
        "socks4" => ProxyScheme::Socks4,
        "http" => ProxyScheme::Http,
        "https" => ProxyScheme::Https,
        other => {
            return Err(format!(
                "unknown scheme {other:?}: expected socks5h, socks5, socks4a, socks4, http or https"
            ));
        }
    };
    let (userinfo, hostport) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let hostport = hostport.strip_suffix('/').unwrap_or(hostport);
    if hostport.contains(['/', '?', '#']) {
        return Err("a proxy URL has no path, query or fragment".into());
    }
    let (host, port) = split_host_port(hostport)?;
    let port = match port {
        None => scheme.default_port(),
        Some(p) => match p.parse::<u16>() {
            // Never echoed: with the `@host` forgotten, `user:password`
            // reads as `host:port`, and the "port" is the password.
            Ok(0) | Err(_) if userinfo.is_none() => {
                return Err(
                    "bad proxy port: expected 1-65535 (user:password needs @host:port after it)"
                        .into(),
                );
            }
            Ok(0) | Err(_) => return Err("bad proxy port: expected 1-65535".into()),
            Ok(p) => p,
        },
    };
    let credentials = userinfo.map(|u| parse_userinfo(u, scheme)).transpose()?;
    Ok(ProxyUrl {
        scheme,
        host,
        port,
        credentials,
    })
}

fn split_host_port(hostport: &str) -> Result<(String, Option<&str>), String> {
    if let Some(bracketed) = hostport.strip_prefix('[') {
        let (literal, after) = bracketed
            .split_once(']')
            .ok_or("missing ] after the IPv6 address")?;
        literal
            .parse::<Ipv6Addr>()
            .map_err(|_| "the host in brackets is not an IPv6 address".to_string())?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or("expected :port after the IPv6 address")?,
            ),
        };
        return Ok((literal.to_string(), port));
    }
    let (host, port) = match hostport.split_once(':') {
        Some((_, p)) if p.contains(':') => {
            return Err("write an IPv6 proxy address in brackets: [::1]:1080".into());
        }
        Some((h, p)) => (h, Some(p)),
        None => (hostport, None),
    };
    if host.is_empty() {
        return Err("missing proxy host".into());
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err("the proxy host may contain only letters, digits, '.', '-' and '_'".into());
    }
    if host.len() > MAX_FIELD_LEN {
        return Err("the proxy host is longer than 255 bytes".into());
    }
    Ok((host.to_string(), port))
}

fn parse_userinfo(userinfo: &str, scheme: ProxyScheme) -> Result<ProxyCredentials, String> {
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    };
    let user = percent_decode(user).map_err(|e| format!("user name: {e}"))?;
    let password = match password {
        Some(p) => SecretString::from(percent_decode(p).map_err(|e| format!("password: {e}"))?),
        None => SecretString::from(String::new()),
    };
    // RFC 1929's limit, for every scheme: one rule, checked before connecting.
    if user.len() > MAX_FIELD_LEN {
        return Err("user name: longer than 255 bytes".into());
    }
    if password.expose_secret().len() > MAX_FIELD_LEN {
        return Err("password: longer than 255 bytes".into());
    }
    if user.is_empty() {
        return Err("empty user name before '@'".into());
    }
    let credentials = ProxyCredentials::new(user, password);
    if matches!(scheme, ProxyScheme::Socks4 | ProxyScheme::Socks4a) && credentials.has_password() {
        return Err("SOCKS4 carries a user id but no password".into());
    }
    Ok(credentials)
}

/// Decodes `%XX` escapes; the result must be UTF-8. Messages never quote
/// the input, since it may be a password.
fn percent_decode(s: &str) -> Result<String, &'static str> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or("truncated %-escape")?;
            let hex = std::str::from_utf8(hex).map_err(|_| "bad %-escape")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad %-escape (expected %XX, hex)")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(out).map_err(|_| "not UTF-8 after percent-decoding")?;
    if decoded.contains(['\r', '\n', '\0']) {
        return Err("contains CR, LF or NUL");
    }
    Ok(decoded)
}

fn encode_userinfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, ':' | '@' | '/' | '%' | '?' | '#') || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// See [`ProxyUrl::redact`].
pub(crate) fn redact(input: &str) -> String {
    let start = input.find("://").map_or(0, |i| i + 3);
    let rest = &input[start..];
    if let Some(at) = rest.rfind('@') {
        let userinfo = &rest[..at];
        return match userinfo.find(':') {
            Some(colon) => format!("{}:<redacted>{}", &input[..start + colon], &rest[at..]),
            None => input.to_string(),
        };
    }
    match rest.rfind(':') {
        Some(colon)
            if !rest[colon + 1..].contains(']')
                && !rest[colon + 1..]
                    .trim_end_matches('/')
                    .bytes()
                    .all(|b| b.is_ascii_digit()) =>
        {
            format!("{}:<redacted>", &input[..start + colon])
        }
        _ => input.to_string(),
    }
}

#[cfg(test)]
#[path = "proxy_url_tests.rs"]
mod tests;

/// A proxy user name and password (SOCKS5 RFC 1929, HTTP Basic).
///
/// The password is a [`SecretString`]: zeroized on drop and shown as
/// `<redacted>` by `Debug`. A Windows-style `DOMAIN\user` name is passed
/// to the proxy unchanged, as the user name.
#[derive(Clone)]
pub struct ProxyCredentials {
    username: String,
    password: SecretString,
}

impl ProxyCredentials {
    /// A user name and password.
    pub fn new(username: impl Into<String>, password: SecretString) -> ProxyCredentials {
        ProxyCredentials {
            username: username.into(),
            password,
        }
    }

    /// The user name, as sent to the proxy.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password.
    pub fn password(&self) -> &SecretString {
        &self.password
    }

    /// True when a password is set (SOCKS4 carries none).
    pub fn has_password(&self) -> bool {
        !self.password.expose_secret().is_empty()
    }
}

impl fmt::Debug for ProxyCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyCredentials")
            .field("username", &self.username)
            .field("password", &format_args!("<redacted>"))
            .finish()
    }
}
