//! AUTH exchange edge cases (RFC 4954) and secrets in transcripts.
//! Real Postfix + Dovecot where it can show the behaviour; a scripted
//! server for exchanges a real server would only produce when hostile.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretSlice;
use smtp_core::sasl::{AuthContext, Authenticator, Mechanism, SecretBytes};
use smtp_core::{BoxError, Error, MemoryTranscript, Phase, Security, SmtpTransport, Timeouts};
use smtp_testkit::engine::*;
use smtp_testkit::{ScriptConn, ScriptedServer};

fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

fn creds() -> (String, String) {
    let p = smtp_testkit::peers();
    (
        p.get("PEERS_SMTP_USER").unwrap().to_string(),
        p.get("PEERS_SMTP_PASS").unwrap().to_string(),
    )
}

// ----- raw commands (`smtp shell`) against real Postfix ----------------------

#[tokio::test]
async fn a_typed_auth_plain_line_is_redacted_in_the_transcript() {
    let (user, pass) = creds();
    let blob = b64(&format!("\0{user}\0{pass}"));
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let mut s = builder.build().unwrap().connect().await.unwrap();
    let reply = s.command(&format!("AUTH PLAIN {blob}")).await.unwrap();
    assert_eq!(reply.code, 235, "{reply}");
    let text = transcript.text();
    assert!(!text.contains(&blob), "secret in the transcript:\n{text}");
    assert!(text.contains("C: AUTH PLAIN <redacted>"), "{text}");
    s.quit().await;
}

#[tokio::test]
async fn typed_auth_login_responses_are_redacted_in_the_transcript() {
    let (user, pass) = creds();
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let mut s = builder.build().unwrap().connect().await.unwrap();
    assert_eq!(s.command("AUTH LOGIN").await.unwrap().code, 334);
    assert_eq!(s.command(&b64(&user)).await.unwrap().code, 334);
    assert_eq!(s.command(&b64(&pass)).await.unwrap().code, 235);
    // Back to ordinary commands: shown again.
    assert_eq!(s.command("NOOP").await.unwrap().code, 250);
    let text = transcript.text();
    assert!(
        !text.contains(&b64(&pass)),
        "password in the transcript:\n{text}"
    );
    assert!(text.contains("C: AUTH LOGIN\n"), "{text}");
    assert!(text.contains("C: NOOP"), "{text}");
    assert_eq!(text.matches("C: <redacted>").count(), 2, "{text}");
    s.quit().await;
}

// ----- scripted exchanges ------------------------------------------------------

/// What the test mechanism saw, shared with the test.
#[derive(Debug, Default)]
struct Seen {
    challenges: Vec<Vec<u8>>,
}

/// A SCRAM-shaped mechanism: IR, one answer to the server-first message,
/// an empty answer to the server-final one; `finish` fails unless the
/// server's final message came.
struct Scramish {
    seen: Arc<Mutex<Seen>>,
    verified: bool,
    endless: bool,
    fail_on_challenge: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("server never proved itself")]
struct NotVerified;

