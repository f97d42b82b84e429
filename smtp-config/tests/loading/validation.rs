//! The text of every validation error and warning: each names the key,
//! the bad value (secrets redacted) and the layer.

use crate::common::Rig;
use smtp_core::Security;

fn file_err(content: &str) -> (String, String) {
    let mut rig = Rig::new();
    rig.config(content);
    let path = rig.config_file.clone().unwrap().display().to_string();
    (rig.err(), path)
}

#[test]
fn toml_syntax_error_names_file_and_line() {
    let (e, path) = file_err("host = \"x\"\n\nport = = 25\n");
    assert!(e.starts_with(&format!("{path}:3: invalid TOML: ")), "{e}");
}

#[test]
fn unknown_key_in_file_with_suggestion() {
    let (e, path) = file_err("hots = \"smtp.example.com\"\n");
    assert_eq!(
        e,
        format!("unknown key `hots` in {path}:1; did you mean `host`?")
    );
    let (e, path) = file_err("[tls]\nmin_version = \"1.2\"\n[auth]\nuser = \"me\"\n");
    assert_eq!(
        e,
        format!("unknown key `auth.user` in {path}:4; did you mean `auth.username`?")
    );
    let (e, path) = file_err("min_version = \"1.2\"\n");
    assert_eq!(
        e,
        format!("unknown key `min_version` in {path}:1; did you mean `tls.min_version`?")
    );
    let (e, path) = file_err("frobnicate = 1\n");
    assert_eq!(e, format!("unknown key `frobnicate` in {path}:1"));
}

#[test]
fn unknown_key_on_command_line() {
    let mut rig = Rig::new();
    rig.cli("tls.min_versoin", "1.3");
    assert_eq!(
        rig.err(),
        "unknown key `tls.min_versoin` in command line; did you mean `tls.min_version`?"
    );
}

#[test]
fn section_written_as_a_value() {
    let (e, path) = file_err("tls = true\n");
    assert_eq!(
        e,
        format!(
            "invalid value true for `tls` in {path}:1: `tls` is a section: write its keys under [tls]; did you mean `security`?"
        )
    );
}

#[test]
fn bad_enum_values() {
    let (e, path) = file_err("security = \"startls\"\n");
    assert_eq!(
        e,
        format!(
            "invalid value \"startls\" for `security` in {path}:1: expected one of none, starttls, \
             starttls-opportunistic, implicit (or a product's word: explicit, SSL, SMTPS); did you mean \"starttls\"?"
        )
    );
    let mut rig = Rig::new();
    rig.env("SMTP_AUTH__MECHANISMS", "PLAIN,CRAM-MD4");
    assert_eq!(
        rig.err(),
        "invalid value \"PLAIN,CRAM-MD4\" for `auth.mechanisms` in env SMTP_AUTH__MECHANISMS: unknown mechanism \
         \"CRAM-MD4\": expected some of SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, NTLM, PLAIN, LOGIN, XOAUTH2, OAUTHBEARER; \
         did you mean \"CRAM-MD5\"?"
    );
}

#[test]
fn pipeline_window_range() {
    let (e, path) = file_err("[pool]\npipeline_window = 65\n");
    assert_eq!(
        e,
        format!(
            "invalid value 65 for `pool.pipeline_window` in {path}:2: out of range: expected 1-64"
        )
    );
    let mut rig = Rig::new();
    rig.env("SMTP_POOL__PIPELINE_WINDOW", "0");
    assert_eq!(
        rig.err(),
        "invalid value \"0\" for `pool.pipeline_window` in env SMTP_POOL__PIPELINE_WINDOW: out of range: expected 1-64"
    );
}

