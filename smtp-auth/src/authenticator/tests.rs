//! Selection, allow-list, forcing, cleartext policy, error texts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use secrecy::ExposeSecret;

use super::*;
use crate::token::{StaticToken, TokenSource};

fn offered(names: &str) -> Vec<String> {
    names.split_whitespace().map(str::to_string).collect()
}

fn pw() -> SaslAuthenticatorBuilder {
    SaslAuthenticator::builder().credentials(Credentials::password(
        "tester@example.test",
        "Tester-Pass-1",
    ))
}

fn token() -> SaslAuthenticatorBuilder {
    SaslAuthenticator::builder().credentials(Credentials::oauth2(
        "tester@example.test",
        Arc::new(StaticToken::new("tok")),
    ))
}

fn pick(auth: &SaslAuthenticator, names: &str, tls: bool) -> Result<Option<MechanismKind>, Error> {
    let list = offered(names);
    auth.choose(&AuthContext::new(&list, tls, "mail.example.test"))
}

fn chosen(auth: &SaslAuthenticator, names: &str, tls: bool) -> &'static str {
    pick(auth, names, tls).unwrap().unwrap().name()
}

// SCRAM and CRAM-MD5 in play: the default features.
#[cfg(all(feature = "scram", feature = "cram-md5"))]
#[test]
fn preference_order_with_a_password() {
    let a = pw().build().unwrap();
    let all = "LOGIN PLAIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER";
    assert_eq!(chosen(&a, all, true), "SCRAM-SHA-256");
    assert_eq!(
        chosen(&a, "LOGIN PLAIN CRAM-MD5 SCRAM-SHA-1", true),
        "SCRAM-SHA-1"
    );
    assert_eq!(chosen(&a, "LOGIN PLAIN CRAM-MD5", true), "CRAM-MD5");
    assert_eq!(chosen(&a, "LOGIN PLAIN", true), "PLAIN");
    assert_eq!(chosen(&a, "LOGIN", true), "LOGIN");
    assert_eq!(chosen(&a, "login plain", true), "PLAIN", "case-insensitive");
}

#[test]
fn preference_order_with_a_token() {
    let a = token().build().unwrap();
    assert_eq!(
        chosen(&a, "PLAIN SCRAM-SHA-256 XOAUTH2 OAUTHBEARER", true),
        "OAUTHBEARER"
    );
    assert_eq!(chosen(&a, "PLAIN XOAUTH2", true), "XOAUTH2");
    assert_eq!(
        a.enabled(),
        [MechanismKind::OAuthBearer, MechanismKind::XOAuth2]
    );
}

// SCRAM and CRAM-MD5 in play: the default features.
#[cfg(all(feature = "scram", feature = "cram-md5"))]
#[test]
fn allow_list_restricts_and_order_is_fixed() {
    let a = pw()
        .mechanisms([
            MechanismKind::Login,
            MechanismKind::Plain,
            MechanismKind::Login,
        ])
        .build()
        .unwrap();
    assert_eq!(a.enabled(), [MechanismKind::Plain, MechanismKind::Login]);
    assert_eq!(chosen(&a, "SCRAM-SHA-256 LOGIN PLAIN", true), "PLAIN");
    let e = pick(&a, "SCRAM-SHA-256 CRAM-MD5", true)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "no usable auth mechanism: the server offers SCRAM-SHA-256, CRAM-MD5, enabled here: PLAIN, LOGIN"
    );
}

// SCRAM and CRAM-MD5 in play: the default features.
#[cfg(all(feature = "scram", feature = "cram-md5"))]
#[test]
fn forced_mechanism_is_used_even_when_not_offered() {
    let a = pw().force_mechanism(MechanismKind::Login).build().unwrap();
    assert_eq!(chosen(&a, "", true), "LOGIN");
    assert_eq!(chosen(&a, "SCRAM-SHA-256 PLAIN", true), "LOGIN");
    let a = pw()
        .force_mechanism(MechanismKind::CramMd5)
        .build()
        .unwrap();
    assert_eq!(
        chosen(&a, "", false),
        "CRAM-MD5",
        "not a cleartext mechanism: fine without tls"
    );
    let e = pw().force_mechanism(MechanismKind::Plain).build().unwrap();
    let e = pick(&e, "PLAIN", false).unwrap_err().to_string();
    assert!(
        e.starts_with("auth PLAIN refused: it would send the password in clear"),
        "{e}"
    );
}

