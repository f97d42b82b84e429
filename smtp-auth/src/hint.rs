//! The stable hint codes of this crate: for each [`AuthFailure`] (a
//! server's refusal of AUTH) and each [`Error`] variant.
//!
//! An error's `Display` states only what failed; the advice lives here,
//! with a stable code the CLI prints and `docs/troubleshooting.md` explains.
//! Each text names settings as [`smtp_core::Setting`]s (`{AuthMechanisms}`):
//! the hint's `Display` words them as library methods, smtp-config as
//! config keys, the CLI as keys and flags.

use smtp_core::Hint;

use crate::classify::AuthFailure;
use crate::error::{Error, NoMechanismReason};

smtp_core::hint_table! {
    /// Every hint smtp-auth gives; [`AuthFailure::coded_hint`] and
    /// [`Error::coded_hint`] return one.
    pub mod hints {
        BAD_CREDENTIALS = "auth-bad-credentials":
            "check {AuthUsername} and {AuthPassword} (or refresh the token); providers with 2-step verification (Gmail, iCloud, Yahoo, Outlook.com) need an app password or OAuth2";
        APP_PASSWORD_REQUIRED = "auth-app-password-required":
            "create an app password in the account's security settings (Gmail, iCloud, Yahoo, Outlook.com) and use it instead of the account password, or use OAuth2";
        WEB_LOGIN_REQUIRED = "auth-web-login-required":
            "log in once on the provider's web page and confirm the sign-in, then use an app password or OAuth2";
        SMTP_AUTH_DISABLED = "auth-smtp-auth-disabled":
            "enable authenticated SMTP for the mailbox (Microsoft 365: admin center, mailbox, Manage email apps), or use OAuth2 (XOAUTH2)";
        MECHANISM_TOO_WEAK = "auth-mechanism-too-weak":
            "allow a stronger mechanism such as SCRAM-SHA-256 in {AuthMechanisms}, or use TLS so the server accepts PLAIN or LOGIN";
        ENCRYPTION_REQUIRED = "auth-encryption-required":
            "use {Security=starttls} (port 587) or {Security=implicit} (port 465)";
        AUTH_REQUIRED = "auth-required":
            "configure {AuthUsername} and {AuthPassword} or {OAuth2Token}";
        TEMPORARY = "auth-temporary": "try again later; the server's authentication backend may be down";
        REFUSED = "auth-refused": "check the credentials and the server's message";
        NO_COMMON_MECHANISM = "auth-no-common-mechanism":
            "allow one of the server's mechanisms in {AuthMechanisms}";
        AUTH_NOT_OFFERED = "auth-not-offered":
            "this port does not offer a login: use the submission port (587 or 465), or remove the credentials ({AuthUsername}) if none is needed";
        AUTH_NOT_OFFERED_WITHOUT_TLS = "auth-not-offered-without-tls":
            "enable TLS with {Security=starttls} or {Security=implicit}: most servers offer AUTH only on an encrypted connection";
        MECHANISMS_UNSUPPORTED = "auth-mechanisms-unsupported":
            "ask the server's administrator to enable PLAIN or LOGIN over TLS, SCRAM-SHA-256, or OAuth2";
        NO_OAUTH2 = "auth-no-oauth2":
            "use a password ({AuthPassword}) instead of a token; an app password where the provider requires one";
        OAUTH2_ONLY = "auth-oauth2-only":
            "configure an OAuth2 token ({OAuth2Token}) instead of a password";
        CLEARTEXT_REFUSED = "auth-cleartext-refused":
            "enable TLS with {Security=starttls} or {Security=implicit}; only on a trusted network set {AuthAllowCleartext=true}";
        UNKNOWN_MECHANISM = "auth-unknown-mechanism":
            "use PLAIN, LOGIN, CRAM-MD5, NTLM, SCRAM-SHA-1, SCRAM-SHA-256, XOAUTH2 or OAUTHBEARER in {AuthMechanisms}";
        MECHANISM_NOT_BUILT = "auth-mechanism-not-built":
            "build smtp-auth with the feature the error names (the smtp CLI has them all), or allow a mechanism this build has in {AuthMechanisms}";
        INVALID_CONFIG = "auth-invalid-config":
            "fix the auth settings: passwords go with PLAIN/LOGIN/CRAM-MD5/NTLM/SCRAM-*, tokens with XOAUTH2/OAUTHBEARER ({AuthMechanisms})";
        INVALID_CHALLENGE = "auth-invalid-challenge":
            "the server's SASL exchange is broken: try another mechanism in {AuthMechanisms}";
        SCRAM_SERVER_ERROR = "auth-scram-server-error":
            "the server ended SCRAM with an error: check {AuthUsername} and {AuthPassword}";
        SCRAM_NONCE_MISMATCH = "auth-scram-nonce-mismatch":
            "the SCRAM exchange may be tampered with: do not retry on this network";
        SCRAM_ITERATIONS = "auth-scram-iterations":
            "a low count lets an eavesdropper guess the password offline, a huge one stalls the client: ask the server's administrator to fix it, or use another mechanism ({AuthMechanisms})";
        SCRAM_IMPOSTOR = "auth-scram-impostor":
            "the server could not prove it knows the password: possible impostor, do not trust this connection";
        COMMAND_NOT_BUILT = "auth-command-not-built":
            "build smtp-auth with its `password-command` feature (the smtp CLI has it), or give the secret directly or in a file ({AuthPasswordFile})";
        COMMAND_SPAWN = "auth-command-spawn":
            "check {AuthPasswordCommand} / {OAuth2TokenCommand}: it runs with `sh -c`, so `sh` must exist";
        COMMAND_FAILED = "auth-command-failed":
            "run the command by hand to see its error output ({AuthPasswordCommand} or {OAuth2TokenCommand})";
        COMMAND_TIMEOUT = "auth-command-timeout":
            "the password or token command hung (waiting for input?): make it non-interactive";
        EMPTY_SECRET = "auth-empty-secret":
            "the password file or command produced nothing usable: check its output ({AuthPasswordFile}, {AuthPasswordCommand})";
        PASSWORD_FILE = "auth-password-file":
            "check that {AuthPasswordFile} exists and is readable";
        TOKEN_ENDPOINT_URL = "auth-token-endpoint-url":
            "{OAuth2TokenUrl} must be https:// (http:// only to a loopback host)";
        TOKEN_HTTP = "auth-token-http":
            "the token endpoint could not be reached: check {OAuth2TokenUrl} and the network";
        TOKEN_EXPIRED = "auth-token-expired":
            "the refresh token is expired or revoked: sign in again and set the new {OAuth2RefreshToken}";
        TOKEN_CLIENT = "auth-token-client":
            "check {OAuth2ClientId} and {OAuth2ClientSecret}";
        TOKEN_SCOPE = "auth-token-scope":
            "check the scope the refresh token was issued for (Gmail: https://mail.google.com/; Microsoft 365: https://outlook.office.com/SMTP.Send)";
        TOKEN_REFUSED = "auth-token-refused":
            "check {OAuth2ClientId}, {OAuth2ClientSecret} and {OAuth2RefreshToken}";
        TOKEN_RESPONSE = "auth-token-response":
            "the token endpoint answered without an access token: check {OAuth2TokenUrl}";
    }
}

