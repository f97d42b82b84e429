//! A hostile server around STARTTLS with the whole wiring a user gets from
//! a config file: rustls (smtp-transport-tls) and the real mechanism
//! choice (smtp-auth). AUTH lists forged in clear before STARTTLS must
//! not change the mechanism chosen after it, nor reach the caller's error.

use std::time::Duration;

use crate::common::Rig;
use smtp_core::{Address, Envelope, Error, MessageSource, Phase, Transport};
use smtp_testkit::{ScriptedServer, Step, peers, rig_tls_accept};

/// Greeting, a forged EHLO in clear, STARTTLS, the handshake, then the
/// real EHLO reply `after_tls`; `rest` follows.
fn server(forged: &str, after_tls: &str, rest: Vec<Step>) -> ScriptedServer {
    let mut steps = vec![
        Step::send("220 forger ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::send(format!("250-forger\r\n{forged}\r\n250 STARTTLS\r\n")),
        Step::Expect("STARTTLS"),
        Step::send("220 go ahead\r\n"),
        Step::Tls,
        Step::Expect("EHLO"),
        Step::send(after_tls),
    ];
    steps.extend(rest);
    ScriptedServer::scripted_with(steps, "250 STARTTLS\r\n", Some(rig_tls_accept()))
}

/// STARTTLS required, the rig's CA, a password login.
fn transport(port: u16) -> smtp_config::BuiltTransport {
    let p = peers();
    let mut rig = Rig::new();
    rig.config(&format!(
        "host = \"{}\"\nport = {port}\nsecurity = \"starttls\"\ntimeout = \"5s\"\n\
         [tls]\nca_file = \"{}\"\n[auth]\nusername = \"user\"\npassword = \"hostile-auth-secret\"\n",
        p.tls_name,
        p.ca_cert.display(),
    ));
    rig.ok().build().unwrap().transport
}

fn envelope() -> Envelope {
    Envelope::new(
        Some(Address::new("a@b.example").unwrap()),
        vec![Address::new("c@d.example").unwrap()],
    )
    .unwrap()
}

#[tokio::test]
async fn a_mechanism_forged_before_starttls_is_not_chosen_after_it() {
    // In clear the "server" offers only SCRAM; after TLS only PLAIN. A
    // client that kept the clear-text list would try SCRAM.
    let server = server(
        "250-AUTH SCRAM-SHA-256",
        "250-forger\r\n250 AUTH PLAIN\r\n",
        [
            vec![Step::Expect("AUTH PLAIN "), Step::send("235 2.7.0 ok\r\n")],
            Step::through_data("MAIL"),
            vec![Step::send("250 2.0.0 queued\r\n"), Step::Drain],
        ]
        .concat(),
    );
    let t = transport(server.port());
    let d = t
        .send(
            &envelope(),
            MessageSource::from_bytes("Subject: x\r\n\r\ny\r\n"),
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{:?}", server.handler_panics()));
    assert!(d.reply.text().contains("queued"));
    assert!(
        !server.log().iter().any(|l| l.contains("SCRAM")),
        "{:?}",
        server.log()
    );
}

#[tokio::test]
async fn a_forged_list_never_reaches_the_error_when_nothing_fits_after_tls() {
    // After TLS only a token mechanism is offered: with a password there is
    // nothing to use, and the error must list what was offered over TLS,
    // not what was forged in clear.
    let server = server(
        "250-AUTH PLAIN LOGIN CRAM-MD5",
        "250-forger\r\n250 AUTH XOAUTH2\r\n",
        vec![Step::Drain],
    );
    let t = transport(server.port());
    let err = t
        .send(&envelope(), MessageSource::from_bytes("x"))
        .await
        .unwrap_err();
    assert_eq!(err.phase(), Phase::Auth, "{err:?}");
    assert!(matches!(err, Error::Sasl { .. }), "{err:?}");
    // (the error also lists what is enabled locally, LOGIN included)
    let text = err.to_string();
    assert!(text.contains("the server offers XOAUTH2,"), "{text}");
    assert!(!text.contains("offers PLAIN"), "{text}");
    server.wait_handled(1, Duration::from_secs(5)).await;
    assert!(!server.log().iter().any(|l| l.starts_with("AUTH")));
}