#[test]
fn bad_types_and_ranges() {
    let mut rig = Rig::new();
    rig.env("SMTP_PORT", "smtp");
    assert_eq!(
        rig.err(),
        "invalid value \"smtp\" for `port` in env SMTP_PORT: expected a whole number"
    );
    let (e, path) = file_err("\nport = 70000\n");
    assert_eq!(
        e,
        format!("invalid value 70000 for `port` in {path}:2: out of range: expected 1-65535")
    );
    let (e, path) = file_err("[tls]\ndangerous_accept_invalid_certs = \"maybe\"\n");
    assert_eq!(
        e,
        format!(
            "invalid value \"maybe\" for `tls.dangerous_accept_invalid_certs` in {path}:2: expected true or false"
        )
    );
    let (e, path) = file_err("timeout = \"0s\"\n");
    assert_eq!(
        e,
        format!("invalid value \"0s\" for `timeout` in {path}:1: must be longer than zero")
    );
    let (e, _) = file_err("timeout = \"soon\"\n");
    assert!(e.contains("expected a duration such as \"30s\""), "{e}");
    let (e, path) = file_err("host = \"smtp.example.com\\r\\nRCPT TO:<x@y>\"\n");
    assert_eq!(
        e,
        format!(
            "invalid value \"smtp.example.com\\r\\nRCPT TO:<x@y>\" for `host` in {path}:1: contains CR, LF or NUL"
        )
    );
    let (e, path) = file_err("[message]\nfrom = \"not an address\"\n");
    assert_eq!(
        e,
        format!(
            "invalid value \"not an address\" for `message.from` in {path}:2: expected local@domain"
        )
    );
}

#[test]
fn old_tls_versions_are_refused() {
    for v in ["1.0", "1.1"] {
        let mut rig = Rig::new();
        rig.env("SMTP_TLS__MIN_VERSION", v);
        assert_eq!(
            rig.err(),
            format!(
                "invalid value \"{v}\" for `tls.min_version` in env SMTP_TLS__MIN_VERSION: TLS version \"{v}\" \
                 is not supported: rustls implements only TLS 1.2 and 1.3 (RFC 8996 deprecated SSLv3, \
                 TLS 1.0 and 1.1 as insecure)"
            )
        );
    }
    // An unquoted TOML float works too.
    let (e, path) = file_err("[tls]\nmin_version = 1.1\n");
    assert!(
        e.starts_with(&format!(
            "invalid value 1.1 for `tls.min_version` in {path}:2: TLS version \"1.1\" is not supported"
        )),
        "{e}"
    );
}

#[test]
fn min_version_above_max_version() {
    let mut rig = Rig::new();
    rig.config("[tls]\nmax_version = \"1.2\"\n");
    rig.env("SMTP_TLS__MIN_VERSION", "1.3");
    let path = rig.config_file.clone().unwrap().display().to_string();
    assert_eq!(
        rig.err(),
        format!(
            "tls.min_version = 1.3 (from env SMTP_TLS__MIN_VERSION) is higher than tls.max_version = 1.2 (from {path}:2)"
        )
    );
}

#[test]
fn cleartext_auth_with_security_none() {
    let mut rig = Rig::new();
    rig.config("host = \"relay.example\"\nsecurity = \"none\"\n[auth]\nusername = \"me\"\n");
    rig.env("SMTP_AUTH__PASSWORD", "hunter2");
    let path = rig.config_file.clone().unwrap().display().to_string();
    let e = rig.err();
    assert_eq!(
        e,
        format!(
            "refusing to send a password in clear: security = none (from {path}:2) with authentication \
             (from env SMTP_AUTH__PASSWORD) and auth.mechanisms allowing PLAIN, LOGIN, XOAUTH2 or \
             OAUTHBEARER, which send the secret as is"
        )
    );
    assert!(!e.contains("hunter2"));

    rig.env("SMTP_AUTH__ALLOW_CLEARTEXT", "true");
    assert!(rig.load().is_ok());

    rig.env("SMTP_AUTH__ALLOW_CLEARTEXT", "false");
    rig.env("SMTP_AUTH__MECHANISMS", "CRAM-MD5");
    assert!(
        rig.load().is_ok(),
        "a challenge-response mechanism never sends the password"
    );
}

#[test]
fn malformed_proxy_url_is_redacted() {
    let mut rig = Rig::new();
    rig.env("SMTP_PROXY__URL", "sock5://user:s3cret@127.0.0.1:1080");
    let e = rig.err();
    assert_eq!(
        e,
        "invalid value \"sock5://user:<redacted>@127.0.0.1:1080\" for `proxy.url` in env SMTP_PROXY__URL: \
         unknown scheme \"sock5\": expected socks5h, socks5, socks4a, socks4, http or https"
    );
    let mut rig = Rig::new();
    rig.cli("proxy.url", "socks5h://u:pw@127.0.0.1:99999");
    let e = rig.err();
    assert!(
        e.contains("bad proxy port") && e.contains(":99999") && !e.contains("pw@"),
        "{e}"
    );
}

