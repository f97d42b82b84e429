//! Windowed BDAT (CHUNKING + PIPELINING): many transactions in flight,
//! replies matched in order, failures kept to their own message, and QUIT
//! riding with the last group. Real Postfix where it can show it; a
//! scripted server for drops and for a server that keeps state after a
//! failed transaction (Postfix does not).

use std::sync::Arc;
use std::time::Duration;

use smtp_core::{
    Delivery, Error, MemoryTranscript, MessageSource, Phase, Session, SmtpTransport, Timeouts,
};
use smtp_testkit::engine::*;
use smtp_testkit::unique_tag;
use smtp_testkit::{ScriptConn, ScriptedServer};

fn message(subject: &str) -> MessageSource {
    MessageSource::from_bytes(format!(
        "From: s@example.test\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.test>\r\n\r\nbody of {subject}\r\n"
    ))
}

/// A plaintext transport to a scripted server: short timeouts, `window`
/// transactions in flight.
fn scripted(port: u16, window: usize) -> (SmtpTransport, Arc<MemoryTranscript>) {
    let (builder, transcript) = plain(port);
    let t = builder
        .timeouts(Timeouts::uniform(Duration::from_secs(5)))
        .pipeline_window(window)
        .build()
        .unwrap();
    (t, transcript)
}

async fn greet(conn: &mut ScriptConn) {
    conn.send("220 scripted ESMTP\r\n").await;
    conn.expect("EHLO").await;
    conn.send("250-scripted\r\n250-PIPELINING\r\n250 CHUNKING\r\n")
        .await;
}

/// One pipelined transaction: MAIL, one RCPT, `BDAT n LAST` and its bytes.
async fn read_tx(conn: &mut ScriptConn) -> Vec<u8> {
    conn.expect("MAIL FROM:").await;
    conn.expect("RCPT TO:").await;
    let bdat = conn.expect("BDAT ").await;
    assert!(bdat.ends_with(" LAST"), "{bdat}");
    let n: usize = bdat.split_whitespace().nth(1).unwrap().parse().unwrap();
    conn.read_exact(n).await
}

/// Sends `n` messages in one session with a window of three; returns the
/// session (to check its state), the results and the transcript.
async fn batch_in_window_of_three(
    server: &ScriptedServer,
    n: usize,
    tag: &str,
) -> (Session, Vec<Result<Delivery, Error>>, String) {
    let (t, transcript) = scripted(server.port(), 3);
    let mut session = t.connect().await.unwrap();
    let results = session.send_batch(batch(n, tag)).await;
    (session, results, transcript.text())
}

/// The script's handler panicked nowhere (the client strayed from it).
fn no_handler_panics(server: &ScriptedServer) {
    let panics = server.handler_panics();
    assert!(panics.is_empty(), "{panics:?}");
}

/// The one connection's script ran to its end without a panic.
async fn script_held(server: &ScriptedServer) {
    server.wait_handled(1, Duration::from_secs(5)).await;
    no_handler_panics(server);
}

fn batch(n: usize, tag: &str) -> Vec<(smtp_core::Envelope, MessageSource)> {
    (0..n)
        .map(|i| {
            (
                envelope("s@example.test", &[&format!("r{i}@example.test")]),
                message(&format!("{tag}-{i}")),
            )
        })
        .collect()
}

/// The connection drops after the first message's replies and the
/// second's first two: the second was refused (its only recipient), the
/// third and fourth went out whole (unknown), the fifth never left (not
/// sent: the window of three was full).
#[tokio::test]
async fn drop_mid_window_separates_unknown_from_not_sent() {
    let server = ScriptedServer::start(|mut conn| async move {
        greet(&mut conn).await;
        // All three arrive before any reply: they are in flight together.
        for _ in 0..3 {
            read_tx(&mut conn).await;
        }
        conn.send("250 ok\r\n250 ok\r\n250 queued 1\r\n250 ok\r\n550 5.1.1 no such user\r\n")
            .await;
        // The first message is settled, so the fourth goes out whole
        // (behind an RSET, the second having failed); then the line drops.
        conn.expect("RSET").await;
        read_tx(&mut conn).await;
    });
    let (session, results, text) = batch_in_window_of_three(&server, 5, "drop").await;
    assert!(results[0].is_ok(), "{:?}\n{text}", results[0]);
    assert!(
        matches!(&results[1], Err(Error::NoRecipientsAccepted { rejected }) if rejected[0].reply.code == 550),
        "{:?}\n{text}",
        results[1]
    );
    for r in &results[2..4] {
        assert!(
            r.as_ref().is_err_and(Error::is_unknown_outcome),
            "{r:?}\n{text}"
        );
    }
    for r in &results[4..] {
        let e = r.as_ref().unwrap_err();
        assert!(
            e.is_not_started() && e.is_transient() && !e.is_unknown_outcome(),
            "{e:?}\n{text}"
        );
        assert!(
            e.to_string().contains("closed"),
            "names what stopped it: {e}"
        );
    }
    assert!(session.is_broken());
    no_handler_panics(&server);
}

