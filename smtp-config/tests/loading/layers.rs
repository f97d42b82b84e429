//! Layer order, one adjacent pair at a time, then env nesting, profiles
//! and presets.

use crate::common::{Rig, at};
use smtp_core::Security;

#[test]
fn preset_beats_defaults() {
    let mut rig = Rig::new();
    rig.user("preset = \"fastmail\"\n");
    let l = rig.ok();
    assert_eq!(l.config().security, Security::ImplicitTls);
    assert_eq!(
        at(&l, "security"),
        ("implicit".into(), "preset fastmail".into())
    );
    assert_eq!(
        at(&l, "host"),
        ("smtp.fastmail.com".into(), "preset fastmail".into())
    );
    assert_eq!(at(&l, "retry.attempts"), ("3".into(), "default".into()));
}

#[test]
fn system_file_beats_preset() {
    let mut rig = Rig::new();
    rig.system("preset = \"gmail\"\nport = 2525\n");
    let l = rig.ok();
    assert_eq!(l.config().port, Some(2525));
    let sys = rig.system_path().display().to_string();
    assert_eq!(at(&l, "port"), ("2525".into(), format!("{sys}:2")));
    assert_eq!(
        at(&l, "host"),
        ("smtp.gmail.com".into(), "preset gmail".into())
    );
}

#[test]
fn user_file_beats_system_file() {
    let mut rig = Rig::new();
    rig.system("host = \"system.example\"\nehlo_name = \"sys.example\"\n");
    rig.user("\n\nhost = \"user.example\"\n");
    let l = rig.ok();
    assert_eq!(l.config().host.as_deref(), Some("user.example"));
    let user = rig.user_path().display().to_string();
    assert_eq!(at(&l, "host"), ("user.example".into(), format!("{user}:3")));
    // Keys the higher layer leaves alone stay.
    assert_eq!(l.config().ehlo_name.as_deref(), Some("sys.example"));
}

#[test]
fn config_file_beats_user_file() {
    let mut rig = Rig::new();
    rig.user("host = \"user.example\"\n");
    rig.config("host = \"given.example\"\n");
    let l = rig.ok();
    assert_eq!(l.config().host.as_deref(), Some("given.example"));
    assert!(at(&l, "host").1.ends_with("given/config.toml:1"));
}

#[test]
fn smtp_config_env_names_the_file() {
    let mut rig = Rig::new();
    let f = rig.write("elsewhere.toml", "host = \"env-file.example\"\n");
    rig.user("host = \"user.example\"\n");
    rig.env("SMTP_CONFIG", &f.display().to_string());
    assert_eq!(rig.ok().config().host.as_deref(), Some("env-file.example"));

    rig.env(
        "SMTP_CONFIG",
        &rig.path("missing.toml").display().to_string(),
    );
    let e = rig.err();
    assert!(
        e.starts_with("config file ")
            && e.ends_with("missing.toml not found (given by SMTP_CONFIG)"),
        "{e}"
    );
}

#[test]
fn env_beats_config_file() {
    let mut rig = Rig::new();
    rig.config("host = \"given.example\"\nport = 2525\n");
    rig.env("SMTP_PORT", "2526");
    let l = rig.ok();
    assert_eq!(l.config().port, Some(2526));
    assert_eq!(at(&l, "port"), ("2526".into(), "env SMTP_PORT".into()));
}

#[test]
fn cli_beats_env() {
    let mut rig = Rig::new();
    rig.env("SMTP_HOST", "env.example").env("SMTP_PORT", "2526");
    rig.cli("port", "2527");
    let l = rig.ok();
    assert_eq!(l.config().port, Some(2527));
    assert_eq!(at(&l, "port"), ("2527".into(), "command line".into()));
    assert_eq!(
        at(&l, "host"),
        ("env.example".into(), "env SMTP_HOST".into())
    );
}

#[test]
fn skip_system_files_ignores_system_and_user() {
    let mut rig = Rig::new();
    rig.system("host = \"system.example\"\n")
        .user("port = 2525\n");
    let l = smtp_config::Config::load(&rig.options().skip_system_files(true)).unwrap();
    assert!(l.config().host.is_none());
    assert!(l.config().port.is_none());
}