#[test]
fn password_given_twice_in_one_layer() {
    let (e, path) = file_err(
        "[auth]\nusername = \"me\"\npassword = \"hunter2\"\npassword_file = \"/run/secrets/smtp\"\n",
    );
    assert_eq!(
        e,
        format!(
            "auth.password, auth.password_file are all set in {path}:4: the password or token may come from one \
             source only; keep one of them"
        )
    );
    let mut rig = Rig::new();
    rig.env("SMTP_AUTH__PASSWORD_COMMAND", "pass smtp")
        .env("SMTP_AUTH__OAUTH2__TOKEN", "t");
    assert!(
        rig.err()
            .starts_with("auth.password_command, auth.oauth2.token are all set in env")
    );
}

#[test]
fn secret_from_the_program_layer_is_redacted() {
    // What the CLI does with a prompted password or --password-env.
    let mut rig = Rig::new();
    rig.env("SMTP_HOST", "h.example")
        .env("SMTP_AUTH__USERNAME", "me");
    rig.cli("auth.password", "hunter2");
    let l = rig.ok();
    let e = l.provenance().get("auth.password").unwrap();
    assert_eq!(
        (e.value.as_str(), e.from.as_str()),
        ("<redacted>", "command line")
    );
    assert!(!format!("{:?} {:?} {}", rig.options(), l, l.provenance()).contains("hunter2"));
}

#[test]
fn missing_companions() {
    // Load succeeds (a program may prompt for the password); build refuses.
    let mut rig = Rig::new();
    rig.env("SMTP_HOST", "h.example")
        .env("SMTP_AUTH__USERNAME", "me");
    let l = rig.ok();
    assert!(l.config().auth.username.is_some() && !l.config().auth.has_secret());
    assert_eq!(
        l.build().unwrap_err().to_string(),
        "missing `auth.password`: auth.username is set (from env SMTP_AUTH__USERNAME) but no password or token: set \
         SMTP_AUTH__PASSWORD, auth.password_file, auth.password_command or auth.oauth2.*"
    );
    let mut rig = Rig::new();
    rig.env("SMTP_AUTH__PASSWORD_FILE", "/run/pw");
    assert_eq!(
        rig.err(),
        "missing `auth.username`: auth.password_file is set (from env SMTP_AUTH__PASSWORD_FILE) but no user name to log in with"
    );
    let mut rig = Rig::new();
    rig.env("SMTP_AUTH__USERNAME", "me")
        .env(
            "SMTP_AUTH__OAUTH2__TOKEN_URL",
            "https://oauth2.example/token",
        )
        .env("SMTP_AUTH__OAUTH2__CLIENT_ID", "id");
    assert!(
        rig.err()
            .starts_with("missing `auth.oauth2.refresh_token`: the OAuth2 refresh-token flow")
    );
    let mut rig = Rig::new();
    rig.env("SMTP_TLS__CLIENT_CERT", "/c.pem");
    assert_eq!(
        rig.err(),
        "missing `tls.client_key`: tls.client_cert is set (from env SMTP_TLS__CLIENT_CERT)"
    );
    let mut rig = Rig::new();
    rig.preset = Some("exchange".into());
    assert_eq!(
        rig.err(),
        "missing `host`: preset exchange (from command line) has no server of its own: set host = \
         \"mail.example.com\" (or SMTP_HOST)"
    );
}

#[test]
fn token_url_must_be_https() {
    let mut rig = Rig::new();
    rig.env(
        "SMTP_AUTH__OAUTH2__TOKEN_URL",
        "http://oauth.example.com/token",
    );
    assert_eq!(
        rig.err(),
        "invalid value \"http://oauth.example.com/token\" for `auth.oauth2.token_url` in env \
         SMTP_AUTH__OAUTH2__TOKEN_URL: must use https:// (plain http is allowed only to a loopback host)"
    );
}

