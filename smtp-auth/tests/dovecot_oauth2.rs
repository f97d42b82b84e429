//! XOAUTH2 and OAUTHBEARER against the rig's Postfix + Dovecot (which
//! checks the JWTs itself), and the refresh-token flow against the rig's
//! local token endpoint.

mod common;

use std::sync::Arc;

use common::{assert_no_secrets, connect, peers};
use secrecy::{ExposeSecret, SecretString};
use smtp_auth::{Credentials, MechanismKind, SaslAuthenticator, StaticToken, TokenSource};

fn auth(tokens: Arc<dyn TokenSource>, kind: MechanismKind) -> SaslAuthenticator {
    SaslAuthenticator::builder()
        .credentials(Credentials::oauth2(&peers().smtp_user, tokens))
        .mechanisms([kind])
        .allow_cleartext(true) // the plain port has no TLS
        .build()
        .unwrap()
}

async fn with_token(kind: MechanismKind, token: &SecretString) -> common::Attempt {
    connect(
        peers().postfix_plain_port,
        auth(Arc::new(StaticToken::new(token.clone())), kind),
    )
    .await
}

fn all_secrets() -> Vec<&'static str> {
    let p = peers();
    vec![
        p.oauth_token.expose_secret(),
        p.oauth_token_expired.expose_secret(),
        p.oauth_refresh_token.expose_secret(),
        p.oauth_client_secret.expose_secret(),
    ]
}

#[tokio::test]
async fn xoauth2_valid_token_succeeds() {
    let attempt = with_token(MechanismKind::XOAuth2, &peers().oauth_token).await;
    let text = attempt.text();
    attempt.expect_authenticated("XOAUTH2").quit().await;
    assert_no_secrets(&text, &peers().smtp_user, &all_secrets());
}

#[tokio::test]
async fn oauthbearer_valid_token_succeeds() {
    let attempt = with_token(MechanismKind::OAuthBearer, &peers().oauth_token).await;
    let text = attempt.text();
    attempt.expect_authenticated("OAUTHBEARER").quit().await;
    assert_no_secrets(&text, &peers().smtp_user, &all_secrets());
}

#[tokio::test]
async fn xoauth2_expired_token_fails() {
    let attempt = with_token(MechanismKind::XOAuth2, &peers().oauth_token_expired).await;
    let text = attempt.text();
    attempt.expect_rejected_535("XOAUTH2");
    assert_no_secrets(&text, &peers().smtp_user, &all_secrets());
}

#[tokio::test]
async fn oauthbearer_expired_token_fails() {
    let attempt = with_token(MechanismKind::OAuthBearer, &peers().oauth_token_expired).await;
    let text = attempt.text();
    attempt.expect_rejected_535("OAUTHBEARER");
    assert_no_secrets(&text, &peers().smtp_user, &all_secrets());
}

#[tokio::test]
async fn oauth_without_tls_is_refused_unless_allowed() {
    let p = peers();
    let a = SaslAuthenticator::builder()
        .credentials(Credentials::oauth2(
            &p.smtp_user,
            Arc::new(StaticToken::new(p.oauth_token.clone())),
        ))
        .build()
        .unwrap();
    let attempt = connect(p.postfix_plain_port, a).await;
    let text = attempt.text();
    let e = attempt.expect_sasl_error();
    assert!(
        e.to_string()
            .starts_with("auth OAUTHBEARER/XOAUTH2 refused: it would send the token in clear"),
        "{e}"
    );
    assert!(!text.contains("C: AUTH"), "{text}");
}

mod refresh {
    use std::time::Duration;

    use smtp_auth::RefreshTokenFlow;

    use super::*;

