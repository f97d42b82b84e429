//! The token request stays out of every log. ureq writes raw HTTP, tokens
//! included, to the `log` crate at TRACE, and tracing-subscriber forwards
//! `log` records by default: an application that records everything at
//! TRACE must still see no secret of the refresh flow.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::ExposeSecret;
use smtp_auth::{RefreshTokenFlow, TokenSource};
use smtp_testkit::peers;

/// Everything the subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

// The only test in this binary: it installs the global subscriber (and the
// `log` bridge) for the whole process.
#[tokio::test(flavor = "multi_thread")]
async fn a_trace_subscriber_records_no_secret_of_the_token_request() {
    let capture = Capture::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(capture.clone())
        .init();
    let p = peers();
    let flow = RefreshTokenFlow::builder(
        p.token_endpoint.clone(),
        p.oauth_client_id.clone(),
        p.oauth_refresh_token.clone(),
    )
    .client_secret(p.oauth_client_secret.clone())
    .timeout(Duration::from_secs(10))
    .build()
    .unwrap();
    let token = flow.token().await.unwrap();
    // A `log` record from outside the request still gets through, so the
    // bridge is on and silence below means the request was silenced.
    log::trace!("bridge check");
    let text = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(
        text.contains("bridge check"),
        "the log bridge is off:\n{text}"
    );
    assert!(
        text.contains("oauth2 access token fetched"),
        "smtp-auth's own event is recorded:\n{text}"
    );
    // ureq dumps requests and responses as 16-byte hex rows, which split a
    // secret across lines: nothing of ureq's may be recorded at all.
    assert!(
        !text.contains("ureq"),
        "ureq's HTTP dump reached the log:\n{text}"
    );
    for secret in [
        token.expose_secret(),
        p.oauth_refresh_token.expose_secret(),
        p.oauth_client_secret.expose_secret(),
    ] {
        for form in [
            secret.to_string(),
            STANDARD.encode(secret),
            URL_SAFE_NO_PAD.encode(secret),
        ] {
            assert!(!text.contains(&form), "a secret reached the log:\n{text}");
        }
    }
}