#[test]
fn forcing_a_mechanism_that_does_not_fit_the_credentials_fails_at_build() {
    let e = token()
        .force_mechanism(MechanismKind::Plain)
        .build()
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "invalid auth configuration: the forced mechanism PLAIN needs a password, but the credentials hold an OAuth2 token"
    );
    let e = pw()
        .mechanisms([MechanismKind::XOAuth2])
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("none of the allowed mechanisms (XOAUTH2) works with a password: allow one of SCRAM-SHA-256"), "{e}");
    assert!(pw().mechanisms([]).build().is_err());
}

#[test]
fn no_credentials_is_anonymous() {
    let a = SaslAuthenticator::builder().build().unwrap();
    assert_eq!(pick(&a, "PLAIN", false).unwrap(), None);
    assert_eq!(pick(&a, "", false).unwrap(), None);
}

#[test]
fn cleartext_mechanisms_are_refused_without_tls() {
    let a = pw().build().unwrap();
    let e = pick(&a, "PLAIN LOGIN", false).unwrap_err();
    assert!(
        matches!(&e, Error::CleartextRefused { mechanisms, secret: "password" } if mechanisms == &["PLAIN", "LOGIN"])
    );
    assert_eq!(
        e.to_string(),
        "auth PLAIN/LOGIN refused: it would send the password in clear over a connection without TLS"
    );
    let e = pick(&token().build().unwrap(), "XOAUTH2 OAUTHBEARER", false)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("auth OAUTHBEARER/XOAUTH2 refused: it would send the token in clear"),
        "{e}"
    );
    assert!(!a.allow_cleartext());
}

// SCRAM and CRAM-MD5 in play: the default features.
#[cfg(all(feature = "scram", feature = "cram-md5"))]
#[test]
fn a_strong_mechanism_is_fine_without_tls() {
    let a = pw().build().unwrap();
    assert_eq!(chosen(&a, "PLAIN LOGIN CRAM-MD5", false), "CRAM-MD5");
    assert_eq!(chosen(&a, "PLAIN SCRAM-SHA-1", false), "SCRAM-SHA-1");
    // Allow-list keeps only cleartext ones: still refused.
    let a = pw().mechanisms([MechanismKind::Plain]).build().unwrap();
    assert!(matches!(
        pick(&a, "PLAIN CRAM-MD5", false),
        Err(Error::CleartextRefused { .. })
    ));
}

#[test]
fn cleartext_opt_in() {
    let a = pw()
        .mechanisms([MechanismKind::Plain, MechanismKind::Login])
        .allow_cleartext(true)
        .build()
        .unwrap();
    assert_eq!(chosen(&a, "LOGIN PLAIN", false), "PLAIN");
    assert!(a.allow_cleartext());
}