/// A refused `BDAT LAST` in the middle of a window costs only its own
/// message, and the next transaction written after it gets an RSET first.
#[tokio::test]
async fn failed_bdat_last_mid_window_is_isolated_and_followed_by_rset() {
    let server = ScriptedServer::start(|mut conn| async move {
        greet(&mut conn).await;
        for _ in 0..3 {
            read_tx(&mut conn).await;
        }
        conn.send(concat!(
            "250 ok\r\n250 ok\r\n250 queued 1\r\n",
            "250 ok\r\n250 ok\r\n554 5.6.0 content refused\r\n",
            "250 ok\r\n250 ok\r\n250 queued 3\r\n"
        ))
        .await;
        conn.expect("RSET").await;
        conn.send("250 reset\r\n").await;
        read_tx(&mut conn).await;
        conn.send("250 ok\r\n250 ok\r\n250 queued 4\r\n").await;
        conn.read_line().await;
    });
    let (session, results, text) = batch_in_window_of_three(&server, 4, "mid").await;
    let replies: Vec<String> = results
        .iter()
        .map(|r| match r {
            Ok(d) => d.reply.to_string(),
            Err(Error::Rejected { phase, reply }) => format!("{phase}: {reply}"),
            Err(e) => format!("{e:?}"),
        })
        .collect();
    assert_eq!(
        replies,
        vec![
            "250 queued 1",
            "data: 554 5.6.0 content refused",
            "250 queued 3",
            "250 queued 4"
        ],
        "{text}"
    );
    assert!(!session.is_broken());
    session.quit().await;
    script_held(&server).await;
}

/// A server that keeps state after a failed transaction answers the next
/// MAIL `503`: that message is sent again after an RSET, once, and every
/// result still belongs to its own message.
#[tokio::test]
async fn mail_503_behind_a_failed_predecessor_is_resent_after_rset() {
    let server = ScriptedServer::start(|mut conn| async move {
        greet(&mut conn).await;
        let mut bodies = Vec::new();
        for _ in 0..3 {
            bodies.push(read_tx(&mut conn).await);
        }
        conn.send(concat!(
            "250 ok\r\n550 5.1.1 no such user\r\n554 5.5.1 no valid recipients\r\n",
            "503 5.5.1 nested MAIL command\r\n250 ok\r\n554 5.5.1 sorry\r\n",
            "250 ok\r\n250 ok\r\n250 queued 3\r\n"
        ))
        .await;
        conn.expect("RSET").await;
        conn.send("250 reset\r\n").await;
        let again = read_tx(&mut conn).await;
        assert_eq!(again, bodies[1], "the replay must be the second message");
        conn.send("250 ok\r\n250 ok\r\n250 queued 2\r\n").await;
        conn.read_line().await;
    });
    let (session, results, text) = batch_in_window_of_three(&server, 3, "replay").await;
    assert!(
        matches!(&results[0], Err(Error::NoRecipientsAccepted { .. })),
        "{:?}\n{text}",
        results[0]
    );
    assert_eq!(
        results[1].as_ref().unwrap().reply.text(),
        "queued 2",
        "{text}"
    );
    assert_eq!(
        results[2].as_ref().unwrap().reply.text(),
        "queued 3",
        "{text}"
    );
    session.quit().await;
    script_held(&server).await;
}

/// `send_and_quit`: QUIT arrives before the server answered anything, in
/// the same flight as `BDAT LAST` and its bytes.
#[tokio::test]
async fn quit_rides_behind_bdat_last() {
    let server = ScriptedServer::start(|mut conn| async move {
        greet(&mut conn).await;
        read_tx(&mut conn).await;
        conn.expect("QUIT").await;
        conn.send("250 ok\r\n250 ok\r\n250 queued\r\n221 bye\r\n")
            .await;
    });
    let (t, transcript) = scripted(server.port(), 16);
    let session = t.connect().await.unwrap();
    let d = session
        .send_and_quit(
            &envelope("s@example.test", &["r@example.test"]),
            message("quit-rides"),
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{}", transcript.text()));
    assert_eq!(d.reply.text(), "queued");
    script_held(&server).await;
}

/// On the DATA path (smtp-sink: PIPELINING, no CHUNKING) QUIT shares the
/// write of the final dot.
#[tokio::test]
async fn quit_rides_behind_the_final_dot() {
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, transcript) = plain(port("PEERS_SMTP_SINK_PORT"));
    let t = builder.connector(recorder.clone()).build().unwrap();
    let session = t.connect().await.unwrap();
    let results = session.send_batch_and_quit(batch(2, "sink-quit")).await;
    let text = transcript.text();
    assert!(results.iter().all(Result::is_ok), "{results:?}\n{text}");
    let last = String::from_utf8_lossy(&recorder.write_containing("QUIT")).into_owned();
    assert!(last.contains("\r\n.\r\nQUIT\r\n"), "{last:?}");
    assert!(text.contains("221"), "the 221 was not read:\n{text}");
}

