//! Proxy URL parsing: schemes, ports, percent-decoding, IPv6, redaction.

use secrecy::ExposeSecret;

use super::*;

fn ok(s: &str) -> ProxyUrl {
    ProxyUrl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}
fn err(s: &str) -> String {
    ProxyUrl::parse(s).expect_err(s).to_string()
}

#[test]
fn every_scheme_with_its_default_port() {
    for (url, scheme, port) in [
        ("socks5h://proxy.example", ProxyScheme::Socks5h, 1080),
        ("socks5://proxy.example", ProxyScheme::Socks5, 1080),
        ("socks4a://proxy.example", ProxyScheme::Socks4a, 1080),
        ("socks4://proxy.example", ProxyScheme::Socks4, 1080),
        ("http://proxy.example", ProxyScheme::Http, 8080),
        ("SOCKS5H://proxy.example:9050/", ProxyScheme::Socks5h, 9050),
        ("HTTP://127.0.0.1:3128", ProxyScheme::Http, 3128),
    ] {
        let u = ok(url);
        assert_eq!((u.scheme(), u.port()), (scheme, port), "{url}");
        assert!(u.credentials().is_none());
    }
    assert_eq!(ok("http://127.0.0.1:3128").host(), "127.0.0.1");
}

#[test]
fn credentials_are_percent_decoded() {
    let u = ok("socks5h://us%40er:p%3Ass%2Fw%25rd%20%C3%A4@127.0.0.1:1082");
    let c = u.credentials().unwrap();
    assert_eq!(c.username(), "us@er");
    assert_eq!(c.password().expose_secret(), "p:ss/w%rd ä");
    // the last '@' ends the userinfo; ':' after the first is password
    let c = ok("http://bob:a@b:c@proxy:3128")
        .credentials()
        .unwrap()
        .clone();
    assert_eq!(
        (c.username(), c.password().expose_secret()),
        ("bob", "a@b:c")
    );
}

#[test]
fn domain_backslash_user_passes_through() {
    for url in [
        "http://CORP\\alice:pw@proxy:3128",
        "http://CORP%5Calice:pw@proxy:3128",
    ] {
        assert_eq!(
            ok(url).credentials().unwrap().username(),
            "CORP\\alice",
            "{url}"
        );
    }
}

#[test]
fn ipv6_hosts_need_brackets() {
    let u = ok("socks5h://[::1]:1080");
    assert_eq!((u.host(), u.port()), ("::1", 1080));
    assert_eq!(u.target(), Target::new("::1", 1080));
    assert_eq!(u.to_string(), "socks5h://[::1]:1080");
    assert_eq!(ok("http://[2001:db8::2]").port(), 8080);
    assert!(err("socks5h://::1:1080").contains("brackets"));
    assert!(err("socks5h://[::1:1080").contains("missing ]"));
    assert!(err("socks5h://[zz]:1").contains("not an IPv6"));
}

#[test]
fn bad_urls_are_refused_with_a_reason() {
    assert!(err("127.0.0.1:1080").contains("missing scheme"));
    assert!(err("ftp://h:1").contains("unknown scheme \"ftp\""));
    assert!(err("gopher://h:1").contains("socks4, http or https"));
    assert!(err("socks5h://h:0").contains("port"));
    assert!(err("socks5h://h:99999").contains("port"));
    assert!(err("socks5h://:1080").contains("missing proxy host"));
    assert!(err("socks5h://h:1/path").contains("no path"));
    assert!(err("socks5h://:pw@h:1").contains("empty user name"));
    assert!(err("socks5h://u%zz:pw@h:1").contains("bad %-escape"));
    assert!(err("socks5h://u:%FF@h:1").contains("not UTF-8"));
    assert!(err("socks5h://u%0D%0A:pw@h:1").contains("CR, LF"));
    assert!(err("socks4://u:pw@h:1").contains("no password"));
    assert_eq!(
        ok("socks4a://userid@h").credentials().unwrap().username(),
        "userid"
    );
}

#[test]
fn display_debug_and_errors_never_show_the_password() {
    let u = ok("socks5h://alice:S3cret-pw@proxy.example:1080");
    assert_eq!(
        u.to_string(),
        "socks5h://alice:<redacted>@proxy.example:1080"
    );
    assert_eq!(
        format!("{u:?}"),
        "ProxyUrl(socks5h://alice:<redacted>@proxy.example:1080)"
    );
    assert!(!format!("{u:#?}").contains("S3cret"));
    let u = ok("http://a%3Ab:x@h:1");
    assert_eq!(u.to_string(), "http://a%3Ab:<redacted>@h:1");
    for bad in [
        "socks5h://alice:S3cret-pw@proxy.example:0",
        "socks5h://alice:S3cret-pw@",
        "socks5h://alice:S3cret-pw",
        "socks9://alice:S3cret-pw@h",
        "socks5h://alice:S3cret-pw%zz@h",
    ] {
        let e = ProxyUrl::parse(bad).unwrap_err();
        let shown = format!("{e} {e:?} {}", e.hint().unwrap_or_default());
        assert!(!shown.contains("S3cret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}

#[test]
fn new_strips_brackets() {
    let u = ProxyUrl::new(ProxyScheme::Http, "[::1]", 3128);
    assert_eq!(u.host(), "::1");
    assert_eq!(u.to_string(), "http://[::1]:3128");
}

/// Every malformed shape a typo makes: the error and `redact` hide the
/// password, whether it is plain or percent-encoded.
#[test]
fn malformed_urls_never_show_the_password() {
    for bad in [
        // the `@host` forgotten: the password reads as a port
        "socks5h://alice:S3cret-pw",
        "http://alice:S3cret-pw/",
        // bad port after a good userinfo
        "socks5h://alice:S3cret-pw@proxy.example:99999",
        "socks5h://alice:S3cret-pw@proxy.example:port",
        // bad scheme, missing scheme
        "socks9://alice:S3cret-pw@proxy.example:1080",
        "ftp://alice:S3cret-pw@proxy.example",
        "alice:S3cret-pw@proxy.example:1080",
        // percent-encoded secrets, valid and broken
        "socks5h://alice:S3cret%2Dpw@proxy.example:0",
        "socks5h://alice:S3cret-pw%G1@proxy.example:1080",
        "socks5h://alice:S3cret-pw%0A@proxy.example:1080",
        // a path, a bad host, an unclosed IPv6 bracket
        "http://alice:S3cret-pw@proxy.example:3128/path",
        "http://alice:S3cret-pw@pro xy:3128",
        "http://alice:S3cret-pw@[::1:3128",
        // a password holding '@' and ':'
        "socks5h://alice:S3cret-pw:x@y@proxy.example:0",
    ] {
        let e = ProxyUrl::parse(bad).expect_err(bad);
        let shown = format!("{e} | {e:?} | {}", e.hint().unwrap_or_default());
        let redacted = redact(bad);
        for text in [&shown, &redacted] {
            assert!(!text.contains("S3cret"), "{bad}: {text}");
        }
        assert!(redacted.contains("<redacted>"), "{bad}: {redacted}");
        assert_eq!(e.coded_hint().map(|h| h.code), Some("proxy-invalid-url"));
    }
}

#[test]
fn redact_leaves_urls_without_a_password_alone() {
    for url in [
        "socks5h://proxy.example:1080",
        "socks5h://alice@proxy.example:1080",
        "http://[::1]:3128/",
        "socks5://h",
    ] {
        assert_eq!(redact(url), url);
    }
}
