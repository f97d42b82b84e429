//! DSN (RFC 3461) and REQUIRETLS (RFC 8689) parameters against a scripted
//! server: the exact bytes of MAIL/RCPT (xtext), on every path that
//! builds them (one at a time, pipelined DATA, windowed BDAT, the
//! envelope check), and the refusals before MAIL when the server cannot
//! carry them. Real Postfix's handling of the parameters is in
//! `dsn_postfix.rs`; REQUIRETLS over real TLS in smtp-transport-tls.

use std::sync::Arc;
use std::time::Duration;

use smtp_core::dsn::{Dsn, IfUnsupported, Notify, OriginalRecipient, RecipientDsn, Ret};
use smtp_core::{
    Envelope, Error, MemoryTranscript, MessageSource, RequireTlsProblem, SessionEvent,
    SmtpTransport, Timeouts, Transport,
};
use smtp_testkit::ScriptedServer;
use smtp_testkit::engine::*;

const DSN_PIPELINING: &str = "250-scripted\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 DSN\r\n";
const DSN_CHUNKING: &str =
    "250-scripted\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-8BITMIME\r\n250 DSN\r\n";
const NO_PIPELINING: &str = "250-scripted\r\n250 DSN\r\n";
const NO_DSN: &str = "250-scripted\r\n250-PIPELINING\r\n250 CHUNKING\r\n";

fn server(ehlo: &'static str) -> ScriptedServer {
    ScriptedServer::start(move |mut c| async move { c.serve(ehlo, None).await })
}

fn transport(server: &ScriptedServer) -> (SmtpTransport, Arc<MemoryTranscript>) {
    let (builder, transcript) = plain(server.port());
    let t = builder
        .timeouts(Timeouts::uniform(Duration::from_secs(5)))
        .build()
        .unwrap();
    (t, transcript)
}

fn message() -> MessageSource {
    MessageSource::from_bytes("Subject: dsn\r\n\r\nbody\r\n")
}

/// Two recipients: the first with the message's defaults, the second with
/// its own NOTIFY and ORCPT; an ENVID and addresses that need xtext.
fn dsn_envelope() -> Envelope {
    envelope(
        "sender+tag@example.test",
        &["a+b@example.test", "c@example.test"],
    )
    .with_dsn(
        Dsn::new()
            .ret(Ret::Headers)
            .envid("order 42+x=y")
            .unwrap()
            .notify(Notify::SUCCESS | Notify::FAILURE)
            .orcpt(true),
    )
    .with_recipient_dsn(
        1,
        RecipientDsn::new()
            .notify(Notify::NEVER)
            .orcpt(OriginalRecipient::new("rfc822", "first=owner@example.test").unwrap()),
    )
    .unwrap()
}

const MAIL: &str = "MAIL FROM:<sender+tag@example.test> RET=HDRS ENVID=order+2042+2Bx+3Dy";
const RCPT_A: &str =
    "RCPT TO:<a+b@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+2Bb@example.test";
const RCPT_C: &str =
    "RCPT TO:<c@example.test> NOTIFY=NEVER ORCPT=rfc822;first+3Downer@example.test";

fn lines_starting(server: &ScriptedServer, verbs: &[&str]) -> Vec<String> {
    server
        .log()
        .into_iter()
        .filter(|l| verbs.iter().any(|v| l.starts_with(v)))
        .collect()
}

#[tokio::test]
async fn dsn_parameters_go_out_xtext_encoded_on_pipelined_data() {
    let s = server(DSN_PIPELINING);
    let (t, _) = transport(&s);
    t.send(&dsn_envelope(), message()).await.unwrap();
    assert_eq!(
        lines_starting(&s, &["MAIL", "RCPT"]),
        vec![MAIL, RCPT_A, RCPT_C]
    );
}

#[tokio::test]
async fn dsn_parameters_go_out_one_command_at_a_time_without_pipelining() {
    let s = server(NO_PIPELINING);
    let (t, _) = transport(&s);
    t.send(&dsn_envelope(), message()).await.unwrap();
    assert_eq!(
        lines_starting(&s, &["MAIL", "RCPT"]),
        vec![MAIL, RCPT_A, RCPT_C]
    );
}

