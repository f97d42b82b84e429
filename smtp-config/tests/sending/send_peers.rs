//! End to end against the project's real peers (Postfix, Dovecot SASL,
//! microsocks, the OAuth2 token endpoint): configuration from a TOML file,
//! environment variables and command-line values, then a real send, then
//! the message looked for in Postfix's Maildir.
//!
//! The peers must be running (`scripts/test.sh`, or `scripts/peers/start.sh`);
//! `smtp_testkit::peers()` fails the test with instructions when they are not.

use std::time::Duration;

use crate::common::Rig;
use secrecy::ExposeSecret;
use smtp_config::BuiltTransport;
use smtp_core::{Address, Envelope, MessageSource, Transport};
use smtp_testkit::{peers, unique_tag, wait_for_mail_async};

fn envelope() -> Envelope {
    Envelope::new(
        Some(Address::new("sender@example.test").unwrap()),
        vec![Address::new("rcpt@example.test").unwrap()],
    )
    .unwrap()
}

fn message(tag: &str) -> MessageSource {
    let text = format!(
        "From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: {tag}\r\nMessage-ID: <{tag}@example.test>\r\n\r\nsent by smtp-config tests\r\n"
    );
    MessageSource::from_bytes(text)
}

async fn delivered(tag: &str) -> String {
    let mail = wait_for_mail_async(&peers().postfix_maildir, tag, Duration::from_secs(20)).await;
    String::from_utf8_lossy(&mail[0]).into_owned()
}

#[tokio::test]
async fn file_env_and_cli_layers_configure_a_real_send() {
    let p = peers();
    let mut rig = Rig::new();
    // The file points at a dead port; the environment fixes it; the
    // command line sets the EHLO name. Each layer visibly contributes.
    rig.config(&format!(
        "host = \"{}\"\nsecurity = \"none\"\nport = 1\ntimeout = \"15s\"\nehlo_name = \"from-file.example.test\"\n",
        p.host
    ));
    rig.env("SMTP_PORT", &p.postfix_plain_port.to_string());
    rig.cli("ehlo_name", "from-cli.example.test");
    let loaded = rig.ok();
    assert_eq!(
        loaded.provenance().get("port").unwrap().from,
        "env SMTP_PORT"
    );
    assert_eq!(
        loaded.provenance().get("ehlo_name").unwrap().from,
        "command line"
    );

    let built = loaded.build().unwrap();
    assert!(matches!(built.transport, BuiltTransport::Smtp(_)));
    let tag = unique_tag("config-layers");
    let delivery = built
        .transport
        .send(&envelope(), message(&tag))
        .await
        .unwrap();
    assert_eq!(delivery.accepted.len(), 1, "{delivery:?}");
    let mail = delivered(&tag).await;
    assert!(
        mail.contains("from-cli.example.test"),
        "Received header should carry the CLI's EHLO name:\n{mail}"
    );
}

#[tokio::test]
async fn starttls_with_ca_file_tls13_and_password_from_env() {
    let p = peers();
    let mut rig = Rig::new();
    rig.config(&format!(
        "host = \"{}\"\nport = {}\ntimeout = \"15s\"\n[tls]\nca_file = \"{}\"\nserver_name = \"{}\"\nmin_version = \"1.3\"\n\
         [auth]\nusername = \"{}\"\n",
        p.host,
        p.postfix_submission_port,
        p.ca_cert.display(),
        p.tls_name,
        p.smtp_user
    ));
    rig.env("SMTP_AUTH__PASSWORD", p.smtp_pass.expose_secret());
    let built = rig.ok().build().unwrap();
    let tag = unique_tag("config-starttls");
    built
        .transport
        .send(&envelope(), message(&tag))
        .await
        .unwrap();
    let mail = delivered(&tag).await;
    assert!(mail.contains("using TLSv1.3"), "{mail}");
    assert!(
        mail.contains(&format!("(Authenticated sender: {})", p.smtp_user)),
        "{mail}"
    );
}

#[tokio::test]
async fn wrong_password_from_file_is_refused_by_the_server() {
    let p = peers();
    let mut rig = Rig::new();
    let pw = rig.write("secrets/pw", "Not-The-Password\n");
    rig.config(&format!(
        "host = \"{}\"\nport = {}\nsecurity = \"implicit\"\ntimeout = \"15s\"\n[tls]\nca_file = \"{}\"\nserver_name = \"{}\"\n\
         [auth]\nusername = \"{}\"\npassword_file = \"{}\"\n",
        p.host,
        p.postfix_smtps_port,
        p.ca_cert.display(),
        p.tls_name,
        p.smtp_user,
        pw.display()
    ));
    let built = rig.ok().build().unwrap();
    let err = built
        .transport
        .send(&envelope(), message(&unique_tag("config-badpw")))
        .await
        .unwrap_err();
    assert_eq!(err.phase(), smtp_core::Phase::Auth, "{err}");
    assert!(!format!("{err} {err:?}").contains("Not-The-Password"));
}

