//! The SOCKS5 (with and without RFC 1929 auth) and SOCKS4a connectors
//! against a proxy answering arbitrary bytes: never panic; succeed exactly
//! when the answer is a well-formed grant, leaving every byte after it to
//! the tunnel; otherwise fail with one printable line that never shows the
//! password.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_fuzz::grants::{socks4_grant, socks5_grant};
use smtp_fuzz::proxy::{self, PASSWORD, USER};
use smtp_core::ProxyUrl;

fuzz_target!(|data: &[u8]| {
    let Some((&variant, answer)) = data.split_first() else {
        return;
    };
    let (url, expected) = match variant % 3 {
        0 => (
            "socks5h://127.0.0.1:1080".to_string(),
            socks5_grant(answer, false),
        ),
        1 => (
            format!("socks5h://{USER}:{PASSWORD}@127.0.0.1:1080"),
            socks5_grant(answer, true),
        ),
        _ => (
            format!("socks4a://{USER}@127.0.0.1:1080"),
            socks4_grant(answer),
        ),
    };
    let url = ProxyUrl::parse(&url).expect("fixed url");
    let outcome = proxy::run(&url, answer);
    match (&outcome.result, expected) {
        (Ok(rest), Some(grant_len)) => assert_eq!(rest.as_slice(), &answer[grant_len..]),
        (Err(error), None) => proxy::check_error(error),
        (result, expected) => panic!("got {result:?}, a grant of {expected:?} bytes expected"),
    }
    if variant % 3 == 1 && answer.get(..2) == Some(&[5, 2]) {
        // The proxy picked username/password: the secret went out, so the
        // no-leak check above had something to find.
        let sent = String::from_utf8_lossy(&outcome.sent);
        assert!(sent.contains(PASSWORD), "{sent:?}");
    }
});
