//! EHLO capability parsing on arbitrary replies: never panics, and what it
//! reports agrees with a plain reading of the keyword lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_core::{Capabilities, Reply};
use smtp_fuzz::replies;

fuzz_target!(|data: &[u8]| {
    // As the parser delivers it (wire bytes) ...
    for reply in replies::parse_whole(data).replies {
        check(&reply);
    }
    // ... and any lines at all, including ones the parser never makes.
    let text = String::from_utf8_lossy(data);
    check(&Reply {
        code: 250,
        enhanced: None,
        lines: text.split('\n').map(str::to_string).collect(),
    });
});

fn check(reply: &Reply) {
    let helo = Capabilities::from_helo(reply);
    assert!(!helo.esmtp && helo.auth.is_empty() && helo.raw.is_empty());
    assert!(!helo.server_name.contains(char::is_whitespace));

    let caps = Capabilities::from_ehlo(reply);
    assert!(caps.esmtp);
    assert!(!caps.server_name.contains(char::is_whitespace));
    assert_eq!(caps.raw, reply.lines.get(1..).unwrap_or(&[]).to_vec());
    for (i, m) in caps.auth.iter().enumerate() {
        assert!(!m.is_empty() && *m == m.to_ascii_uppercase(), "{m:?}");
        assert!(!caps.auth[..i].contains(m), "duplicate {m:?}");
        assert!(caps.supports_auth(&m.to_ascii_lowercase()));
    }
    let keyword = |name: &str| {
        caps.raw.iter().any(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case(name))
        })
    };
    assert_eq!(caps.starttls, keyword("STARTTLS"));
    assert_eq!(caps.pipelining, keyword("PIPELINING"));
    assert_eq!(caps.chunking, keyword("CHUNKING"));
    assert_eq!(caps.eight_bit_mime, keyword("8BITMIME"));
    assert_eq!(caps.smtputf8, keyword("SMTPUTF8"));
    assert_eq!(caps.requiretls, keyword("REQUIRETLS"));
    assert_eq!(caps.size.is_some(), keyword("SIZE"));
    // Every mechanism named on an AUTH line is offered.
    for line in &caps.raw {
        let mut words = line.split_whitespace();
        if words.next().is_some_and(|k| k.eq_ignore_ascii_case("AUTH")) {
            for m in words {
                assert!(caps.supports_auth(m), "{m:?} from {line:?}");
            }
        }
    }
}
