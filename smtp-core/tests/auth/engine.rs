//! The engine's AUTH exchange against real Postfix + Dovecot, with a
//! minimal mechanism written here (the real ones live in smtp-auth).

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use secrecy::SecretSlice;
use smtp_core::sasl::{AuthContext, Authenticator, Mechanism, SecretBytes};
use smtp_core::{BoxError, Error, Phase};
use smtp_testkit::engine::*;

#[derive(Debug)]
struct Plain {
    user: String,
    pass: String,
    allow_cleartext: bool,
}

struct PlainMech(Vec<u8>);

impl Mechanism for PlainMech {
    fn name(&self) -> &'static str {
        "PLAIN"
    }
    fn initial_response(&mut self) -> Option<SecretBytes> {
        Some(SecretSlice::from(std::mem::take(&mut self.0)))
    }
    fn respond(&mut self, _: &[u8]) -> Result<SecretBytes, BoxError> {
        Err("unexpected challenge".into())
    }
    fn sends_secret_in_clear(&self) -> bool {
        true
    }
}

#[async_trait]
impl Authenticator for Plain {
    async fn mechanism(&self, _: &AuthContext<'_>) -> Result<Option<Box<dyn Mechanism>>, BoxError> {
        Ok(Some(Box::new(PlainMech(
            format!("\0{}\0{}", self.user, self.pass).into_bytes(),
        ))))
    }
    fn allow_cleartext(&self) -> bool {
        self.allow_cleartext
    }
}

fn creds(pass: &str, allow_cleartext: bool) -> Arc<Plain> {
    let p = smtp_testkit::peers();
    Arc::new(Plain {
        user: p.get("PEERS_SMTP_USER").unwrap().to_string(),
        pass: pass.to_string(),
        allow_cleartext,
    })
}

#[tokio::test]
async fn cleartext_mechanism_refused_without_tls_and_nothing_sent() {
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let pass = smtp_testkit::peers()
        .get("PEERS_SMTP_PASS")
        .unwrap()
        .to_string();
    let t = builder.authenticator(creds(&pass, false)).build().unwrap();
    let err = t.connect().await.unwrap_err();
    assert!(matches!(err, Error::CleartextAuthRefused { .. }), "{err:?}");
    assert!(!transcript.text().contains("C: AUTH"));
    assert!(err.hint().unwrap().contains("allow_cleartext"));
}

#[tokio::test]
async fn exchange_succeeds_and_is_redacted() {
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let pass = smtp_testkit::peers()
        .get("PEERS_SMTP_PASS")
        .unwrap()
        .to_string();
    let t = builder.authenticator(creds(&pass, true)).build().unwrap();
    let s = t.connect().await.unwrap();
    assert_eq!(s.authenticated_mechanism(), Some("PLAIN"));
    let text = transcript.text();
    assert!(text.contains("C: AUTH PLAIN <redacted>"), "{text}");
    let user = smtp_testkit::peers().get("PEERS_SMTP_USER").unwrap();
    let blob = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"));
    assert!(!text.contains(&pass) && !text.contains(&blob), "{text}");
    s.quit().await;
}

#[tokio::test]
async fn wrong_password_is_a_535_in_the_auth_phase() {
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder
        .authenticator(creds("wrong-password", true))
        .build()
        .unwrap();
    let err = t.connect().await.unwrap_err();
    assert_eq!(err.phase(), Phase::Auth);
    assert_eq!(err.reply().unwrap().code, 535);
    assert!(err.is_permanent());
    assert!(err.hint().unwrap().contains("app password"));
    assert!(!transcript.text().contains("wrong-password"));
}

#[tokio::test]
async fn rejected_auth_reply_echoing_the_blob_or_password_is_redacted() {
    use smtp_testkit::{ScriptedServer, Step};
    let pass = "Echoed-Secret-77";
    let user = smtp_testkit::peers()
        .get("PEERS_SMTP_USER")
        .unwrap()
        .to_string();
    let b64 = base64::engine::general_purpose::STANDARD;
    let blob = b64.encode(format!("\0{user}\0{pass}"));
    let pass_b64 = b64.encode(pass);
    let reply = format!("535-5.7.8 bad login {blob}\r\n535 5.7.8 password {pass} ({pass_b64})\r\n");
    let server = ScriptedServer::scripted(
        vec![
            Step::send("220 scripted ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::send("250-scripted\r\n250 AUTH PLAIN\r\n"),
            Step::Expect("AUTH PLAIN"),
            Step::send(reply),
            Step::Drain,
        ],
        "250 scripted\r\n",
    );
    let (builder, transcript) = plain(server.port());
    let t = builder.authenticator(creds(pass, true)).build().unwrap();
    let err = t.connect().await.unwrap_err();
    assert_eq!(err.phase(), Phase::Auth);
    let shown = format!("{err} {:?} {}", err.reply(), transcript.text());
    for secret in [pass, blob.as_str(), pass_b64.as_str()] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(err.to_string().contains("bad login <redacted>"), "{err}");
}
