//! Reading existing messages: recipients, Bcc removal, header hygiene.

mod common;

use smtp_message::{Error, RawMessage, RawOptions};

async fn read(raw: &'static [u8]) -> Result<RawMessage, Error> {
    RawMessage::read(raw, &RawOptions::default()).await
}

async fn sent(m: &RawMessage) -> String {
    String::from_utf8(m.open().await.unwrap().read_to_end().await.unwrap()).unwrap()
}

fn rcpts(m: &RawMessage) -> Vec<String> {
    m.recipients().iter().map(|a| a.to_string()).collect()
}

#[tokio::test]
async fn bcc_in_every_spelling_is_a_recipient_and_never_sent() {
    let table: &[(&[u8], &[&str])] = &[
        (b"To: a@x.test\r\nBcc: h@x.test\r\n\r\nbody\r\n", &["a@x.test", "h@x.test"]),
        (b"To: a@x.test\r\nbcc : h@x.test\r\n\r\nbody\r\n", &["a@x.test", "h@x.test"]),
        (b"To: a@x.test\r\nBCC\t: h@x.test\r\n\r\nbody\r\n", &["a@x.test", "h@x.test"]),
        (b"To: a@x.test\nbCc: h@x.test\n\nbody\n", &["a@x.test", "h@x.test"]),
        (
            b"To: a@x.test\r\nBcc: h@x.test,\r\n  h2@x.test,\r\n\th3@x.test\r\nSubject: s\r\n\r\nbody\r\n",
            &["a@x.test", "h@x.test", "h2@x.test", "h3@x.test"],
        ),
        (
            b"Bcc: h@x.test\r\nTo: a@x.test\r\nBcc: h2@x.test\r\n\r\nbody\r\n",
            &["h@x.test", "a@x.test", "h2@x.test"],
        ),
        (b"To: a@x.test\r\nResent-Bcc: r@x.test\r\n\r\nbody\r\n", &["a@x.test"]),
        (b"To: a@x.test\r\nBcc:\r\n\r\nbody\r\n", &["a@x.test"]),
    ];
    for (raw, want) in table {
        let m = read(raw).await.unwrap();
        assert_eq!(rcpts(&m), *want, "{}", String::from_utf8_lossy(raw));
        assert!(m.has_bcc());
        let out = sent(&m).await;
        let lower = out.to_ascii_lowercase();
        assert!(!lower.contains("bcc"), "Bcc left in {out:?}");
        assert!(!lower.contains("h@x") && !lower.contains("r@x"), "{out:?}");
        assert!(
            out.contains("To: a@x.test\r\n") && out.ends_with("\r\n\r\nbody\r\n")
                || out.ends_with("\r\n\r\nbody\n"),
            "{out:?}"
        );
    }
}

#[tokio::test]
async fn bcc_is_kept_when_not_stripping() {
    let opts = RawOptions::default().strip_bcc(false);
    let m = RawMessage::read(&b"To: a@x.test\r\nBcc: h@x.test\r\n\r\nb"[..], &opts)
        .await
        .unwrap();
    assert!(m.has_bcc());
    assert!(sent(&m).await.contains("Bcc: h@x.test\r\n"));
}

#[tokio::test]
async fn recipients_from_groups_comments_encoded_words_and_folded_to() {
    let m = read(
        b"From: \"Sender\" <s@x.test>\r\n\
          To: undisclosed-recipients:;\r\n\
          Cc: team: a@x.test, b@x.test;, \"Doe, J\" <j@x.test> (work, main)\r\n\
          To: =?utf-8?q?J=C3=B6rg?= <jo@x.test>,\r\n\
          \t\"Folded, Name\"\r\n <f@x.test>\r\n\
          Cc: a@x.test\r\n\
          Message-ID: <id-1@x.test>\r\n\
          Subject: s\r\n\r\nTo: body@x.test\r\n",
    )
    .await
    .unwrap();
    assert_eq!(
        rcpts(&m),
        ["a@x.test", "b@x.test", "j@x.test", "jo@x.test", "f@x.test"]
    );
    assert_eq!(m.from().unwrap().as_str(), "s@x.test");
    assert_eq!(m.message_id(), Some("id-1@x.test"));
    assert!(!m.has_bcc());
}

#[tokio::test]
async fn a_bad_address_is_an_error_naming_the_header() {
    let err = read(b"To: ok@x.test, not an address\r\n\r\n")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("invalid address \"not an address\" in header To:"),
        "{text}"
    );
}

#[tokio::test]
async fn lone_cr_in_the_header_block_is_refused() {
    for raw in [
        &b"To: b@x.test\rRCPT TO:<other@y.test>\r\n\r\nbody"[..],
        b"Subject: a\r\r\nTo: b@x.test\r\n\r\n",
        b"To: b@x.test\r\nSubject: x\r",
    ] {
        let err = read(raw).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::MalformedHeader {
                    reason: "CR not followed by LF",
                    ..
                }
            ),
            "{raw:?}: {err}"
        );
    }
    // A lone CR in the body is not the header's business.
    assert!(read(b"To: b@x.test\r\n\r\nbody\rmore").await.is_ok());
}

