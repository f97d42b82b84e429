//! Password mechanisms against the rig's Postfix + Dovecot on the plain
//! port (AUTH offered in clear there): each succeeds with the right
//! password and gets 535 with a wrong one; the transcript never shows it.

mod common;

use std::time::Duration;

use common::{assert_no_secrets, connect, peers};
use secrecy::ExposeSecret;
use smtp_auth::{Credentials, MechanismKind, SaslAuthenticator};
use smtp_core::{Address, Envelope, MessageSource};

const WRONG: &str = "Wrong-Pass-9";

fn auth(user: &str, pass: &str, kind: MechanismKind) -> SaslAuthenticator {
    SaslAuthenticator::builder()
        .credentials(Credentials::password(user, pass))
        .mechanisms([kind])
        // Only PLAIN and LOGIN need it; SCRAM and CRAM-MD5 must work without.
        .allow_cleartext(kind.sends_secret_in_clear())
        .build()
        .unwrap()
}

async fn succeeds(kind: MechanismKind) {
    let p = peers();
    let pass = p.smtp_pass.expose_secret();
    let attempt = connect(p.postfix_plain_port, auth(&p.smtp_user, pass, kind)).await;
    let text = attempt.text();
    attempt.expect_authenticated(kind.name()).quit().await;
    assert_no_secrets(&text, &p.smtp_user, &[pass]);
}

async fn fails(kind: MechanismKind) {
    let p = peers();
    let attempt = connect(p.postfix_plain_port, auth(&p.smtp_user, WRONG, kind)).await;
    let text = attempt.text();
    attempt.expect_rejected_535(kind.name());
    assert_no_secrets(&text, &p.smtp_user, &[WRONG, p.smtp_pass.expose_secret()]);
}

async fn utf8_user(kind: MechanismKind) {
    let p = peers();
    let pass = p.smtp_pass2.expose_secret();
    assert!(!pass.is_ascii(), "PEERS_SMTP_PASS2 should be non-ASCII");
    let attempt = connect(p.postfix_plain_port, auth(&p.smtp_user2, pass, kind)).await;
    let text = attempt.text();
    attempt.expect_authenticated(kind.name()).quit().await;
    assert_no_secrets(&text, &p.smtp_user2, &[pass]);
}

macro_rules! mechanism_tests {
    ($($ok:ident, $bad:ident, $kind:expr;)*) => {$(
        #[tokio::test]
        async fn $ok() {
            succeeds($kind).await;
        }
        #[tokio::test]
        async fn $bad() {
            fails($kind).await;
        }
    )*};
}

mechanism_tests! {
    plain_succeeds, plain_wrong_password_gets_535, MechanismKind::Plain;
    login_succeeds, login_wrong_password_gets_535, MechanismKind::Login;
    cram_md5_succeeds, cram_md5_wrong_password_gets_535, MechanismKind::CramMd5;
    scram_sha256_succeeds, scram_sha256_wrong_password_gets_535, MechanismKind::ScramSha256;
    scram_sha1_succeeds, scram_sha1_wrong_password_gets_535, MechanismKind::ScramSha1;
}

#[tokio::test]
async fn utf8_password_with_plain() {
    utf8_user(MechanismKind::Plain).await;
}

#[tokio::test]
async fn utf8_password_with_scram_sha256() {
    utf8_user(MechanismKind::ScramSha256).await;
}

#[tokio::test]
async fn utf8_password_with_scram_sha1() {
    utf8_user(MechanismKind::ScramSha1).await;
}

#[tokio::test]
async fn utf8_password_with_cram_md5() {
    utf8_user(MechanismKind::CramMd5).await;
}

#[tokio::test]
async fn default_choice_without_tls_is_scram_sha256() {
    // Everything enabled, cleartext not allowed: the strongest wins.
    let p = peers();
    let pass = p.smtp_pass.expose_secret();
    let a = SaslAuthenticator::builder()
        .credentials(Credentials::password(&p.smtp_user, pass))
        .build()
        .unwrap();
    let attempt = connect(p.postfix_plain_port, a).await;
    let text = attempt.text();
    attempt.expect_authenticated("SCRAM-SHA-256").quit().await;
    assert_no_secrets(&text, &p.smtp_user, &[pass]);
}

