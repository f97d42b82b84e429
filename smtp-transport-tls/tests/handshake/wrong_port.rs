//! Implicit TLS pointed at a plaintext or STARTTLS port: the error must say
//! so and name the fix.

use crate::common::*;
use smtp_core::Security;
use smtp_transport_tls::Error;

fn assert_plaintext(err: &Error) {
    match err {
        Error::PlaintextReply { greeting } => assert!(greeting.starts_with("220 "), "{greeting:?}"),
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("instead of TLS"), "{text}");
    // The fix is the hint, not the message: each says a thing once.
    assert!(!text.contains("starttls"), "{text}");
    let hint = err.coded_hint();
    assert_eq!(hint.code, "tls-plaintext-reply");
    assert!(hint.text.contains("{Security=starttls}"), "{hint}");
}

#[tokio::test]
async fn implicit_tls_against_the_plaintext_port() {
    let p = peers();
    let upgrade = rig_tls().build().unwrap();
    let err = handshake_err(&upgrade, p.postfix_plain_port, "localhost").await;
    assert_plaintext(&err);

    let transport = transport(p.postfix_plain_port, Security::ImplicitTls, upgrade);
    let err = transport.connect().await.unwrap_err();
    assert_eq!(err.phase(), smtp_core::Phase::Tls, "{err}");
    assert_plaintext(tls_error(&err));
}

#[tokio::test]
async fn implicit_tls_against_the_starttls_port() {
    let upgrade = rig_tls().build().unwrap();
    let err = handshake_err(&upgrade, peers().postfix_submission_port, "localhost").await;
    assert_plaintext(&err);
}
