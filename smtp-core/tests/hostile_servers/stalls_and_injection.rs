//! What real servers never do: stalls, garbage, drops, STARTTLS response
//! injection. A scripted server plays the hostile part.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use smtp_core::{
    BoxError, BoxStream, Error, MemoryTranscript, MessageSource, Phase, Security, SessionEvent,
    SmtpTransport, Timeouts, TlsInfo, TlsUpgrade, Transport,
};
use smtp_testkit::ScriptedServer;
use smtp_testkit::engine::*;
use smtp_testkit::unique_tag;

fn to(port: u16, security: Security, limit: Duration) -> (SmtpTransport, Arc<MemoryTranscript>) {
    let transcript = Arc::new(MemoryTranscript::new());
    let t = SmtpTransport::builder("127.0.0.1")
        .port(port)
        .security(security)
        .tls(Arc::new(NeverTls::default()))
        .ehlo_name("client.example.test")
        .timeouts(Timeouts::uniform(limit))
        .transcript(transcript.clone())
        .build()
        .unwrap();
    (t, transcript)
}

/// A TLS upgrade that must never be reached in these tests.
#[derive(Debug, Default)]
struct NeverTls {
    called: AtomicBool,
}

#[async_trait]
impl TlsUpgrade for NeverTls {
    async fn upgrade(&self, _: BoxStream, _: &str) -> Result<(BoxStream, TlsInfo), BoxError> {
        self.called.store(true, Ordering::SeqCst);
        Err("the tls upgrade must not be reached".into())
    }
}

#[tokio::test]
async fn silent_server_times_out_at_greeting() {
    let server = ScriptedServer::start(|conn| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(conn);
    });
    let (t, _) = to(server.port(), Security::None, Duration::from_millis(500));
    let started = Instant::now();
    let err = t.connect().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::Greeting,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(err.is_transient());
    assert!(err.hint().unwrap().contains("implicit"), "{:?}", err.hint());
}

