//! Pipelining, DATA, HELO fallback and failure modes against smtp-sink
//! (Postfix's test server) and aiosmtpd.

use std::sync::Arc;

use smtp_core::{Error, MessageSource, Phase, Transport};
use smtp_testkit::engine::*;
use smtp_testkit::unique_tag;

fn msg(subject: &str) -> MessageSource {
    MessageSource::from_bytes(format!("Subject: {subject}\r\n\r\n.dot\r\nbody\r\n"))
}

/// Three messages from s@example.test to r0, r1 and r2, subjects
/// `{tag}0`..`{tag}2`.
fn three_messages(tag: &str) -> Vec<(smtp_core::Envelope, MessageSource)> {
    (0..3)
        .map(|i| {
            (
                envelope("s@example.test", &[&format!("r{i}@example.test")]),
                msg(&format!("{tag}{i}")),
            )
        })
        .collect()
}

#[tokio::test]
async fn pipelining_sends_mail_rcpt_data_in_one_write_and_dot_with_last_chunk() {
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, transcript) = plain(port("PEERS_SMTP_SINK_PORT"));
    let t = builder.connector(recorder.clone()).build().unwrap();
    t.send(
        &envelope("s@example.test", &["a@example.test", "b@example.test"]),
        msg("pipe"),
    )
    .await
    .unwrap();
    let flight = String::from_utf8(recorder.write_containing("MAIL FROM")).unwrap();
    assert_eq!(
        flight,
        "MAIL FROM:<s@example.test>\r\nRCPT TO:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n",
        "MAIL+RCPT+DATA must be one write (smtp-sink offers no SIZE; the body is 7-bit)"
    );
    let end = recorder.write_containing("\r\n.\r\n");
    assert!(
        end.starts_with(b"Subject: pipe"),
        "the terminator must ride with the body"
    );
    assert!(transcript.text().contains("S: 354"));
}

#[tokio::test]
async fn next_transaction_rides_behind_the_previous_end_of_data() {
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, _) = plain(port("PEERS_SMTP_SINK_PORT"));
    let t = builder.connector(recorder.clone()).build().unwrap();
    let items = three_messages("batch");
    let results = t.send_batch(items).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let writes: Vec<String> = recorder
        .writes()
        .iter()
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let riding = writes
        .iter()
        .filter(|w| w.contains("\r\n.\r\nMAIL FROM:<s@example.test>"))
        .count();
    assert_eq!(
        riding, 2,
        "messages 2 and 3 ride behind the previous end of data: {writes:#?}"
    );
    assert_eq!(recorder.connections(), 1);
}

#[tokio::test]
async fn without_pipelining_each_command_waits() {
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, _) = plain(port("PEERS_SMTP_SINK_NOPIPE_PORT"));
    let t = builder.connector(recorder.clone()).build().unwrap();
    let results = t
        .send_batch(vec![
            (
                envelope("s@example.test", &["a@example.test", "b@example.test"]),
                msg("nopipe1"),
            ),
            (
                envelope("s@example.test", &["c@example.test"]),
                msg("nopipe2"),
            ),
        ])
        .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let writes: Vec<String> = recorder
        .writes()
        .iter()
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    for w in &writes {
        let commands = w.matches("\r\n").count();
        assert!(
            w.starts_with("Subject:") || commands == 1,
            "one command per write without PIPELINING: {w:?}"
        );
    }
}