/// Real Postfix, 50 messages, default window: refused recipients land on
/// their own messages, every accepted message is delivered, and the
/// commands go out sixteen transactions per write.
#[tokio::test]
async fn postfix_batch_of_fifty_with_refused_recipients() {
    let rejected = smtp_testkit::peers()
        .get("PEERS_REJECTED_RCPT")
        .unwrap()
        .to_string();
    let tag = unique_tag("window50");
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder.connector(recorder.clone()).build().unwrap();
    let good = |i: usize| format!("w{i}@example.test");
    let items = (0..50)
        .map(|i| {
            let to: Vec<String> = match i % 7 {
                3 => vec![rejected.clone()],
                5 => vec![good(i), rejected.clone()],
                _ => vec![good(i)],
            };
            let to: Vec<&str> = to.iter().map(String::as_str).collect();
            (
                envelope("s@example.test", &to),
                message(&format!("{tag}-{i}")),
            )
        })
        .collect();
    let mut session = t.connect().await.unwrap();
    let results = session.send_batch(items).await;
    let text = transcript.text();
    for (i, r) in results.iter().enumerate() {
        match (i % 7, r) {
            (3, Err(Error::NoRecipientsAccepted { rejected })) => {
                assert_eq!(rejected[0].reply.code, 550, "{i}")
            }
            (5, Ok(d)) => {
                assert_eq!(d.accepted[0].recipient.as_str(), good(i));
                assert_eq!(d.rejected[0].reply.code, 550, "{i}");
            }
            (3 | 5, other) => panic!("message {i}: {other:?}\n{text}"),
            (_, Ok(d)) => assert!(d.reply.text().contains("queued"), "{i}: {}", d.reply),
            (_, Err(e)) => panic!("message {i}: {e:?}\n{text}"),
        }
    }
    assert!(!session.is_broken());
    session.quit().await;
    let first = String::from_utf8_lossy(&recorder.write_containing("MAIL FROM")).into_owned();
    assert_eq!(first.matches("MAIL FROM").count(), 16, "{first}");
    let writes = recorder
        .writes()
        .iter()
        .filter(|w| String::from_utf8_lossy(w).contains("MAIL FROM"))
        .count();
    assert!(writes <= 10, "{writes} writes for 50 messages");
    // One pass over the Maildir (it holds every test's mail): wait for the
    // batch's tag, then check each accepted message reached its recipient.
    let dir = peer_path("PEERS_POSTFIX_MAILDIR");
    let copies = tokio::task::spawn_blocking(move || {
        let expected = (0..50).filter(|i| i % 7 != 3).count();
        let found =
            smtp_testkit::wait_for_mail_count(&dir, &tag, expected, Duration::from_secs(60));
        (tag, found)
    })
    .await
    .unwrap();
    let (tag, copies) = copies;
    let copies: Vec<String> = copies
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    for i in (0..50).filter(|i| i % 7 != 3) {
        let id = format!("<{tag}-{i}@example.test>");
        let to: Vec<&str> = copies
            .iter()
            .filter(|c| c.contains(&id))
            .filter_map(|c| c.lines().find_map(|l| l.strip_prefix("Delivered-To: ")))
            .collect();
        assert_eq!(to, vec![good(i).as_str()], "message {i}");
    }
    assert_eq!(copies.len(), 43, "one copy per accepted message");
}

/// A message of several chunks refused at its first chunk (Postfix port
/// with SIZE 10240, size not declared): no more than the bounded number of
/// chunks go out, an RSET ends it, and the next message is delivered.
#[tokio::test]
async fn refused_chunk_stops_a_long_message_early() {
    let recorder = Arc::new(RecordingConnector::default());
    let (builder, transcript) = plain(port("PEERS_POSTFIX_SMALL_SIZE_PORT"));
    let t = builder.connector(recorder.clone()).build().unwrap();
    let big = vec![b'x'; 4 * 1024 * 1024];
    let after = unique_tag("after-long");
    let results = t
        .send_batch(vec![
            (
                envelope("s@example.test", &["long@example.test"]),
                MessageSource::from_reader(std::io::Cursor::new(big), None),
            ),
            (
                envelope("s@example.test", &["after@example.test"]),
                message(&after),
            ),
        ])
        .await;
    let text = transcript.text();
    match &results[0] {
        Err(Error::Rejected {
            phase: Phase::Data,
            reply,
        }) => assert_eq!(reply.code, 552, "{text}"),
        other => panic!("{other:?}\n{text}"),
    }
    assert!(results[1].is_ok(), "{:?}\n{text}", results[1]);
    let wire: Vec<u8> = recorder.writes().concat();
    let bdats = String::from_utf8_lossy(&wire).matches("BDAT ").count();
    // 16 chunks of 256 KiB; at most 4 unanswered, plus the next message's.
    assert!(bdats <= 5, "{bdats} BDAT commands:\n{text}");
    assert!(text.contains("RSET"), "{text}");
    let d = results[1].as_ref().unwrap();
    assert!(d.reply.text().contains("queued"), "{}", d.reply);
}