#[tokio::test]
async fn garbage_greeting_is_a_protocol_error() {
    let server = ScriptedServer::start(|mut conn| async move {
        conn.send("HTTP/1.1 400 Bad Request\r\n\r\n").await;
    });
    let (t, _) = to(server.port(), Security::None, Duration::from_secs(5));
    let err = t.connect().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol {
                phase: Phase::Greeting,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn overlong_reply_line_is_refused_not_buffered() {
    let server = ScriptedServer::start(|mut conn| async move {
        conn.send(&format!("220 {}", "x".repeat(100_000))).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    let (t, _) = to(server.port(), Security::None, Duration::from_secs(5));
    let err = t.connect().await.unwrap_err();
    assert!(err.to_string().contains("longer than"), "{err}");
}

#[tokio::test]
async fn rejecting_greeting_is_reported() {
    let server = ScriptedServer::start(|mut conn| async move {
        conn.send("554 5.3.2 no service for you\r\n").await;
    });
    let (t, _) = to(server.port(), Security::None, Duration::from_secs(5));
    let err = t.connect().await.unwrap_err();
    assert_eq!(err.reply().unwrap().code, 554);
    assert_eq!(err.phase(), Phase::Greeting);
}

#[tokio::test]
async fn drop_during_rcpt_is_transient_and_nothing_is_claimed_sent() {
    let server = ScriptedServer::start(|mut conn| async move {
        conn.send("220 hostile ESMTP\r\n").await;
        conn.expect("EHLO").await;
        conn.send("250-hostile\r\n250 PIPELINING\r\n").await;
        conn.expect("MAIL").await;
        // Close mid-transaction.
    });
    let (t, _) = to(server.port(), Security::None, Duration::from_secs(5));
    let err = t
        .send(
            &envelope("a@b.example", &["c@d.example"]),
            MessageSource::from_bytes("x"),
        )
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(!err.is_unknown_outcome());
}

#[tokio::test]
async fn stall_after_final_dot_is_unknown_outcome() {
    let server = ScriptedServer::start(|mut conn| async move {
        conn.send("220 hostile ESMTP\r\n").await;
        conn.expect("EHLO").await;
        conn.send("250 hostile\r\n").await;
        conn.expect("MAIL").await;
        conn.send("250 ok\r\n").await;
        conn.expect("RCPT").await;
        conn.send("250 ok\r\n").await;
        conn.expect("DATA").await;
        conn.send("354 go\r\n").await;
        conn.read_until_dot().await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let (t, _) = to(server.port(), Security::None, Duration::from_millis(700));
    let err = t
        .send(
            &envelope("a@b.example", &["c@d.example"]),
            MessageSource::from_bytes("x\r\n"),
        )
        .await
        .unwrap_err();
    assert!(err.is_unknown_outcome(), "{err:?}");
}

#[tokio::test]
async fn starttls_response_injection_is_refused_before_the_handshake() {
    let server = ScriptedServer::start(|mut conn| async move {
        conn.send("220 hostile ESMTP\r\n").await;
        conn.expect("EHLO").await;
        conn.send("250-hostile\r\n250 STARTTLS\r\n").await;
        conn.expect("STARTTLS").await;
        // The injected lines arrive with the 220, in clear.
        conn.send("220 go ahead\r\n250-hostile\r\n250 AUTH PLAIN\r\n")
            .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    let tls = Arc::new(NeverTls::default());
    let transcript = Arc::new(MemoryTranscript::new());
    let t = SmtpTransport::builder("127.0.0.1")
        .port(server.port())
        .security(Security::StartTlsRequired)
        .tls(tls.clone())
        .ehlo_name("client.example.test")
        .transcript(transcript.clone())
        .build()
        .unwrap();
    let err = t.connect().await.unwrap_err();
    assert!(matches!(err, Error::StartTlsInjection { .. }), "{err:?}");
    assert!(
        !tls.called.load(Ordering::SeqCst),
        "handshake must not start"
    );
    assert!(err.hint().unwrap().contains("tampering"));
}

#[tokio::test]
async fn starttls_required_fails_closed_against_real_postfix_without_it() {
    let (t, transcript) = to(
        port("PEERS_POSTFIX_PLAIN_PORT"),
        Security::StartTlsRequired,
        Duration::from_secs(10),
    );
    let err = t
        .send(
            &envelope("a@example.test", &["b@example.test"]),
            MessageSource::from_bytes("x"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::StartTlsNotOffered), "{err:?}");
    assert!(err.is_permanent());
    let text = transcript.text();
    assert!(
        !text.contains("C: MAIL") && !text.contains("C: AUTH"),
        "{text}"
    );
}

#[tokio::test]
async fn starttls_refused_fails_closed_in_required_mode() {
    let server = ScriptedServer::start(|mut conn| async move {
        conn.send("220 hostile ESMTP\r\n").await;
        conn.expect("EHLO").await;
        conn.send("250-hostile\r\n250 STARTTLS\r\n").await;
        conn.expect("STARTTLS").await;
        conn.send("454 4.7.0 TLS not available due to local problem\r\n")
            .await;
        let _ = conn.read_line().await;
    });
    let (t, _) = to(
        server.port(),
        Security::StartTlsRequired,
        Duration::from_secs(5),
    );
    let err = t.connect().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                phase: Phase::StartTls,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn opportunistic_continues_in_clear_when_stripped() {
    let (t, transcript) = to(
        port("PEERS_POSTFIX_PLAIN_PORT"),
        Security::StartTlsOpportunistic,
        Duration::from_secs(10),
    );
    let subject = unique_tag("opportunistic");
    t.send(
        &envelope("a@example.test", &["b@example.test"]),
        MessageSource::from_bytes(format!("Subject: {subject}\r\n\r\nx\r\n")),
    )
    .await
    .unwrap();
    assert!(
        transcript
            .events()
            .iter()
            .any(|e| matches!(e, SessionEvent::StartTlsSkipped { .. }))
    );
    postfix_mail(&subject).await;
}
