//! Syntax check and redaction of `proxy.url`, independent of the `proxy`
//! feature so a bad URL is reported (and its password hidden) either way.

/// The parts of a proxy URL that validation and display need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProxyParts<'a> {
    pub scheme: &'a str,
    pub user: Option<&'a str>,
    pub has_password: bool,
    pub host: &'a str,
    pub port: u16,
}

/// Schemes `smtp-proxy` understands.
pub(crate) const PROXY_SCHEMES: &[&str] =
    &["socks5", "socks5h", "socks4", "socks4a", "http", "https"];

/// Splits `scheme://[user[:pass]@]host[:port][/]` (IPv6 hosts in brackets).
pub(crate) fn parse(url: &str) -> Result<ProxyParts<'_>, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("expected scheme://host:port, e.g. socks5h://127.0.0.1:1080")?;
    if !PROXY_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return Err(format!(
            "unsupported scheme {scheme:?}: expected one of {}",
            PROXY_SCHEMES.join(", ")
        ));
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#']) {
        return Err("a proxy URL has no path, query or fragment".into());
    }
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    let (user, has_password) = match userinfo {
        None => (None, false),
        Some(u) => match u.split_once(':') {
            Some((user, _)) => (Some(user), true),
            None => (Some(u), false),
        },
    };
    if user.is_some_and(str::is_empty) {
        return Err("empty user name before '@'".into());
    }
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("unclosed '[' in IPv6 host")?;
        (h, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err("missing proxy host".into());
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("proxy host contains a space or control character".into());
    }
    let port =
        match port {
            // Never echoed: with the `@host` forgotten, `user:password` reads
            // as `host:port`, and the "port" is the password.
            Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or(
                "bad proxy port: expected 1-65535 (user:password needs @host:port after it)",
            )?,
            None if scheme.eq_ignore_ascii_case("http") => 8080,
            None if scheme.eq_ignore_ascii_case("https") => 443,
            None => 1080,
        };
    Ok(ProxyParts {
        scheme,
        user,
        has_password,
        host,
        port,
    })
}

/// The URL with the password part replaced by `<redacted>`; an unparsable
/// URL is redacted whole when it might hold credentials.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return if url.contains('@') {
            "<redacted>".into()
        } else {
            url.to_string()
        };
    };
    match rest.rsplit_once('@') {
        Some((userinfo, hostport)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:<redacted>@{hostport}"),
            None => url.to_string(),
        },
        // No `@`: `user:password` with the host forgotten looks like
        // `host:port`; anything after the colon that is not a port is
        // hidden.
        None => match rest.rsplit_once(':') {
            Some((host, port))
                if !port
                    .trim_end_matches('/')
                    .bytes()
                    .all(|b| b.is_ascii_digit()) =>
            {
                format!("{scheme}://{host}:<redacted>")
            }
            _ => url.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let p = parse("socks5h://u:p@127.0.0.1:1082").unwrap();
        assert_eq!(
            (p.scheme, p.user, p.has_password, p.host, p.port),
            ("socks5h", Some("u"), true, "127.0.0.1", 1082)
        );
        let p = parse("http://[::1]:3128/").unwrap();
        assert_eq!((p.host, p.port), ("::1", 3128));
        assert_eq!(parse("socks5://proxy").unwrap().port, 1080);
        assert!(
            parse("ftp://x:1")
                .unwrap_err()
                .contains("unsupported scheme")
        );
        assert!(parse("127.0.0.1:1080").unwrap_err().contains("scheme://"));
        assert!(
            parse("socks5://h:99999")
                .unwrap_err()
                .contains("bad proxy port")
        );
        assert!(
            parse("socks5://:1080")
                .unwrap_err()
                .contains("missing proxy host")
        );
        assert!(parse("http://h:1/path").is_err());
    }

    #[test]
    fn redacts() {
        assert_eq!(
            redact("socks5h://u:s3cret@h:1"),
            "socks5h://u:<redacted>@h:1"
        );
        assert_eq!(
            redact("socks5h://u:p:w@d@h:1"),
            "socks5h://u:<redacted>@h:1"
        );
        assert_eq!(redact("socks5://h:1"), "socks5://h:1");
        assert_eq!(redact("u:pw@h"), "<redacted>");
        assert_eq!(redact("socks5h://h:1080/"), "socks5h://h:1080/");
        assert_eq!(redact("[::1]:1"), "[::1]:1");
    }

    #[test]
    fn a_forgotten_host_never_shows_the_password() {
        let url = "socks5h://alice:hunter2";
        let e = parse(url).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("@host:port"), "{e}");
        assert_eq!(redact(url), "socks5h://alice:<redacted>");
        assert!(!redact("http://alice:p%40ss").contains("p%40ss"));
    }
}
