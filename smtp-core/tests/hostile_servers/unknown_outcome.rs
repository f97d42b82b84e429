//! Once the whole message has been handed over, a lost or garbled
//! answer leaves the outcome unknown (a retry could deliver twice). Drops
//! and garbage are what real servers never do on purpose, so a scripted
//! server plays them.

use std::time::Duration;

use smtp_core::{Error, MessageSource, Security, SmtpTransport, Timeouts, Transport};
use smtp_testkit::engine::*;
use smtp_testkit::{ScriptConn, ScriptedServer};

fn transport(port: u16) -> SmtpTransport {
    SmtpTransport::builder("127.0.0.1")
        .port(port)
        .security(Security::None)
        .ehlo_name("client.example.test")
        .timeouts(Timeouts::uniform(Duration::from_secs(5)))
        .build()
        .unwrap()
}

async fn chunking_greeting(c: &mut ScriptConn) {
    c.send("220 hostile ESMTP\r\n").await;
    c.expect("EHLO").await;
    c.send("250-hostile\r\n250-PIPELINING\r\n250 CHUNKING\r\n")
        .await;
}

/// Reads one `BDAT n [LAST]` frame; returns whether it was the last.
async fn read_bdat(c: &mut ScriptConn) -> bool {
    let header = c.expect("BDAT").await;
    let mut words = header.split_whitespace().skip(1);
    let n: usize = words.next().unwrap().parse().unwrap();
    let last = words.next().is_some_and(|w| w.eq_ignore_ascii_case("LAST"));
    c.read_exact(n).await;
    last
}

async fn send_one(port: u16, body: Vec<u8>) -> Error {
    transport(port)
        .send(
            &envelope("a@b.example", &["c@d.example"]),
            MessageSource::from_bytes(body),
        )
        .await
        .unwrap_err()
}

#[tokio::test]
async fn drop_after_a_pipelined_bdat_last_is_unknown_outcome() {
    let server = ScriptedServer::start(|mut c| async move {
        chunking_greeting(&mut c).await;
        c.expect("MAIL").await;
        c.expect("RCPT").await;
        assert!(read_bdat(&mut c).await, "a small message is one BDAT LAST");
        // The server has the whole message (and may have queued it); the
        // connection dies before any reply reaches the client.
    });
    let err = send_one(server.port(), b"Subject: x\r\n\r\nsmall\r\n".to_vec()).await;
    assert!(err.is_unknown_outcome(), "{err:?}");
    assert!(!err.is_transient(), "a retry could deliver twice: {err:?}");
    server.wait_handled(1, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn drop_after_refused_mail_is_not_unknown() {
    let server = ScriptedServer::start(|mut c| async move {
        chunking_greeting(&mut c).await;
        c.expect("MAIL").await;
        c.expect("RCPT").await;
        read_bdat(&mut c).await;
        // Refused MAIL: nothing can have been queued, whatever follows.
        c.send("550 5.7.1 sender refused\r\n").await;
    });
    let err = send_one(server.port(), b"Subject: x\r\n\r\nsmall\r\n".to_vec()).await;
    assert!(!err.is_unknown_outcome(), "{err:?}");
    server.wait_handled(1, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn drop_after_the_last_of_several_chunks_is_unknown_outcome() {
    let server = ScriptedServer::start(|mut c| async move {
        chunking_greeting(&mut c).await;
        c.expect("MAIL").await;
        c.expect("RCPT").await;
        assert!(
            !read_bdat(&mut c).await,
            "a large message has several chunks"
        );
        c.send("250 2.1.0 ok\r\n250 2.1.5 ok\r\n").await;
        while !read_bdat(&mut c).await {}
        // Every chunk, LAST included, has arrived; no reply gets out.
    });
    // Larger than one engine chunk (256 KiB), so BDAT LAST goes out after
    // the opening replies and the first chunk's reply is still pending.
    let body = format!(
        "Subject: big\r\n\r\n{}",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\r\n"
            .repeat(5000)
    );
    let err = send_one(server.port(), body.into_bytes()).await;
    assert!(err.is_unknown_outcome(), "{err:?}");
    server.wait_handled(1, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn garbage_after_the_final_dot_is_unknown_outcome() {
    let server = ScriptedServer::start(|mut c| async move {
        c.send("220 hostile ESMTP\r\n").await;
        c.expect("EHLO").await;
        c.send("250 hostile\r\n").await;
        c.expect("MAIL").await;
        c.send("250 ok\r\n").await;
        c.expect("RCPT").await;
        c.send("250 ok\r\n").await;
        c.expect("DATA").await;
        c.send("354 go\r\n").await;
        c.read_until_dot().await;
        // The server got the dot; what it did with the message is not
        // something this line says.
        c.send("queued? who knows\r\n").await;
    });
    let err = send_one(server.port(), b"Subject: x\r\n\r\nhi\r\n".to_vec()).await;
    assert!(err.is_unknown_outcome(), "{err:?}");
    assert!(!err.is_permanent(), "{err:?}");
    server.wait_handled(1, Duration::from_secs(5)).await;
}