#[tokio::test]
async fn plain_without_tls_is_refused_before_sending_anything() {
    let p = peers();
    let pass = p.smtp_pass.expose_secret();
    let a = SaslAuthenticator::builder()
        .credentials(Credentials::password(&p.smtp_user, pass))
        .mechanisms([MechanismKind::Plain, MechanismKind::Login])
        .build()
        .unwrap();
    let attempt = connect(p.postfix_plain_port, a).await;
    let text = attempt.text();
    let e = attempt.expect_sasl_error();
    assert!(
        matches!(&e, smtp_auth::Error::CleartextRefused { mechanisms, .. } if mechanisms == &["PLAIN", "LOGIN"]),
        "{e}"
    );
    assert!(
        e.to_string().contains("would send the password in clear"),
        "{e}"
    );
    assert!(!text.contains("C: AUTH"), "nothing may be sent:\n{text}");
    assert_no_secrets(&text, &p.smtp_user, &[pass]);
}

#[tokio::test]
async fn no_auth_before_starttls_explains_itself() {
    // Port 2588 offers AUTH only after STARTTLS; we connect without TLS.
    let p = peers();
    let pass = p.smtp_pass.expose_secret();
    let a = SaslAuthenticator::builder()
        .credentials(Credentials::password(&p.smtp_user, pass))
        .build()
        .unwrap();
    let attempt = connect(p.postfix_starttls_optional_port, a).await;
    let text = attempt.text();
    let e = attempt.expect_sasl_error().to_string();
    let ntlm = if cfg!(feature = "ntlm") { "NTLM, " } else { "" };
    assert!(
        e == format!(
            "no usable auth mechanism: the server offers none, enabled here: SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, {ntlm}PLAIN, LOGIN; the server offers no AUTH before STARTTLS"
        ),
        "{e}"
    );
    assert_no_secrets(&text, &p.smtp_user, &[pass]);
}

#[tokio::test]
async fn forced_mechanism_is_sent_even_when_not_advertised() {
    // Port 2588 advertises no AUTH before TLS; forcing CRAM-MD5 still sends
    // it, and Postfix refuses it itself.
    let p = peers();
    let pass = p.smtp_pass.expose_secret();
    let a = SaslAuthenticator::builder()
        .credentials(Credentials::password(&p.smtp_user, pass))
        .force_mechanism(MechanismKind::CramMd5)
        .build()
        .unwrap();
    let attempt = connect(p.postfix_starttls_optional_port, a).await;
    let text = attempt.text();
    assert!(text.contains("C: AUTH CRAM-MD5"), "{text}");
    match attempt.result {
        Err(smtp_core::Error::Rejected {
            phase: smtp_core::Phase::Auth,
            reply,
        }) => {
            assert!(reply.is_permanent(), "{reply}");
        }
        Err(e) => panic!("expected the server's refusal, got {e}\n{text}"),
        Ok(_) => panic!("AUTH succeeded where the server does not offer it\n{text}"),
    }
    assert_no_secrets(&text, &p.smtp_user, &[pass]);
}

#[tokio::test]
async fn authenticated_mail_is_delivered_as_the_user() {
    let p = peers();
    let pass = p.smtp_pass.expose_secret();
    let attempt = connect(
        p.postfix_plain_port,
        auth(&p.smtp_user, pass, MechanismKind::ScramSha256),
    )
    .await;
    let transcript = attempt.transcript.clone();
    let mut session = attempt.expect_authenticated("SCRAM-SHA-256");
    let tag = smtp_testkit::unique_tag("smtp-auth-scram");
    let envelope = Envelope::new(
        Some(Address::new(&p.smtp_user).unwrap()),
        vec![Address::new("rcpt@example.org").unwrap()],
    )
    .unwrap();
    let body = format!(
        "From: {u}\r\nTo: rcpt@example.org\r\nSubject: {tag}\r\nMessage-ID: <{tag}@example.test>\r\n\r\nauthenticated\r\n",
        u = p.smtp_user
    );
    session
        .send(&envelope, MessageSource::from_bytes(body))
        .await
        .expect("message accepted");
    session.quit().await;
    let maildir = p.postfix_maildir.clone();
    let found = tokio::task::spawn_blocking(move || {
        smtp_testkit::wait_for_mail(&maildir, &tag, Duration::from_secs(20))
    })
    .await
    .unwrap();
    let mail = String::from_utf8_lossy(&found[0]);
    // Postfix's smtpd_sasl_authenticated_header: proof the server saw our login.
    assert!(
        mail.contains(&format!("(Authenticated sender: {})", p.smtp_user)),
        "{mail}"
    );
    assert_no_secrets(&transcript.text(), &p.smtp_user, &[pass]);
}

#[test]
#[should_panic(expected = "transcript leaks a secret form")]
fn leak_check_catches_a_plain_blob() {
    // The check itself must be able to fail: an unredacted AUTH PLAIN line.
    let blob = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "\0u@x\0pw-123");
    assert_no_secrets(&format!("C: AUTH PLAIN {blob}\n"), "u@x", &["pw-123"]);
}
