//! Mutual TLS against the rig's Postfix port that requires a client
//! certificate from the test CA.

use crate::common::*;
use smtp_core::{Phase, Security, Transport};
use smtp_testkit::{unique_tag, wait_for_mail_async};
use smtp_transport_tls::{Error, RustlsUpgradeBuilder};

async fn connect(config: RustlsUpgradeBuilder) -> Result<smtp_core::Session, smtp_core::Error> {
    let port = peers().postfix_mtls_port;
    transport(port, Security::ImplicitTls, config.build().unwrap())
        .connect()
        .await
}

#[tokio::test]
async fn accepted_with_the_client_certificate() {
    let p = peers();
    let config = rig_tls().client_auth(&p.client_cert, &p.client_key);
    let session = connect(config.clone()).await.expect("mTLS session");
    assert!(
        session.greeting().contains("ESMTP"),
        "{}",
        session.greeting()
    );
    assert!(session.tls_info().unwrap().verified);
    session.quit().await;

    let transport = transport(
        p.postfix_mtls_port,
        Security::ImplicitTls,
        config.build().unwrap(),
    );
    let tag = unique_tag("tls-mtls");
    let (envelope, message) = message(&tag);
    transport
        .send(&envelope, message)
        .await
        .expect("mail accepted over mTLS");
    transport.close().await;
    let mail = wait_for_mail_async(p.postfix_maildir.clone(), tag, LIMIT).await;
    let mail = String::from_utf8_lossy(&mail[0]).into_owned();
    assert!(mail.contains("using TLSv1.3"), "{mail}");
}

#[tokio::test]
async fn refused_without_a_client_certificate() {
    // Postfix completes the handshake, then answers 421 instead of 220.
    let err = connect(rig_tls()).await.expect_err("no client certificate");
    let reply = err
        .reply()
        .unwrap_or_else(|| panic!("a server reply: {err:?}"));
    assert_eq!(err.phase(), Phase::Greeting, "{err}");
    assert_eq!(reply.code, 421, "{reply}");
    assert!(
        reply.text().contains("No client certificate presented"),
        "{reply}"
    );
}

#[tokio::test]
async fn refused_with_an_untrusted_client_certificate() {
    let p = peers();
    let config = rig_tls().client_auth(&p.untrusted_client_cert, &p.untrusted_client_key);
    let err = connect(config)
        .await
        .expect_err("untrusted client certificate");
    let reply = err
        .reply()
        .unwrap_or_else(|| panic!("a server reply: {err:?}"));
    assert_eq!(reply.code, 421, "{reply}");
    assert!(
        reply.text().contains("Client certificate not trusted"),
        "{reply}"
    );
}

#[test]
fn certificate_and_key_must_belong_together() {
    let p = peers();
    let err = rig_tls()
        .client_auth(&p.client_cert, &p.untrusted_client_key)
        .build()
        .expect_err("key of another certificate");
    assert!(matches!(err, Error::ClientAuth { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&p.client_cert.display().to_string()),
        "{text}"
    );
    assert!(
        text.contains(&p.untrusted_client_key.display().to_string()),
        "{text}"
    );
}

/// A TLS 1.3 server that verifies client certificates only says "no"
/// after our side of the handshake is done. rustls' own server (real TLS,
/// not a mock) does exactly that; the refusal must still surface as this
/// crate's error, through the stream the session reads its greeting from.
#[tokio::test]
async fn refusal_after_the_tls13_handshake_is_explained() {
    use std::sync::Arc;

    use rustls::server::WebPkiClientVerifier;
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::io::AsyncReadExt;

    let p = peers();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(&p.ca_cert).unwrap())
        .unwrap();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .unwrap();
    let chain: Vec<_> = CertificateDer::pem_file_iter(&p.server_chain)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(&p.server_key).unwrap();
    let server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        acceptor.accept(tcp).await.map(|_| ())
    });

    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let upgrade = rig_tls().build().unwrap();
    let (mut tls, _) = upgrade
        .handshake(Box::new(tcp), "localhost")
        .await
        .expect("TLS 1.3: our side of the handshake completes");
    let mut buf = [0u8; 16];
    let err = tokio::time::timeout(LIMIT, tls.read(&mut buf))
        .await
        .expect("the server answered in time")
        .expect_err("the server refuses us");
    let ours = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<Error>())
        .unwrap_or_else(|| panic!("not explained: {err:?}"));
    assert!(
        matches!(ours, Error::ClientCertificateRequired { .. }),
        "{ours:?}"
    );
    assert!(
        ours.to_string().contains("requires a client certificate"),
        "{ours}"
    );
    assert!(
        ours.coded_hint().text.contains("{TlsClientCert}"),
        "{}",
        ours.coded_hint()
    );
    assert!(
        server.await.unwrap().is_err(),
        "the server refused the handshake"
    );
}