impl AuthFailure {
    /// What to try, with its stable code.
    pub fn coded_hint(self) -> Hint {
        match self {
            AuthFailure::BadCredentials => hints::BAD_CREDENTIALS,
            AuthFailure::AppPasswordRequired => hints::APP_PASSWORD_REQUIRED,
            AuthFailure::WebLoginRequired => hints::WEB_LOGIN_REQUIRED,
            AuthFailure::SmtpAuthDisabled => hints::SMTP_AUTH_DISABLED,
            AuthFailure::MechanismTooWeak => hints::MECHANISM_TOO_WEAK,
            AuthFailure::EncryptionRequired => hints::ENCRYPTION_REQUIRED,
            AuthFailure::AuthRequired => hints::AUTH_REQUIRED,
            AuthFailure::Temporary => hints::TEMPORARY,
            AuthFailure::Other => hints::REFUSED,
        }
    }
}

impl Error {
    /// The advice for this error, with its stable code.
    ///
    /// ```
    /// let e = smtp_auth::Error::TokenRefused {
    ///     status: 400,
    ///     error: "invalid_grant".into(),
    ///     description: None,
    /// };
    /// assert_eq!(e.coded_hint().code, "auth-token-expired");
    /// ```
    pub fn coded_hint(&self) -> Hint {
        match self {
            Error::NoCommonMechanism { reason, .. } => match reason {
                NoMechanismReason::NotOffered => hints::AUTH_NOT_OFFERED,
                NoMechanismReason::NotOfferedWithoutTls => hints::AUTH_NOT_OFFERED_WITHOUT_TLS,
                NoMechanismReason::Unsupported => hints::MECHANISMS_UNSUPPORTED,
                NoMechanismReason::NotBuilt => hints::MECHANISM_NOT_BUILT,
                NoMechanismReason::NoOAuth2 => hints::NO_OAUTH2,
                NoMechanismReason::OAuth2Only => hints::OAUTH2_ONLY,
                NoMechanismReason::NotEnabled => hints::NO_COMMON_MECHANISM,
            },
            Error::CleartextRefused { .. } => hints::CLEARTEXT_REFUSED,
            Error::UnknownMechanism { .. } => hints::UNKNOWN_MECHANISM,
            Error::MechanismNotBuilt { .. } => hints::MECHANISM_NOT_BUILT,
            Error::Config(_) => hints::INVALID_CONFIG,
            Error::InvalidChallenge { .. } => hints::INVALID_CHALLENGE,
            Error::ServerError { .. } => hints::SCRAM_SERVER_ERROR,
            Error::NonceMismatch { .. } => hints::SCRAM_NONCE_MISMATCH,
            Error::IterationCount { .. } => hints::SCRAM_ITERATIONS,
            Error::ServerSignatureMismatch { .. } | Error::ServerNotVerified { .. } => {
                hints::SCRAM_IMPOSTOR
            }
            Error::CommandNotBuilt { .. } => hints::COMMAND_NOT_BUILT,
            Error::CommandSpawn { .. } => hints::COMMAND_SPAWN,
            Error::CommandFailed { .. } => hints::COMMAND_FAILED,
            Error::CommandTimedOut { .. } => hints::COMMAND_TIMEOUT,
            Error::EmptySecret { .. } => hints::EMPTY_SECRET,
            Error::PasswordFile { .. } => hints::PASSWORD_FILE,
            Error::TokenEndpointUrl { .. } => hints::TOKEN_ENDPOINT_URL,
            Error::TokenHttp { .. } => hints::TOKEN_HTTP,
            Error::TokenRefused { error, .. } => match error.as_str() {
                "invalid_grant" => hints::TOKEN_EXPIRED,
                "invalid_client" | "unauthorized_client" => hints::TOKEN_CLIENT,
                "invalid_scope" => hints::TOKEN_SCOPE,
                _ => hints::TOKEN_REFUSED,
            },
            Error::TokenResponse(_) => hints::TOKEN_RESPONSE,
        }
    }
}

/// The engine's classification: token endpoint outages are transient,
/// everything else about credentials and mechanisms is permanent.
impl smtp_core::Classify for Error {
    fn retry(&self) -> smtp_core::Retry {
        smtp_core::Retry::transient_if(self.is_transient())
    }

    fn hint(&self) -> Option<Hint> {
        Some(self.coded_hint())
    }
}
