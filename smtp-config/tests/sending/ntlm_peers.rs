//! NTLM end to end: configuration (TOML + env) → the rig's Postfix NTLM
//! port, whose SASL server is Cyrus SASL's NTLM plugin (`ntlm_v2: yes`),
//! an implementation independent of ours. Debian's Dovecot has no built-in
//! NTLM (only Samba winbind's), hence Cyrus.

use std::time::Duration;

use crate::common::Rig;
use secrecy::ExposeSecret;
use smtp_core::{Address, Envelope, MessageSource, Phase, Transport};
use smtp_testkit::{peers, unique_tag, wait_for_mail_async};

fn envelope() -> Envelope {
    Envelope::new(
        Some(Address::new("sender@example.test").unwrap()),
        vec![Address::new("rcpt@example.test").unwrap()],
    )
    .unwrap()
}

fn message(tag: &str) -> MessageSource {
    MessageSource::from_bytes(format!(
        "From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: {tag}\r\n\r\nNTLM test\r\n"
    ))
}

/// TOML for the NTLM port (implicit TLS with the rig's CA) as `user`.
fn ntlm_port_config(rig: &mut Rig, user: &str) {
    let p = peers();
    rig.config(&format!(
        "host = \"{}\"\nport = {}\nsecurity = \"implicit\"\ntimeout = \"15s\"\n[tls]\nca_file = \"{}\"\nserver_name = \"{}\"\n\
         [auth]\nusername = \"{user}\"\n",
        p.host,
        p.postfix_ntlm_port,
        p.ca_cert.display(),
        p.tls_name,
    ));
}

async fn authenticated_sender(tag: &str) -> String {
    let mail = wait_for_mail_async(&peers().postfix_maildir, tag, Duration::from_secs(20)).await;
    String::from_utf8_lossy(&mail[0]).into_owned()
}

#[tokio::test]
async fn ntlm_is_chosen_automatically_and_cyrus_sasl_accepts_its_ntlmv2() {
    let p = peers();
    let mut rig = Rig::new();
    ntlm_port_config(&mut rig, &p.smtp_user);
    rig.env("SMTP_AUTH__PASSWORD", p.smtp_pass.expose_secret());
    let built = rig.ok().build().unwrap();
    let tag = unique_tag("ntlm-auto");
    built
        .transport
        .send(&envelope(), message(&tag))
        .await
        .unwrap();
    let mail = authenticated_sender(&tag).await;
    assert!(
        mail.contains(&format!("(Authenticated sender: {})", p.smtp_user)),
        "{mail}"
    );
}

/// `DOMAIN\user`: the domain goes into the NTLMv2 key and the message,
/// the user alone to the server. (Not the rig's non-ASCII password: Cyrus
/// hashes each UTF-8 byte as one UTF-16 unit, unlike Windows and MS-NLMP;
/// the unit tests check our UTF-16 against the spec.)
#[tokio::test]
async fn ntlm_from_env_allow_list_with_a_windows_domain_in_the_username() {
    let p = peers();
    let mut rig = Rig::new();
    ntlm_port_config(&mut rig, "unused");
    rig.env("SMTP_AUTH__USERNAME", &format!("EXAMPLE\\{}", p.smtp_user));
    rig.env("SMTP_AUTH__MECHANISMS", "ntlm");
    rig.env("SMTP_AUTH__PASSWORD", p.smtp_pass.expose_secret());
    let built = rig.ok().build().unwrap();
    let tag = unique_tag("ntlm-domain");
    built
        .transport
        .send(&envelope(), message(&tag))
        .await
        .unwrap();
    let mail = authenticated_sender(&tag).await;
    assert!(
        mail.contains(&format!("(Authenticated sender: {})", p.smtp_user)),
        "{mail}"
    );
}

#[tokio::test]
async fn ntlm_with_a_wrong_password_is_refused_in_the_auth_phase() {
    let p = peers();
    let mut rig = Rig::new();
    ntlm_port_config(&mut rig, &p.smtp_user);
    rig.env("SMTP_AUTH__PASSWORD", "Not-The-Password");
    let built = rig.ok().build().unwrap();
    let err = built
        .transport
        .send(&envelope(), message(&unique_tag("ntlm-bad")))
        .await
        .unwrap_err();
    assert_eq!(err.phase(), Phase::Auth, "{err}");
    assert!(err.to_string().contains("535"), "{err}");
    assert!(!format!("{err} {err:?}").contains("Not-The-Password"));
}