#[test]
fn env_nesting_and_types() {
    let mut rig = Rig::new();
    rig.env("SMTP_HOST", "h.example")
        .env("SMTP_TLS__MIN_VERSION", "1.3")
        .env("SMTP_TLS__DANGEROUS_ACCEPT_INVALID_HOSTNAMES", "false")
        .env("SMTP_AUTH__USERNAME", "me")
        .env("SMTP_AUTH__OAUTH2__TOKEN", "tok-123")
        .env("SMTP_AUTH__MECHANISMS", "xoauth2,oauthbearer")
        .env("SMTP_TIMEOUTS__DATA_END", "90")
        .env("SMTP_POOL__MAX_CONNECTIONS", "2")
        .env("SMTP_TLS__CA_FILE", "[/a.pem, /b.pem]");
    let l = rig.ok();
    let c = l.config();
    assert_eq!(c.tls.min_version, smtp_core::TlsVersion::Tls1_3);
    assert_eq!(c.auth.mechanisms, ["XOAUTH2", "OAUTHBEARER"]);
    assert_eq!(
        c.timeouts.data_end,
        Some(std::time::Duration::from_secs(90))
    );
    assert_eq!(c.pool.limits.max_connections, 2);
    assert_eq!(
        c.tls.ca_file,
        [std::path::PathBuf::from("/a.pem"), "/b.pem".into()]
    );
    assert!(c.auth.oauth2.token.is_some());
    assert_eq!(
        at(&l, "tls.min_version"),
        ("1.3".into(), "env SMTP_TLS__MIN_VERSION".into())
    );
    assert_eq!(
        at(&l, "auth.oauth2.token"),
        ("<redacted>".into(), "env SMTP_AUTH__OAUTH2__TOKEN".into())
    );
}

#[test]
fn unknown_env_var_is_rejected_with_suggestion_when_strict() {
    let mut rig = Rig::new();
    rig.strict_env = true;
    rig.env("SMTP_TLS__MIN_VERISON", "1.3");
    assert_eq!(
        rig.err(),
        "unknown key `tls.min_verison` in env SMTP_TLS__MIN_VERISON; did you mean `tls.min_version`?"
    );
    let mut rig = Rig::new();
    rig.strict_env = true;
    rig.env("SMTP_PASSWORD", "x");
    assert_eq!(
        rig.err(),
        "unknown key `password` in env SMTP_PASSWORD; did you mean `auth.password`?"
    );
}

#[test]
fn unrelated_smtp_env_vars_are_warnings_by_default() {
    let mut rig = Rig::new();
    rig.env("SMTP_USER", "someone")
        .env("SMTP_PASS", "other-programs-secret")
        .env("SMTP_SERVER", "mail.other.example")
        .env("SMTP_HOST", "h.example")
        .env("SMTP_PORT", "2525");
    let l = rig.ok();
    assert_eq!(l.config().port, Some(2525));
    let warnings: Vec<String> = l.warnings().iter().map(|w| w.to_string()).collect();
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("server (from env SMTP_SERVER): not a configuration key, ignored (did you mean SMTP_HOST?)")),
        "{warnings:?}"
    );
    assert!(!warnings.iter().any(|w| w.contains("other-programs-secret")));
}

#[test]
fn variable_named_as_password_source_is_not_read_as_a_key() {
    let mut rig = Rig::new();
    rig.strict_env = true;
    rig.env("SMTP_PASS", "x");
    let opts = rig.options().ignore_env_var("SMTP_PASS");
    let l = smtp_config::Config::load(&opts).unwrap();
    assert!(l.warnings().is_empty());
}

const PROFILES: &str = r#"
host = "top.example"
port = 2525

[profiles.work]
description = "the office relay"
host = "work.example"

[profiles.work.tls]
min_version = "1.3"

[profiles.home]
description = "my ISP"
preset = "fastmail"
"#;