    fn count() -> u64 {
        let url = peers().token_endpoint_count.clone();
        let mut response = ureq::get(&url)
            .call()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        response
            .body_mut()
            .read_to_string()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    fn flow() -> smtp_auth::RefreshTokenFlowBuilder {
        let p = peers();
        RefreshTokenFlow::builder(
            p.token_endpoint.clone(),
            p.oauth_client_id.clone(),
            p.oauth_refresh_token.clone(),
        )
        .client_secret(p.oauth_client_secret.clone())
        .timeout(Duration::from_secs(10))
    }

    async fn rejected_then_refreshed(kind: MechanismKind) {
        let p = peers();
        // The cache holds the expired token and believes it good for an hour
        // (as after a restart with a persisted token, or a server-side revoke).
        let tokens = Arc::new(
            flow()
                .cached_token(p.oauth_token_expired.clone(), Duration::from_secs(3600))
                .build()
                .unwrap(),
        );
        let before = tokio::task::spawn_blocking(count).await.unwrap();
        let attempt = connect(p.postfix_plain_port, auth(tokens.clone(), kind)).await;
        let text = attempt.text();
        attempt.expect_authenticated(kind.name()).quit().await;
        let after = tokio::task::spawn_blocking(count).await.unwrap();
        assert!(
            after > before,
            "the endpoint served no token request ({before} -> {after})"
        );
        // First attempt rejected, second accepted.
        assert_eq!(
            text.matches(&format!("C: AUTH {}", kind.name())).count(),
            2,
            "{text}"
        );
        assert!(text.contains("S: 535"), "{text}");
        let fresh = tokens.token().await.unwrap();
        assert_ne!(fresh.expose_secret(), p.oauth_token_expired.expose_secret());
        let mut secrets = all_secrets();
        secrets.push(fresh.expose_secret());
        assert_no_secrets(&text, &p.smtp_user, &secrets);
    }

    #[tokio::test]
    async fn oauthbearer_expired_cached_token_is_refreshed_and_retried() {
        rejected_then_refreshed(MechanismKind::OAuthBearer).await;
    }

    #[tokio::test]
    async fn xoauth2_expired_cached_token_is_refreshed_and_retried() {
        rejected_then_refreshed(MechanismKind::XOAuth2).await;
    }

    #[tokio::test]
    async fn empty_cache_fetches_from_the_endpoint() {
        let p = peers();
        let tokens = Arc::new(flow().build().unwrap());
        let before = tokio::task::spawn_blocking(count).await.unwrap();
        let attempt = connect(
            p.postfix_plain_port,
            auth(tokens.clone(), MechanismKind::OAuthBearer),
        )
        .await;
        let text = attempt.text();
        attempt.expect_authenticated("OAUTHBEARER").quit().await;
        assert!(tokio::task::spawn_blocking(count).await.unwrap() > before);
        assert_eq!(text.matches("C: AUTH OAUTHBEARER").count(), 1, "{text}");
        let token = tokens.token().await.unwrap();
        let mut secrets = all_secrets();
        secrets.push(token.expose_secret());
        assert_no_secrets(&text, &p.smtp_user, &secrets);
    }

    #[tokio::test]
    async fn wrong_refresh_token_is_refused_with_a_hint() {
        let p = peers();
        let tokens = RefreshTokenFlow::builder(
            p.token_endpoint.clone(),
            p.oauth_client_id.clone(),
            "Not-The-Refresh-Token",
        )
        .client_secret(p.oauth_client_secret.clone())
        .build()
        .unwrap();
        let e = tokens.token().await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "token endpoint refused with HTTP 400: invalid_grant"
        );
        assert_eq!(e.coded_hint().code, "auth-token-expired");
        assert!(!format!("{e:?}").contains("Not-The-Refresh-Token"));
    }

    #[tokio::test]
    async fn failed_refresh_keeps_the_servers_rejection() {
        // Expired token cached, refresh token wrong: no retry, the 535 stands.
        let p = peers();
        let tokens = Arc::new(
            RefreshTokenFlow::builder(
                p.token_endpoint.clone(),
                p.oauth_client_id.clone(),
                "Not-The-Refresh-Token",
            )
            .client_secret(p.oauth_client_secret.clone())
            .cached_token(p.oauth_token_expired.clone(), Duration::from_secs(3600))
            .build()
            .unwrap(),
        );
        let attempt = connect(p.postfix_plain_port, auth(tokens, MechanismKind::XOAuth2)).await;
        let text = attempt.text();
        assert_eq!(text.matches("C: AUTH XOAUTH2").count(), 1, "{text}");
        attempt.expect_rejected_535("XOAUTH2");
        assert_no_secrets(&text, &p.smtp_user, &all_secrets());
    }
}
