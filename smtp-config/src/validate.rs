//! Checks across keys, on the merged model: errors for settings that
//! cannot work or would leak a secret, warnings for classic mistakes.

use std::collections::BTreeMap;

use smtp_core::Security;

use crate::error::Error;
use crate::keys::CLEARTEXT_MECHANISMS;
use crate::loaded::Warning;
use crate::model::Config;
use crate::origin::Origin;
use crate::presets::Preset;

struct Ctx<'a> {
    origins: &'a BTreeMap<String, Origin>,
}

impl Ctx<'_> {
    fn origin(&self, key: &str) -> Origin {
        self.origins.get(key).cloned().unwrap_or(Origin::Default)
    }
    fn is_set(&self, key: &str) -> bool {
        self.origins.contains_key(key)
    }
    /// Set by the user (not a default or preset).
    fn user_set(&self, key: &str) -> bool {
        matches!(
            self.origins.get(key),
            Some(Origin::File { .. } | Origin::Env { .. } | Origin::CommandLine)
        )
    }
    fn first_set<'k>(&self, keys: &[&'k str]) -> Option<&'k str> {
        keys.iter().copied().find(|k| self.is_set(k))
    }
}

const SECRET_KEYS: &[&str] = &[
    "auth.password",
    "auth.password_file",
    "auth.password_command",
    "auth.oauth2.token",
    "auth.oauth2.token_command",
    "auth.oauth2.refresh_token",
    "auth.oauth2.token_url",
];

pub(crate) fn validate(
    config: &Config,
    origins: &BTreeMap<String, Origin>,
    preset: Option<&Preset>,
) -> Result<Vec<Warning>, Error> {
    let cx = Ctx { origins };
    let mut warnings = Vec::new();
    let mut warn = |key: &str, message: String| {
        warnings.push(Warning {
            key: key.to_string(),
            origin: cx.origin(key),
            message,
        });
    };

    if config.host.is_none() {
        if let Some(p) = preset.filter(|p| p.host.is_none()) {
            return Err(Error::Missing {
                key: "host".into(),
                reason: format!(
                    "preset {} (from {}) has no server of its own: set host = \"mail.example.com\" (or SMTP_HOST)",
                    p.name,
                    cx.origin("preset")
                ),
            });
        }
        for key in ["port", "auth.username", "proxy.url", "security"] {
            if cx.user_set(key) {
                warn(
                    key,
                    "host is not set: messages will be written to the outbox directory, not sent"
                        .into(),
                );
                break;
            }
        }
    }

    auth(config, &cx)?;
    if config.proxy.url.is_none() {
        let sources = [
            "proxy.password",
            "proxy.password_file",
            "proxy.password_command",
        ];
        if let Some(key) = cx.first_set(&sources) {
            return Err(Error::Missing {
                key: "proxy.url".into(),
                reason: format!(
                    "{key} is set (from {}) but no proxy to use it for",
                    cx.origin(key)
                ),
            });
        }
    }
    tls(config, &cx, &mut warn)?;
    dkim(&cx)?;

    let port = config.effective_port();
    match (port, config.security) {
        (465, Security::StartTlsRequired | Security::StartTlsOpportunistic) => warn(
            "port",
            format!(
                "port 465 expects implicit TLS but security = {}: the classic \"wrong version number\" \
                 or greeting timeout; use security = \"implicit\"",
                config.security
            ),
        ),
        (587 | 25, Security::ImplicitTls) => warn(
            "port",
            format!(
                "port {port} expects STARTTLS but security = implicit: the classic \"wrong version number\" \
                 TLS error; use security = \"starttls\""
            ),
        ),
        _ => {}
    }

    if let Some(region) = &config.aws_region {
        if !preset.is_some_and(Preset::needs_region) {
            warn(
                "aws_region",
                format!("aws_region = {region:?} is used only by preset = \"amazon-ses\""),
            );
        }
    }
    Ok(warnings)
}

fn auth(config: &Config, cx: &Ctx<'_>) -> Result<(), Error> {
    let a = &config.auth;
    if !a.enabled {
        // Anonymous: the loader cleared whatever lower layers set.
        return Ok(());
    }
    let secret_key = cx
        .first_set(SECRET_KEYS)
        .or(cx.first_set(&["auth.oauth2.client_id", "auth.oauth2.client_secret"]));
    // A user name without a secret is refused by `build`, not here: a
    // program may still ask a person for the password.
    if let (None, Some(key)) = (&a.username, secret_key) {
        return Err(Error::Missing {
            key: "auth.username".into(),
            reason: format!(
                "{key} is set (from {}) but no user name to log in with",
                cx.origin(key)
            ),
        });
    }

    let refresh = [
        "auth.oauth2.token_url",
        "auth.oauth2.client_id",
        "auth.oauth2.refresh_token",
    ];
    if let Some(given) = cx
        .first_set(&refresh)
        .or(cx.first_set(&["auth.oauth2.client_secret"]))
    {
        if let Some(missing) = refresh.iter().find(|k| !cx.is_set(k)) {
            return Err(Error::Missing {
                key: missing.to_string(),
                reason: format!(
                    "the OAuth2 refresh-token flow ({given}, from {}) needs auth.oauth2.token_url, client_id and \
                     refresh_token (client_secret when the provider issued one)",
                    cx.origin(given)
                ),
            });
        }
    }

    let has_credentials = a.username.is_some();
    let cleartext_possible = a.mechanisms.is_empty()
        || a.mechanisms
            .iter()
            .any(|m| CLEARTEXT_MECHANISMS.contains(&m.as_str()));
    if has_credentials
        && config.security == Security::None
        && cleartext_possible
        && !a.allow_cleartext
    {
        let auth_key = secret_key.unwrap_or("auth.username");
        return Err(Error::CleartextAuth {
            security_origin: Box::new(cx.origin("security")),
            auth_origin: Box::new(cx.origin(auth_key)),
        });
    }
    Ok(())
}

