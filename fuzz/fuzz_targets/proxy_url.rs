//! Proxy URL parsing on arbitrary text: never panics; an accepted URL
//! displays with its password as `<redacted>` and that display parses back
//! to the same scheme, user, host and port; a rejection is one line that
//! never shows the password; `redact` never shows it either, parsable or
//! not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret;
use smtp_fuzz::oracles;
use smtp_core::ProxyUrl;

fuzz_target!(|text: &str| {
    let password = password_slot(text);
    // Differential, as below: the same redaction with any other password.
    if let Some((range, password)) = &password {
        let mut other = text.to_string();
        other.replace_range(range.clone(), &"Z".repeat(password.len()));
        assert_eq!(ProxyUrl::redact(text), ProxyUrl::redact(&other), "password {password:?} shown");
    }
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
            // Differential: with another password of as many bytes the
            // message must be the same, or it showed (part of) the password.
            if let Some((range, password)) = password {
                let mut other = text.to_string();
                other.replace_range(range, &"Z".repeat(password.len()));
                let other_shown = ProxyUrl::parse(&other)
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                assert_eq!(Err(shown), other_shown, "password {password:?} shown");
            }
        }
    }
});

/// Where the password sits in `scheme://user:HERE@host`, and the text
/// there, when it is plain text (not percent-encoded, no control
/// characters, which are refused), so another password of the same length
/// cannot change how the URL parses.
fn password_slot(text: &str) -> Option<(std::ops::Range<usize>, &str)> {
    let start = text.find("://")? + 3;
    let at = start + text[start..].rfind('@')?;
    let colon = start + text[start..at].find(':')? + 1;
    let password = &text[colon..at];
    let plain = password.chars().all(|c| c != '%' && !c.is_control());
    (!password.is_empty() && plain).then_some((colon..at, password))
}
