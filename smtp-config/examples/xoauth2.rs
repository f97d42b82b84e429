//! Send one message with OAuth2 (XOAUTH2, as Gmail and Microsoft 365 want),
//! over STARTTLS.
//!
//! The token comes from either
//! - `MAIL_TOKEN`: an access token you already have, or
//! - `MAIL_TOKEN_URL`, `MAIL_CLIENT_ID`, `MAIL_REFRESH_TOKEN` (and
//!   `MAIL_CLIENT_SECRET` if the app has one): the refresh-token flow,
//!   which fetches an access token and refreshes it when it expires.
//!
//! ```sh
//! MAIL_USER=me@gmail.com MAIL_TOKEN_URL=https://oauth2.googleapis.com/token \
//!   MAIL_CLIENT_ID=... MAIL_CLIENT_SECRET=... MAIL_REFRESH_TOKEN=... \
//!   cargo run -p smtp-config --example xoauth2 -- smtp.gmail.com 587 me@gmail.com you@example.org
//! ```

mod common;

use std::sync::Arc;

use smtp_auth::{
    Credentials, MechanismKind, RefreshTokenFlow, SaslAuthenticator, StaticToken, TokenSource,
};
use smtp_core::{Security, SmtpTransport};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn token_source() -> Result<Arc<dyn TokenSource>, smtp_auth::Error> {
    if let Some(token) = env("MAIL_TOKEN") {
        return Ok(Arc::new(StaticToken::new(token)));
    }
    let (Some(url), Some(client), Some(refresh)) = (
        env("MAIL_TOKEN_URL"),
        env("MAIL_CLIENT_ID"),
        env("MAIL_REFRESH_TOKEN"),
    ) else {
        eprintln!(
            "set MAIL_TOKEN, or MAIL_TOKEN_URL + MAIL_CLIENT_ID + MAIL_REFRESH_TOKEN (+ MAIL_CLIENT_SECRET)"
        );
        std::process::exit(2);
    };
    let mut flow = RefreshTokenFlow::builder(url, client, refresh);
    if let Some(secret) = env("MAIL_CLIENT_SECRET") {
        flow = flow.client_secret(secret);
    }
    Ok(Arc::new(flow.build()?))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = common::args(
        "xoauth2 HOST PORT FROM TO  (MAIL_USER and a token source in the environment)",
    );
    let user = env("MAIL_USER").unwrap_or_else(|| a.from.clone());
    let auth = SaslAuthenticator::builder()
        .credentials(Credentials::oauth2(user, token_source()?))
        .mechanisms([MechanismKind::XOAuth2])
        .build()?;
    let transport = SmtpTransport::builder(&a.host)
        .port(a.port)
        .security(Security::StartTlsRequired)
        .tls(common::tls()?)
        .authenticator(Arc::new(auth))
        .build()?;
    common::send_one(transport, &a, "hello with XOAUTH2").await?;
    Ok(())
}
