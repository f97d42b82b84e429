//! How this crate words a [`Setting`]: by its config key. The one place
//! that maps the settings hints speak of to key names; the CLI adds its
//! flags on top of this (`smtp-cli/src/wording.rs`).

use smtp_core::{Hint, Setting};

/// The config key (or keys) of a setting; `None` for a setting only a
/// program can make (a crypto provider, the bundled root store).
///
/// ```
/// use smtp_core::Setting;
///
/// assert_eq!(smtp_config::key_of(Setting::TlsCaFile), Some("tls.ca_file"));
/// assert_eq!(smtp_config::key_of(Setting::TlsCryptoProvider), None);
/// ```
pub fn key_of(setting: Setting) -> Option<&'static str> {
    let key = match setting {
        Setting::Host => "host",
        Setting::Port => "port",
        Setting::Security => "security",
        Setting::EhloName => "ehlo_name",
        Setting::Timeouts => "timeouts.*",
        Setting::ConnectTimeout => "timeouts.connect",
        Setting::RateLimit => "rate_limit.*",
        Setting::MessageFrom => "message.from",
        Setting::AuthUsername => "auth.username",
        Setting::AuthPassword => "auth.password_*",
        Setting::AuthPasswordFile => "auth.password_file",
        Setting::AuthPasswordCommand => "auth.password_command",
        Setting::AuthMechanisms => "auth.mechanisms",
        Setting::AuthAllowCleartext => "auth.allow_cleartext",
        Setting::OAuth2Token => "auth.oauth2.*",
        Setting::OAuth2TokenCommand => "auth.oauth2.token_command",
        Setting::OAuth2TokenUrl => "auth.oauth2.token_url",
        Setting::OAuth2ClientId => "auth.oauth2.client_id",
        Setting::OAuth2ClientSecret => "auth.oauth2.client_secret",
        Setting::OAuth2RefreshToken => "auth.oauth2.refresh_token",
        Setting::TlsMinVersion => "tls.min_version",
        Setting::TlsMaxVersion => "tls.max_version",
        Setting::TlsCaFile => "tls.ca_file",
        Setting::TlsClientCert => "tls.client_cert",
        Setting::TlsClientKey => "tls.client_key",
        Setting::TlsPinSha256 => "tls.pin_sha256",
        Setting::TlsServerName => "tls.server_name",
        Setting::ProxyUrl => "proxy.url",
        Setting::DsnIfUnsupported => "dsn.if_unsupported",
        Setting::DkimKeyFile => "dkim.key_file",
        Setting::DkimDomain => "dkim.domain",
        Setting::DkimSelector => "dkim.selector",
        Setting::DkimHeaders => "dkim.headers",
        Setting::RequireTls => "tls.requiretls",
        Setting::ConfigFile => "the SMTP_CONFIG variable",
        _ => return None,
    };
    Some(key)
}

/// A setting in this crate's words: its key, with `= value` when the hint
/// gives one; the library's words for a setting without a key.
pub fn setting_words(setting: Setting, value: Option<&str>) -> String {
    match (key_of(setting), value) {
        (Some(key), None) => key.to_string(),
        (Some(key), Some(v)) => format!("{key} = {}", toml_value(v)),
        (None, Some(v)) => setting.api_with(v),
        (None, None) => setting.api().to_string(),
    }
}

/// A hint's text with each setting named by its config key.
///
/// ```
/// let text = smtp_config::hint_text(&smtp_core::hints::REPLY_TLS_REQUIRED);
/// assert!(text.contains("security = \"starttls\""), "{text}");
/// ```
pub fn hint_text(hint: &Hint) -> String {
    hint.render(setting_words)
}

fn toml_value(v: &str) -> String {
    let bare = v == "true" || v == "false" || v.parse::<f64>().is_ok();
    if bare {
        v.to_string()
    } else {
        format!("{v:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_named_is_in_the_key_table() {
        for &setting in Setting::ALL {
            let Some(key) = key_of(setting) else { continue };
            if key.starts_with("the ") {
                continue;
            }
            match key.strip_suffix('*') {
                Some(prefix) => assert!(
                    crate::keys::KEYS.iter().any(|k| k.key.starts_with(prefix)),
                    "{setting}: no key starts with {prefix}"
                ),
                None => assert!(crate::keys::find(key).is_some(), "{setting}: {key}"),
            }
        }
    }

    #[test]
    fn lower_crates_name_settings_never_keys_or_flags() {
        let lower = crate::all_hints()
            .into_iter()
            .filter(|h| !crate::hints::ALL.contains(h));
        let keys: Vec<&str> = crate::keys::KEYS
            .iter()
            .map(|k| k.key)
            .filter(|k| k.contains('.'))
            .collect();
        for h in lower {
            assert!(!h.text.contains(" (--"), "{}: {}", h.code, h.text);
            if let Some(key) = keys.iter().find(|k| h.text.contains(*k)) {
                panic!("{} names the key {key}: {}", h.code, h.text);
            }
        }
    }

    #[test]
    fn every_hint_renders_with_keys() {
        for h in crate::all_hints() {
            h.settings().unwrap();
            let text = hint_text(&h);
            assert!(!text.contains('{'), "{}: {text}", h.code);
        }
        assert_eq!(
            hint_text(&smtp_core::hints::TLS_VERSION_RANGE),
            "make tls.min_version lower than or equal to tls.max_version"
        );
        assert_eq!(
            setting_words(Setting::AuthAllowCleartext, Some("true")),
            "auth.allow_cleartext = true"
        );
    }
}
