//! TLS inside the tunnel, end to end with Postfix: STARTTLS on 2587 and
//! implicit TLS on 2465, both with AUTH, through SOCKS5 and HTTP CONNECT
//! proxies that require credentials.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{peers, url};
use secrecy::ExposeSecret;
use smtp_auth::{Credentials, SaslAuthenticator};
use smtp_core::ProxyUrl;
use smtp_core::{
    Address, Envelope, MessageSource, Security, SmtpTransport, TcpConnector, Timeouts, Transport,
};
use smtp_proxy::ProxyUrlExt;
use smtp_transport_tls::RustlsUpgrade;

async fn send_tls(proxy: ProxyUrl, security: Security, port: u16, what: &str) {
    let p = peers();
    let tls = RustlsUpgrade::builder()
        .add_ca_file(p.ca_cert.clone())
        .build()
        .expect("tls config");
    let auth = SaslAuthenticator::builder()
        .credentials(Credentials::password(
            p.smtp_user.clone(),
            p.smtp_pass.expose_secret().to_string(),
        ))
        .build()
        .expect("authenticator");
    // "localhost": the proxy resolves it (socks5h / CONNECT), and it is
    // the name the server certificate is checked against.
    let transport = SmtpTransport::builder("localhost")
        .port(port)
        .security(security)
        .tls(Arc::new(tls))
        .authenticator(Arc::new(auth))
        .connector(proxy.connector(TcpConnector::new()))
        .ehlo_name("client.example")
        .timeouts(Timeouts::uniform(Duration::from_secs(10)))
        .build()
        .expect("transport");
    let tag = smtp_testkit::unique_tag("smtp-proxy-tls");
    let envelope = Envelope::new(
        Some(Address::new("sender@example.net").unwrap()),
        vec![Address::new("rcpt@example.org").unwrap()],
    )
    .unwrap();
    let message = format!(
        "From: sender@example.net\r\nTo: rcpt@example.org\r\nSubject: {tag}\r\n\r\n{what}\r\n"
    );
    let sent = transport
        .send(&envelope, MessageSource::from_bytes(message))
        .await;
    sent.unwrap_or_else(|e| panic!("{what}: {e} (hint: {:?})", e.hint()));
    transport.close().await;
    let found =
        smtp_testkit::wait_for_mail_async(&p.postfix_maildir, &tag, Duration::from_secs(10)).await;
    let text = String::from_utf8_lossy(&found[0]);
    // Postfix records TLS and the SASL user in its Received header.
    assert!(text.contains("using TLSv1."), "{what}: no TLS in {text}");
    assert!(
        text.contains(&format!("(Authenticated sender: {})", p.smtp_user)),
        "{what}: {text}"
    );
}

#[tokio::test]
async fn starttls_through_socks5_with_auth() {
    let p = peers();
    let proxy = url("socks5h", p.socks5_auth_port, true);
    send_tls(
        proxy,
        Security::StartTlsRequired,
        p.postfix_submission_port,
        "starttls via microsocks",
    )
    .await;
}

#[tokio::test]
async fn implicit_tls_through_http_connect_with_auth() {
    let p = peers();
    let proxy = url("http", p.squid_auth_port, true);
    send_tls(
        proxy,
        Security::ImplicitTls,
        p.postfix_smtps_port,
        "implicit tls via squid",
    )
    .await;
}