#[tokio::test]
async fn through_socks5_proxy_with_credentials_from_env() {
    let p = peers();
    let mut rig = Rig::new();
    rig.config(&format!(
        "host = \"{}\"\nport = {}\nsecurity = \"none\"\ntimeout = \"15s\"\n",
        p.host, p.postfix_plain_port
    ));
    rig.env(
        "SMTP_PROXY__URL",
        &format!(
            "socks5h://{}:{}@{}:{}",
            p.proxy_user,
            p.proxy_pass.expose_secret(),
            p.host,
            p.socks5_auth_port
        ),
    );
    let loaded = rig.ok();
    assert!(
        !loaded
            .provenance()
            .to_string()
            .contains(p.proxy_pass.expose_secret())
    );
    let built = loaded.build().unwrap();
    let tag = unique_tag("config-socks5");
    built
        .transport
        .send(&envelope(), message(&tag))
        .await
        .unwrap();
    delivered(&tag).await;

    // The proxy really is in the path: a wrong proxy password fails to connect.
    rig.env(
        "SMTP_PROXY__URL",
        &format!(
            "socks5h://{}:wrong@{}:{}",
            p.proxy_user, p.host, p.socks5_auth_port
        ),
    );
    let built = rig.ok().build().unwrap();
    let err = built
        .transport
        .send(&envelope(), message(&unique_tag("config-socks5-bad")))
        .await
        .unwrap_err();
    assert_eq!(err.phase(), smtp_core::Phase::Connect, "{err}");
}

/// `proxy.url = "https://..."` from TOML, the proxy password from the
/// environment: TLS to squid's https_port checked with `tls.ca_file` (the
/// mail server's setting), then implicit TLS to Postfix inside the tunnel.
#[tokio::test]
async fn through_an_https_proxy_checked_with_the_mail_servers_ca_file() {
    let p = peers();
    let mut rig = Rig::new();
    let config = |ca: &str| {
        format!(
            "host = \"localhost\"\nport = {}\nsecurity = \"implicit\"\ntimeout = \"15s\"\n{ca}\
             [auth]\nusername = \"{}\"\n[proxy]\nurl = \"https://{}@localhost:{}\"\n",
            p.postfix_smtps_port, p.smtp_user, p.proxy_user, p.squid_https_auth_port
        )
    };
    rig.config(&config(&format!(
        "[tls]\nca_file = \"{}\"\n",
        p.ca_cert.display()
    )));
    rig.env("SMTP_AUTH__PASSWORD", p.smtp_pass.expose_secret());
    rig.env("SMTP_PROXY__PASSWORD", p.proxy_pass.expose_secret());
    let built = rig.ok().build().unwrap();
    let tag = unique_tag("config-https-proxy");
    built
        .transport
        .send(&envelope(), message(&tag))
        .await
        .unwrap();
    let mail = delivered(&tag).await;
    assert!(mail.contains("using TLSv1."), "{mail}");

    // Without the rig's CA the proxy's certificate is refused, before any
    // SMTP: the error names the proxy and its hint the trust setting.
    rig.config(&config(""));
    let built = rig.ok().build().unwrap();
    let err = built
        .transport
        .send(&envelope(), message(&unique_tag("config-https-proxy-bad")))
        .await
        .unwrap_err();
    assert_eq!(err.phase(), smtp_core::Phase::Connect, "{err}");
    let shown = format!("{err}");
    assert!(shown.contains("TLS to proxy https://localhost:"), "{shown}");
    assert_eq!(
        smtp_config::coded_hint(&err).map(|h| h.code),
        Some("proxy-tls"),
        "{shown}"
    );
}

#[tokio::test]
async fn oauth2_refresh_flow_from_a_profile() {
    let p = peers();
    let mut rig = Rig::new();
    rig.user(&format!(
        "host = \"{host}\"\n\
         [profiles.oauth]\ndescription = \"XOAUTH2 via the test token endpoint\"\nport = {port}\ntimeout = \"15s\"\n\
         [profiles.oauth.tls]\nca_file = \"{ca}\"\nserver_name = \"{name}\"\n\
         [profiles.oauth.auth]\nusername = \"{user}\"\nmechanisms = [\"XOAUTH2\"]\n\
         [profiles.oauth.auth.oauth2]\ntoken_url = \"{url}\"\nclient_id = \"{id}\"\n",
        host = p.host,
        port = p.postfix_submission_port,
        ca = p.ca_cert.display(),
        name = p.tls_name,
        user = p.smtp_user,
        url = p.token_endpoint,
        id = p.oauth_client_id,
    ));
    rig.env("SMTP_PROFILE", "oauth")
        .env(
            "SMTP_AUTH__OAUTH2__CLIENT_SECRET",
            p.oauth_client_secret.expose_secret(),
        )
        .env(
            "SMTP_AUTH__OAUTH2__REFRESH_TOKEN",
            p.oauth_refresh_token.expose_secret(),
        );
    let built = rig.ok().build().unwrap();
    let tag = unique_tag("config-oauth2");
    built
        .transport
        .send(&envelope(), message(&tag))
        .await
        .unwrap();
    let mail = delivered(&tag).await;
    assert!(
        mail.contains(&format!("(Authenticated sender: {})", p.smtp_user)),
        "{mail}"
    );
}
