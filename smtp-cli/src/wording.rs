//! How the CLI words a setting: smtp-config's key, then the flag that sets
//! it. The one place that knows which flag sets which setting for hints;
//! lower crates name [`Setting`]s only.

use smtp_core::{Hint, Setting};

/// The flag (or flags) that set a setting; `None` where only the config
/// file or the environment can.
pub fn flag_of(setting: Setting) -> Option<&'static str> {
    let flag = match setting {
        Setting::Host => "--host",
        Setting::Port => "--port",
        Setting::Security => "--security",
        Setting::EhloName => "--ehlo-name",
        Setting::Timeouts | Setting::ConnectTimeout => "--timeout",
        Setting::MessageFrom => "--from",
        Setting::AuthUsername => "--user",
        Setting::AuthPassword => "--password-env, --password-file or --password-command",
        Setting::AuthPasswordFile => "--password-file",
        Setting::AuthPasswordCommand => "--password-command",
        Setting::AuthMechanisms => "--auth-mechanisms",
        Setting::AuthAllowCleartext => "--allow-cleartext-auth",
        Setting::OAuth2Token => "--oauth2-token-env or --oauth2-token-command",
        Setting::OAuth2TokenCommand => "--oauth2-token-command",
        Setting::TlsMinVersion => "--tls-min-version",
        Setting::TlsMaxVersion => "--tls-max-version",
        Setting::TlsCaFile => "--ca-file",
        Setting::TlsClientCert => "--client-cert",
        Setting::TlsClientKey => "--client-key",
        Setting::TlsPinSha256 => "--pin-sha256",
        Setting::TlsServerName => "--tls-server-name",
        Setting::ProxyUrl => "--proxy",
        Setting::DsnIfUnsupported => "--dsn-if-unsupported",
        Setting::DkimKeyFile => "--dkim-key",
        Setting::DkimDomain => "--dkim-domain",
        Setting::DkimSelector => "--dkim-selector",
        Setting::DkimHeaders => "--dkim-headers",
        Setting::RequireTls => "--require-tls",
        Setting::ConfigFile => "--config",
        _ => return None,
    };
    Some(flag)
}

/// Flags that take no value: `{AuthAllowCleartext=true}` is the bare flag.
const SWITCHES: &[&str] = &["--allow-cleartext-auth"];

/// A setting in the CLI's words: the key as smtp-config words it, then
/// the flag, e.g. `security = "implicit" (--security implicit)`.
pub fn setting_words(setting: Setting, value: Option<&str>) -> String {
    let key = smtp_config::setting_words(setting, value);
    let Some(flag) = flag_of(setting) else {
        return key;
    };
    match value {
        Some(v) if !flag.contains(' ') && !SWITCHES.contains(&flag) => {
            format!("{key} ({flag} {v})")
        }
        _ => format!("{key} ({flag})"),
    }
}

/// A hint's text as the CLI prints it.
pub fn hint_text(hint: &Hint) -> String {
    hint.render(setting_words)
}

/// The hint line: the advice, then its code, which is the anchor of its
/// entry in docs/troubleshooting.md.
pub fn hint_line(hint: &Hint) -> String {
    format!("{} [{}]", hint_text(hint), hint.code)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn every_flag_named_exists() {
        let send = crate::cli::Cli::command();
        let mut longs: Vec<String> = Vec::new();
        let mut stack = vec![&send];
        while let Some(cmd) = stack.pop() {
            longs.extend(
                cmd.get_arguments()
                    .filter_map(|a| a.get_long())
                    .map(String::from),
            );
            stack.extend(cmd.get_subcommands());
        }
        for &setting in Setting::ALL {
            let Some(flags) = flag_of(setting) else {
                continue;
            };
            for flag in flags.split([',', ' ']).filter(|w| w.starts_with("--")) {
                let name = flag.trim_start_matches('-');
                assert!(longs.iter().any(|l| l == name), "{setting}: no flag {flag}");
            }
        }
    }

    #[test]
    fn hints_name_key_and_flag() {
        assert_eq!(
            hint_text(&smtp_core::hints::TLS_VERSION_RANGE),
            "make tls.min_version (--tls-min-version) lower than or equal to \
             tls.max_version (--tls-max-version)"
        );
        assert_eq!(
            hint_text(&smtp_core::hints::CLEARTEXT_AUTH_REFUSED),
            "use security = \"starttls\" (--security starttls) or security = \"implicit\" \
             (--security implicit); only on a trusted network set auth.allow_cleartext = true \
             (--allow-cleartext-auth)"
        );
        for h in smtp_config::all_hints() {
            let text = hint_text(&h);
            assert!(!text.contains('{'), "{}: {text}", h.code);
        }
    }
}
