//! DKIM signing checked by an independent verifier: messages signed here
//! go through the rig's real Postfix, are read back from its Maildir and
//! verified by dkimpy (Debian's python3-dkim) given the public key.

mod common;

use std::time::Duration;

use smtp_core::{Message, Security, SmtpTransport, Timeouts, Transport};
use smtp_message::dkim::{Canonicalization, DkimAlgorithm, DkimSigner};
use smtp_message::{Composer, Error, RawMessage, RawOptions};
use smtp_testkit::{DkimKeyKind, DkimTestKey, openssl};

fn make_key(kind: &str) -> DkimTestKey {
    DkimTestKey::generate(match kind {
        "rsa" => DkimKeyKind::Rsa,
        "rsa-pkcs1" => DkimKeyKind::RsaPkcs1,
        _ => DkimKeyKind::Ed25519,
    })
}

fn dkimpy_verify(message: &[u8], record: &str) -> Result<(), String> {
    smtp_testkit::dkimpy_verify(message, record)
}

/// Sends through Postfix's plain port and returns the delivered copy.
async fn deliver(envelope: &smtp_core::Envelope, message: &impl Message, tag: &str) -> Vec<u8> {
    let peers = smtp_testkit::peers();
    let t = SmtpTransport::builder(peers.host.as_str())
        .port(peers.postfix_plain_port)
        .security(Security::None)
        .ehlo_name("client.example.test")
        .timeouts(Timeouts::uniform(Duration::from_secs(60)))
        .build()
        .unwrap();
    t.send(envelope, message.open().await.unwrap())
        .await
        .unwrap();
    let (maildir, needle) = (peers.postfix_maildir.clone(), tag.to_string());
    let mut found = tokio::task::spawn_blocking(move || {
        smtp_testkit::wait_for_mail(&maildir, &needle, Duration::from_secs(60))
    })
    .await
    .unwrap();
    smtp_testkit::remove_mail(&peers.postfix_maildir, tag);
    found.remove(0)
}