impl Mechanism for Scramish {
    fn name(&self) -> &'static str {
        "X-SCRAMISH"
    }
    fn initial_response(&mut self) -> Option<SecretBytes> {
        Some(SecretSlice::from(b"client-first".to_vec()))
    }
    fn respond(&mut self, challenge: &[u8]) -> Result<SecretBytes, BoxError> {
        self.seen
            .lock()
            .unwrap()
            .challenges
            .push(challenge.to_vec());
        if self.fail_on_challenge {
            return Err(Box::new(NotVerified));
        }
        if self.endless {
            return Ok(SecretSlice::from(b"more".to_vec()));
        }
        if challenge == b"v=proof" {
            self.verified = true;
            return Ok(SecretSlice::from(Vec::new()));
        }
        Ok(SecretSlice::from(b"client-final".to_vec()))
    }
    fn sends_secret_in_clear(&self) -> bool {
        false
    }
    fn finish(&mut self) -> Result<(), BoxError> {
        if self.verified {
            Ok(())
        } else {
            Err(Box::new(NotVerified))
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Auth {
    seen: Arc<Mutex<Seen>>,
    endless: bool,
    fail_on_challenge: bool,
}

#[async_trait]
impl Authenticator for Auth {
    async fn mechanism(&self, _: &AuthContext<'_>) -> Result<Option<Box<dyn Mechanism>>, BoxError> {
        Ok(Some(Box::new(Scramish {
            seen: self.seen.clone(),
            verified: false,
            endless: self.endless,
            fail_on_challenge: self.fail_on_challenge,
        })))
    }
}

async fn auth_greeting(c: &mut ScriptConn) {
    c.send("220 scripted ESMTP\r\n").await;
    c.expect("EHLO").await;
    c.send("250-scripted\r\n250 AUTH X-SCRAMISH\r\n").await;
    let auth = c.expect("AUTH X-SCRAMISH ").await;
    assert_eq!(auth, format!("AUTH X-SCRAMISH {}", b64("client-first")));
}

async fn connect(
    port: u16,
    auth: Auth,
) -> (Result<smtp_core::Session, Error>, Arc<MemoryTranscript>) {
    let transcript = Arc::new(MemoryTranscript::new());
    let t = SmtpTransport::builder("127.0.0.1")
        .port(port)
        .security(Security::None)
        .ehlo_name("client.example.test")
        .timeouts(Timeouts::uniform(Duration::from_secs(5)))
        .authenticator(Arc::new(auth))
        .transcript(transcript.clone())
        .build()
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(10), t.connect())
        .await
        .expect("the AUTH exchange never ended");
    (r, transcript)
}

#[tokio::test]
async fn empty_challenge_and_server_final_answered_with_an_empty_line() {
    let server = ScriptedServer::start(|mut c| async move {
        auth_greeting(&mut c).await;
        // An empty challenge: the mechanism must see zero bytes.
        c.send("334 \r\n").await;
        assert_eq!(c.read_line().await.unwrap(), b64("client-final"));
        // The server-final message rides in a 334; the answer is empty.
        c.send(&format!("334 {}\r\n", b64("v=proof"))).await;
        assert_eq!(c.read_line().await.unwrap(), "");
        c.send("235 2.7.0 ok\r\n").await;
        c.expect("QUIT").await;
        c.send("221 bye\r\n").await;
    });
    let auth = Auth::default();
    let (r, transcript) = connect(server.port(), auth.clone()).await;
    let s = r.unwrap();
    assert_eq!(s.authenticated_mechanism(), Some("X-SCRAMISH"));
    s.quit().await;
    let challenges = auth.seen.lock().unwrap().challenges.clone();
    assert_eq!(challenges, vec![b"".to_vec(), b"v=proof".to_vec()]);
    let text = transcript.text();
    assert!(!text.contains(&b64("client-final")), "{text}");
    server.wait_handled(1, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_235_before_the_server_proved_itself_fails_closed() {
    let server = ScriptedServer::start(|mut c| async move {
        auth_greeting(&mut c).await;
        c.send(&format!("334 {}\r\n", b64("server-first"))).await;
        c.read_line().await;
        // A server (or someone in the middle) that skips the proof.
        c.send("235 2.7.0 trust me\r\n").await;
        let _ = c.read_line().await;
    });
    let (r, _) = connect(server.port(), Auth::default()).await;
    let err = r.unwrap_err();
    match &err {
        Error::Sasl { source } => assert!(source.downcast_ref::<NotVerified>().is_some()),
        other => panic!("{other:?}"),
    }
    assert_eq!(err.phase(), Phase::Auth);
}

#[tokio::test]
async fn a_mechanism_error_cancels_with_a_star() {
    let server = ScriptedServer::start(|mut c| async move {
        auth_greeting(&mut c).await;
        c.send(&format!("334 {}\r\n", b64("odd"))).await;
        assert_eq!(c.read_line().await.unwrap(), "*");
        c.send("501 5.7.0 cancelled\r\n").await;
        let _ = c.read_line().await;
    });
    let auth = Auth {
        fail_on_challenge: true,
        ..Auth::default()
    };
    let (r, _) = connect(server.port(), auth).await;
    let err = r.unwrap_err();
    assert!(matches!(err, Error::Sasl { .. }), "{err:?}");
    server.wait_handled(1, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn endless_challenges_are_cut_off() {
    let server = ScriptedServer::start(|mut c| async move {
        auth_greeting(&mut c).await;
        // Every answer gets yet another challenge, at wire speed: no
        // per-command time limit ever fires.
        loop {
            c.send(&format!("334 {}\r\n", b64("again"))).await;
            match c.read_line().await.as_deref() {
                None => return,
                Some("*") => {
                    c.send("501 5.7.0 cancelled\r\n").await;
                    return;
                }
                Some(_) => {}
            }
        }
    });
    let auth = Auth {
        endless: true,
        ..Auth::default()
    };
    let (r, _) = connect(server.port(), auth.clone()).await;
    let err = r.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol {
                phase: Phase::Auth,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(auth.seen.lock().unwrap().challenges.len() < 100);
}
