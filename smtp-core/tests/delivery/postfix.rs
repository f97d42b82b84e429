//! Real mail through real Postfix (plain port), read back from its Maildir.

use std::io::Write;
use std::sync::Arc;

use smtp_core::{Error, MessageSource, Transport};
use smtp_testkit::engine::*;
use smtp_testkit::unique_tag;

fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        // Date and Message-ID present, so Postfix adds none of its own.
        "From: Sender <sender@example.test>\r\nTo: rcpt@example.test\r\nSubject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{subject}@example.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{body}"
    )
    .into_bytes()
}

/// What Postfix writes to a Maildir: CRLF stored as LF.
fn lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if !(b == b'\r' && bytes.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

#[tokio::test]
async fn delivers_byte_exact_with_dot_lines_and_utf8_over_bdat() {
    let subject = unique_tag("exact");
    let body = ".leading dot\r\n..two dots\r\nnormal line\r\n.\r\nGrüße, 日本語 ✓\r\n";
    let msg = message(&subject, body);
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder.build().unwrap();
    let d = t
        .send(
            &envelope("sender@example.test", &["rcpt@example.test"]),
            MessageSource::from_bytes(msg.clone()),
        )
        .await
        .unwrap();
    assert_eq!(d.accepted.len(), 1);
    let got = postfix_mail(&subject).await;
    // Postfix's Maildir stores lines with LF; otherwise the bytes must match.
    assert!(
        got.ends_with(&lf(&msg)),
        "delivered message differs:\n{}",
        String::from_utf8_lossy(&got)
    );
    let text = transcript.text();
    // Postfix offers CHUNKING: BDAT, pipelined behind MAIL/RCPT.
    assert!(text.contains("BDAT") && text.contains("LAST"), "{text}");
    assert!(text.contains("BODY=8BITMIME"), "{text}");
}

#[tokio::test]
async fn twenty_mib_attachment_streams_from_a_file() {
    let subject = unique_tag("big");
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let head = message(&subject, "");
    file.write_all(&head).unwrap();
    // 20 MiB of base64-looking lines, each distinct so reordering shows.
    let mut written = 0usize;
    let mut i = 0u64;
    while written < 20 * 1024 * 1024 {
        let line = format!(
            "{:0>74}\r\n",
            format!("{i:x}QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo")
        );
        file.write_all(line.as_bytes()).unwrap();
        written += line.len();
        i += 1;
    }
    file.flush().unwrap();
    let expected = std::fs::read(file.path()).unwrap();
    let (builder, _) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder.build().unwrap();
    let source = MessageSource::from_file(file.path()).await.unwrap();
    assert_eq!(source.size(), Some(expected.len() as u64));
    t.send(
        &envelope("sender@example.test", &["big@example.test"]),
        source,
    )
    .await
    .unwrap();
    let got = postfix_mail(&subject).await;
    let expected = lf(&expected);
    assert!(
        got.len() >= expected.len(),
        "delivered {} bytes, sent {}",
        got.len(),
        expected.len()
    );
    assert!(
        got.ends_with(&expected),
        "20 MiB message not delivered byte-exact"
    );
}

#[tokio::test]
async fn several_recipients_each_get_a_copy() {
    let subject = unique_tag("multi");
    let (builder, _) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder.build().unwrap();
    let d = t
        .send(
            &envelope(
                "sender@example.test",
                &["one@example.test", "two@example.test"],
            ),
            MessageSource::from_bytes(message(&subject, "hello\r\n")),
        )
        .await
        .unwrap();
    assert_eq!(d.accepted.len(), 2);
    assert!(d.is_complete());
    let dir = peer_path("PEERS_POSTFIX_MAILDIR");
    let needle = subject.clone();
    let copies = tokio::task::spawn_blocking(move || {
        smtp_testkit::wait_for_mail_count(&dir, &needle, 2, std::time::Duration::from_secs(20))
    })
    .await
    .unwrap();
    let delivered_to: Vec<String> = copies
        .iter()
        .map(|c| {
            let s = String::from_utf8_lossy(c);
            s.lines()
                .find(|l| l.starts_with("Delivered-To:"))
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert!(
        delivered_to.iter().any(|l| l.contains("one@example.test")),
        "{delivered_to:?}"
    );
    assert!(
        delivered_to.iter().any(|l| l.contains("two@example.test")),
        "{delivered_to:?}"
    );
}

#[tokio::test]
async fn too_big_for_size_is_refused_before_any_body_byte() {
    let (builder, transcript) = plain(port("PEERS_POSTFIX_SMALL_SIZE_PORT"));
    let t = builder.build().unwrap();
    let big = message(&unique_tag("toobig"), &"x".repeat(20_000));
    let err = t
        .send(
            &envelope("sender@example.test", &["rcpt@example.test"]),
            MessageSource::from_bytes(big),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::MessageTooBig { limit: 10240, .. }),
        "{err}"
    );
    assert!(err.is_permanent());
    let text = transcript.text();
    assert!(text.contains("SIZE 10240"), "{text}");
    assert!(
        !text.contains("MAIL FROM"),
        "nothing of the transaction may be sent:\n{text}"
    );
}

#[tokio::test]
async fn smtputf8_addresses_are_announced_and_delivered() {
    let subject = unique_tag("utf8addr");
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder.build().unwrap();
    t.send(
        &envelope("jörg@example.test", &["δοκιμή@example.test"]),
        MessageSource::from_bytes(message(&subject, "utf8\r\n")),
    )
    .await
    .unwrap();
    assert!(transcript.text().contains("SMTPUTF8"));
    let got = postfix_mail(&subject).await;
    assert!(String::from_utf8_lossy(&got).contains("δοκιμή@example.test"));
}

#[tokio::test]
async fn ipv6_loopback_works() {
    let subject = unique_tag("v6");
    let transcript = Arc::new(smtp_core::MemoryTranscript::new());
    let t = smtp_core::SmtpTransport::builder("::1")
        .port(port("PEERS_POSTFIX_PLAIN_PORT"))
        .security(smtp_core::Security::None)
        .ehlo_name("client.example.test")
        .transcript(transcript.clone())
        .build()
        .unwrap();
    t.send(
        &envelope("s@example.test", &["r@example.test"]),
        MessageSource::from_bytes(message(&subject, "v6\r\n")),
    )
    .await
    .unwrap();
    postfix_mail(&subject).await;
}

#[tokio::test]
async fn pool_reuses_one_connection_for_sequential_sends() {
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder.connector(recorder.clone()).build().unwrap();
    for i in 0..5 {
        t.send(
            &envelope("s@example.test", &["r@example.test"]),
            MessageSource::from_bytes(message(&unique_tag(&format!("pool{i}")), "x\r\n")),
        )
        .await
        .unwrap();
    }
    assert_eq!(recorder.connections(), 1);
    // Reused right away: the quiet-check needs no round trip, no RSET.
    assert!(
        !transcript.lines().iter().any(|l| l == "C: RSET"),
        "{}",
        transcript.text()
    );
    // After a pause the pool proves the server still listens with RSET.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    t.send(
        &envelope("s@example.test", &["r@example.test"]),
        MessageSource::from_bytes(message(&unique_tag("pool-idle"), "x\r\n")),
    )
    .await
    .unwrap();
    assert_eq!(
        transcript
            .lines()
            .iter()
            .filter(|l| *l == "C: RSET")
            .count(),
        1
    );
    assert_eq!(recorder.connections(), 1);
    t.close().await;
    assert!(transcript.lines().contains(&"C: QUIT".to_string()));
}

#[tokio::test]
async fn a_refused_recipient_does_not_stop_the_others() {
    let subject = unique_tag("partial");
    let rejected = smtp_testkit::peers()
        .get("PEERS_REJECTED_RCPT")
        .unwrap()
        .to_string();
    let (builder, _) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder.build().unwrap();
    let d = t
        .send(
            &envelope("sender@example.test", &["good@example.test", &rejected]),
            MessageSource::from_bytes(message(&subject, "partial\r\n")),
        )
        .await
        .unwrap();
    assert_eq!(d.accepted.len(), 1);
    assert_eq!(d.accepted[0].recipient.as_str(), "good@example.test");
    assert_eq!(d.rejected.len(), 1);
    assert_eq!(d.rejected[0].recipient.as_str(), rejected);
    assert_eq!(d.rejected[0].reply.code, 550);
    assert_eq!(d.rejected[0].reply.enhanced.unwrap().to_string(), "5.1.1");
    let got = postfix_mail(&subject).await;
    assert!(String::from_utf8_lossy(&got).contains("Delivered-To: good@example.test"));
}
