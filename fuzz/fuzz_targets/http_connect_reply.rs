//! The HTTP CONNECT connector (with and without Basic credentials) against
//! a proxy answering arbitrary bytes: never panics; succeeds exactly when
//! the answer is (1xx heads and) a 2xx head, leaving every byte after the
//! blank line to the tunnel; otherwise fails with one printable line that
//! never shows the password or its base64.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_fuzz::grants::tunnel_start;
use smtp_fuzz::proxy::{self, PASSWORD, TARGET_HOST, USER};
use smtp_core::ProxyUrl;

fuzz_target!(|data: &[u8]| {
    let Some((&variant, answer)) = data.split_first() else {
        return;
    };
    let with_credentials = variant & 1 == 1;
    let url = if with_credentials {
        format!("http://{USER}:{PASSWORD}@127.0.0.1:8080")
    } else {
        "http://127.0.0.1:8080".to_string()
    };
    let url = ProxyUrl::parse(&url).expect("fixed url");
    let outcome = proxy::run(&url, answer);
    match (&outcome.result, tunnel_start(answer)) {
        (Ok(rest), Some(start)) => assert_eq!(rest.as_slice(), &answer[start..]),
        (Err(error), None) => proxy::check_error(error),
        (result, expected) => panic!("got {result:?}, tunnel start {expected:?} expected"),
    }
    let sent = String::from_utf8_lossy(&outcome.sent);
    let request = format!("CONNECT {TARGET_HOST}:25 HTTP/1.1\r\n");
    assert!(sent.starts_with(&request), "{sent:?}");
    assert!(sent.ends_with("\r\n\r\n"), "{sent:?}");
    let basic = &proxy::basic_credentials()[0];
    assert_eq!(sent.contains(basic.as_str()), with_credentials, "{sent:?}");
});
