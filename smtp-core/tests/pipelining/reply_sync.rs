//! The reply stream stays in sync after failures inside pipelined
//! flights, against real Postfix (CHUNKING + PIPELINING) and smtp-sink
//! (PIPELINING, DATA).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use smtp_core::{Error, MessageSource, Phase, Transport};
use smtp_testkit::engine::*;
use smtp_testkit::unique_tag;
use tokio::io::{AsyncRead, ReadBuf};

fn message(subject: &str) -> MessageSource {
    MessageSource::from_bytes(format!(
        "From: s@example.test\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.test>\r\n\r\nbody\r\n"
    ))
}

/// A message source whose very first read fails (a file that vanished, a
/// pipe whose writer died).
struct Unreadable;

impl AsyncRead for Unreadable {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Err(std::io::Error::other("source went away")))
    }
}

/// Every message in the Postfix Maildir containing `needle`, after the
/// first one arrived and a pause for any sibling copies.
async fn all_copies(needle: &str) -> Vec<String> {
    let dir = peer_path("PEERS_POSTFIX_MAILDIR");
    let needle = needle.to_string();
    tokio::task::spawn_blocking(move || {
        smtp_testkit::wait_for_mail(&dir, &needle, Duration::from_secs(20));
        // Postfix writes one file per recipient, moments apart.
        std::thread::sleep(Duration::from_secs(2));
        smtp_testkit::wait_for_mail(&dir, &needle, Duration::from_secs(1))
            .into_iter()
            .map(|m| String::from_utf8_lossy(&m).into_owned())
            .collect()
    })
    .await
    .unwrap()
}

fn delivered_to(copy: &str) -> &str {
    copy.lines()
        .find_map(|l| l.strip_prefix("Delivered-To: "))
        .unwrap_or("")
}

/// The second message's MAIL/RCPT ride behind the first message's BDAT
/// LAST; its body then cannot be read. The third message must go to its
/// own recipient only, never into the second one's open transaction.
#[tokio::test]
async fn unreadable_message_behind_a_pipelined_end_does_not_leak_into_the_next() {
    let third = unique_tag("review-third");
    let victim = format!("{}@example.test", unique_tag("victim"));
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder.build().unwrap();
    let results = t
        .send_batch(vec![
            (
                envelope("s@example.test", &["first@example.test"]),
                message(&unique_tag("review-first")),
            ),
            (
                envelope("s@example.test", &[&victim]),
                MessageSource::from_reader(Unreadable, None),
            ),
            (
                envelope("s@example.test", &["third@example.test"]),
                message(&third),
            ),
        ])
        .await;
    let text = transcript.text();
    assert!(results[0].is_ok(), "{:?}\n{text}", results[0]);
    assert!(
        matches!(results[1], Err(Error::Message(_))),
        "{:?}",
        results[1]
    );
    let d = results[2]
        .as_ref()
        .unwrap_or_else(|e| panic!("third message failed: {e:?}\n{text}"));
    assert_eq!(d.accepted.len(), 1);
    let copies = all_copies(&third).await;
    let to: Vec<&str> = copies.iter().map(|c| delivered_to(c)).collect();
    assert_eq!(
        to,
        vec!["third@example.test"],
        "the third message went to the wrong mailboxes:\n{text}"
    );
}

/// Same on the DATA path (smtp-sink: PIPELINING, no CHUNKING), where the
/// pre-sent prelude ends with DATA: the server must never be left in DATA
/// mode with the next transaction's commands read as message text.
#[tokio::test]
async fn unreadable_message_behind_a_final_dot_keeps_the_data_path_in_sync() {
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, transcript) = plain(port("PEERS_SMTP_SINK_PORT"));
    let t = builder.connector(recorder.clone()).build().unwrap();
    let results = t
        .send_batch(vec![
            (
                envelope("s@example.test", &["a@example.test"]),
                message("one"),
            ),
            (
                envelope("s@example.test", &["b@example.test"]),
                MessageSource::from_reader(Unreadable, None),
            ),
            (
                envelope("s@example.test", &["c@example.test"]),
                message("three"),
            ),
        ])
        .await;
    let text = transcript.text();
    assert!(results[0].is_ok(), "{text}");
    assert!(matches!(results[1], Err(Error::Message(_))), "{text}");
    assert!(results[2].is_ok(), "{:?}\n{text}", results[2]);
    // Nothing of message 2 may have gone out: no RCPT for b@.
    let wire: String = recorder
        .writes()
        .iter()
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    assert!(!wire.contains("RCPT TO:<b@example.test>"), "{wire}");
    // Exactly one DATA per message that was sent.
    assert_eq!(wire.matches("DATA\r\n").count(), 2, "{wire}");
}

