//! `SmtpTransport::send_and_close`: one message on a connection that is
//! then closed, `QUIT` riding in the same write as the end of data, and the
//! session never going back to the pool. Real peers: smtp-sink (DATA path:
//! PIPELINING, no CHUNKING) and Postfix (BDAT path: both).

use std::sync::Arc;

use smtp_core::{MessageSource, Transport};
use smtp_testkit::engine::*;
use smtp_testkit::unique_tag;

fn message(subject: &str) -> MessageSource {
    MessageSource::from_bytes(format!(
        "From: s@example.test\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.test>\r\n\r\nbody of {subject}\r\n"
    ))
}

/// smtp-sink: the final dot and `QUIT` share one write, the `221` is read,
/// and the next send connects anew.
#[tokio::test]
async fn quit_shares_the_write_of_the_final_dot() {
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, transcript) = plain(port("PEERS_SMTP_SINK_PORT"));
    let t = builder.connector(recorder.clone()).build().unwrap();
    let to = envelope("s@example.test", &["r@example.test"]);
    let d = t
        .send_and_close(&to, message(&unique_tag("close-dot")))
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{}", transcript.text()));
    assert!(d.reply.is_positive(), "{d:?}");
    let flight = String::from_utf8_lossy(&recorder.write_containing("QUIT")).into_owned();
    assert!(flight.ends_with("\r\n.\r\nQUIT\r\n"), "{flight:?}");
    let text = transcript.text();
    assert!(text.contains("221"), "the 221 was not read:\n{text}");
    assert_eq!(recorder.connections(), 1);

    t.send_and_close(&to, message(&unique_tag("close-dot-again")))
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{}", transcript.text()));
    assert_eq!(
        recorder.connections(),
        2,
        "the first session went back to the pool:\n{}",
        transcript.text()
    );
}

/// Postfix: `BDAT n LAST` and `QUIT` share one write, and the message is
/// delivered.
#[tokio::test]
async fn quit_shares_the_write_of_bdat_last() {
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder.connector(recorder.clone()).build().unwrap();
    let subject = unique_tag("close-bdat");
    let d = t
        .send_and_close(
            &envelope("s@example.test", &["tester@example.test"]),
            message(&subject),
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{}", transcript.text()));
    assert_eq!(d.accepted.len(), 1, "{d:?}");
    let flight = String::from_utf8_lossy(&recorder.write_containing("QUIT")).into_owned();
    assert!(flight.contains(" LAST\r\n"), "{flight:?}");
    assert!(flight.ends_with("QUIT\r\n"), "{flight:?}");
    let text = transcript.text();
    assert!(text.contains("221"), "the 221 was not read:\n{text}");
    let mail = postfix_mail(&subject).await;
    assert!(
        String::from_utf8_lossy(&mail).contains(&format!("body of {subject}")),
        "{}",
        String::from_utf8_lossy(&mail)
    );
}

/// An idle pooled session is used and then closed: the send after it
/// needs a new connection.
#[tokio::test]
async fn takes_an_idle_pooled_session_and_does_not_return_it() {
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, transcript) = plain(port("PEERS_SMTP_SINK_PORT"));
    let t = builder.connector(recorder.clone()).build().unwrap();
    let to = envelope("s@example.test", &["r@example.test"]);
    t.send(&to, message(&unique_tag("pooled")))
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{}", transcript.text()));
    t.send_and_close(&to, message(&unique_tag("pooled-close")))
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{}", transcript.text()));
    assert_eq!(
        recorder.connections(),
        1,
        "the idle session was not reused:\n{}",
        transcript.text()
    );
    t.send(&to, message(&unique_tag("after-close")))
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{}", transcript.text()));
    assert_eq!(
        recorder.connections(),
        2,
        "the closed session went back to the pool:\n{}",
        transcript.text()
    );
    t.close().await;
}
