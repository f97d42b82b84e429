//! `Loaded::build`: which transport, and plugin wiring errors. No server
//! is contacted here (see `tests/sending/send_peers.rs` for real sends).

use crate::common::Rig;
use smtp_config::{BuiltTransport, Error};
use smtp_core::{Address, Envelope, MessageSource, Security, Transport};

fn envelope() -> Envelope {
    Envelope::new(
        Some(Address::new("a@example.test").unwrap()),
        vec![Address::new("b@example.test").unwrap()],
    )
    .unwrap()
}

#[tokio::test]
async fn no_host_builds_the_outbox() {
    let mut rig = Rig::new();
    rig.config("[message]\nfrom = \"me@example.test\"\n[rate_limit]\nper_minute = 30\n");
    let built = rig.ok().build().unwrap();
    assert!(built.is_outbox());
    assert_eq!(built.message.from.as_deref(), Some("me@example.test"));
    assert_eq!(
        built.rate_limit.min_interval(),
        Some(std::time::Duration::from_secs(2))
    );
    let BuiltTransport::Outbox(outbox) = &built.transport else {
        panic!("{built:?}")
    };
    assert_eq!(outbox.queue().dir(), rig.path("xdg-data/smtp/outbox"));

    let tag = smtp_testkit::unique_tag("outbox");
    let msg = format!("Subject: {tag}\r\n\r\nbody\r\n");
    built
        .transport
        .send(&envelope(), MessageSource::from_bytes(msg))
        .await
        .unwrap();
    let emls: Vec<_> = std::fs::read_dir(outbox.queue().dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    assert_eq!(emls.len(), 1, "{emls:?}");
    let text = std::fs::read_to_string(&emls[0]).unwrap();
    assert!(text.contains(&tag), "{text}");
}

#[test]
fn host_builds_smtp_with_settings() {
    let mut rig = Rig::new();
    rig.config(
        "host = \"127.0.0.1\"\nsecurity = \"none\"\nport = 2525\n[pool]\nmax_connections = 2\n",
    );
    let built = rig.ok().build().unwrap();
    let BuiltTransport::Smtp(smtp) = &built.transport else {
        panic!("{built:?}")
    };
    assert_eq!(smtp.security(), Security::None);
    assert_eq!(smtp.target().port, 2525);
    assert_eq!(built.pool.limits.max_connections, 2);
    assert_eq!(built.retry.attempts, 3);
    assert_eq!(smtp.pipeline_window(), 16, "the default window");
}

#[test]
fn pipeline_window_reaches_the_transport() {
    let mut rig = Rig::new();
    rig.config("host = \"127.0.0.1\"\nsecurity = \"none\"\n[pool]\npipeline_window = 4\n");
    let built = rig.ok().build().unwrap();
    let BuiltTransport::Smtp(smtp) = &built.transport else {
        panic!("{built:?}")
    };
    assert_eq!(smtp.pipeline_window(), 4);
    assert_eq!(built.pool.pipeline_window, 4);
    rig.env("SMTP_POOL__PIPELINE_WINDOW", "1");
    let BuiltTransport::Smtp(smtp) = rig.ok().build().unwrap().transport else {
        panic!("no SMTP transport")
    };
    assert_eq!(smtp.pipeline_window(), 1, "the variable beats the file");
}

#[cfg(feature = "tls")]
#[test]
fn default_port_follows_security() {
    let mut rig = Rig::new();
    rig.env("SMTP_HOST", "mail.example.test")
        .env("SMTP_SECURITY", "implicit");
    let built = rig.ok().build().unwrap();
    let BuiltTransport::Smtp(smtp) = &built.transport else {
        panic!()
    };
    assert_eq!(
        (smtp.security(), smtp.target().port),
        (Security::ImplicitTls, 465)
    );
}

#[cfg(feature = "tls")]
#[test]
fn tls_plugin_errors_are_reported() {
    let mut rig = Rig::new();
    rig.config("host = \"mail.example.test\"\n[tls]\nca_file = \"missing-ca.pem\"\n");
    let err = rig.ok().build().unwrap_err();
    assert!(matches!(err, Error::Plugin { what: "tls", .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("TLS setup failed: ") && text.contains("missing-ca.pem"),
        "{text}"
    );

    let mut rig = Rig::new();
    rig.env("SMTP_HOST", "mail.example.test")
        .env("SMTP_TLS__PIN_SHA256", "not-a-pin");
    let err = rig.ok().build().unwrap_err();
    assert!(matches!(err, Error::Plugin { what: "tls", .. }), "{err:?}");
}

#[cfg(feature = "auth")]
#[test]
fn auth_plugin_errors_are_reported() {
    // A password, but only token mechanisms allowed.
    let mut rig = Rig::new();
    rig.env("SMTP_HOST", "mail.example.test")
        .env("SMTP_AUTH__USERNAME", "me")
        .env("SMTP_AUTH__PASSWORD", "hunter2")
        .env("SMTP_AUTH__MECHANISMS", "XOAUTH2");
    let err = rig.ok().build().unwrap_err();
    assert!(matches!(err, Error::Plugin { what: "auth", .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("hunter2"));
}

#[cfg(feature = "proxy")]
#[test]
fn proxy_is_wired() {
    let mut rig = Rig::new();
    rig.env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_SECURITY", "none")
        .env("SMTP_PROXY__URL", "socks5h://u:pw@127.0.0.1:1082");
    let built = rig.ok().build().unwrap();
    assert!(!built.is_outbox());
}

#[cfg(not(feature = "proxy"))]
#[test]
fn proxy_without_the_feature_is_an_error() {
    let mut rig = Rig::new();
    rig.env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_SECURITY", "none")
        .env("SMTP_PROXY__URL", "socks5h://127.0.0.1:1080");
    let err = rig.ok().build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "`proxy.url` (from env SMTP_PROXY__URL) needs the `proxy` feature of smtp-config, which this build lacks"
    );
}

#[cfg(not(feature = "tls"))]
#[test]
fn tls_without_the_feature_is_an_error() {
    let mut rig = Rig::new();
    rig.env("SMTP_HOST", "127.0.0.1");
    let err = rig.ok().build().unwrap_err();
    assert!(
        matches!(err, Error::FeatureDisabled { feature: "tls", .. }),
        "{err:?}"
    );
}
