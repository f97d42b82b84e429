//! REQUIRETLS (RFC 8689) over real TLS: the MAIL parameter goes out only
//! on a TLS session with a verified certificate to a server that offers
//! REQUIRETLS after the handshake; anything else is refused before MAIL
//! with its own hint code. Postfix does not offer REQUIRETLS, so the
//! server is the testkit's scripted one over rustls with the rig's
//! certificate.

#![cfg(feature = "ring")]

mod common;

use common::{message, rig_tls, transport};
use smtp_core::{Error, RequireTlsProblem, Security, Transport};
use smtp_testkit::{ScriptedServer, Step, rig_tls_accept};

const OFFERS_REQUIRETLS: &str =
    "250-scripted\r\n250-PIPELINING\r\n250-REQUIRETLS\r\n250 STARTTLS\r\n";

fn well_behaved(ehlo: &'static str) -> ScriptedServer {
    let accept = rig_tls_accept();
    ScriptedServer::start(move |mut c| {
        let accept = accept.clone();
        async move { c.serve(ehlo, Some(&accept)).await }
    })
}

fn mail_lines(server: &ScriptedServer) -> Vec<String> {
    server
        .log()
        .into_iter()
        .filter(|l| l.starts_with("MAIL"))
        .collect()
}

fn problem(e: &Error) -> RequireTlsProblem {
    match e {
        Error::RequireTls { problem } => *problem,
        other => panic!("expected a REQUIRETLS refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn requiretls_goes_on_mail_over_verified_tls_to_a_server_offering_it() {
    let s = well_behaved(OFFERS_REQUIRETLS);
    let t = transport(
        s.port(),
        Security::StartTlsRequired,
        rig_tls().build().unwrap(),
    );
    let (envelope, msg) = message("requiretls-ok");
    t.send(&envelope.with_require_tls(true), msg).await.unwrap();
    assert_eq!(
        mail_lines(&s),
        vec!["MAIL FROM:<sender@example.net> REQUIRETLS"]
    );
    // Without the option, the same server gets no parameter.
    let (envelope, msg) = message("requiretls-off");
    t.send(&envelope, msg).await.unwrap();
    assert_eq!(mail_lines(&s)[1], "MAIL FROM:<sender@example.net>");
}

#[tokio::test]
async fn requiretls_is_refused_when_the_server_does_not_offer_it() {
    let s = well_behaved("250-scripted\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
    let t = transport(
        s.port(),
        Security::StartTlsRequired,
        rig_tls().build().unwrap(),
    );
    let (envelope, msg) = message("requiretls-not-offered");
    let e = t
        .send(&envelope.with_require_tls(true), msg)
        .await
        .unwrap_err();
    assert_eq!(problem(&e), RequireTlsProblem::NotOffered);
    assert_eq!(e.coded_hint().unwrap().code, "requiretls-not-offered");
    assert!(e.is_permanent());
    assert!(mail_lines(&s).is_empty(), "{:?}", s.log());
}

#[tokio::test]
async fn requiretls_is_refused_when_the_certificate_was_not_verified() {
    let s = well_behaved(OFFERS_REQUIRETLS);
    let unverified = rig_tls()
        .dangerous_accept_invalid_certs(true)
        .build()
        .unwrap();
    let t = transport(s.port(), Security::StartTlsRequired, unverified);
    let (envelope, msg) = message("requiretls-unverified");
    let e = t
        .send(&envelope.with_require_tls(true), msg)
        .await
        .unwrap_err();
    assert_eq!(problem(&e), RequireTlsProblem::UnverifiedCertificate);
    assert_eq!(e.coded_hint().unwrap().code, "requiretls-unverified");
    assert!(e.to_string().contains("not verified"), "{e}");
    assert!(mail_lines(&s).is_empty(), "{:?}", s.log());
}

#[tokio::test]
async fn requiretls_offered_only_in_clear_before_starttls_does_not_count() {
    // RFC 3207 §4.2: what was said before TLS is forgotten; only the
    // EHLO after the handshake decides.
    let s = ScriptedServer::scripted_with(
        vec![
            Step::send("220 scripted ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::send(OFFERS_REQUIRETLS),
            Step::Expect("STARTTLS"),
            Step::send("220 2.0.0 go ahead\r\n"),
            Step::Tls,
            Step::Expect("EHLO"),
            Step::send("250-scripted\r\n250 PIPELINING\r\n"),
            Step::Drain,
        ],
        OFFERS_REQUIRETLS,
        Some(rig_tls_accept()),
    );
    let t = transport(
        s.port(),
        Security::StartTlsRequired,
        rig_tls().build().unwrap(),
    );
    let (envelope, msg) = message("requiretls-forged");
    let e = t
        .send(&envelope.with_require_tls(true), msg)
        .await
        .unwrap_err();
    assert_eq!(problem(&e), RequireTlsProblem::NotOffered);
    assert!(mail_lines(&s).is_empty(), "{:?}", s.log());
}