#[test]
fn profile_overrides_its_file_top_level() {
    let mut rig = Rig::new();
    rig.user(PROFILES);
    rig.profile = Some("work".into());
    let l = rig.ok();
    assert_eq!(l.profile(), Some("work"));
    assert_eq!(l.config().host.as_deref(), Some("work.example"));
    assert_eq!(
        l.config().port,
        Some(2525),
        "top-level values the profile leaves alone stay"
    );
    let user = rig.user_path().display().to_string();
    assert_eq!(
        at(&l, "host"),
        ("work.example".into(), format!("{user}:7 (profile work)"))
    );
    assert_eq!(
        at(&l, "tls.min_version").1,
        format!("{user}:10 (profile work)")
    );
    let profiles: Vec<_> = l.profiles().collect();
    assert_eq!(
        profiles,
        [("home", Some("my ISP")), ("work", Some("the office relay"))]
    );
}

#[test]
fn profile_from_env_and_unknown_profile() {
    let mut rig = Rig::new();
    rig.user(PROFILES);
    rig.env("SMTP_PROFILE", "home");
    let l = rig.ok();
    // The profile's preset sits below every file: the file's own top-level host still wins.
    assert_eq!(l.config().host.as_deref(), Some("top.example"));
    assert_eq!(l.config().security, Security::ImplicitTls);

    rig.env("SMTP_PROFILE", "wrok");
    assert_eq!(
        rig.err(),
        "unknown profile \"wrok\" (from SMTP_PROFILE); did you mean \"work\"?; defined: home, work"
    );
    rig.profile = Some("nope".into());
    assert!(
        rig.err()
            .starts_with("unknown profile \"nope\" (from --profile)")
    );
}

#[test]
fn profile_in_lower_file_loses_to_higher_file() {
    let mut rig = Rig::new();
    rig.user(PROFILES);
    rig.config("host = \"given.example\"\n");
    rig.profile = Some("work".into());
    assert_eq!(rig.ok().config().host.as_deref(), Some("given.example"));
}

#[test]
fn preset_with_override() {
    let mut rig = Rig::new();
    rig.preset = Some("gmail".into());
    rig.config("port = 465\nsecurity = \"implicit\"\n");
    let l = rig.ok();
    assert_eq!(l.preset().map(|p| p.name), Some("gmail"));
    assert_eq!(l.config().host.as_deref(), Some("smtp.gmail.com"));
    assert_eq!(l.config().effective_port(), 465);
    assert_eq!(at(&l, "preset"), ("gmail".into(), "command line".into()));
    assert!(l.warnings().is_empty(), "{:?}", l.warnings());
}

#[test]
fn preset_from_env_and_sendgrid_username() {
    let mut rig = Rig::new();
    rig.env("SMTP_PRESET", "sendgrid")
        .env("SMTP_AUTH__PASSWORD", "SG.key");
    let l = rig.ok();
    assert_eq!(l.config().auth.username.as_deref(), Some("apikey"));
    assert_eq!(
        at(&l, "auth.username"),
        ("apikey".into(), "preset sendgrid".into())
    );
}

#[test]
fn amazon_ses_region() {
    let mut rig = Rig::new();
    rig.config("preset = \"amazon-ses\"\naws_region = \"eu-west-1\"\n");
    let l = rig.ok();
    assert_eq!(
        l.config().host.as_deref(),
        Some("email-smtp.eu-west-1.amazonaws.com")
    );

    let mut rig = Rig::new();
    rig.config("preset = \"amazon-ses\"\n");
    let e = rig.err();
    assert!(
        e.starts_with("missing `aws_region`: preset amazon-ses (from "),
        "{e}"
    );
    assert!(e.contains("aws_region = \"eu-west-1\""), "{e}");

    let mut rig = Rig::new();
    rig.config("preset = \"amazon-ses\"\nhost = \"email-smtp.us-east-1.amazonaws.com\"\n");
    assert!(rig.load().is_ok());
}

