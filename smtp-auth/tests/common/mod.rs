//! Shared helpers: connect to the rig's Postfix (Dovecot SASL) through the
//! engine, capture the transcript, and check it never shows a secret.

#![allow(dead_code)] // each test binary uses a different subset

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use smtp_auth::SaslAuthenticator;
use smtp_core::{Error, MemoryTranscript, Phase, Security, Session, SmtpTransport, Timeouts};
pub use smtp_testkit::peers;

/// One connection attempt and everything it said.
pub struct Attempt {
    /// The session (authenticated) or the error.
    pub result: Result<Session, Error>,
    /// Every protocol line, as the engine logged it.
    pub transcript: Arc<MemoryTranscript>,
}

impl Attempt {
    /// The transcript as one string.
    pub fn text(&self) -> String {
        self.transcript.text()
    }

    /// Asserts success with `mechanism` and returns the session.
    pub fn expect_authenticated(self, mechanism: &str) -> Session {
        let text = self.text();
        match self.result {
            Ok(session) => {
                assert_eq!(
                    session.authenticated_mechanism(),
                    Some(mechanism),
                    "transcript:\n{text}"
                );
                assert!(
                    text.contains(&format!("C: AUTH {mechanism}")),
                    "transcript:\n{text}"
                );
                session
            }
            Err(e) => panic!(
                "{mechanism} failed: {e} (hint: {:?})\ntranscript:\n{text}",
                e.hint()
            ),
        }
    }

    /// Asserts the server refused AUTH with 535.
    pub fn expect_rejected_535(self, mechanism: &str) {
        let text = self.text();
        match self.result {
            Err(Error::Rejected {
                phase: Phase::Auth,
                reply,
            }) => {
                assert_eq!(reply.code, 535, "{reply}\ntranscript:\n{text}");
                assert!(
                    text.contains(&format!("C: AUTH {mechanism}")),
                    "transcript:\n{text}"
                );
            }
            Err(e) => panic!("expected 535 at auth for {mechanism}, got: {e}\ntranscript:\n{text}"),
            Ok(_) => panic!("{mechanism} with a wrong secret succeeded\ntranscript:\n{text}"),
        }
    }

    /// Asserts a local SASL error and returns it as `smtp_auth::Error`.
    pub fn expect_sasl_error(self) -> smtp_auth::Error {
        let text = self.text();
        match self.result {
            Err(Error::Sasl { source }) => {
                let inner = match source.downcast::<smtp_core::PluginError>() {
                    Ok(p) => p.into_inner(),
                    Err(other) => other,
                };
                match inner.downcast::<smtp_auth::Error>() {
                    Ok(e) => *e,
                    Err(other) => panic!("not an smtp_auth::Error: {other}"),
                }
            }
            Err(e) => panic!("expected a local auth error, got: {e}\ntranscript:\n{text}"),
            Ok(_) => panic!(
                "expected a local auth error, but authentication succeeded\ntranscript:\n{text}"
            ),
        }
    }
}

/// Connects without TLS to `port` of the rig's Postfix with `auth`.
pub async fn connect(port: u16, auth: SaslAuthenticator) -> Attempt {
    let p = peers();
    let transcript = Arc::new(MemoryTranscript::new());
    let transport = SmtpTransport::builder(p.host.clone())
        .port(port)
        .security(Security::None)
        .authenticator(Arc::new(auth))
        .ehlo_name("client.example.test")
        .timeouts(Timeouts::uniform(Duration::from_secs(20)))
        .transcript(transcript.clone())
        .build()
        .expect("transport builds");
    let result = transport.connect().await;
    Attempt { result, transcript }
}

/// Asserts `transcript` shows none of `secrets`, raw or in any base64 form
/// a mechanism would send for `username`.
pub fn assert_no_secrets(transcript: &str, username: &str, secrets: &[&str]) {
    assert!(
        transcript.contains("C: AUTH ") || transcript.contains("C: EHLO"),
        "empty transcript:\n{transcript}"
    );
    for secret in secrets {
        let forms = [
            secret.to_string(),
            STANDARD.encode(secret),
            STANDARD.encode(format!("\0{username}\0{secret}")),
            STANDARD.encode(format!("user={username}\x01auth=Bearer {secret}\x01\x01")),
            STANDARD.encode(format!("n,a={username},\x01auth=Bearer {secret}\x01\x01")),
        ];
        for form in forms {
            assert!(
                !transcript.contains(&form),
                "transcript leaks a secret form {form:?}:\n{transcript}"
            );
        }
    }
}
