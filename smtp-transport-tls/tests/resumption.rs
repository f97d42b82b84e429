//! TLS session resumption against the rig's Postfix and aiosmtpd (TLS 1.3
//! tickets): connections made with one upgrade share its session cache.

mod common;

use common::*;
use smtp_core::{Security, SmtpTransport};
use smtp_transport_tls::TlsVersion;

/// Whether each of two STARTTLS connections in a row resumed. (Two: the
/// rig's Postfix issues one ticket per full handshake and none on a
/// resumed one, and rustls uses a TLS 1.3 ticket once, so a third would
/// be a full handshake again.)
async fn resumed_in_a_row(transport: &SmtpTransport) -> Vec<bool> {
    let mut resumed = Vec::new();
    for _ in 0..2 {
        let session = transport.connect().await.expect("a STARTTLS session");
        let info = session.tls_info().expect("tls info");
        assert_eq!(info.version, "TLSv1.3");
        assert!(info.verified, "a resumed session stays verified");
        resumed.push(info.resumed);
        session.quit().await;
    }
    resumed
}

#[tokio::test]
async fn later_connections_resume_the_first_ones_session() {
    let upgrade = rig_tls().min_version(TlsVersion::Tls1_3).build().unwrap();
    let port = peers().postfix_tls13_starttls_port;
    let transport = transport(port, Security::StartTlsRequired, upgrade);
    assert_eq!(resumed_in_a_row(&transport).await, [false, true]);
}

#[tokio::test]
async fn resumption_off_makes_every_handshake_a_full_one() {
    let upgrade = rig_tls()
        .min_version(TlsVersion::Tls1_3)
        .resumption(false)
        .build()
        .unwrap();
    let port = peers().postfix_tls13_starttls_port;
    let transport = transport(port, Security::StartTlsRequired, upgrade);
    assert_eq!(resumed_in_a_row(&transport).await, [false, false]);
}

/// aiosmtpd (Python's `ssl` on OpenSSL) sends a fresh ticket after a
/// resumed handshake too, unlike Postfix (whose ticket callback renews
/// tickets only when built with `session_ticket_debug`): with such a
/// server the cache resumes every connection after the first, so the
/// alternation against Postfix is the server's doing, not the client's.
#[tokio::test]
async fn every_later_connection_resumes_when_the_server_renews_tickets() {
    let upgrade = rig_tls().min_version(TlsVersion::Tls1_3).build().unwrap();
    let port = peers().aiosmtpd_starttls_port;
    let transport = authed_transport(port, Security::StartTlsRequired, upgrade);
    let mut resumed = Vec::new();
    for _ in 0..4 {
        let session = transport.connect().await.expect("a STARTTLS session");
        let info = session.tls_info().expect("tls info");
        assert_eq!(info.version, "TLSv1.3");
        resumed.push(info.resumed);
        session.quit().await;
    }
    assert_eq!(resumed, [false, true, true, true]);
}