#[tokio::test]
async fn helo_fallback_when_ehlo_is_refused() {
    let (builder, transcript) = plain(port("PEERS_SMTP_SINK_NOESMTP_PORT"));
    let t = builder.build().unwrap();
    let s = t.connect().await.unwrap();
    assert!(!s.capabilities().esmtp);
    let text = transcript.text();
    assert!(
        text.contains("C: EHLO") && text.contains("C: HELO client.example.test"),
        "{text}"
    );
    s.quit().await;
    t.send(
        &envelope("s@example.test", &["a@example.test"]),
        msg("helo"),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn every_recipient_rejected_is_a_permanent_error_listing_them() {
    let (builder, _) = plain(port("PEERS_SMTP_SINK_RCPT5XX_PORT"));
    let t = builder.build().unwrap();
    let err = t
        .send(
            &envelope("s@example.test", &["a@example.test", "b@example.test"]),
            msg("rcpt5xx"),
        )
        .await
        .unwrap_err();
    match &err {
        Error::NoRecipientsAccepted { rejected } => {
            assert_eq!(rejected.len(), 2);
            assert_eq!(rejected[0].reply.code, 500);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.is_permanent());
    assert!(err.to_string().contains("a@example.test: 500"), "{err}");
}

#[tokio::test]
async fn mail_4xx_is_transient_and_names_the_phase() {
    let (builder, _) = plain(port("PEERS_SMTP_SINK_MAIL4XX_PORT"));
    let t = builder.build().unwrap();
    let err = t
        .send(
            &envelope("s@example.test", &["a@example.test"]),
            msg("mail4xx"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.phase(), Phase::Mail);
    assert!(err.is_transient(), "{err}");
    assert_eq!(err.reply().unwrap().code, 450);
    assert!(
        err.to_string().starts_with("mail rejected by server: 450"),
        "{err}"
    );
}

#[tokio::test]
async fn data_421_is_transient() {
    let (builder, _) = plain(port("PEERS_SMTP_SINK_DATA421_PORT"));
    let t = builder.build().unwrap();
    let err = t
        .send(
            &envelope("s@example.test", &["a@example.test"]),
            msg("data421"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.phase(), Phase::Data);
    assert!(err.is_transient(), "{err}");
}

/// In a pipelined batch a 421 ends the connection: the messages after it
/// never had their turn, and say so (safe to send again, not a retry).
#[tokio::test]
async fn messages_after_a_421_in_a_batch_are_not_started() {
    let (builder, _) = plain(port("PEERS_SMTP_SINK_DATA421_PORT"));
    let t = builder.build().unwrap();
    let items = three_messages("data421-");
    let results = t.send_batch(items).await;
    assert_eq!(results.len(), 3);
    let first = results[0].as_ref().unwrap_err();
    assert_eq!(first.reply().map(|r| r.code), Some(421), "{first:?}");
    for r in &results[1..] {
        let e = r.as_ref().unwrap_err();
        assert!(e.is_not_started() && e.is_transient(), "{e:?}");
        assert!(e.to_string().contains("421"), "names the cause: {e}");
    }
}

/// A batch longer than `max_messages_per_connection` goes on over a new
/// connection instead of pushing one past the cap.
#[tokio::test]
async fn a_batch_never_exceeds_the_messages_per_connection_cap() {
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, _) = plain(port("PEERS_SMTP_SINK_PORT"));
    let t = builder
        .connector(recorder.clone())
        .pool(smtp_core::PoolConfig {
            max_messages_per_connection: 3,
            ..Default::default()
        })
        .build()
        .unwrap();
    let items = (0..7)
        .map(|i| {
            (
                envelope("s@example.test", &[&format!("r{i}@example.test")]),
                msg(&format!("cap{i}")),
            )
        })
        .collect();
    let results = t.send_batch(items).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(results.len(), 7);
    assert_eq!(recorder.connections(), 3, "3 + 3 + 1 messages");
}

/// Waits (bounded) until `recorder` has seen `n` connections; false if it
/// never does.
async fn connections_reach(recorder: &RecordingConnector, n: usize) -> bool {
    for _ in 0..200 {
        if recorder.connections() >= n {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    false
}

/// A batch that uses a session up starts its successor in the background:
/// the next connection exists before anything asks for it, and the next
/// batch runs on it (no connection more than the cap requires).
#[tokio::test]
async fn a_session_used_up_by_its_batch_has_its_successor_opened_ahead() {
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, _) = plain(port("PEERS_SMTP_SINK_PORT"));
    let t = builder
        .connector(recorder.clone())
        .pool(smtp_core::PoolConfig {
            max_connections: 2,
            max_messages_per_connection: 3,
            ..Default::default()
        })
        .build()
        .unwrap();
    let batch = |tag: &str| {
        (0..3)
            .map(|i| {
                (
                    envelope("s@example.test", &["r@example.test"]),
                    msg(&format!("{tag}{i}")),
                )
            })
            .collect::<Vec<_>>()
    };
    let results = t.send_batch(batch("first")).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(
        connections_reach(&recorder, 2).await,
        "the successor was not opened ahead"
    );
    let results = t.send_batch(batch("second")).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(connections_reach(&recorder, 3).await, "nor the next one");
    t.close().await;
    assert_eq!(
        recorder.connections(),
        3,
        "the second batch used the successor instead of connecting"
    );
}

/// `max_connections` stays a hard limit: with 1, no successor is opened
/// beside the session in use (a provider that allows one connection never
/// sees two), each batch connects when it starts.
#[tokio::test]
async fn no_successor_is_opened_ahead_beyond_max_connections() {
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, _) = plain(port("PEERS_SMTP_SINK_PORT"));
    let t = builder
        .connector(recorder.clone())
        .pool(smtp_core::PoolConfig {
            max_connections: 1,
            max_messages_per_connection: 3,
            ..Default::default()
        })
        .build()
        .unwrap();
    for tag in ["one", "two"] {
        let items = (0..3)
            .map(|i| {
                (
                    envelope("s@example.test", &["r@example.test"]),
                    msg(&format!("{tag}{i}")),
                )
            })
            .collect();
        let results = t.send_batch(items).await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
    }
    t.close().await;
    assert_eq!(
        recorder.connections(),
        2,
        "one connection per batch, none opened ahead"
    );
}

/// Single sends open the successor when the session has a few messages of
/// room left, not before.
#[tokio::test]
async fn single_sends_open_the_successor_near_the_cap_only() {
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, _) = plain(port("PEERS_SMTP_SINK_PORT"));
    let t = builder
        .connector(recorder.clone())
        .pool(smtp_core::PoolConfig {
            max_messages_per_connection: 10,
            ..Default::default()
        })
        .build()
        .unwrap();
    let env = envelope("s@example.test", &["r@example.test"]);
    for i in 0..5 {
        t.send(&env, msg(&format!("single{i}"))).await.unwrap();
    }
    assert_eq!(recorder.connections(), 1, "too early");
    t.send(&env, msg("single5")).await.unwrap();
    assert!(
        connections_reach(&recorder, 2).await,
        "4 messages of room left and no successor opened"
    );
    t.close().await;
}

#[tokio::test]
async fn drop_after_final_dot_is_unknown_outcome_never_sent() {
    let (builder, _) = plain(port("PEERS_SMTP_SINK_DOTDROP_PORT"));
    let t = builder.build().unwrap();
    let err = t
        .send(
            &envelope("s@example.test", &["a@example.test"]),
            msg("dotdrop"),
        )
        .await
        .unwrap_err();
    assert!(err.is_unknown_outcome(), "{err:?}");
    assert!(!err.is_transient() && !err.is_permanent());
    assert!(err.to_string().contains("may or may not"), "{err}");
}

#[tokio::test]
async fn data_path_is_byte_exact_on_aiosmtpd() {
    // aiosmtpd offers neither PIPELINING nor CHUNKING: plain DATA with
    // dot-stuffing, one command at a time; it stores the unstuffed bytes.
    let subject = unique_tag("aio");
    let body = format!("Subject: {subject}\r\n\r\n.lead\r\n..\r\n.\r\nende ✓\r\n");
    let (builder, transcript) = plain(port("PEERS_AIOSMTPD_PLAIN_PORT"));
    let t = builder.build().unwrap();
    t.send(
        &envelope("s@example.test", &["a@example.test"]),
        MessageSource::from_bytes(body.clone()),
    )
    .await
    .unwrap();
    let dir = peer_path("PEERS_AIOSMTPD_MAILDIR");
    let needle = subject.clone();
    let got = tokio::task::spawn_blocking(move || {
        smtp_testkit::wait_for_mail(&dir, &needle, std::time::Duration::from_secs(10))
    })
    .await
    .unwrap()
    .remove(0);
    assert!(
        got.ends_with(body.as_bytes()),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert!(transcript.text().contains("C: DATA"));
}

/// Keeps events, refuses lines (as the CLI's recorder without a file).
#[derive(Debug, Default)]
struct EventsOnly {
    lines: std::sync::atomic::AtomicUsize,
    events: std::sync::Mutex<Vec<smtp_core::SessionEvent>>,
}

impl smtp_core::Transcript for EventsOnly {
    fn wants_lines(&self) -> bool {
        false
    }
    fn line(&self, _: smtp_core::Direction, _: &str) {
        self.lines
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    fn event(&self, event: &smtp_core::SessionEvent) {
        self.events.lock().unwrap().push(event.clone());
    }
}

#[tokio::test]
async fn a_transcript_that_wants_no_lines_gets_the_events_and_none_of_the_pipelined_lines() {
    let events_only = Arc::new(EventsOnly::default());
    let (builder, _) = plain(port("PEERS_SMTP_SINK_PORT"));
    let t = builder.transcript(events_only.clone()).build().unwrap();
    let items = three_messages("quiet");
    let results = t.send_batch(items).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let events = events_only.events.lock().unwrap().clone();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, smtp_core::SessionEvent::Capabilities { .. })),
        "events still arrive: {events:?}"
    );
    let lines = events_only.lines.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(lines, 0, "lines handed to a transcript that wants none");
}
