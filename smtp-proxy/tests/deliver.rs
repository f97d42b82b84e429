//! Mail sent by the smtp-core engine through each real proxy of the rig
//! to Postfix (plain SMTP on 2525), read back from Postfix's Maildir.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{every_proxy, peers, proxy_error, url, url_wrong_password};
use smtp_core::{
    Address, Connector, Envelope, MessageSource, Phase, Security, SmtpTransport, TcpConnector,
    Timeouts, Transport,
};
use smtp_proxy::ProxyUrlExt;
use smtp_proxy::{HttpConnect, ProxyPhase, Socks5};

fn transport(connector: Arc<dyn Connector>) -> SmtpTransport {
    let p = peers();
    SmtpTransport::builder(p.host.clone())
        .port(p.postfix_plain_port)
        .security(Security::None)
        .connector(connector)
        .ehlo_name("client.example")
        .timeouts(Timeouts::uniform(Duration::from_secs(10)))
        .build()
        .expect("transport")
}

/// Sends one message tagged with a unique Subject; returns the tag.
async fn send(transport: &SmtpTransport, what: &str) -> Result<String, smtp_core::Error> {
    let tag = smtp_testkit::unique_tag("smtp-proxy");
    let envelope = Envelope::new(
        Some(Address::new("sender@example.net").unwrap()),
        vec![Address::new("rcpt@example.org").unwrap()],
    )
    .unwrap();
    let message = format!(
        "From: sender@example.net\r\nTo: rcpt@example.org\r\nSubject: {tag}\r\n\
         Message-ID: <{tag}@example.net>\r\n\r\nsent through {what}\r\n"
    );
    transport
        .send(&envelope, MessageSource::from_bytes(message))
        .await?;
    Ok(tag)
}

async fn delivered(tag: &str, what: &str) {
    let found =
        smtp_testkit::wait_for_mail_async(&peers().postfix_maildir, tag, Duration::from_secs(10))
            .await;
    let text = String::from_utf8_lossy(&found[0]);
    assert!(text.contains(&format!("sent through {what}")), "{text}");
}

#[tokio::test]
async fn mail_goes_through_every_proxy() {
    let mut sent = Vec::new();
    for (what, url) in every_proxy() {
        let t = transport(url.connector(TcpConnector::new()));
        let tag = send(&t, what)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e} (hint: {:?})", e.hint()));
        t.close().await;
        sent.push((tag, what));
    }
    // Postfix delivers from its queue about a second later: wait for all at once.
    for (tag, what) in sent {
        delivered(&tag, what).await;
    }
}

#[tokio::test]
async fn mail_goes_through_a_chain() {
    let p = peers();
    let first = Socks5::new(
        TcpConnector::new(),
        smtp_core::Target::new(p.host.clone(), p.socks5_port),
    );
    let chain = HttpConnect::new(
        first,
        smtp_core::Target::new(p.host.clone(), p.http_proxy_port),
    );
    let what = "dante then tinyproxy";
    let t = transport(Arc::new(chain));
    let tag = send(&t, what)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    delivered(&tag, what).await;
    t.close().await;
}

#[tokio::test]
async fn engine_errors_carry_the_proxy_error() {
    let p = peers();
    let t =
        transport(url_wrong_password("socks5h", p.socks5_auth_port).connector(TcpConnector::new()));
    let e = send(&t, "nothing").await.expect_err("wrong proxy password");
    assert_eq!(e.phase(), Phase::Connect, "{e}");
    let proxy = proxy_error(&e);
    assert_eq!(proxy.phase(), ProxyPhase::Auth, "{proxy}");
    assert!(!format!("{e} {e:?}").contains("Wrong-Pass-9"));

    let refused = SmtpTransport::builder("0.0.0.0")
        .port(p.postfix_plain_port)
        .security(Security::None)
        .connector(url("http", p.squid_port, false).connector(TcpConnector::new()))
        .timeouts(Timeouts::uniform(Duration::from_secs(10)))
        .build()
        .unwrap();
    let e = send(&refused, "nothing")
        .await
        .expect_err("squid refuses 0.0.0.0");
    assert!(e.to_string().contains("HTTP 403"), "{e}");
}
