//! A hostile server (or someone in the middle) around real TLS: bytes
//! injected after the STARTTLS `220`, STARTTLS stripped, a handshake that
//! stalls, drops or gets garbage, capabilities forged in clear, a drop
//! after TLS. The server is the testkit's scripted one; its TLS steps run
//! rustls' own server with the rig's certificate (`rig_tls_accept`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{peers, rig_tls};
use smtp_core::{
    Address, Envelope, Error, MessageSource, Phase, Security, SmtpTransport, Timeouts, Transport,
};
use smtp_testkit::{ScriptedServer, Step, rig_tls_accept};

const LIMIT: Duration = Duration::from_millis(500);
const SLACK: Duration = Duration::from_millis(2500);
const STARTTLS_CAPS: &str = "250-hostile\r\n250 STARTTLS\r\n";

fn server(steps: Vec<Step>) -> ScriptedServer {
    ScriptedServer::scripted_with(steps, STARTTLS_CAPS, Some(rig_tls_accept()))
}

/// Greeting, EHLO answered with STARTTLS, STARTTLS read: the server's
/// answer to STARTTLS is next.
fn up_to_starttls() -> Vec<Step> {
    vec![
        Step::send("220 hostile ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::send(STARTTLS_CAPS),
        Step::Expect("STARTTLS"),
    ]
}

fn transport(port: u16, security: Security) -> SmtpTransport {
    SmtpTransport::builder(peers().tls_name.clone())
        .port(port)
        .security(security)
        .tls(Arc::new(rig_tls().build().unwrap()))
        .ehlo_name("client.example.test")
        .timeouts(Timeouts {
            data_end: LIMIT,
            ..Timeouts::uniform(LIMIT)
        })
        .build()
        .unwrap()
}

fn envelope() -> Envelope {
    Envelope::new(
        Some(Address::new("a@b.example").unwrap()),
        vec![Address::new("c@d.example").unwrap()],
    )
    .unwrap()
}

fn message() -> MessageSource {
    MessageSource::from_bytes("Subject: hostile tls\r\n\r\nbody\r\n")
}

/// The first send's error and how long it took; then a second send must
/// reach a new connection (index 1, served properly over STARTTLS).
async fn first_error(server: &ScriptedServer, security: Security) -> (Error, Duration) {
    let t = transport(server.port(), security);
    let started = Instant::now();
    let err = t.send(&envelope(), message()).await.unwrap_err();
    let took = started.elapsed();
    assert!(took < LIMIT + SLACK, "{err:?} took {took:?}");
    if security == Security::StartTlsRequired {
        t.send(&envelope(), message())
            .await
            .unwrap_or_else(|e| panic!("the next send failed: {e:?} (after {err:?})"));
        assert_eq!(server.connections(), 2);
    }
    (err, took)
}

fn assert_tls_timeout(err: &Error) {
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::Tls,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn bytes_injected_with_the_starttls_220_abort_before_the_handshake() {
    let mut steps = up_to_starttls();
    steps.extend([
        Step::send("220 go ahead\r\n250-hostile\r\n250 AUTH PLAIN\r\n"),
        Step::Drain,
    ]);
    let server = server(steps);
    let (err, _) = first_error(&server, Security::StartTlsRequired).await;
    assert!(matches!(err, Error::StartTlsInjection { .. }), "{err:?}");
    assert_eq!(err.phase(), Phase::StartTls);
}

#[tokio::test]
async fn bytes_injected_after_the_220_are_never_read_as_tls_data() {
    let mut steps = up_to_starttls();
    steps.extend([
        Step::send("220 go ahead\r\n"),
        // The client is in its handshake by now: these clear-text bytes
        // arrive where a TLS record is expected.
        Step::Pause(Duration::from_millis(100)),
        Step::send("250-hostile\r\n250 AUTH PLAIN\r\n"),
        Step::Drain,
    ]);
    let server = server(steps);
    let (err, _) = first_error(&server, Security::StartTlsRequired).await;
    // Read with the 220 (a slow client) it is an injection; otherwise
    // the handshake fails on it. Either way it never counts as a reply.
    assert!(
        matches!(err, Error::Tls { .. } | Error::StartTlsInjection { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn stripped_starttls_fails_closed_before_any_command() {
    let server = server(vec![
        Step::send("220 hostile ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::send("250-hostile\r\n250 AUTH PLAIN LOGIN\r\n"),
        Step::Drain,
    ]);
    // No security chosen: the default must be STARTTLS, required.
    let t = SmtpTransport::builder(peers().tls_name.clone())
        .port(server.port())
        .tls(Arc::new(rig_tls().build().unwrap()))
        .ehlo_name("client.example.test")
        .timeouts(Timeouts::uniform(LIMIT))
        .build()
        .unwrap();
    assert_eq!(t.security(), Security::StartTlsRequired);
    let err = t.send(&envelope(), message()).await.unwrap_err();
    assert!(matches!(err, Error::StartTlsNotOffered), "{err:?}");
    assert!(err.is_permanent());
    drop(t);
    server.wait_handled(1, Duration::from_secs(5)).await;
    let log = server.log();
    assert!(log.len() == 1 && log[0].starts_with("EHLO"), "{log:?}");
}

#[tokio::test]
async fn a_stalled_handshake_times_out_in_the_tls_phase() {
    let mut steps = up_to_starttls();
    steps.extend([Step::send("220 go ahead\r\n"), Step::Stall]);
    let server = server(steps);
    let (err, took) = first_error(&server, Security::StartTlsRequired).await;
    assert_tls_timeout(&err);
    assert!(took >= LIMIT, "{took:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn a_handshake_dropped_or_answered_with_garbage_is_a_tls_error() {
    for fault in [Step::Drop, Step::send("HTTP/1.1 400 Bad Request\r\n\r\n")] {
        let mut steps = up_to_starttls();
        // The fault answers the ClientHello (its record header read first):
        // bytes sent before it would be an injection, tested above.
        steps.extend([
            Step::send("220 go ahead\r\n"),
            Step::ReadBytes(5),
            fault.clone(),
            Step::Drain,
        ]);
        let server = server(steps);
        let (err, _) = first_error(&server, Security::StartTlsRequired).await;
        assert!(matches!(err, Error::Tls { .. }), "{fault:?}: {err:?}");
        assert_eq!(err.phase(), Phase::Tls);
    }
}

#[tokio::test]
async fn an_implicit_tls_server_that_never_handshakes_times_out() {
    let server = server(vec![Step::Stall]);
    let (err, took) = first_error(&server, Security::ImplicitTls).await;
    assert_tls_timeout(&err);
    assert!(took >= LIMIT);
}

/// Extensions forged in clear (CHUNKING, PIPELINING) must not shape the
/// transaction after TLS: the script expects plain one-by-one DATA and
/// panics (failing the test) on a BDAT or a pipelined flight.
#[tokio::test]
async fn extensions_forged_before_tls_do_not_shape_the_transaction() {
    let server = server(
        vec![
            Step::send("220 forger ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::send(
                "250-forger\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-SIZE 10\r\n250 STARTTLS\r\n",
            ),
            Step::Expect("STARTTLS"),
            Step::send("220 go ahead\r\n"),
            Step::Tls,
            Step::Expect("EHLO"),
            Step::send("250 forger\r\n"),
        ]
        .into_iter()
        .chain(Step::through_data("MAIL FROM:<a@b.example>"))
        .chain([Step::send("250 2.0.0 queued\r\n"), Step::Drain])
        .collect(),
    );
    let t = transport(server.port(), Security::StartTlsRequired);
    let d = t.send(&envelope(), message()).await.unwrap();
    assert!(d.reply.text().contains("queued"));
    t.close().await;
    server.wait_handled(1, Duration::from_secs(5)).await;
    assert!(server.handler_panics().is_empty());
    // SIZE 10 was forged too: the message is larger, yet no SIZE refusal.
    assert!(!server.log().iter().any(|l| l.contains("SIZE=")));
}

#[tokio::test]
async fn a_drop_after_tls_is_reported_and_the_next_send_reconnects() {
    let mut steps = up_to_starttls();
    steps.extend([
        Step::send("220 go ahead\r\n"),
        Step::Tls,
        Step::Expect("EHLO"),
        Step::send("250 hostile\r\n"),
        Step::Expect("MAIL"),
        Step::Drop,
    ]);
    let server = server(steps);
    let (err, _) = first_error(&server, Security::StartTlsRequired).await;
    assert!(
        matches!(err, Error::ConnectionClosed { phase: Phase::Mail }),
        "{err:?}"
    );
}
