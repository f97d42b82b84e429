use secrecy::ExposeSecret;

use super::*;

/// A file with every key: ports get 2000 + their index, other keys a
/// value derived from their name.
fn full_text() -> String {
    let mut text = String::from("# generated\n");
    for (i, key) in KEYS.iter().enumerate() {
        let value = if key.ends_with("_PORT") {
            (2000 + i).to_string()
        } else {
            format!("/x/{}", key.to_ascii_lowercase())
        };
        text.push_str(&format!("{key}='{value}'\n"));
    }
    text
}

#[test]
fn typed_fields_and_get() {
    let text = full_text().replace(
        "PEERS_SKIPPED='/x/peers_skipped'",
        "PEERS_SKIPPED='squid dante'",
    ) + "PEERS_SOMETHING_NEW='it'\\''s new'\n";
    let p = Peers::parse(&text).unwrap();
    let idx = |k: &str| KEYS.iter().position(|x| *x == k).unwrap() as u16 + 2000;
    assert_eq!(p.postfix_plain_port, idx("PEERS_POSTFIX_PLAIN_PORT"));
    assert_eq!(p.postfix_mtls_port, idx("PEERS_POSTFIX_MTLS_PORT"));
    assert_eq!(p.squid_auth_port, idx("PEERS_SQUID_AUTH_PORT"));
    assert_eq!(p.ca_cert, PathBuf::from("/x/peers_ca_cert"));
    assert_eq!(p.smtp_pass.expose_secret(), "/x/peers_smtp_pass");
    assert_eq!(p.skipped, ["squid", "dante"]);
    assert_eq!(p.get("PEERS_SOMETHING_NEW"), Some("it's new"));
    assert_eq!(p.get("PEERS_HOST"), Some("/x/peers_host"));
    assert_eq!(p.get("NOPE"), None);
    assert_eq!(p.addr(25).to_string(), "127.0.0.1:25");
}

#[test]
fn debug_hides_secrets() {
    let p = Peers::parse(&full_text()).unwrap();
    let dbg = format!("{p:?}");
    assert!(dbg.contains("/x/peers_smtp_user"), "{dbg}");
    for secret in [
        "smtp_pass",
        "oauth_token",
        "oauth_client_secret",
        "oauth_refresh_token",
        "proxy_pass",
    ] {
        assert!(
            !dbg.contains(&format!("/x/peers_{secret}")),
            "{secret} leaked: {dbg}"
        );
    }
}

#[test]
fn missing_key_and_bad_port() {
    let text = full_text().replace("PEERS_POSTFIX_MTLS_PORT=", "OLD_NAME=");
    let err = Peers::parse(&text).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingKey {
                key: "PEERS_POSTFIX_MTLS_PORT"
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("run it again"), "{err}");
    let text = full_text() + "PEERS_SMTP_SINK_PORT='70000'\n";
    let err = Peers::parse(&text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "PEERS_SMTP_SINK_PORT=\"70000\" is not a valid value"
    );
}

#[test]
fn missing_file_message_says_how_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let msg = load_running(&dir.path().join("peers.env")).unwrap_err();
    assert!(
        msg.starts_with("SMTP test peers are not running: run `scripts/test.sh`"),
        "{msg}"
    );
    assert!(msg.contains("sudo scripts/peers/start.sh"), "{msg}");
    assert!(msg.contains("peers.env"), "{msg}");
}

#[test]
fn down_peer_is_reported() {
    // A port that was just free: nothing listens there.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut text = String::new();
    for (i, key) in KEYS.iter().enumerate() {
        let value = match *key {
            "PEERS_POSTFIX_PLAIN_PORT" => free.to_string(),
            k if k.ends_with("_PORT") => (2000 + i).to_string(),
            _ => "x".to_owned(),
        };
        text.push_str(&format!("{key}='{value}'\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("peers.env");
    std::fs::write(&path, text).unwrap();
    let msg = load_running(&path).unwrap_err();
    assert!(
        msg.contains(&format!(
            "postfix does not accept connections on 127.0.0.1:{free}"
        )),
        "{msg}"
    );
    assert!(msg.starts_with("SMTP test peers are not running"), "{msg}");
}
