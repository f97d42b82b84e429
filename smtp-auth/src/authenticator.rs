//! [`SaslAuthenticator`]: picks the strongest mechanism both sides allow,
//! refuses to send secrets in clear, and refreshes OAuth2 tokens on rejection.

use std::fmt;

use async_trait::async_trait;
use secrecy::SecretString;
use smtp_core::sasl::{AuthContext, Authenticator, Mechanism, SecretBytes};
use smtp_core::{BoxError, PluginError, Reply};
use tokio::sync::OnceCell;

use crate::classify::{AuthFailure, classify};
use crate::credentials::{Credentials, Secret};
use crate::error::{Error, NoMechanismReason};
#[cfg(feature = "cram-md5")]
use crate::mechanism::CramMd5;
#[cfg(feature = "scram")]
use crate::mechanism::{DEFAULT_MAX_ITERATIONS, Scram};
use crate::mechanism::{DEFAULT_MIN_ITERATIONS, Login, MechanismKind, OAuthBearer, Plain, XOAuth2};

/// The [`Authenticator`] of this crate.
///
/// Order of preference: SCRAM-SHA-256 > SCRAM-SHA-1 > CRAM-MD5 > NTLM (with
/// the `ntlm` feature) > PLAIN > LOGIN with a password; OAUTHBEARER >
/// XOAUTH2 with a token. On a connection without TLS, NTLM, PLAIN, LOGIN,
/// XOAUTH2 and OAUTHBEARER are skipped unless
/// [`allow_cleartext`](SaslAuthenticatorBuilder::allow_cleartext) is set;
/// SCRAM and CRAM-MD5 are still fine there.
///
/// ```
/// use std::sync::Arc;
/// use smtp_auth::{Credentials, MechanismKind, SaslAuthenticator};
///
/// let auth = SaslAuthenticator::builder()
///     .credentials(Credentials::password("me@example.com", "app-password"))
///     .mechanisms([MechanismKind::ScramSha256, MechanismKind::Plain])
///     .build()?;
/// let auth: Arc<dyn smtp_core::sasl::Authenticator> = Arc::new(auth);
/// # Ok::<(), smtp_auth::Error>(())
/// ```
pub struct SaslAuthenticator {
    credentials: Option<Credentials>,
    enabled: Vec<MechanismKind>,
    forced: Option<MechanismKind>,
    allow_cleartext: bool,
    scram_min_iterations: u32,
    password: OnceCell<SecretString>,
}

impl fmt::Debug for SaslAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslAuthenticator")
            .field("credentials", &self.credentials)
            .field("enabled", &self.enabled)
            .field("forced", &self.forced)
            .field("allow_cleartext", &self.allow_cleartext)
            .field("scram_min_iterations", &self.scram_min_iterations)
            .finish_non_exhaustive()
    }
}

/// Builds a [`SaslAuthenticator`]. Defaults: no credentials (anonymous),
/// every mechanism this build has enabled (see
/// [`MechanismKind::is_built`]), cleartext refused, nothing forced.
#[derive(Debug, Default)]
pub struct SaslAuthenticatorBuilder {
    credentials: Option<Credentials>,
    mechanisms: Option<Vec<MechanismKind>>,
    forced: Option<MechanismKind>,
    allow_cleartext: bool,
    scram_min_iterations: Option<u32>,
}

impl SaslAuthenticator {
    /// Starts a builder.
    pub fn builder() -> SaslAuthenticatorBuilder {
        SaslAuthenticatorBuilder::default()
    }

    /// The enabled mechanisms that fit the credentials, in preference order.
    pub fn enabled(&self) -> Vec<MechanismKind> {
        let token = self
            .credentials
            .as_ref()
            .is_some_and(Credentials::is_oauth2);
        self.enabled
            .iter()
            .copied()
            .filter(|k| k.uses_token() == token)
            .collect()
    }

    /// Chooses a mechanism for a server offering `ctx.offered` (no I/O).
    ///
    /// `Ok(None)` without credentials.
    pub fn choose(&self, ctx: &AuthContext<'_>) -> Result<Option<MechanismKind>, Error> {
        let Some(credentials) = &self.credentials else {
            return Ok(None);
        };
        let secret = if credentials.is_oauth2() {
            "token"
        } else {
            "password"
        };
        let clear_ok = ctx.tls || self.allow_cleartext;
        if let Some(kind) = self.forced {
            if kind.sends_secret_in_clear() && !clear_ok {
                return Err(Error::CleartextRefused {
                    mechanisms: vec![kind.name().into()],
                    secret,
                });
            }
            return Ok(Some(kind));
        }
        let usable = self.enabled();
        let offered: Vec<MechanismKind> = usable
            .iter()
            .copied()
            .filter(|k| offers(ctx, k.name()))
            .collect();
        if let Some(kind) = offered
            .iter()
            .copied()
            .find(|k| clear_ok || !k.sends_secret_in_clear())
        {
            return Ok(Some(kind));
        }
        if !offered.is_empty() {
            return Err(Error::CleartextRefused {
                mechanisms: names(&offered),
                secret,
            });
        }
        Err(Error::NoCommonMechanism {
            offered: ctx.offered.iter().map(|m| m.to_ascii_uppercase()).collect(),
            enabled: names(&usable),
            reason: no_match_reason(ctx, credentials.is_oauth2()),
        })
    }