#[tokio::test]
async fn every_message_of_a_windowed_bdat_batch_carries_its_own_parameters() {
    let s = server(DSN_CHUNKING);
    let (builder, _) = plain(s.port());
    let t = builder.pipeline_window(3).build().unwrap();
    let items: Vec<_> = (0..5)
        .map(|i| {
            let e = envelope("s@example.test", &[&format!("r{i}@example.test")]).with_dsn(
                Dsn::new()
                    .envid(&format!("id={i}"))
                    .unwrap()
                    .notify(Notify::DELAY),
            );
            (e, message())
        })
        .collect();
    let results = t.send_batch(items).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let mut want = Vec::new();
    for i in 0..5 {
        want.push(format!("MAIL FROM:<s@example.test> ENVID=id+3D{i}"));
        want.push(format!("RCPT TO:<r{i}@example.test> NOTIFY=DELAY"));
    }
    assert_eq!(lines_starting(&s, &["MAIL", "RCPT"]), want);
}

#[tokio::test]
async fn a_dsn_request_is_refused_before_mail_when_the_server_lacks_dsn() {
    let s = server(NO_DSN);
    let (t, _) = transport(&s);
    let e = t.send(&dsn_envelope(), message()).await.unwrap_err();
    assert!(matches!(e, Error::DsnNotSupported), "{e:?}");
    assert!(e.is_permanent());
    assert_eq!(e.coded_hint().unwrap().code, "dsn-not-supported");
    assert!(e.to_string().contains("does not offer DSN"), "{e}");
    assert!(
        lines_starting(&s, &["MAIL", "RCPT", "BDAT"]).is_empty(),
        "{:?}",
        s.log()
    );
    // The session is still good: a message without a request goes.
    t.send(&envelope("s@example.test", &["r@example.test"]), message())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_dsn_request_is_dropped_with_an_event_when_so_configured() {
    let s = server(NO_DSN);
    let (t, transcript) = transport(&s);
    let e = envelope("s@example.test", &["r@example.test"]).with_dsn(
        Dsn::new()
            .notify(Notify::SUCCESS)
            .ret(Ret::Full)
            .if_unsupported(IfUnsupported::Drop),
    );
    t.send(&e, message()).await.unwrap();
    assert_eq!(
        lines_starting(&s, &["MAIL", "RCPT"]),
        vec!["MAIL FROM:<s@example.test>", "RCPT TO:<r@example.test>"]
    );
    let dropped = transcript
        .events()
        .into_iter()
        .filter(|e| matches!(e, SessionEvent::DsnDropped { from } if from == "<s@example.test>"))
        .count();
    assert_eq!(dropped, 1);
}

#[tokio::test]
async fn the_envelope_check_sends_and_refuses_the_same_parameters() {
    let s = server(DSN_PIPELINING);
    let (t, _) = transport(&s);
    let mut session = t.connect().await.unwrap();
    session.check_envelope(&dsn_envelope()).await.unwrap();
    assert_eq!(
        lines_starting(&s, &["MAIL", "RCPT"]),
        vec![MAIL, RCPT_A, RCPT_C]
    );
    let no_dsn = server(NO_DSN);
    let (t, _) = transport(&no_dsn);
    let mut session = t.connect().await.unwrap();
    let e = session.check_envelope(&dsn_envelope()).await.unwrap_err();
    assert!(matches!(e, Error::DsnNotSupported), "{e:?}");
    assert!(lines_starting(&no_dsn, &["MAIL"]).is_empty());
}

#[tokio::test]
async fn requiretls_is_refused_before_mail_on_a_session_without_tls() {
    // The server even offers REQUIRETLS: without TLS it means nothing.
    let s = server("250-scripted\r\n250-PIPELINING\r\n250 REQUIRETLS\r\n");
    let (t, _) = transport(&s);
    let e = envelope("s@example.test", &["r@example.test"]).with_require_tls(true);
    let err = t.send(&e, message()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::RequireTls {
                problem: RequireTlsProblem::NoTls
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.coded_hint().unwrap().code, "requiretls-no-tls");
    assert!(err.to_string().contains("not encrypted"), "{err}");
    assert!(lines_starting(&s, &["MAIL"]).is_empty(), "{:?}", s.log());
}