fn composed(tag: &str) -> smtp_message::Composed {
    Composer::new("sender@example.test")
        .from_name("Sender Name")
        .to("dkim@example.test")
        .subject(format!("{tag} signed"))
        .text_body("First line\n\nGrüße aus Köln.\n.leading dot\n")
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_signed_composed_message_verifies_after_postfix_delivery() {
    let key = make_key("rsa");
    let signer = DkimSigner::from_pem_file(&key.pem, "example.test", "sel1").unwrap();
    assert_eq!(signer.algorithm(), DkimAlgorithm::RsaSha256);
    let tag = smtp_testkit::unique_tag("dkim-rsa");
    let m = composed(&tag);
    let envelope = m.envelope().clone();
    let delivered = deliver(&envelope, &signer.sign(m), &tag).await;
    let text = String::from_utf8_lossy(&delivered);
    assert!(text.contains("a=rsa-sha256"), "{text}");
    assert!(
        text.contains("d=example.test") && text.contains("s=sel1"),
        "{text}"
    );
    dkimpy_verify(&delivered, &key.record).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_signed_raw_file_verifies_after_postfix_delivery() {
    let key = make_key("ed25519");
    let signer = DkimSigner::from_pem_file(&key.pem, "example.test", "ed1")
        .unwrap()
        .canonicalization(Canonicalization::Simple, Canonicalization::Simple);
    assert_eq!(signer.algorithm(), DkimAlgorithm::Ed25519Sha256);
    let tag = smtp_testkit::unique_tag("dkim-ed25519");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.eml");
    // Bare LF line ends and trailing empty lines: what is hashed must be
    // what the engine sends (CRLF), or the signature breaks.
    std::fs::write(
        &file,
        format!(
            "From: sender@example.test\nTo: dkim@example.test\nBcc: hidden@example.test\n\
             Subject: {tag} raw\nDate: Thu, 03 Dec 2026 10:00:00 +0000\n\
             Message-ID: <{tag}@example.test>\n\nbody line\n\n\n"
        ),
    )
    .unwrap();
    let raw = RawMessage::from_file(&file, &RawOptions::default())
        .await
        .unwrap();
    let envelope = smtp_core::Envelope::new(
        Some(smtp_core::Address::new("sender@example.test").unwrap()),
        vec![smtp_core::Address::new("dkim@example.test").unwrap()],
    )
    .unwrap();
    let delivered = deliver(&envelope, &signer.sign(raw), &tag).await;
    let text = String::from_utf8_lossy(&delivered);
    assert!(
        text.contains("a=ed25519-sha256") && text.contains("c=simple/simple"),
        "{text}"
    );
    assert!(
        !text.contains("hidden@example.test"),
        "Bcc must not be sent: {text}"
    );
    dkimpy_verify(&delivered, &key.record).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkcs1_rsa_key_signs_and_verifies() {
    let key = make_key("rsa-pkcs1");
    assert!(
        std::fs::read_to_string(&key.pem)
            .unwrap()
            .contains("BEGIN RSA PRIVATE KEY")
    );
    let signer = DkimSigner::from_pem_file(&key.pem, "example.test", "sel1")
        .unwrap()
        .headers(["From", "Subject", "To", "Date"])
        .unwrap();
    let tag = smtp_testkit::unique_tag("dkim-pkcs1");
    let m = composed(&tag);
    let signed = signer
        .sign(m)
        .open()
        .await
        .unwrap()
        .read_to_end()
        .await
        .unwrap();
    assert!(signed.starts_with(b"DKIM-Signature: "));
    dkimpy_verify(&signed, &key.record).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_body_fails_independent_verification() {
    let key = make_key("rsa");
    let signer = DkimSigner::from_pem_file(&key.pem, "example.test", "sel1").unwrap();
    let tag = smtp_testkit::unique_tag("dkim-tamper");
    let m = composed(&tag);
    let envelope = m.envelope().clone();
    let delivered = deliver(&envelope, &signer.sign(m), &tag).await;
    dkimpy_verify(&delivered, &key.record).expect("the untouched copy verifies");
    let text = String::from_utf8(delivered).unwrap();
    // One body character changed (the body is base64 here: a changed
    // letter is still a valid transfer encoding, just other content).
    let start = text.find("\n\n").unwrap() + 2;
    let first = text.as_bytes()[start];
    let tampered = format!(
        "{}{}{}",
        &text[..start],
        if first == b'A' { 'B' } else { 'A' },
        &text[start + 1..]
    );
    let why = dkimpy_verify(tampered.as_bytes(), &key.record).unwrap_err();
    assert!(
        why.contains("body hash mismatch") || why.contains("fail"),
        "{why}"
    );

    // A key other than the published one fails too.
    let other = make_key("rsa");
    dkimpy_verify(text.as_bytes(), &other.record).unwrap_err();
}

#[tokio::test]
async fn every_open_is_signed_afresh_and_sizes_agree() {
    let key = make_key("ed25519");
    let signer = DkimSigner::from_pem_file(&key.pem, "example.test", "ed1").unwrap();
    let signed = signer.sign(composed("sizes"));
    for _ in 0..2 {
        let source = signed.open().await.unwrap();
        let size = source.size();
        let bytes = source.read_to_end().await.unwrap();
        assert_eq!(
            bytes
                .windows(15)
                .filter(|w| w == b"DKIM-Signature:")
                .count(),
            1
        );
        if let Some(size) = size {
            let mut wire = smtp_core::WireSize::default();
            wire.feed(&bytes);
            assert_eq!(size, wire.finish());
        }
        dkimpy_verify(&bytes, &key.record).unwrap();
    }
}

#[test]
fn missing_key_file_is_a_key_file_error_naming_the_path() {
    let e = DkimSigner::from_pem_file("/nonexistent/dkim.pem", "example.test", "s").unwrap_err();
    assert!(matches!(e, Error::DkimKeyFile { .. }), "{e:?}");
    assert!(e.to_string().contains("/nonexistent/dkim.pem"), "{e}");
    assert_eq!(e.coded_hint().unwrap().code, "dkim-key-file");
}

#[test]
fn garbage_key_file_is_a_format_error_that_never_shows_the_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    std::fs::write(
        &path,
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNlY3JldA==\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let e = DkimSigner::from_pem_file(&path, "example.test", "s").unwrap_err();
    assert!(matches!(e, Error::DkimKeyFormat { .. }), "{e:?}");
    assert_eq!(e.coded_hint().unwrap().code, "dkim-key-format");
    let shown = format!("{e} {e:?}");
    assert!(
        !shown.contains("c2VjcmV0") && !shown.contains("secret"),
        "{shown}"
    );

    std::fs::write(&path, "not a key at all").unwrap();
    let e = DkimSigner::from_pem_file(&path, "example.test", "s").unwrap_err();
    assert!(e.to_string().contains("no PEM private key"), "{e}");
}

#[test]
fn ec_and_public_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ec = dir.path().join("ec.pem");
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        ec.to_str().unwrap(),
    ]);
    let e = DkimSigner::from_pem_file(&ec, "example.test", "s").unwrap_err();
    assert!(e.to_string().contains("EC"), "{e}");
    let key = make_key("rsa");
    let public = openssl(&["pkey", "-in", key.pem.to_str().unwrap(), "-pubout"]);
    let e = DkimSigner::from_pem(&public, "example.test", "s").unwrap_err();
    assert!(matches!(e, Error::DkimKeyFormat { .. }), "{e:?}");
}

#[test]
fn debug_never_shows_the_key_and_settings_are_checked() {
    let key = make_key("ed25519");
    let pem = std::fs::read_to_string(&key.pem).unwrap();
    let signer = DkimSigner::from_pem(pem.as_bytes(), "example.test", "ed1").unwrap();
    let shown = format!("{signer:?}");
    let body: String = pem.lines().nth(1).unwrap().chars().take(16).collect();
    assert!(
        !shown.contains(&body) && shown.contains("redacted"),
        "{shown}"
    );

    let bad_selector = DkimSigner::from_pem(pem.as_bytes(), "example.test", "a;b").unwrap_err();
    assert_eq!(bad_selector.coded_hint().unwrap().code, "dkim-settings");
    assert!(DkimSigner::from_pem(pem.as_bytes(), "", "s").is_err());
    let no_from = signer.clone().headers(["Subject", "To"]).unwrap_err();
    assert!(no_from.to_string().contains("From"), "{no_from}");
    assert!(signer.headers(["From", "Bad:Name"]).is_err());
    assert_eq!(
        Canonicalization::parse_pair("relaxed/simple").unwrap(),
        (Canonicalization::Relaxed, Canonicalization::Simple)
    );
    assert!(Canonicalization::parse_pair("loose/simple").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_postfix_adds_later_are_not_signed_as_absent() {
    // No Date, no Message-ID: Postfix adds both on delivery; had they been
    // listed in h= as absent, the delivered copy would no longer verify.
    let key = make_key("ed25519");
    let signer = DkimSigner::from_pem_file(&key.pem, "example.test", "ed1").unwrap();
    let tag = smtp_testkit::unique_tag("dkim-added");
    let raw = format!(
        "From: sender@example.test\r\nTo: dkim@example.test\r\nSubject: {tag}\r\n\r\nbody\r\n"
    );
    let envelope = smtp_core::Envelope::new(
        Some(smtp_core::Address::new("sender@example.test").unwrap()),
        vec![smtp_core::Address::new("dkim@example.test").unwrap()],
    )
    .unwrap();
    let delivered = deliver(&envelope, &signer.sign(raw.into_bytes()), &tag).await;
    let text = String::from_utf8_lossy(&delivered);
    let lower = text.to_ascii_lowercase();
    assert!(
        lower.contains("\ndate: ") && lower.contains("\nmessage-id: "),
        "Postfix added them: {text}"
    );
    assert!(
        !lower.contains(":date:") && !lower.contains(":message-id"),
        "not in h=: {text}"
    );
    dkimpy_verify(&delivered, &key.record).unwrap();
}

#[tokio::test]
async fn a_message_without_from_cannot_be_signed() {
    let key = make_key("ed25519");
    let signer = DkimSigner::from_pem_file(&key.pem, "example.test", "ed1").unwrap();
    let message = b"To: x@example.test\r\nSubject: s\r\n\r\nbody\r\n".to_vec();
    let e = signer.sign(message).open().await.unwrap_err();
    assert!(e.to_string().contains("no From"), "{e}");
}

/// A piped message is kept in a private copy so it opens twice (the hash
/// pass, then the send) with the same bytes; a plain read opens once.
#[tokio::test]
async fn a_spooled_pipe_opens_twice_with_the_same_bytes() {
    let text = b"From: a@example.test\nTo: b@example.test\nSubject: s\n\nbody\n".to_vec();
    let raw = RawMessage::read_spooled(std::io::Cursor::new(text.clone()), &RawOptions::default())
        .await
        .expect("spooled");
    let first = raw.open().await.unwrap().read_to_end().await.unwrap();
    let second = raw.open().await.unwrap().read_to_end().await.unwrap();
    assert_eq!(first, second);
    // The header block is normalised here, the body by the engine as it sends.
    assert!(first.ends_with(b"\r\n\r\nbody\n"), "{first:?}");
    let once = RawMessage::read(std::io::Cursor::new(text), &RawOptions::default())
        .await
        .unwrap();
    once.open().await.unwrap().read_to_end().await.unwrap();
    assert!(once.open().await.is_err(), "a pipe cannot be read twice");
}