    async fn password(&self, credentials: &Credentials) -> Result<SecretString, Error> {
        let Secret::Password(source) = credentials.secret() else {
            return Err(Error::Config(
                "a password mechanism was chosen for OAuth2 credentials".into(),
            ));
        };
        // A command (`pass show ...`) may be slow or prompt: run it once.
        self.password
            .get_or_try_init(|| source.resolve())
            .await
            .cloned()
    }

    async fn build(
        &self,
        kind: MechanismKind,
        credentials: &Credentials,
    ) -> Result<Box<dyn Mechanism>, Error> {
        let user = credentials.username();
        if kind.uses_token() {
            let Secret::Token(source) = credentials.secret() else {
                return Err(Error::Config(format!(
                    "{kind} needs an OAuth2 token source, not a password"
                )));
            };
            let token = source.token().await?;
            return Ok(match kind {
                MechanismKind::OAuthBearer => Box::new(OAuthBearer::new(user, token)),
                _ => Box::new(XOAuth2::new(user, token)),
            });
        }
        let password = self.password(credentials).await?;
        #[cfg(feature = "scram")]
        let iterations = (self.scram_min_iterations, DEFAULT_MAX_ITERATIONS);
        Ok(match kind {
            #[cfg(feature = "scram")]
            MechanismKind::ScramSha256 => {
                Box::new(Scram::sha256(user, password).iterations(iterations.0, iterations.1))
            }
            #[cfg(feature = "scram")]
            MechanismKind::ScramSha1 => {
                Box::new(Scram::sha1(user, password).iterations(iterations.0, iterations.1))
            }
            #[cfg(feature = "cram-md5")]
            MechanismKind::CramMd5 => Box::new(CramMd5::new(user, password)),
            #[cfg(feature = "ntlm")]
            MechanismKind::Ntlm => Box::new(crate::mechanism::Ntlm::new(user, password)),
            MechanismKind::Plain => Box::new(Plain::new(user, password)),
            MechanismKind::Login => Box::new(Login::new(user, password)),
            // The builder refuses mechanisms this build lacks; the token
            // ones returned above.
            other => return Err(Error::not_built(other)),
        })
    }
}

fn offers(ctx: &AuthContext<'_>, name: &str) -> bool {
    ctx.offered.iter().any(|m| m.eq_ignore_ascii_case(name))
}

fn names(kinds: &[MechanismKind]) -> Vec<String> {
    kinds.iter().map(|k| k.name().to_string()).collect()
}

/// Why nothing matched: the fact that decides the hint.
fn no_match_reason(ctx: &AuthContext<'_>, token: bool) -> NoMechanismReason {
    if ctx.offered.is_empty() {
        return if ctx.tls {
            NoMechanismReason::NotOffered
        } else {
            NoMechanismReason::NotOfferedWithoutTls
        };
    }
    let known: Vec<MechanismKind> = ctx.offered.iter().filter_map(|m| m.parse().ok()).collect();
    if known.is_empty() {
        return NoMechanismReason::Unsupported;
    }
    if known.iter().all(|k| !k.is_built()) {
        return NoMechanismReason::NotBuilt;
    }
    if !known.iter().any(|k| k.uses_token() == token) {
        return if token {
            NoMechanismReason::NoOAuth2
        } else {
            NoMechanismReason::OAuth2Only
        };
    }
    NoMechanismReason::NotEnabled
}

#[async_trait]
impl Authenticator for SaslAuthenticator {
    async fn mechanism(
        &self,
        ctx: &AuthContext<'_>,
    ) -> Result<Option<Box<dyn Mechanism>>, BoxError> {
        let Some(credentials) = &self.credentials else {
            return Ok(None);
        };
        let Some(kind) = self.choose(ctx).map_err(PluginError::boxed)? else {
            return Ok(None);
        };
        tracing::debug!(mechanism = kind.name(), offered = ?ctx.offered, tls = ctx.tls, "auth mechanism chosen");
        let mechanism = self
            .build(kind, credentials)
            .await
            .map_err(PluginError::boxed)?;
        Ok(Some(Box::new(Classified(mechanism))))
    }

    fn allow_cleartext(&self) -> bool {
        self.allow_cleartext
    }

