//! Mail delivered over implicit TLS and STARTTLS to the rig's Postfix,
//! read back from its Maildir; handshakes over other kinds of stream.

mod common;

use std::sync::Arc;

use common::*;
use smtp_core::{BoxStream, Security, Transport};
use smtp_testkit::openssl_pin;
use smtp_testkit::{unique_tag, wait_for_mail_async};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn deliver_and_read_back(port: u16, security: Security) -> String {
    let p = peers();
    let transport = authed_transport(port, security, rig_tls().build().unwrap());
    let tag = unique_tag("tls-delivery");
    let (envelope, message) = message(&tag);
    let delivery = transport
        .send(&envelope, message)
        .await
        .expect("mail accepted");
    assert!(delivery.is_complete(), "{delivery:?}");
    transport.close().await;
    let mails = wait_for_mail_async(p.postfix_maildir.clone(), tag.clone(), LIMIT).await;
    String::from_utf8_lossy(&mails[0]).into_owned()
}

fn assert_received_over_tls13(mail: &str) {
    let received: Vec<&str> = mail.lines().filter(|l| l.contains("using TLSv")).collect();
    assert!(
        mail.contains("using TLSv1.3 with cipher"),
        "Postfix's Received header should record TLSv1.3: {received:?}\n{mail}"
    );
    assert!(
        mail.contains("Authenticated sender: tester@example.test"),
        "{mail}"
    );
}

#[tokio::test]
async fn implicit_tls_delivers_over_tls13() {
    let mail = deliver_and_read_back(peers().postfix_smtps_port, Security::ImplicitTls).await;
    assert_received_over_tls13(&mail);
}

#[tokio::test]
async fn starttls_delivers_over_tls13() {
    let mail =
        deliver_and_read_back(peers().postfix_submission_port, Security::StartTlsRequired).await;
    assert_received_over_tls13(&mail);
}

#[tokio::test]
async fn session_reports_what_was_negotiated() {
    let p = peers();
    for (port, security) in [
        (p.postfix_smtps_port, Security::ImplicitTls),
        (p.postfix_submission_port, Security::StartTlsRequired),
    ] {
        let transport = authed_transport(port, security, rig_tls().build().unwrap());
        let session = transport.connect().await.expect("session");
        let info = session.tls_info().expect("tls info").clone();
        session.quit().await;
        assert_eq!(info.version, "TLSv1.3", "{port}");
        assert!(
            info.cipher_suite.starts_with("TLS13_"),
            "{}",
            info.cipher_suite
        );
        assert_eq!(info.alpn, None);
        assert!(info.verified);
        assert_eq!(info.server_name, "localhost");
        check_leaf(&info.peer_certificates, &p.server_cert);
    }
}

/// The leaf's fields (feature `cert-details`), or no list at all without it.
#[cfg(feature = "cert-details")]
fn check_leaf(chain: &[smtp_core::CertificateInfo], server_cert: &std::path::Path) {
    let leaf = &chain[0];
    assert_eq!(leaf.spki_sha256, openssl_pin(server_cert));
    assert!(leaf.subject.contains("CN=localhost"), "{}", leaf.subject);
    assert!(
        leaf.issuer.contains("CN=smtp test rig CA"),
        "{}",
        leaf.issuer
    );
    for name in ["localhost", "mail.example.test", "127.0.0.1", "::1"] {
        assert!(
            leaf.subject_alt_names.iter().any(|n| n == name),
            "{name}: {leaf:?}"
        );
    }
    assert!(
        leaf.not_before < leaf.not_after && leaf.not_after.ends_with('Z'),
        "{leaf:?}"
    );
}

#[cfg(not(feature = "cert-details"))]
fn check_leaf(chain: &[smtp_core::CertificateInfo], _server_cert: &std::path::Path) {
    assert!(chain.is_empty(), "{chain:?}");
}

