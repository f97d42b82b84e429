//! Unit tests of `refresh`.

use super::*;

#[test]
fn endpoint_must_be_https_or_loopback() {
    for ok in [
        "https://oauth2.googleapis.com/token",
        "http://127.0.0.1:2599/token",
        "http://localhost/t",
        "http://[::1]:80/t",
    ] {
        check_endpoint(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        "http://example.com/token",
        "ftp://x/",
        "https://user:pw@x/",
        "https://",
        "token",
    ] {
        assert!(check_endpoint(bad).is_err(), "{bad}");
    }
    let e = check_endpoint("http://10.0.0.1/token")
        .unwrap_err()
        .to_string();
    assert!(e.contains("use https://"), "{e}");
}

#[test]
fn parses_a_grant() {
    let g = parse_response(
        200,
        r#"{"access_token":"at-1","token_type":"Bearer","expires_in":3599,"refresh_token":"rt-2"}"#,
    )
    .unwrap();
    assert_eq!(g.access_token.expose_secret(), "at-1");
    assert_eq!(g.expires_in, Some(3599));
    assert_eq!(g.refresh_token.unwrap().expose_secret(), "rt-2");
    let g = parse_response(200, r#"{"access_token":"at","expires_in":"60"}"#).unwrap();
    assert_eq!(g.expires_in, Some(60));
    assert!(g.refresh_token.is_none());
}

#[test]
fn refusals_and_garbage() {
    let e = parse_response(
        400,
        r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with(
        "token endpoint refused with HTTP 400: invalid_grant (Token has been expired or revoked.)"
    ));
    let e = parse_response(502, "<html>bad gateway</html>").unwrap_err();
    assert!(matches!(&e, Error::TokenRefused { error, .. } if error == "unknown"));
    assert!(e.is_transient());
    assert!(parse_response(200, "not json").is_err());
    assert!(parse_response(200, r#"{"token_type":"Bearer"}"#).is_err());
    assert!(parse_response(200, r#"{"access_token":"x","token_type":"mac"}"#).is_err());
}

#[tokio::test]
async fn cached_token_is_used_until_it_runs_out() {
    let flow = RefreshTokenFlow::builder("http://127.0.0.1:9/token", "id", "rt")
        .cached_token("seeded", Duration::from_secs(600))
        .build()
        .unwrap();
    assert_eq!(flow.token().await.unwrap().expose_secret(), "seeded");
    let d = format!("{flow:?}");
    assert!(!d.contains("seeded") && !d.contains("\"rt\""), "{d}");
}

#[tokio::test]
async fn unreachable_endpoint_is_a_transient_http_error() {
    // Port 9 (discard) is closed on loopback here: connection refused.
    let flow = RefreshTokenFlow::builder("http://127.0.0.1:9/token", "id", "rt")
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let e = flow.token().await.unwrap_err();
    assert!(matches!(e, Error::TokenHttp { .. }), "{e}");
    assert!(e.is_transient());
}