    async fn retry_after_failure(&self, reply: &Reply) -> bool {
        let Some(Secret::Token(source)) = self.credentials.as_ref().map(Credentials::secret) else {
            return false;
        };
        if classify(reply) != AuthFailure::BadCredentials {
            return false;
        }
        match source.refresh().await {
            Ok(true) => {
                tracing::info!(reply = %reply, "oauth2 token rejected; retrying once with a fresh token");
                true
            }
            Ok(false) => false,
            Err(e) => {
                tracing::warn!(error = %e, "oauth2 token rejected and refreshing it failed");
                false
            }
        }
    }
}

impl SaslAuthenticatorBuilder {
    /// Who logs in. Without credentials the authenticator stays anonymous.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The allow-list. Order does not matter: the preference order is
    /// fixed (strongest first). Default: all this build has. Naming one it
    /// lacks (SCRAM without the `scram` feature, CRAM-MD5 without
    /// `cram-md5`) makes `build()` fail with [`Error::MechanismNotBuilt`].
    pub fn mechanisms(mut self, mechanisms: impl IntoIterator<Item = MechanismKind>) -> Self {
        self.mechanisms = Some(mechanisms.into_iter().collect());
        self
    }

    /// Allows PLAIN, LOGIN, NTLM, XOAUTH2 and OAUTHBEARER on a connection without
    /// TLS. Only for trusted networks (localhost, a private relay).
    pub fn allow_cleartext(mut self, allow: bool) -> Self {
        self.allow_cleartext = allow;
        self
    }

    /// Always uses `mechanism`, even when the server does not advertise it
    /// (or AUTH at all). Replaces the allow-list.
    pub fn force_mechanism(mut self, mechanism: MechanismKind) -> Self {
        self.forced = Some(mechanism);
        self
    }

    /// The fewest SCRAM iterations accepted (default 4096, RFC 7677).
    /// Lower only for a known server that uses fewer.
    pub fn scram_min_iterations(mut self, min: u32) -> Self {
        self.scram_min_iterations = Some(min);
        self
    }

    /// Checks the combination and builds the authenticator.
    pub fn build(self) -> Result<SaslAuthenticator, Error> {
        // Asked for by name, a mechanism this build lacks is an error; by
        // default, only what is built is enabled.
        if let Some(missing) = self
            .mechanisms
            .iter()
            .flatten()
            .chain(&self.forced)
            .find(|k| !k.is_built())
        {
            return Err(Error::not_built(*missing));
        }
        let mut enabled = self.mechanisms.unwrap_or_else(|| {
            MechanismKind::PREFERENCE
                .into_iter()
                .filter(|k| k.is_built())
                .collect()
        });
        enabled.sort();
        enabled.dedup();
        if enabled.is_empty() && self.forced.is_none() {
            return Err(Error::Config(
                "the list of allowed mechanisms is empty".into(),
            ));
        }
        if let Some(c) = &self.credentials {
            c.validate()?;
            let token = c.is_oauth2();
            let kind_of = |t: bool| if t { "an OAuth2 token" } else { "a password" };
            if let Some(f) = self.forced
                && f.uses_token() != token
            {
                return Err(Error::Config(format!(
                    "the forced mechanism {f} needs {}, but the credentials hold {}",
                    kind_of(f.uses_token()),
                    kind_of(token)
                )));
            }
            if self.forced.is_none() && !enabled.iter().any(|k| k.uses_token() == token) {
                let fitting: Vec<_> = MechanismKind::PREFERENCE
                    .iter()
                    .filter(|k| k.uses_token() == token)
                    .map(|k| k.name())
                    .collect();
                return Err(Error::Config(format!(
                    "none of the allowed mechanisms ({}) works with {}: allow one of {}",
                    names(&enabled).join(", "),
                    kind_of(token),
                    fitting.join(", ")
                )));
            }
        }
        let scram_min_iterations = self
            .scram_min_iterations
            .unwrap_or(DEFAULT_MIN_ITERATIONS)
            .max(1);
        Ok(SaslAuthenticator {
            credentials: self.credentials,
            enabled,
            forced: self.forced,
            allow_cleartext: self.allow_cleartext,
            scram_min_iterations,
            password: OnceCell::new(),
        })
    }
}

#[cfg(test)]
mod tests;

/// A mechanism whose errors reach the engine classified
/// ([`smtp_core::Classify`]), so its verdict and hint are this crate's.
struct Classified(Box<dyn Mechanism>);

fn classified(e: BoxError) -> BoxError {
    match e.downcast::<Error>() {
        Ok(ours) => PluginError::boxed(*ours),
        Err(other) => other,
    }
}

impl Mechanism for Classified {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn initial_response(&mut self) -> Option<SecretBytes> {
        self.0.initial_response()
    }
    fn respond(&mut self, challenge: &[u8]) -> Result<SecretBytes, BoxError> {
        self.0.respond(challenge).map_err(classified)
    }
    fn sends_secret_in_clear(&self) -> bool {
        self.0.sends_secret_in_clear()
    }
    fn finish(&mut self) -> Result<(), BoxError> {
        self.0.finish().map_err(classified)
    }
}
