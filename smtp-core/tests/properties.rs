//! Property tests for the invariants the fuzz targets check (fuzz/,
//! docs/fuzzing.md), in the normal test run: the reply parser, EHLO
//! capabilities, the dot-stuffing encoder and addresses. The oracles are
//! the fuzz crate's own files, included rather than copied.

#[path = "../../fuzz/src/oracles.rs"]
mod oracles;
#[path = "../../fuzz/src/replies.rs"]
mod replies;

use proptest::collection::vec;
use proptest::prelude::*;
use smtp_core::BodyEncoder;
use smtp_core::{Address, Capabilities, EnhancedCode, Reply};

/// Bytes that matter to SMTP framing, mixed with anything at all.
fn wire_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => any::<u8>(),
        2 => Just(b'\r'),
        2 => Just(b'\n'),
        2 => Just(b'.'),
        1 => Just(b' '),
        1 => Just(b'-'),
        2 => b'0'..=b'9',
    ]
}

/// A well-formed reply: code 200..=599, matching enhanced code or none,
/// 1 to 6 printable lines (not starting with a digit, so that no line
/// reads as a second enhanced code).
fn well_formed_reply() -> impl Strategy<Value = Reply> {
    (200u16..600, any::<bool>(), 0u16..1000, 0u16..1000).prop_flat_map(
        |(code, with_enhanced, subject, detail)| {
            let class = (code / 100) as u8;
            let enhanced = (with_enhanced && class != 3).then_some(EnhancedCode {
                class,
                subject,
                detail,
            });
            vec("([a-zA-Z!-/:-~][ -~]{0,40})?", 1..7).prop_map(move |lines| Reply {
                code,
                enhanced,
                lines,
            })
        },
    )
}

/// Bodies made of CR LF lines, so encoding then decoding gives them back
/// byte for byte.
fn canonical_body() -> impl Strategy<Value = Vec<u8>> {
    vec(
        vec(
            wire_byte().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
            0..30,
        ),
        0..8,
    )
    .prop_map(|lines| {
        lines.into_iter().fold(Vec::new(), |mut body, line| {
            body.extend_from_slice(&line);
            body.extend_from_slice(b"\r\n");
            body
        })
    })
}

fn encode(body: &[u8], chunk_sizes: &[u8], dot_stuffing: bool) -> Vec<u8> {
    let mut encoder = BodyEncoder::new(dot_stuffing);
    let mut out = Vec::new();
    for chunk in oracles::chunks(body, chunk_sizes) {
        encoder.encode(chunk, &mut out);
    }
    encoder.finish(&mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn reply_parser_never_panics_and_read_sizes_do_not_matter(
        input in vec(wire_byte(), 0..200),
        sizes in vec(any::<u8>(), 1..4),
    ) {
        let whole = replies::parse_whole(&input);
        for reply in &whole.replies {
            replies::check_reply(reply);
        }
        if let Some(error) = &whole.error {
            prop_assert!(oracles::is_one_printable_line(&error.to_string()));
        }
        prop_assert_eq!(whole, replies::parse_chunked(&oracles::chunks(&input, &sizes)));
    }

    #[test]
    fn well_formed_replies_round_trip(
        batch in vec(well_formed_reply(), 1..4),
        sizes in vec(any::<u8>(), 1..4),
    ) {
        let wire: Vec<u8> = batch.iter().flat_map(replies::to_wire).collect();
        let parsed = replies::parse_chunked(&oracles::chunks(&wire, &sizes));
        prop_assert_eq!(&parsed.error, &None);
        prop_assert!(!parsed.pending);
        prop_assert_eq!(parsed.replies, batch);
    }

    #[test]
    fn ehlo_keywords_in_any_case_are_recognised(
        picks in vec((0usize..6, any::<bool>()), 0..8),
        mechanisms in vec("[A-Za-z0-9-]{1,12}", 0..4),
    ) {
        const WORDS: [&str; 6] = ["STARTTLS", "PIPELINING", "CHUNKING", "8BITMIME", "SMTPUTF8", "REQUIRETLS"];
        let mut lines = vec!["mail.example.test greets you".to_string()];
        for (i, lower) in &picks {
            lines.push(if *lower { WORDS[*i].to_lowercase() } else { WORDS[*i].to_string() });
        }
        lines.push(format!("AUTH {}", mechanisms.join(" ")));
        let caps = Capabilities::from_ehlo(&Reply { code: 250, enhanced: None, lines });
        let has = |i: usize| picks.iter().any(|(p, _)| *p == i);
        prop_assert_eq!(caps.server_name.as_str(), "mail.example.test");
        prop_assert_eq!(
            [caps.starttls, caps.pipelining, caps.chunking, caps.eight_bit_mime, caps.smtputf8, caps.requiretls],
            [has(0), has(1), has(2), has(3), has(4), has(5)]
        );
        for m in &mechanisms {
            prop_assert!(caps.supports_auth(m), "{} missing from {:?}", m, caps.auth);
        }
        prop_assert!(caps.auth.iter().all(|m| *m == m.to_ascii_uppercase()));
    }

    #[test]
    fn dot_stuffing_decodes_to_the_normalised_body(
        body in vec(wire_byte(), 0..200),
        sizes in vec(any::<u8>(), 1..4),
    ) {
        let wire = encode(&body, &sizes, true);
        prop_assert_eq!(&wire, &encode(&body, &[255], true), "chunking changed the output");
        let decoded = oracles::unstuff(&wire).map_err(TestCaseError::fail)?;
        prop_assert_eq!(decoded, oracles::normalize_line_ends(&body));
        prop_assert_eq!(encode(&body, &sizes, false), oracles::normalize_line_ends(&body));
    }

    #[test]
    fn dot_stuffing_round_trips_crlf_bodies(body in canonical_body(), sizes in vec(any::<u8>(), 1..4)) {
        let decoded = oracles::unstuff(&encode(&body, &sizes, true)).map_err(TestCaseError::fail)?;
        prop_assert_eq!(decoded, body);
    }

    #[test]
    fn valid_addresses_parse_and_display_as_given(
        local in "[a-z0-9+_=-]{1,20}(\\.[a-z0-9+_=-]{1,10}){0,2}",
        labels in vec("[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", 1..4),
        tld in "[a-z]{2,6}",
    ) {
        let text = format!("{local}@{}.{tld}", labels.join("."));
        let address = Address::new(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(address.to_string(), text.clone());
        prop_assert_eq!(address.local_part(), local.as_str());
        prop_assert_eq!(text.parse::<Address>().ok(), Some(address));
    }

    #[test]
    fn addresses_never_carry_line_breaks_and_errors_are_one_line(
        text in "[ -~\r\n\0\u{e9}]{0,40}",
        cut in 0usize..40,
        bad in prop_oneof![Just('\r'), Just('\n'), Just('\0')],
    ) {
        for candidate in [text.clone(), insert_at(&text, cut, bad)] {
            match Address::new(&candidate) {
                Ok(address) => {
                    prop_assert_eq!(address.as_str(), candidate.as_str());
                    prop_assert!(!candidate.contains(['\r', '\n', '\0', '<', '>']));
                }
                Err(e) => prop_assert!(oracles::is_one_printable_line(&e.to_string()), "{}", e),
            }
        }
        prop_assert!(Address::new(insert_at(&text, cut, bad)).is_err());
    }
}

fn insert_at(text: &str, at: usize, c: char) -> String {
    let at = text
        .char_indices()
        .map(|(i, _)| i)
        .nth(at)
        .unwrap_or(text.len());
    let mut out = text.to_string();
    out.insert(at, c);
    out
}