// SCRAM and CRAM-MD5 in play: the default features.
#[cfg(all(feature = "scram", feature = "cram-md5"))]
#[test]
fn no_common_mechanism_states_the_fact_and_picks_the_hint() {
    let a = pw().build().unwrap();
    let no_match = |a: &SaslAuthenticator, offered: &str, tls: bool| {
        let e = pick(a, offered, tls).unwrap_err();
        (e.to_string(), e.coded_hint().code)
    };
    let ntlm = if cfg!(feature = "ntlm") { "NTLM, " } else { "" };
    assert_eq!(
        no_match(&a, "", false),
        (
            format!(
                "no usable auth mechanism: the server offers none, enabled here: SCRAM-SHA-256, SCRAM-SHA-1, \
                 CRAM-MD5, {ntlm}PLAIN, LOGIN; the server offers no AUTH before STARTTLS"
            ),
            "auth-not-offered-without-tls"
        )
    );
    let (e, code) = no_match(&a, "", true);
    assert!(
        e.ends_with("; the server offers no AUTH at all on this port"),
        "{e}"
    );
    assert_eq!(code, "auth-not-offered");
    let (e, code) = no_match(&a, "KERBEROS_V4 GSSAPI", true);
    assert!(
        e.starts_with(
            "no usable auth mechanism: the server offers KERBEROS_V4, GSSAPI, enabled here: SCRAM-SHA-256"
        ),
        "{e}"
    );
    assert!(
        e.ends_with("this client implements none of the server's mechanisms"),
        "{e}"
    );
    assert_eq!(code, "auth-mechanisms-unsupported");
    let (e, code) = no_match(&a, "XOAUTH2 OAUTHBEARER", true);
    assert!(
        e.ends_with("the server offers only OAuth2 and the credentials are a password"),
        "{e}"
    );
    assert_eq!(code, "auth-oauth2-only");
    let (e, code) = no_match(&token().build().unwrap(), "PLAIN LOGIN", true);
    assert!(
        e.contains("enabled here: OAUTHBEARER, XOAUTH2; the server offers no OAuth2 mechanism"),
        "{e}"
    );
    assert_eq!(code, "auth-no-oauth2");
    // No advice in the message: that is the hint's job.
    assert!(!e.contains("use ") && !e.contains("enable "), "{e}");
}

#[tokio::test]
async fn builds_the_chosen_mechanism_with_the_secret() {
    let a = pw().build().unwrap();
    let list = offered("PLAIN");
    let mut m = a
        .mechanism(&AuthContext::new(&list, true, "h"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.name(), "PLAIN");
    assert_eq!(
        m.initial_response().unwrap().expose_secret(),
        b"\0tester@example.test\0Tester-Pass-1"
    );
    let list = offered("XOAUTH2");
    let mut m = token()
        .build()
        .unwrap()
        .mechanism(&AuthContext::new(&list, true, "h"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        m.initial_response().unwrap().expose_secret(),
        b"user=tester@example.test\x01auth=Bearer tok\x01\x01"
    );
    // The engine gets ours classified, and reaches it by downcasting.
    let list = offered("GSSAPI");
    let e = a
        .mechanism(&AuthContext::new(&list, true, "h"))
        .await
        .err()
        .unwrap();
    let plugin = smtp_core::PluginError::find(e.as_ref()).expect("classified");
    assert_eq!(plugin.retry(), smtp_core::Retry::Permanent);
    assert!(matches!(
        plugin.downcast_ref::<Error>(),
        Some(Error::NoCommonMechanism { .. })
    ));
}

#[derive(Debug, Default)]
struct Counting {
    refreshes: AtomicUsize,
}

#[async_trait]
impl TokenSource for Counting {
    async fn token(&self) -> Result<SecretString, Error> {
        Ok(SecretString::from(format!(
            "tok-{}",
            self.refreshes.load(Ordering::SeqCst)
        )))
    }
    async fn refresh(&self) -> Result<bool, Error> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Ok(true)
    }
}

#[tokio::test]
async fn retry_after_a_rejected_token_refreshes_it() {
    let source = Arc::new(Counting::default());
    let a = SaslAuthenticator::builder()
        .credentials(Credentials::oauth2("u", source.clone()))
        .build()
        .unwrap();
    assert!(
        a.retry_after_failure(&Reply::new(535, "5.7.8 Error: authentication failed"))
            .await
    );
    assert_eq!(source.refreshes.load(Ordering::SeqCst), 1);
    // Not a credentials problem: no refresh, no retry.
    assert!(
        !a.retry_after_failure(&Reply::new(454, "4.7.0 Temporary authentication failure"))
            .await
    );
    assert!(
        !a.retry_after_failure(&Reply::new(
            530,
            "5.7.0 Must issue a STARTTLS command first"
        ))
        .await
    );
    assert_eq!(source.refreshes.load(Ordering::SeqCst), 1);
    // A static token cannot refresh; a password never retries.
    assert!(
        !token()
            .build()
            .unwrap()
            .retry_after_failure(&Reply::new(535, "5.7.8 no"))
            .await
    );
    assert!(
        !pw()
            .build()
            .unwrap()
            .retry_after_failure(&Reply::new(535, "5.7.8 no"))
            .await
    );
}

#[cfg(feature = "password-command")]
#[tokio::test]
async fn password_command_runs_once() {
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("n");
    let cmd = format!("echo x >> {}; echo Tester-Pass-1", counter.display());
    let a = SaslAuthenticator::builder()
        .credentials(Credentials::password_from(
            "u",
            crate::PasswordSource::command(cmd),
        ))
        .build()
        .unwrap();
    let list = offered("PLAIN");
    for _ in 0..3 {
        a.mechanism(&AuthContext::new(&list, true, "h"))
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&counter).unwrap().lines().count(),
        1
    );
}

