//! TLS inside the tunnel, end to end with Postfix: STARTTLS on 2587 and
//! implicit TLS on 2465, both with AUTH, through SOCKS5 and HTTP CONNECT
//! proxies that require credentials, and through squid's `https_port`
//! (TLS to the proxy, checked with the mail server's TLS settings, and the
//! mail session's own TLS inside that).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{peers, proxy_error, url};
use secrecy::ExposeSecret;
use smtp_auth::{Credentials, SaslAuthenticator};
use smtp_core::ProxyUrl;
use smtp_core::{
    Address, Envelope, MessageSource, Security, SmtpTransport, TcpConnector, Timeouts, Transport,
};
use smtp_core::{Connector, Target, TlsUpgrade};
use smtp_proxy::ProxyUrlExt;
use smtp_proxy::{DEFAULT_HANDSHAKE_TIMEOUT, Error, ProxyPhase};
use smtp_transport_tls::RustlsUpgrade;

fn rig_tls() -> Arc<dyn TlsUpgrade> {
    Arc::new(
        RustlsUpgrade::builder()
            .add_ca_file(peers().ca_cert.clone())
            .build()
            .expect("tls config"),
    )
}

async fn send_tls(proxy: ProxyUrl, security: Security, port: u16, what: &str) {
    let p = peers();
    let tls = rig_tls();
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
        .tls(tls.clone())
        .authenticator(Arc::new(auth))
        // The same TLS settings for an https:// proxy (ignored by the others).
        .connector(proxy.connector_with_tls(
            TcpConnector::new(),
            Some(tls),
            DEFAULT_HANDSHAKE_TIMEOUT,
        ))
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

#[tokio::test]
async fn implicit_tls_inside_an_https_proxy_with_auth() {
    let p = peers();
    let proxy = url("https", p.squid_https_auth_port, true);
    send_tls(
        proxy,
        Security::ImplicitTls,
        p.postfix_smtps_port,
        "implicit tls via squid https_port",
    )
    .await;
}

#[tokio::test]
async fn starttls_inside_an_https_proxy() {
    let p = peers();
    let proxy = url("https", p.squid_https_port, false);
    send_tls(
        proxy,
        Security::StartTlsRequired,
        p.postfix_submission_port,
        "starttls via squid https_port",
    )
    .await;
}

/// Opens a tunnel to Postfix through `url` with `tls`; the proxy error's text.
async fn https_failure(url: ProxyUrl, tls: Option<Arc<dyn TlsUpgrade>>) -> String {
    let p = peers();
    let connector = url.connector_with_tls(TcpConnector::new(), tls, DEFAULT_HANDSHAKE_TIMEOUT);
    let e = connector
        .connect(&Target::new(p.host.clone(), p.postfix_plain_port))
        .await
        .err()
        .expect("the tunnel must not open");
    let e = proxy_error(e.as_ref());
    assert!(matches!(e, Error::ProxyTls { .. }), "{e:?}");
    assert_eq!(e.phase(), ProxyPhase::Connect, "{e}");
    assert_eq!(e.coded_hint().code, "proxy-tls", "{e}");
    e.to_string()
}

#[tokio::test]
async fn https_proxy_certificate_is_checked_with_the_given_trust() {
    let p = peers();
    // The bundled roots only: the rig's CA is unknown.
    let bundled: Arc<dyn TlsUpgrade> = Arc::new(RustlsUpgrade::builder().build().unwrap());
    let text = https_failure(url("https", p.squid_https_port, false), Some(bundled)).await;
    assert!(
        text.starts_with(&format!(
            "TLS to proxy https://{}:{}",
            p.host, p.squid_https_port
        )),
        "{text}"
    );
    assert!(text.to_lowercase().contains("certificate"), "{text}");
}

#[tokio::test]
async fn https_url_on_a_plain_http_proxy_port_fails_in_tls() {
    let p = peers();
    https_failure(url("https", p.squid_port, false), Some(rig_tls())).await;
}

#[tokio::test]
async fn https_url_without_tls_settings_says_so() {
    let p = peers();
    let e = https_failure(url("https", p.squid_https_port, false), None).await;
    assert!(e.contains("no TLS settings"), "{e}");
}
