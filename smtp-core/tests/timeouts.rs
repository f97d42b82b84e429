//! No await escapes the time limits. The total limit caps a whole
//! send (not only the connect), plugin calls run under a limit, and a
//! send the caller cancels leaves the session marked unusable.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::SecretSlice;
use smtp_core::sasl::{AuthContext, Authenticator, Mechanism, SecretBytes};
use smtp_core::{
    BoxError, Error, MessageSource, Phase, Reply, Security, SmtpTransport, Timeouts, Transport,
};
use smtp_testkit::engine::*;
use smtp_testkit::{ScriptConn, ScriptedServer};
use tokio::io::{AsyncRead, ReadBuf};

const PAUSE: Duration = Duration::from_millis(400);

/// A server that answers every transaction command after [`PAUSE`]: each
/// step is well inside the per-command limit, the sum is not.
async fn slow_transactions(mut c: ScriptConn) {
    c.send("220 slow ESMTP\r\n").await;
    c.expect("EHLO").await;
    c.send("250 slow\r\n").await;
    loop {
        let Some(line) = c.read_line().await else {
            return;
        };
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        tokio::time::sleep(PAUSE).await;
        match verb.as_str() {
            "DATA" => {
                c.send("354 go\r\n").await;
                c.read_until_dot().await;
                tokio::time::sleep(PAUSE).await;
                c.send("250 2.0.0 queued\r\n").await;
            }
            "QUIT" => {
                c.send("221 bye\r\n").await;
                return;
            }
            _ => c.send("250 ok\r\n").await,
        }
    }
}

fn with_total(port: u16, total: Duration) -> SmtpTransport {
    let mut timeouts = Timeouts::uniform(Duration::from_secs(5));
    timeouts.total = Some(total);
    SmtpTransport::builder("127.0.0.1")
        .port(port)
        .security(Security::None)
        .ehlo_name("client.example.test")
        .timeouts(timeouts)
        .build()
        .unwrap()
}

fn small() -> MessageSource {
    MessageSource::from_bytes("Subject: t\r\n\r\nx\r\n")
}