fn warnings(rig: &Rig) -> Vec<String> {
    rig.ok()
        .warnings()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn wrong_port_for_security_is_warned() {
    let mut rig = Rig::new();
    rig.env("SMTP_HOST", "h.example").env("SMTP_PORT", "465");
    assert_eq!(
        warnings(&rig),
        [
            "port (from env SMTP_PORT): port 465 expects implicit TLS but security = starttls: the classic \
          \"wrong version number\" or greeting timeout; use security = \"implicit\""
        ]
    );
    let mut rig = Rig::new();
    rig.config("host = \"h.example\"\nport = 587\nsecurity = \"implicit\"\n");
    let w = warnings(&rig);
    assert_eq!(w.len(), 1);
    assert!(
        w[0].contains("port 587 expects STARTTLS but security = implicit"),
        "{w:?}"
    );
}

#[test]
fn other_warnings() {
    let mut rig = Rig::new();
    rig.config("host = \"h.example\"\n[tls]\ndangerous_accept_invalid_certs = true\n");
    let w = warnings(&rig);
    assert!(
        w[0].starts_with("tls.dangerous_accept_invalid_certs (from ")
            && w[0].contains("verification is OFF"),
        "{w:?}"
    );

    let mut rig = Rig::new();
    rig.env("SMTP_HOST", "h.example")
        .env("SMTP_AWS_REGION", "eu-west-1");
    assert_eq!(
        warnings(&rig),
        [
            "aws_region (from env SMTP_AWS_REGION): aws_region = \"eu-west-1\" is used only by preset = \"amazon-ses\""
        ]
    );

    let mut rig = Rig::new();
    rig.env("SMTP_PORT", "2525");
    assert_eq!(
        warnings(&rig),
        [
            "port (from env SMTP_PORT): host is not set: messages will be written to the outbox directory, not sent"
        ]
    );

    let mut rig = Rig::new();
    rig.env("SMTP_HOST", "h")
        .env("SMTP_SECURITY", "none")
        .env("SMTP_TLS__MIN_VERSION", "1.3");
    assert_eq!(
        warnings(&rig),
        [
            "tls.min_version (from env SMTP_TLS__MIN_VERSION): security = none: TLS settings have no effect"
        ]
    );
}

#[test]
fn errors_have_hints_where_needed() {
    let mut rig = Rig::new();
    rig.strict_env = true;
    rig.env("SMTP_SERVER", "x");
    let e = rig.load().unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown key `server` in env SMTP_SERVER; did you mean `host`?"
    );
    assert!(e.hint().unwrap().contains("SMTP_TLS__MIN_VERSION"));
}

#[test]
fn product_security_words_map_to_modes() {
    for (word, mode) in [
        ("explicit", Security::StartTlsRequired),
        ("STARTTLS", Security::StartTlsRequired),
        ("Implicit", Security::ImplicitTls),
        ("SSL", Security::ImplicitTls),
        ("SMTPS", Security::ImplicitTls),
    ] {
        let mut rig = Rig::new();
        rig.cli("host", "h.example").cli("security", word);
        assert_eq!(rig.ok().config().security, mode, "{word}");
    }
}

#[test]
fn bare_tls_is_refused_naming_the_mode_the_port_implies() {
    for (port, says) in [
        (Some("465"), "; port 465 means implicit"),
        (Some("587"), "; port 587 means starttls"),
        (Some("25"), "; port 25 means starttls"),
        (None, ""),
    ] {
        let mut rig = Rig::new();
        rig.env("SMTP_SECURITY", "TLS");
        if let Some(p) = port {
            rig.cli("port", p);
        }
        let e = rig.load().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "security \"TLS\" (from env SMTP_SECURITY) is ambiguous: products say TLS for implicit TLS \
                 and for STARTTLS alike{says}"
            )
        );
        assert_eq!(e.coded_hint().unwrap().code, "config-ambiguous-security");
    }
}

#[cfg(unix)]
#[test]
fn world_readable_file_with_a_password_is_warned() {
    use std::os::unix::fs::PermissionsExt;
    let mut rig = Rig::new();
    rig.config("host = \"h.example\"\n[auth]\nusername = \"u\"\npassword = \"file-secret-1\"\n");
    let path = rig.config_file.clone().unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let w = warnings(&rig);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("auth.password (from "), "{w:?}");
    assert!(w[0].contains("(mode 0644): chmod 600 it"), "{w:?}");
    assert!(!w[0].contains("file-secret-1"), "{w:?}");

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(warnings(&rig).is_empty());

    // No secret in it: readable is fine.
    let mut rig = Rig::new();
    rig.config("host = \"h.example\"\n[auth]\nusername = \"u\"\npassword_file = \"/p\"\n");
    let path = rig.config_file.clone().unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(warnings(&rig).is_empty());
}
