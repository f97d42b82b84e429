//! The SASL seam: [`Mechanism`] (one exchange) and [`Authenticator`]
//! (which mechanism, with which credentials).
//!
//! The engine runs the `AUTH` / `334` / `235` exchange and the base64;
//! mechanisms see only raw bytes. `smtp-auth` implements the mechanisms.

use async_trait::async_trait;
use secrecy::SecretSlice;

use crate::error::BoxError;
use crate::reply::Reply;

/// Longest secret (password, token) a mechanism is given: the AUTH line
/// carrying it in base64 stays within the 12,288 octets RFC 4954 §4 has
/// servers accept. smtp-auth refuses longer credentials, smtp-config longer
/// secret values, both against this one limit.
pub const MAX_SECRET_LEN: usize = 8192;

/// Bytes that must not be logged: a SASL response.
pub type SecretBytes = SecretSlice<u8>;

/// One SASL client exchange (RFC 4422), as bytes.
pub trait Mechanism: Send {
    /// The IANA name sent in `AUTH`, upper case (e.g. `SCRAM-SHA-256`).
    fn name(&self) -> &'static str;
    /// The initial response sent with `AUTH NAME <ir>`, if the mechanism
    /// has one. `Some(empty)` is sent as `=`.
    fn initial_response(&mut self) -> Option<SecretBytes>;
    /// Answers one server challenge (already base64-decoded).
    fn respond(&mut self, challenge: &[u8]) -> Result<SecretBytes, BoxError>;
    /// True when the exchange reveals a reusable secret to anyone who can
    /// read the connection (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER).
    fn sends_secret_in_clear(&self) -> bool;
    /// Called after the server's `235`: a mechanism that authenticates the
    /// server (SCRAM) fails here if the server never proved itself.
    fn finish(&mut self) -> Result<(), BoxError> {
        Ok(())
    }
}

/// What the engine knows when it asks for a mechanism.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthContext<'a> {
    /// Mechanisms the server advertised in its (post-TLS) EHLO, upper case.
    pub offered: &'a [String],
    /// True when the connection is TLS-protected.
    pub tls: bool,
    /// The server host name, for hints.
    pub host: &'a str,
}

impl<'a> AuthContext<'a> {
    /// Builds a context.
    pub fn new(offered: &'a [String], tls: bool, host: &'a str) -> AuthContext<'a> {
        AuthContext { offered, tls, host }
    }
}

/// Chooses and builds a [`Mechanism`] for a session.
#[async_trait]
pub trait Authenticator: Send + Sync + std::fmt::Debug {
    /// The mechanism to run, or `Ok(None)` to stay anonymous.
    ///
    /// Return an error (listing what the server offers and what is enabled)
    /// when credentials exist but no mechanism fits.
    async fn mechanism(
        &self,
        ctx: &AuthContext<'_>,
    ) -> Result<Option<Box<dyn Mechanism>>, BoxError>;

    /// True when the user explicitly allowed secrets over a connection
    /// without TLS. The engine refuses such mechanisms otherwise.
    fn allow_cleartext(&self) -> bool {
        false
    }

    /// Called once after the server rejected the exchange. Returning `true`
    /// makes the engine ask for a mechanism again and retry once (an OAuth2
    /// token source refreshes its token here).
    async fn retry_after_failure(&self, _reply: &Reply) -> bool {
        false
    }
}
