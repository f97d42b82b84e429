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
        Setting::TlsPlatformRoots => "tls.platform_roots",
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

    /// The string literals of a Rust source (comments and `#[cfg(test)]`
    /// code left out), for the check below.
    fn string_literals(source: &str) -> Vec<String> {
        let code = source.split("#[cfg(test)]").next().unwrap_or("");
        let mut found = Vec::new();
        let mut chars = code.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '/' if chars.peek() == Some(&'/') => {
                    chars.by_ref().take_while(|&c| c != '\n').for_each(drop);
                }
                // A char literal ('"', '\'') or a lifetime: neither opens a string.
                '\'' => {
                    let rest: String = chars.clone().take(3).collect();
                    if rest.starts_with('\\') {
                        chars.by_ref().take_while(|&c| c != '\'').for_each(drop);
                    } else if rest.chars().nth(1) == Some('\'') {
                        chars.nth(1);
                    }
                }
                '"' => {
                    let mut text = String::new();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => {
                                chars.next();
                            }
                            '"' => break,
                            c => text.push(c),
                        }
                    }
                    found.push(text);
                }
                _ => {}
            }
        }
        found
    }

    /// A `--flag` or a `section.key` of this crate's key table in `text`.
    fn names_a_flag_or_key(text: &str) -> Option<String> {
        let bytes = text.as_bytes();
        for (i, _) in text.match_indices("--") {
            let before_ok =
                i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'-');
            if before_ok && bytes.get(i + 2).is_some_and(u8::is_ascii_lowercase) {
                let flag = text[i..]
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                    .next()?;
                return Some(flag.into());
            }
        }
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '*';
        for token in text.split(|c: char| !word(c)) {
            let token = token.trim_end_matches('.').trim_end_matches('*');
            if token.contains('.') && crate::keys::KEYS.iter().any(|k| k.key.starts_with(token)) {
                return Some(token.into());
            }
        }
        None
    }

    #[test]
    fn the_flag_and_key_finder_finds_them() {
        assert_eq!(
            names_a_flag_or_key("set --ca-file"),
            Some("--ca-file".into())
        );
        assert_eq!(
            names_a_flag_or_key("`tls.min_version`"),
            Some("tls.min_version".into())
        );
        assert_eq!(
            names_a_flag_or_key("auth.password_*"),
            Some("auth.password_".into())
        );
        assert_eq!(names_a_flag_or_key("see docs/dkim.md; a--b; --"), None);
        assert_eq!(
            string_literals(
                "let a = '\"'; // \"x\"\nf(\"one \\\" two\", 'b', x: &'a str, \"three\");"
            ),
            ["one  two", "three"]
        );
    }

    /// Every message a lower crate writes (hints, errors, logs) names
    /// settings through `Setting`, never a config key or a CLI flag: the
    /// wording lives here and in smtp-cli/src/wording.rs only.
    #[test]
    fn lower_crates_sources_name_no_key_or_flag() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let crates = [
            "smtp-core",
            "smtp-auth",
            "smtp-proxy",
            "smtp-transport-tls",
            "smtp-message",
            "smtp-queue",
        ];
        let mut found = Vec::new();
        let mut files = 0;
        for krate in crates {
            let mut dirs = vec![root.join(krate).join("src")];
            while let Some(dir) = dirs.pop() {
                for entry in std::fs::read_dir(&dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        dirs.push(path);
                        continue;
                    }
                    if path.extension().is_none_or(|e| e != "rs")
                        || path.file_name().is_some_and(|n| n == "tests.rs")
                    {
                        continue;
                    }
                    files += 1;
                    let source = std::fs::read_to_string(&path).unwrap();
                    for literal in string_literals(&source) {
                        if let Some(name) = names_a_flag_or_key(&literal) {
                            let rel = path.strip_prefix(&root).unwrap().display().to_string();
                            found.push(format!("{rel}: {name}"));
                        }
                    }
                }
            }
        }
        assert!(files > 50, "read only {files} files");
        assert!(
            found.is_empty(),
            "lower crates name keys or flags: {found:#?}"
        );
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