#[tokio::test]
async fn total_limit_caps_a_pooled_send_not_only_its_connect() {
    let server = ScriptedServer::start(slow_transactions);
    let t = with_total(server.port(), Duration::from_millis(1000));
    let started = Instant::now();
    // MAIL, RCPT, DATA and the dot take 4 x 400 ms: over the 1 s total.
    let err = t
        .send(&envelope("a@b.example", &["c@d.example"]), small())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn total_limit_caps_each_send_of_an_unpooled_session() {
    let server = ScriptedServer::start(slow_transactions);
    let t = with_total(server.port(), Duration::from_millis(1000));
    let mut s = t.connect().await.unwrap();
    let started = Instant::now();
    let err = s
        .send(&envelope("a@b.example", &["c@d.example"]), small())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_reused_pooled_session_gets_a_fresh_total() {
    let server = ScriptedServer::start(|mut c| async move {
        c.send("220 quick ESMTP\r\n").await;
        c.expect("EHLO").await;
        c.send("250 quick\r\n").await;
        while let Some(line) = c.read_line().await {
            if line.eq_ignore_ascii_case("DATA") {
                c.send("354 go\r\n").await;
                c.read_until_dot().await;
            }
            c.send("250 ok\r\n").await;
        }
    });
    let t = with_total(server.port(), Duration::from_millis(500));
    let env = envelope("a@b.example", &["c@d.example"]);
    t.send(&env, small()).await.unwrap();
    // Idle past the total: a stale deadline must not fail the next send.
    tokio::time::sleep(Duration::from_millis(800)).await;
    t.send(&env, small()).await.unwrap();
    assert_eq!(server.connections(), 1);
}

// ----- authenticator plugins -----------------------------------------------

struct Plain(Vec<u8>);

impl Mechanism for Plain {
    fn name(&self) -> &'static str {
        "PLAIN"
    }
    fn initial_response(&mut self) -> Option<SecretBytes> {
        Some(SecretSlice::from(std::mem::take(&mut self.0)))
    }
    fn respond(&mut self, _: &[u8]) -> Result<SecretBytes, BoxError> {
        Err("unexpected challenge".into())
    }
    fn sends_secret_in_clear(&self) -> bool {
        true
    }
}

/// Hangs in `mechanism()` (a token endpoint that never answers), or in
/// `retry_after_failure()` after offering a wrong password.
#[derive(Debug)]
struct Hanging {
    in_retry: bool,
}

#[async_trait]
impl Authenticator for Hanging {
    async fn mechanism(&self, _: &AuthContext<'_>) -> Result<Option<Box<dyn Mechanism>>, BoxError> {
        if !self.in_retry {
            std::future::pending::<()>().await;
        }
        let user = smtp_testkit::peers()
            .get("PEERS_SMTP_USER")
            .unwrap()
            .to_string();
        Ok(Some(Box::new(Plain(
            format!("\0{user}\0wrong-password").into_bytes(),
        ))))
    }
    fn allow_cleartext(&self) -> bool {
        true
    }
    async fn retry_after_failure(&self, _: &Reply) -> bool {
        std::future::pending::<()>().await;
        true
    }
}

async fn connect_with(authenticator: Hanging, limit: Duration) -> (Error, String) {
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder
        .timeouts(Timeouts::uniform(limit))
        .authenticator(Arc::new(authenticator))
        .build()
        .unwrap();
    match tokio::time::timeout(Duration::from_secs(15), t.connect()).await {
        Ok(r) => (r.unwrap_err(), transcript.text()),
        Err(_) => panic!("connect hung in the authenticator: no time limit applies to it"),
    }
}

#[tokio::test]
async fn a_hanging_authenticator_is_cut_off_by_the_command_limit() {
    let (err, text) = connect_with(Hanging { in_retry: false }, Duration::from_secs(1)).await;
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::Auth,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!text.contains("C: AUTH"), "{text}");
}

#[tokio::test]
async fn a_hanging_token_refresh_after_535_is_cut_off() {
    // Dovecot delays a failed login by about 2 s: the limit must let the
    // 535 arrive, so that the time-out seen is the token refresh's.
    let (err, text) = connect_with(Hanging { in_retry: true }, Duration::from_secs(4)).await;
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::Auth,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(text.contains("S: 535"), "{text}");
}

// ----- cancellation ----------------------------------------------------------

/// Yields `left` bytes of text, then never again (a stalled upstream).
struct StallAfter {
    left: usize,
}

impl AsyncRead for StallAfter {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.left == 0 {
            return Poll::Pending;
        }
        let n = self.left.min(buf.remaining()).min(8192);
        let line = b"stalling body line, 32 bytes..\r\n";
        for i in 0..n {
            buf.put_slice(&[line[i % line.len()]]);
        }
        self.left -= n;
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_send_the_caller_cancels_leaves_the_session_broken() {
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder.build().unwrap();
    let mut s = t.connect().await.unwrap();
    let env = envelope("s@example.test", &["cancelled@example.test"]);
    // More than one engine chunk, so part of the body is on the wire when
    // the source stalls and the caller gives up.
    let stalled = MessageSource::from_reader(StallAfter { left: 600 * 1024 }, None);
    let cancelled = tokio::time::timeout(Duration::from_secs(2), s.send(&env, stalled)).await;
    assert!(cancelled.is_err(), "the send should still be waiting");
    assert!(
        s.is_broken(),
        "a half-done transaction must not look reusable:\n{}",
        transcript.text()
    );
    let before = transcript.lines().len();
    let err = s.send(&env, small()).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(
        transcript.lines().len(),
        before,
        "nothing may be written into the abandoned transaction"
    );
}
