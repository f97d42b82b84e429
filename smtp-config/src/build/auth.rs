//! `[auth]` -> `smtp_auth::SaslAuthenticator` (feature `auth`).

use std::sync::Arc;

use smtp_core::sasl::Authenticator;

use crate::error::Error;
use crate::loaded::Loaded;

#[cfg(feature = "auth")]
pub(super) fn authenticator(loaded: &Loaded) -> Result<Option<Arc<dyn Authenticator>>, Error> {
    use smtp_auth::{Credentials, MechanismKind, SaslAuthenticator, StaticToken, TokenCommand};

    let a = &loaded.config.auth;
    let Some(user) = &a.username else {
        return Ok(None);
    };
    let plugin = |e: smtp_auth::Error| Error::Plugin {
        what: "auth",
        source: Box::new(e),
    };
    let o = &a.oauth2;
    let password = super::password_source(
        a.password.as_ref(),
        a.password_file.as_ref(),
        a.password_command.as_ref(),
    );
    let credentials = if let Some(source) = password {
        Credentials::password_from(user, source)
    } else if let Some(token) = &o.token {
        Credentials::oauth2(user, Arc::new(StaticToken::new(token.clone())))
    } else if let Some(cmd) = &o.token_command {
        Credentials::oauth2(user, Arc::new(TokenCommand::new(cmd)))
    } else if let (Some(url), Some(id), Some(refresh)) =
        (&o.token_url, &o.client_id, &o.refresh_token)
    {
        refresh_flow(user, url, id, refresh, o.client_secret.as_ref())?
    } else {
        // Loading allows this (a program may prompt); sending cannot.
        return Err(Error::Missing {
            key: "auth.password".into(),
            reason: format!(
                "auth.username is set (from {}) but no password or token: set SMTP_AUTH__PASSWORD, \
                 auth.password_file, auth.password_command or auth.oauth2.*",
                loaded.origin_or_default("auth.username")
            ),
        });
    };
    let mut b = SaslAuthenticator::builder()
        .credentials(credentials)
        .allow_cleartext(a.allow_cleartext);
    if !a.mechanisms.is_empty() {
        let kinds = a
            .mechanisms
            .iter()
            .map(|m| m.parse::<MechanismKind>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(plugin)?;
        b = b.mechanisms(kinds);
    }
    Ok(Some(Arc::new(b.build().map_err(plugin)?)))
}

#[cfg(feature = "auth")]
fn refresh_flow(
    user: &str,
    url: &str,
    client_id: &str,
    refresh: &secrecy::SecretString,
    client_secret: Option<&secrecy::SecretString>,
) -> Result<smtp_auth::Credentials, Error> {
    let mut flow = smtp_auth::RefreshTokenFlow::builder(url, client_id, refresh.clone());
    if let Some(secret) = client_secret {
        flow = flow.client_secret(secret.clone());
    }
    let flow = flow.build().map_err(|e| Error::Plugin {
        what: "auth",
        source: Box::new(e),
    })?;
    Ok(smtp_auth::Credentials::oauth2(user, Arc::new(flow)))
}

#[cfg(not(feature = "auth"))]
pub(super) fn authenticator(loaded: &Loaded) -> Result<Option<Arc<dyn Authenticator>>, Error> {
    match &loaded.config.auth.username {
        None => Ok(None),
        Some(_) => Err(Error::FeatureDisabled {
            feature: "auth",
            key: "auth.username".into(),
            origin: Box::new(loaded.origin_or_default("auth.username")),
        }),
    }
}
