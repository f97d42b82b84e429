//! A composed message with a 50 MiB attachment, through the rig's real
//! Postfix (plain port), read back from its Maildir.

mod common;

use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};
use smtp_core::{Security, SmtpTransport, Timeouts, Transport};
use smtp_message::{Attachment, Composer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_mib_attachment_arrives_intact_through_postfix() {
    let peers = smtp_testkit::peers();
    let tag = smtp_testkit::unique_tag("smtp-message-big");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("payload.bin");
    common::write_noise_file(&path, 50 * 1024 * 1024);

    let m = Composer::new("sender@example.test")
        .to("big@example.test")
        .bcc("hidden@example.test")
        .subject(format!("{tag} Grüße"))
        .text_body("50 MiB attached\n")
        .attach(Attachment::file(&path))
        .build()
        .unwrap();
    let t = SmtpTransport::builder(peers.host.as_str())
        .port(peers.postfix_plain_port)
        .security(Security::None)
        .ehlo_name("client.example.test")
        .timeouts(Timeouts::uniform(Duration::from_secs(120)))
        .build()
        .unwrap();
    let delivery = t.send(m.envelope(), m.open().await.unwrap()).await.unwrap();
    assert_eq!(delivery.accepted.len(), 2);

    // Both copies (To and Bcc), then the one Postfix delivered to the To
    // recipient, told by the header Postfix adds (not by scanning 70 MB of
    // base64, where any word may turn up).
    let (maildir, needle) = (peers.postfix_maildir.clone(), tag.clone());
    let found = tokio::task::spawn_blocking(move || {
        smtp_testkit::wait_for_mail_count(&maildir, &needle, 2, Duration::from_secs(120))
    })
    .await
    .unwrap();
    let mail = found
        .into_iter()
        .find(|b| {
            let head = &b[..b.len().min(4096)];
            String::from_utf8_lossy(head).contains("X-Original-To: big@example.test")
        })
        .expect("the To recipient's copy");
    let parsed = MessageParser::default().parse(&mail).unwrap();
    assert_eq!(parsed.message_id(), Some(m.message_id()));
    assert!(parsed.subject().unwrap().ends_with("Grüße"));
    let att = parsed.attachments().next().expect("attachment delivered");
    assert_eq!(att.attachment_name(), Some("payload.bin"));
    let expected = std::fs::read(&path).unwrap();
    assert_eq!(att.contents().len(), expected.len());
    let same = att.contents() == expected;
    // Both copies (To and Bcc) are 70 MB each: gone before anything else
    // searches the shared Maildir.
    smtp_testkit::remove_mail(&peers.postfix_maildir, &tag);
    assert!(same, "attachment differs after delivery");
}