#[tokio::test]
async fn nul_in_the_header_block_is_refused() {
    let err = read(b"To: b@x.test\0\r\n\r\n").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MalformedHeader {
                reason: "NUL byte",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn bare_lf_header_block_is_normalised_and_the_body_untouched() {
    let m = read(b"To: b@x.test\nSubject: s\n  folded\n\nline\nline2\n")
        .await
        .unwrap();
    assert_eq!(rcpts(&m), ["b@x.test"]);
    assert_eq!(
        sent(&m).await,
        "To: b@x.test\r\nSubject: s\r\n  folded\r\n\r\nline\nline2\n"
    );
    // A message that is only headers, without a final line end.
    let m = read(b"To: b@x.test").await.unwrap();
    assert_eq!(sent(&m).await, "To: b@x.test\r\n");
}

#[tokio::test]
async fn header_block_larger_than_the_limit_is_refused() {
    let opts = RawOptions::default().max_header_bytes(1024);
    let mut raw = b"To: b@x.test\r\n".to_vec();
    for i in 0..100 {
        raw.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "y".repeat(20)).as_bytes());
    }
    raw.extend_from_slice(b"\r\nbody\r\n");
    let err = RawMessage::read(std::io::Cursor::new(raw.clone()), &opts)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::HeaderTooLarge { limit: 1024 }),
        "{err}"
    );
    // No empty line at all: still bounded.
    let endless = vec![b'a'; 10_000];
    let err = RawMessage::read(std::io::Cursor::new(endless), &opts)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::HeaderTooLarge { .. }), "{err}");
    // Within the default limit it is fine.
    RawMessage::read(std::io::Cursor::new(raw), &RawOptions::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_stream_can_be_opened_once() {
    let m = read(b"To: b@x.test\r\n\r\nbody\r\n").await.unwrap();
    let s = m.open().await.unwrap();
    assert_eq!(s.size(), None);
    assert!(matches!(
        m.open().await.unwrap_err(),
        Error::Consumed { .. }
    ));
}

#[tokio::test]
async fn eight_bit_is_known_from_the_header_block_of_a_stream() {
    let m = read("To: b@x.test\r\nSubject: Grüße\r\n\r\nb".as_bytes())
        .await
        .unwrap();
    assert_eq!(m.open().await.unwrap().eight_bit(), Some(true));
    let m = read(b"To: b@x.test\r\n\r\nb").await.unwrap();
    assert_eq!(m.open().await.unwrap().eight_bit(), None);
}

#[tokio::test]
async fn fifty_mib_file_opens_twice_with_identical_bytes() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.eml");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all(b"From: s@x.test\nTo: a@x.test\nBcc: h@x.test,\n  h2@x.test\nSubject: big\n\n")
            .unwrap();
        let line = [b'Q'; 76];
        for _ in 0..(50 * 1024 * 1024 / 78) {
            f.write_all(&line).unwrap();
            f.write_all(b"\r\n").unwrap();
        }
        f.flush().unwrap();
    }
    let m = RawMessage::from_file(&path, &RawOptions::default())
        .await
        .unwrap();
    assert_eq!(rcpts(&m), ["a@x.test", "h@x.test", "h2@x.test"]);
    let first = m.open().await.unwrap();
    let size = first.size().unwrap();
    assert_eq!(first.eight_bit(), Some(false));
    let (n1, h1) = common::drain(first).await;
    let (n2, h2) = common::drain(m.open().await.unwrap()).await;
    assert_eq!((n1, h1), (n2, h2));
    assert_eq!(n1, size, "size() is the bytes sent");
    assert!(n1 > 50 * 1024 * 1024 - 100);
    // The header block as sent: CRLF, no Bcc.
    let mut s = m.open().await.unwrap();
    let mut head = vec![0u8; 200];
    let mut n = 0;
    while n < head.len() {
        n += s.read(&mut head[n..]).await.unwrap();
    }
    let head = String::from_utf8_lossy(&head);
    assert!(
        head.starts_with("From: s@x.test\r\nTo: a@x.test\r\nSubject: big\r\n\r\nQQQ"),
        "{head}"
    );
}

#[tokio::test]
async fn a_file_changed_since_reading_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.eml");
    std::fs::write(&path, "To: a@x.test\r\n\r\nbody\r\n").unwrap();
    let m = RawMessage::from_file(&path, &RawOptions::default())
        .await
        .unwrap();
    std::fs::write(&path, "To: a@x.test\r\n\r\nlonger body\r\n").unwrap();
    assert!(matches!(m.open().await.unwrap_err(), Error::Changed { .. }));
}

#[tokio::test]
async fn a_sender_name_fills_a_bare_from_or_makes_one_and_keeps_a_named_one() {
    let sender = smtp_core::Address::new("env@x.test").unwrap();
    let table: &[(&'static [u8], &str)] = &[
        (
            b"From: a@x.test\r\nTo: b@x.test\r\n\r\nbody\r\n",
            "From: \"Ann Example\" <a@x.test>\r\nTo: b@x.test\r\n\r\nbody\r\n",
        ),
        (
            b"To: b@x.test\r\nBcc: h@x.test\r\nFrom: <a@x.test>\r\n\r\nbody\r\n",
            "To: b@x.test\r\nFrom: \"Ann Example\" <a@x.test>\r\n\r\nbody\r\n",
        ),
        (
            b"To: b@x.test\r\n\r\nbody\r\n",
            "From: \"Ann Example\" <env@x.test>\r\nTo: b@x.test\r\n\r\nbody\r\n",
        ),
        (
            b"From: Someone <a@x.test>\r\nTo: b@x.test\r\n\r\nbody\r\n",
            "From: Someone <a@x.test>\r\nTo: b@x.test\r\n\r\nbody\r\n",
        ),
    ];
    for (raw, want) in table {
        let mut m = read(raw).await.unwrap();
        m.set_sender_name("Ann Example", &sender).unwrap();
        assert_eq!(sent(&m).await, *want, "{}", String::from_utf8_lossy(raw));
    }
    let mut m = read(b"To: b@x.test\r\n\r\nbody\r\n").await.unwrap();
    assert!(
        m.set_sender_name("Ann\r\nBcc: evil@x.test", &sender)
            .is_err()
    );
}
