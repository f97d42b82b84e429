//! Unit tests of `scram`.

use super::*;
use crate::mechanism::test_util::{bytes, text};

#[test]
fn rfc5802_sha1_example() {
    let mut m =
        Scram::sha1("user", SecretString::from("pencil")).with_nonce("fyko+d2lbbFgONRv9qkxdawL");
    assert_eq!(
        bytes(m.initial_response()),
        b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
    );
    let r = m
        .respond(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
        .unwrap();
    assert_eq!(
        text(r),
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
    );
    assert!(m.finish().is_err(), "not verified yet");
    let r = m.respond(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=").unwrap();
    assert!(r.expose_secret().is_empty());
    m.finish().unwrap();
    assert_eq!(m.name(), "SCRAM-SHA-1");
}

fn rfc7677() -> Scram {
    let mut m =
        Scram::sha256("user", SecretString::from("pencil")).with_nonce("rOprNGfwEbeRWgbNEkqO");
    assert_eq!(
        bytes(m.initial_response()),
        b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    );
    let r = m
        .respond(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        .unwrap();
    assert_eq!(
        text(r),
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    );
    m
}

#[test]
fn rfc7677_sha256_example() {
    let mut m = rfc7677();
    m.respond(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        .unwrap();
    m.finish().unwrap();
    assert!(!m.sends_secret_in_clear());
}

#[test]
fn wrong_server_signature_fails() {
    let mut m = rfc7677();
    let e = m
        .respond(b"v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "the server's SCRAM-SHA-256 signature is wrong: it does not know the password"
    );
    assert!(m.finish().is_err());
}

#[test]
fn finish_without_server_signature_fails() {
    let mut m = rfc7677();
    let e = m.finish().unwrap_err().to_string();
    assert_eq!(
        e,
        "the server accepted SCRAM-SHA-256 without proving it knows the password"
    );
}

#[test]
fn server_error_is_reported() {
    let mut m = rfc7677();
    let e = m.respond(b"e=invalid-proof").unwrap_err().to_string();
    assert_eq!(
        e,
        "the server reported \"invalid-proof\" during SCRAM-SHA-256"
    );
}

#[test]
fn nonce_must_extend_ours() {
    let mut m = Scram::sha256("user", SecretString::from("pencil")).with_nonce("abc");
    m.initial_response();
    let e = m
        .respond(b"r=xyzabc123,s=QSXCR+Q6sek8bf92,i=4096")
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not start with the client nonce"), "{e}");
    let mut m = Scram::sha256("user", SecretString::from("pencil")).with_nonce("abc");
    m.initial_response();
    assert!(
        m.respond(b"r=abc,s=QSXCR+Q6sek8bf92,i=4096").is_err(),
        "the server must add its own part"
    );
}

#[test]
fn iteration_count_bounds() {
    let mut m = Scram::sha256("user", SecretString::from("pencil")).with_nonce("abc");
    m.initial_response();
    let e = m
        .respond(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=1024")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("the server asked for 1024 SCRAM-SHA-256 iterations, outside the accepted 4096..=1000000"), "{e}");
    let mut m = Scram::sha256("user", SecretString::from("pencil")).with_nonce("abc");
    m.initial_response();
    assert!(
        m.respond(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=4294967295")
            .is_err()
    );
    // Explicitly lowered minimum: accepted.
    let mut m = Scram::sha256("user", SecretString::from("pencil"))
        .with_nonce("abc")
        .iterations(1000, 5000);
    m.initial_response();
    assert!(m.respond(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=1024").is_ok());
}

#[test]
fn malformed_challenges_fail_cleanly() {
    for challenge in [
        &b""[..],
        b"garbage",
        b"m=ext,r=abcd,s=QQ==,i=4096",
        b"r=abcd,s=!!!,i=4096",
        b"r=abcd,s=QQ==,i=x",
        b"\xff\xfe",
    ] {
        let mut m = Scram::sha1("user", SecretString::from("pencil")).with_nonce("abc");
        m.initial_response();
        assert!(m.respond(challenge).is_err(), "{challenge:?}");
    }
}

#[test]
fn username_is_escaped_and_nonce_is_random() {
    let mut a = Scram::sha256("a,b=c", SecretString::from("p"));
    let b = Scram::sha256("a,b=c", SecretString::from("p"));
    assert_ne!(a.nonce, b.nonce);
    assert!(a.nonce.len() >= 24 && !a.nonce.contains(','));
    assert!(bytes(a.initial_response()).starts_with(b"n,,n=a=2Cb=3Dc,r="));
}

#[test]
fn saslprep_maps_non_ascii_space() {
    // RFC 4013: U+00A0 maps to a plain space; U+00AD (soft hyphen) maps to nothing.
    assert_eq!(prepare_password("a\u{00A0}b\u{00AD}c").as_str(), "a bc");
    assert_eq!(prepare_password("pässwörd-2").as_str(), "pässwörd-2");
    // Prohibited (a control character): used as is.
    assert_eq!(prepare_password("a\u{0007}b").as_str(), "a\u{0007}b");
}

#[test]
fn debug_hides_the_password() {
    let m = Scram::sha256("user", SecretString::from("pencil-secret"));
    let d = format!("{m:?}");
    assert!(
        d.contains("SCRAM-SHA-256") && !d.contains("pencil-secret"),
        "{d}"
    );
}