#[test]
fn debug_shows_no_secret() {
    let a = pw().build().unwrap();
    let d = format!("{a:?}");
    assert!(
        d.contains("tester@example.test") && !d.contains("Tester-Pass-1"),
        "{d}"
    );
}

#[cfg(all(feature = "scram", feature = "cram-md5"))]
#[test]
fn default_features_build_every_mechanism() {
    assert!(MechanismKind::PREFERENCE.iter().all(|k| k.is_built()));
    assert_eq!(
        pw().build().unwrap().enabled()[0],
        MechanismKind::ScramSha256
    );
}

/// A PLAIN/LOGIN-only build (`--no-default-features`; scripts/test.sh
/// runs these): SCRAM and CRAM-MD5 are left out, and asking for them says
/// which feature brings them in.
#[cfg(not(any(feature = "scram", feature = "cram-md5")))]
mod not_built {
    use super::*;

    #[test]
    fn not_built_mechanisms_are_left_out_by_default() {
        let a = pw().build().unwrap();
        assert_eq!(a.enabled(), [MechanismKind::Plain, MechanismKind::Login]);
        let all = "CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 LOGIN PLAIN";
        assert_eq!(chosen(&a, all, true), "PLAIN");
    }

    #[test]
    fn not_built_mechanisms_asked_for_by_name_fail_at_build() {
        let err = pw()
            .mechanisms([MechanismKind::ScramSha256, MechanismKind::Plain])
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "auth mechanism SCRAM-SHA-256 is not in this build: it needs smtp-auth's `scram` feature"
        );
        assert_eq!(err.coded_hint().code, "auth-mechanism-not-built");
        let err = pw()
            .force_mechanism(MechanismKind::CramMd5)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("`cram-md5` feature"), "{err}");
    }

    #[test]
    fn not_built_mechanisms_offered_alone_name_the_features() {
        let a = pw().build().unwrap();
        let err = pick(&a, "SCRAM-SHA-256 CRAM-MD5", true).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NoCommonMechanism {
                    reason: NoMechanismReason::NotBuilt,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("left out of this build"), "{err}");
        assert_eq!(err.coded_hint().code, "auth-mechanism-not-built");
    }
}

#[cfg(feature = "ntlm")]
#[test]
fn ntlm_ranks_below_scram_and_cram_md5_above_plain_and_needs_tls() {
    let a = pw().build().unwrap();
    assert_eq!(chosen(&a, "NTLM LOGIN PLAIN CRAM-MD5", true), "CRAM-MD5");
    assert_eq!(chosen(&a, "NTLM SCRAM-SHA-1", true), "SCRAM-SHA-1");
    assert_eq!(chosen(&a, "LOGIN PLAIN NTLM", true), "NTLM");
    // Without TLS it is skipped like PLAIN; alone, it is refused.
    assert_eq!(chosen(&a, "NTLM CRAM-MD5", false), "CRAM-MD5");
    let e = pick(&a, "NTLM LOGIN", false).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("auth NTLM/LOGIN refused: it would send the password in clear"),
        "{e}"
    );
    let a = pw().allow_cleartext(true).build().unwrap();
    assert_eq!(chosen(&a, "LOGIN NTLM", false), "NTLM");
}