#[test]
fn unknown_preset() {
    let mut rig = Rig::new();
    rig.preset = Some("gmial".into());
    assert_eq!(
        rig.err(),
        "invalid value \"gmial\" for `preset` in command line: unknown preset; did you mean \"gmail\"?; \
         `smtp presets` lists them all"
    );
}

#[test]
fn higher_layer_secret_source_replaces_lower_ones() {
    let mut rig = Rig::new();
    rig.user("host = \"h\"\n[auth]\nusername = \"u\"\npassword_command = \"pass show smtp\"\n");
    rig.env("SMTP_AUTH__PASSWORD", "from-env");
    let l = rig.ok();
    assert!(l.config().auth.password_command.is_none());
    assert!(l.config().auth.password.is_some());

    // Refresh-flow keys from two layers still merge (client secret in the environment).
    let mut rig = Rig::new();
    rig.user(
        "host = \"h\"\n[auth]\nusername = \"u\"\n[auth.oauth2]\ntoken_url = \"https://oauth.example/token\"\n\
         client_id = \"id\"\nrefresh_token = \"r\"\n",
    );
    rig.env("SMTP_AUTH__OAUTH2__CLIENT_SECRET", "cs");
    let l = rig.ok();
    assert!(l.config().auth.oauth2.client_secret.is_some());
    assert!(l.config().auth.oauth2.refresh_token.is_some());
}

#[test]
fn relative_paths_follow_the_file() {
    let mut rig = Rig::new();
    rig.config("[tls]\nca_file = \"ca.pem\"\n[auth]\n");
    rig.env("SMTP_OUTBOX", "~/mail-out");
    let l = rig.ok();
    assert_eq!(l.config().tls.ca_file, [rig.path("given/ca.pem")]);
    assert_eq!(l.outbox_dir(), rig.path("home/mail-out"));
}

#[test]
fn default_outbox_is_under_xdg_data_home() {
    let rig = Rig::new();
    let l = rig.ok();
    assert!(l.is_outbox());
    assert_eq!(l.outbox_dir(), rig.path("xdg-data/smtp/outbox"));
    assert_eq!(
        at(&l, "outbox"),
        (
            rig.path("xdg-data/smtp/outbox").display().to_string(),
            "default".into()
        )
    );
}

#[test]
fn preset_port_follows_a_different_security_mode() {
    let mut rig = Rig::new();
    rig.preset = Some("gmail".into());
    rig.cli("security", "implicit");
    let l = rig.ok();
    assert_eq!(l.config().effective_port(), 465);
    assert!(l.warnings().is_empty(), "{:?}", l.warnings());

    // An explicit port still wins (and the mismatch is warned about).
    let mut rig = Rig::new();
    rig.preset = Some("gmail".into());
    rig.cli("security", "implicit").cli("port", "587");
    let l = rig.ok();
    assert_eq!(l.config().effective_port(), 587);
    assert_eq!(l.warnings().len(), 1, "{:?}", l.warnings());

    // The preset's own mode keeps the preset's port.
    let mut rig = Rig::new();
    rig.preset = Some("gmail".into());
    rig.cli("security", "STARTTLS");
    assert_eq!(rig.ok().config().effective_port(), 587);
}

#[test]
fn auth_enabled_false_goes_anonymous_over_a_file_and_profile_login() {
    let mut rig = Rig::new();
    rig.user(
        "[auth]\nusername = \"me@example.com\"\npassword_command = \"pass show smtp\"\n\
         [profiles.work.auth]\nusername = \"work@example.com\"\n",
    );
    rig.profile = Some("work".into());
    rig.env("SMTP_HOST", "h.example");
    rig.cli("auth.enabled", "false");
    let l = rig.ok();
    assert!(l.config().auth.username.is_none());
    assert!(!l.config().auth.has_secret());
    let Ok(built) = l.build() else {
        panic!("build failed")
    };
    drop(built);
}

#[test]
fn empty_user_name_points_at_auth_enabled() {
    let mut rig = Rig::new();
    rig.cli("auth.username", "");
    let e = rig.err();
    assert!(e.contains("set auth.enabled = false"), "{e}");
}
