//! Property tests for the invariants the fuzz targets check (fuzz/,
//! docs/fuzzing.md), in the normal test run: proxy URLs parse, display and
//! redact; the SOCKS and HTTP CONNECT connectors take exactly the proxy's
//! answer and leave the rest to the tunnel. The oracles and the scripted
//! proxy are the fuzz crate's own files, included rather than copied.

#[path = "../../fuzz/src/grants.rs"]
mod grants;
#[path = "../../fuzz/src/oracles.rs"]
#[allow(dead_code)] // the encoder oracles are for smtp-core's tests
mod oracles;
#[path = "../../fuzz/src/proxy.rs"]
mod proxy;

use proptest::collection::vec;
use proptest::prelude::*;
use secrecy::ExposeSecret;
use smtp_core::{ProxyScheme, ProxyUrl};

/// Percent-encodes every byte outside the URL-safe set.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn scheme() -> impl Strategy<Value = ProxyScheme> {
    prop_oneof![
        Just(ProxyScheme::Socks5h),
        Just(ProxyScheme::Socks5),
        Just(ProxyScheme::Http),
    ]
}

/// Answers made of the bytes a SOCKS or HTTP proxy sends, and noise.
fn answer_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => any::<u8>(),
        2 => 0u8..6,
        1 => Just(0x5A),
        2 => prop::sample::select(b"HTTP/1.0 200 OK\r\n:".to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn proxy_urls_round_trip_and_never_show_the_password(
        scheme in scheme(),
        user in "[a-z\\\\]{1,12}",
        // Starts with a capital, which user and host never contain, so
        // finding it in the output can only be a leak.
        password in "P[ -~]{3,20}",
        host in "[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?",
        port in 1u16..,
    ) {
        let text = format!("{scheme}://{}:{}@{host}:{port}", percent_encode(&user), percent_encode(&password));
        let url = ProxyUrl::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!((url.scheme(), url.host(), url.port()), (scheme, host.as_str(), port));
        let credentials = url.credentials().expect("credentials");
        prop_assert_eq!(credentials.username(), user.as_str());
        prop_assert_eq!(credentials.password().expose_secret(), password.as_str());

        let shown = format!("{url} {url:?} {credentials:?}");
        prop_assert!(!shown.contains(&password), "{}", shown);
        prop_assert!(!shown.contains(&percent_encode(&password)), "{}", shown);
        let back = ProxyUrl::parse(&url.to_string()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!((back.scheme(), back.host(), back.port()), (scheme, host.as_str(), port));
        let back_credentials = back.credentials().expect("credentials");
        prop_assert_eq!(back_credentials.username(), user.as_str());
        prop_assert_eq!(back_credentials.password().expose_secret(), "<redacted>");

        // A broken URL with the same password: the error hides it too.
        let broken = format!("{scheme}://{}:{}@{host}:{port}/path", percent_encode(&user), percent_encode(&password));
        let error = ProxyUrl::parse(&broken).expect_err("a path is refused").to_string();
        prop_assert!(!error.contains(&percent_encode(&password)), "{}", error);
        prop_assert!(oracles::is_one_printable_line(&error), "{:?}", error);
    }

    #[test]
    fn any_text_parses_or_fails_in_one_line(text in "[ -~\r\n\0\u{e9}]{0,60}") {
        match ProxyUrl::parse(&text) {
            Ok(url) => prop_assert!(ProxyUrl::parse(&url.to_string()).is_ok(), "{}", url),
            Err(e) => prop_assert!(oracles::is_one_printable_line(&e.to_string()), "{:?}", e.to_string()),
        }
    }
}

proptest! {
    // Each case runs a real connector over an in-memory pipe: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn socks5_takes_exactly_the_grant(
        // Grants (IPv4, domain after auth, IPv6), then anything; or noise.
        prefix in prop::sample::select(vec![
            b"\x05\x00\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x19".to_vec(),
            b"\x05\x02\x01\x00\x05\x00\x00\x03\x02\xff\xfe\x00\x19".to_vec(),
            [b"\x05\x00\x05\x00\x00\x04".as_slice(), &[0; 18]].concat(),
            Vec::new(),
        ]),
        tail in vec(answer_byte(), 0..12),
        with_credentials in any::<bool>(),
    ) {
        let answer = [prefix, tail].concat();
        let url = if with_credentials {
            format!("socks5h://{}:{}@127.0.0.1:1080", proxy::USER, proxy::PASSWORD)
        } else {
            "socks5h://127.0.0.1:1080".to_string()
        };
        let outcome = proxy::run(&ProxyUrl::parse(&url).expect("url"), &answer);
        match (&outcome.result, grants::socks5_grant(&answer, with_credentials)) {
            (Ok(rest), Some(n)) => prop_assert_eq!(rest.as_slice(), &answer[n..]),
            (Err(e), None) => proxy::check_error(e),
            (result, grant) => prop_assert!(false, "got {:?}, grant {:?}", result, grant),
        }
    }

    #[test]
    fn socks4a_takes_exactly_the_grant(
        vn in prop::sample::select(vec![0u8, 4, 5]),
        cd in prop_oneof![Just(0x5Au8), any::<u8>()],
        tail in vec(answer_byte(), 0..20),
    ) {
        let answer = [vec![vn, cd], tail].concat();
        let url = ProxyUrl::parse(&format!("socks4a://{}@127.0.0.1:1080", proxy::USER)).expect("url");
        let outcome = proxy::run(&url, &answer);
        match (&outcome.result, grants::socks4_grant(&answer)) {
            (Ok(rest), Some(n)) => prop_assert_eq!(rest.as_slice(), &answer[n..]),
            (Err(e), None) => proxy::check_error(e),
            (result, grant) => prop_assert!(false, "got {:?}, grant {:?}", result, grant),
        }
    }

    #[test]
    fn http_connect_takes_exactly_the_heads(
        heads in vec(
            (prop::sample::select(vec!["100", "200", "204", "407", "502", "2x0"]),
             prop::sample::select(vec!["\r\n", "\n"]),
             vec("[A-Za-z-]{1,8}(: [ -~]{0,12})?", 0..3)),
            0..3,
        ),
        tail in vec(answer_byte(), 0..30),
        with_credentials in any::<bool>(),
    ) {
        let mut answer = Vec::new();
        for (status, eol, headers) in &heads {
            answer.extend_from_slice(format!("HTTP/1.1 {status} Reason{eol}").as_bytes());
            for h in headers {
                answer.extend_from_slice(format!("{h}{eol}").as_bytes());
            }
            answer.extend_from_slice(eol.as_bytes());
        }
        answer.extend_from_slice(&tail);
        let url = if with_credentials {
            format!("http://{}:{}@127.0.0.1:8080", proxy::USER, proxy::PASSWORD)
        } else {
            "http://127.0.0.1:8080".to_string()
        };
        let outcome = proxy::run(&ProxyUrl::parse(&url).expect("url"), &answer);
        match (&outcome.result, grants::tunnel_start(&answer)) {
            (Ok(rest), Some(n)) => prop_assert_eq!(rest.as_slice(), &answer[n..]),
            (Err(e), None) => proxy::check_error(e),
            (result, start) => prop_assert!(false, "got {:?}, tunnel start {:?}", result, start),
        }
        let sent = String::from_utf8_lossy(&outcome.sent);
        prop_assert_eq!(sent.contains(&proxy::basic_credentials()[0]), with_credentials);
    }
}