/// Postfix answers BDAT with no valid recipient `554`; the pooled
/// connection must come back clean and the next message reach only its
/// own recipient.
#[tokio::test]
async fn only_refused_recipients_over_bdat_leave_the_pooled_connection_clean() {
    let rejected = smtp_testkit::peers()
        .get("PEERS_REJECTED_RCPT")
        .unwrap()
        .to_string();
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, _) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder.connector(recorder.clone()).build().unwrap();
    let err = t
        .send(
            &envelope("s@example.test", &[&rejected]),
            message(&unique_tag("review-refused")),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoRecipientsAccepted { .. }), "{err:?}");
    let subject = unique_tag("review-after-refused");
    let d = t
        .send(
            &envelope("s@example.test", &["after@example.test"]),
            message(&subject),
        )
        .await
        .unwrap();
    assert_eq!(d.accepted.len(), 1);
    assert_eq!(recorder.connections(), 1);
    let to: Vec<String> = all_copies(&subject)
        .await
        .iter()
        .map(|c| delivered_to(c).to_string())
        .collect();
    assert_eq!(to, vec!["after@example.test"]);
}

/// A batch where the middle message has only refused recipients, pipelined
/// behind the first BDAT LAST: every reply lands on its own message.
#[tokio::test]
async fn refused_middle_message_in_a_bdat_batch_keeps_replies_in_sync() {
    let rejected = smtp_testkit::peers()
        .get("PEERS_REJECTED_RCPT")
        .unwrap()
        .to_string();
    let last = unique_tag("review-batch-last");
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder.build().unwrap();
    let results = t
        .send_batch(vec![
            (
                envelope("s@example.test", &["one@example.test"]),
                message(&unique_tag("review-batch-first")),
            ),
            (
                envelope("s@example.test", &[&rejected]),
                message(&unique_tag("review-batch-refused")),
            ),
            (
                envelope("s@example.test", &["three@example.test"]),
                message(&last),
            ),
        ])
        .await;
    let text = transcript.text();
    assert!(results[0].is_ok(), "{text}");
    match &results[1] {
        Err(Error::NoRecipientsAccepted { rejected }) => {
            assert_eq!(rejected[0].reply.code, 550, "{text}")
        }
        other => panic!("{other:?}\n{text}"),
    }
    let d = results[2].as_ref().unwrap();
    assert!(d.reply.text().contains("queued"), "{}\n{text}", d.reply);
    let to: Vec<String> = all_copies(&last)
        .await
        .iter()
        .map(|c| delivered_to(c).to_string())
        .collect();
    assert_eq!(to, vec!["three@example.test"]);
}

/// smtp-sink refusing MAIL with 450 (it then offers no PIPELINING): each
/// message of a batch must report its own 450, nothing else.
#[tokio::test]
async fn refused_mail_in_a_batch_reports_each_messages_own_reply() {
    let (builder, transcript) = plain(port("PEERS_SMTP_SINK_MAIL4XX_PORT"));
    let t = builder.build().unwrap();
    let items = (0..3)
        .map(|i| {
            (
                envelope("s@example.test", &[&format!("r{i}@example.test")]),
                message(&format!("m{i}")),
            )
        })
        .collect();
    let results = t.send_batch(items).await;
    for r in &results {
        match r {
            Err(Error::Rejected {
                phase: Phase::Mail,
                reply,
            }) => assert_eq!(reply.code, 450),
            other => panic!("{other:?}\n{}", transcript.text()),
        }
    }
}