/// Signing needs all three of domain, selector and key; any one alone is a
/// half-done setup that would otherwise send unsigned mail silently.
fn dkim(cx: &Ctx<'_>) -> Result<(), Error> {
    const NEEDED: [&str; 3] = ["dkim.domain", "dkim.selector", "dkim.key_file"];
    let others = ["dkim.headers", "dkim.canonicalization"];
    let Some(set) = cx
        .first_set(&NEEDED)
        .or_else(|| others.into_iter().find(|k| cx.user_set(k)))
    else {
        return Ok(());
    };
    if let Some(missing) = NEEDED.iter().find(|k| !cx.is_set(k)) {
        return Err(Error::Missing {
            key: (*missing).into(),
            reason: format!(
                "{set} is set (from {}): DKIM signing needs dkim.domain, dkim.selector and dkim.key_file",
                cx.origin(set)
            ),
        });
    }
    Ok(())
}

fn tls(config: &Config, cx: &Ctx<'_>, warn: &mut impl FnMut(&str, String)) -> Result<(), Error> {
    let t = &config.tls;
    if let Err(smtp_core::TlsVersionError::Range { min, max }) =
        smtp_core::TlsVersion::range(t.min_version, t.max_version)
    {
        return Err(Error::TlsVersionRange {
            min,
            max,
            min_origin: Box::new(cx.origin("tls.min_version")),
            max_origin: Box::new(cx.origin("tls.max_version")),
        });
    }
    match (&t.client_cert, &t.client_key) {
        (Some(_), None) => {
            return Err(Error::Missing {
                key: "tls.client_key".into(),
                reason: format!(
                    "tls.client_cert is set (from {})",
                    cx.origin("tls.client_cert")
                ),
            });
        }
        (None, Some(_)) => {
            return Err(Error::Missing {
                key: "tls.client_cert".into(),
                reason: format!(
                    "tls.client_key is set (from {})",
                    cx.origin("tls.client_key")
                ),
            });
        }
        _ => {}
    }
    if t.dangerous_accept_invalid_certs {
        warn(
            "tls.dangerous_accept_invalid_certs",
            "certificate verification is OFF: anyone on the path can read the password and the mail; \
             trust the server's CA with tls.ca_file or pin it with tls.pin_sha256 instead"
                .into(),
        );
    }
    if t.dangerous_accept_invalid_hostnames {
        warn(
            "tls.dangerous_accept_invalid_hostnames",
            "host name verification is OFF: any valid certificate is accepted; set tls.server_name to the \
             name in the certificate instead"
                .into(),
        );
    }
    if t.requiretls && config.host.is_some() {
        let refusal = if config.security == Security::None {
            Some("security = none: REQUIRETLS needs TLS (security = \"starttls\" or \"implicit\")")
        } else if t.dangerous_accept_invalid_certs || t.dangerous_accept_invalid_hostnames {
            Some(
                "a tls.dangerous_accept_invalid_* switch is on: REQUIRETLS needs a verified certificate",
            )
        } else {
            None
        };
        if let Some(reason) = refusal {
            return Err(Error::InvalidValue {
                key: "tls.requiretls".into(),
                value: "true".into(),
                origin: Box::new(cx.origin("tls.requiretls")),
                reason: reason.into(),
            });
        }
        if config.security == Security::StartTlsOpportunistic {
            warn(
                "tls.requiretls",
                "security = starttls-opportunistic: a server without STARTTLS gets every message refused \
                 (REQUIRETLS needs TLS); use security = \"starttls\""
                    .into(),
            );
        }
    }
    if config.security == Security::None {
        let tls_keys = [
            "tls.ca_file",
            "tls.client_cert",
            "tls.pin_sha256",
            "tls.server_name",
            "tls.min_version",
            "tls.max_version",
        ];
        if let Some(key) = tls_keys.iter().find(|k| cx.user_set(k)) {
            warn(key, "security = none: TLS settings have no effect".into());
        }
    }
    Ok(())
}