#[tokio::test]
async fn intent_constructors_verify_against_public_roots() {
    // The rig's CA is not a public root: the safe constructors must refuse
    // it, in their own mode (implicit at connect, or after STARTTLS).
    let p = peers();
    for builder in [
        smtp_transport_tls::implicit_tls("localhost").port(p.postfix_smtps_port),
        smtp_transport_tls::starttls_required("localhost").port(p.postfix_submission_port),
    ] {
        let transport = builder.build().unwrap();
        let err = transport
            .connect()
            .await
            .expect_err("test CA is not trusted by default");
        assert!(
            matches!(tls_error(&err), smtp_transport_tls::Error::UnknownIssuer),
            "{err}"
        );
    }
    // The same constructor with the rig's CA works.
    let transport = smtp_transport_tls::implicit_tls("localhost")
        .port(p.postfix_smtps_port)
        .tls(Arc::new(rig_tls().build().unwrap()))
        .authenticator(Arc::new(Plain::rig_user()))
        .build()
        .unwrap();
    transport.connect().await.expect("session").quit().await;
}

#[tokio::test]
async fn handshake_leaves_the_greeting_unread() {
    let upgrade = rig_tls().build().unwrap();
    let (mut tls, info) = handshake(&upgrade, peers().postfix_smtps_port, "localhost")
        .await
        .unwrap();
    assert_eq!(info.version, "TLSv1.3");
    let greeting = read_reply(&mut tls).await;
    assert!(greeting.starts_with("220 "), "{greeting:?}");
    write(&mut tls, "QUIT\r\n").await;
    assert!(read_reply(&mut tls).await.starts_with("221"));
}

#[tokio::test]
async fn ip_literals_and_names_other_than_the_host() {
    let p = peers();
    let upgrade = rig_tls().build().unwrap();
    // The certificate lists both IP addresses: verified as IP names, no SNI.
    for name in ["127.0.0.1", "[::1]", "::1"] {
        let (_, info) = handshake(&upgrade, p.postfix_smtps_port, name)
            .await
            .expect(name);
        assert!(info.verified, "{name}");
        assert_eq!(info.server_name, name);
    }
    // Connecting to 127.0.0.1 while verifying another listed name.
    let transport = smtp_core::SmtpTransport::builder(p.host.clone())
        .port(p.postfix_smtps_port)
        .security(Security::ImplicitTls)
        .tls(Arc::new(upgrade))
        .tls_server_name("mail.example.test")
        .authenticator(Arc::new(Plain::rig_user()))
        .build()
        .unwrap();
    let session = transport
        .connect()
        .await
        .expect("verified as mail.example.test");
    assert_eq!(session.tls_info().unwrap().server_name, "mail.example.test");
    session.quit().await;
}

#[tokio::test]
async fn through_a_real_http_connect_tunnel() {
    let p = peers();
    let mut stream: BoxStream = Box::new(tcp(p.http_proxy_port).await);
    write(
        &mut stream,
        &format!(
            "CONNECT 127.0.0.1:{0} HTTP/1.1\r\nHost: 127.0.0.1:{0}\r\n\r\n",
            p.postfix_smtps_port
        ),
    )
    .await;
    let status = read_line(&mut stream).await;
    assert!(status.contains(" 200 "), "tinyproxy: {status:?}");
    while read_line(&mut stream).await != "\r\n" {}
    let upgrade = rig_tls().build().unwrap();
    let (mut tls, info) = upgrade
        .handshake(stream, "localhost")
        .await
        .expect("tls through the tunnel");
    assert!(info.verified);
    assert!(read_reply(&mut tls).await.starts_with("220 "));
}

#[tokio::test]
async fn over_a_stream_that_is_not_tcp() {
    // An in-memory pipe relayed to Postfix: the upgrade must not care what
    // the stream is.
    let (ours, relay_end) = tokio::io::duplex(4096);
    let tcp = tcp(peers().postfix_smtps_port).await;
    let relay = tokio::spawn(async move {
        let (mut a, mut b) = (relay_end, tcp);
        let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
    });
    let upgrade = rig_tls().build().unwrap();
    let (mut tls, info) = upgrade
        .handshake(Box::new(ours), "localhost")
        .await
        .expect("tls over a pipe");
    assert_eq!(info.version, "TLSv1.3");
    assert!(read_reply(&mut tls).await.starts_with("220 "));
    tls.write_all(b"QUIT\r\n").await.unwrap();
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(LIMIT, tls.read_to_end(&mut rest)).await;
    assert!(
        String::from_utf8_lossy(&rest).starts_with("221"),
        "{rest:?}"
    );
    // The relay ends once both sides are closed.
    drop(tls);
    tokio::time::timeout(LIMIT, relay)
        .await
        .expect("relay ended")
        .unwrap();
}
