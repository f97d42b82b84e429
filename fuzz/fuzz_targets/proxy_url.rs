//! Proxy URL parsing on arbitrary text: never panics; an accepted URL
//! displays with its password as `<redacted>` and that display parses back
//! to the same scheme, user, host and port; a rejection is one line that
//! never shows the password.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret;
use smtp_fuzz::oracles;
use smtp_proxy::ProxyUrl;

fuzz_target!(|text: &str| {
    let password = password_slot(text);
    match ProxyUrl::parse(text) {
        Ok(url) => {
            let shown = url.to_string();
            assert!(oracles::is_one_printable_line(&shown), "{shown:?}");
            assert_eq!(format!("{url:?}"), format!("ProxyUrl({shown})"));
            let back = ProxyUrl::parse(&shown)
                .unwrap_or_else(|e| panic!("display {shown:?} does not parse: {e}"));
            assert_eq!(back.scheme(), url.scheme());
            assert_eq!((back.host(), back.port()), (url.host(), url.port()));
            let user = |u: &ProxyUrl| u.credentials().map(|c| c.username().to_string());
            assert_eq!(user(&back), user(&url), "{shown:?}");
            let had_password = url
                .credentials()
                .is_some_and(|c| !c.password().expose_secret().is_empty());
            let back_password = back
                .credentials()
                .map(|c| c.password().expose_secret().to_string())
                .unwrap_or_default();
            if had_password {
                assert_eq!(back_password, "<redacted>", "{shown:?}");
            } else {
                assert_eq!(back_password, "", "{shown:?}");
            }
        }
        Err(error) => {
            let shown = error.to_string();
            assert!(oracles::is_one_printable_line(&shown), "{shown:?}");
            if let Some(password) = password {
                assert!(!shown.contains(password), "password {password:?} leaked: {shown}");
            }
        }
    }
});

/// The raw text in the password position (`scheme://user:HERE@host`), if
/// it is long enough to recognise and appears nowhere else in the URL.
/// Only for URLs that `Debug` (which errors use) shows unchanged, since an
/// escape such as `\0` next to `:::` could spell a password by accident.
fn password_slot(text: &str) -> Option<&str> {
    if text.escape_debug().to_string() != text {
        return None;
    }
    let rest = &text[text.find("://")? + 3..];
    let userinfo = &rest[..rest.rfind('@')?];
    let password = &userinfo[userinfo.find(':')? + 1..];
    let elsewhere = text.replacen(password, "", 1);
    (password.len() >= 4 && !elsewhere.contains(password)).then_some(password)
}
