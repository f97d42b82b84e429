//! [`classify`]: what a server's AUTH refusal means, and what to try.

use std::fmt;

use smtp_core::Reply;

/// The kind of an AUTH refusal, from the reply code, the enhanced status
/// code and the wording providers actually use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthFailure {
    /// `535 5.7.8`: wrong username or password, or an expired/revoked token.
    BadCredentials,
    /// `534 5.7.9 Application-specific password required` (Gmail and others
    /// with 2-step verification).
    AppPasswordRequired,
    /// `534 5.7.14 Please log in via your web browser` (Gmail blocked the sign-in).
    WebLoginRequired,
    /// `535 5.7.139 ... SmtpClientAuthentication is disabled` (Microsoft 365)
    /// and similar: the account may not use SMTP AUTH with a password.
    SmtpAuthDisabled,
    /// `534 5.7.9`: the mechanism is too weak for this server.
    MechanismTooWeak,
    /// `538 5.7.11`, or `530` mentioning STARTTLS: TLS is needed first.
    EncryptionRequired,
    /// `530 5.7.0 Authentication required`.
    AuthRequired,
    /// `454 4.7.0` and other 4xx: a temporary failure on the server side.
    Temporary,
    /// Anything else.
    Other,
}

impl AuthFailure {
    /// One line describing the failure, starting lowercase (acronyms keep their case).
    pub fn description(self) -> &'static str {
        match self {
            AuthFailure::BadCredentials => "the server rejected the credentials",
            AuthFailure::AppPasswordRequired => "the account needs an app-specific password",
            AuthFailure::WebLoginRequired => {
                "the provider blocked the sign-in until you log in on its web page"
            }
            AuthFailure::SmtpAuthDisabled => "SMTP AUTH is disabled for this account",
            AuthFailure::MechanismTooWeak => "the server considers the mechanism too weak",
            AuthFailure::EncryptionRequired => "the server requires TLS before authentication",
            AuthFailure::AuthRequired => "the server requires authentication",
            AuthFailure::Temporary => "a temporary authentication failure on the server",
            AuthFailure::Other => "the server refused authentication",
        }
    }

    /// What to try ([`AuthFailure::coded_hint`] without the code).
    pub fn hint(self) -> String {
        self.coded_hint().to_string()
    }

    /// True when trying again later may succeed.
    pub fn is_transient(self) -> bool {
        self == AuthFailure::Temporary
    }
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// Classifies a server's reply to AUTH.
///
/// ```
/// use smtp_auth::{AuthFailure, classify};
/// use smtp_core::Reply;
/// let r = Reply::new(534, "5.7.9 Application-specific password required. Learn more at https://support.google.com/mail/?p=InvalidSecondFactor");
/// assert_eq!(classify(&r), AuthFailure::AppPasswordRequired);
/// assert!(classify(&r).hint().contains("app password"));
/// ```
pub fn classify(reply: &Reply) -> AuthFailure {
    let text = reply.text().to_ascii_lowercase();
    let enhanced = reply.enhanced.map(|e| (e.subject, e.detail));
    let says = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if says(&[
        "application-specific password",
        "app-specific password",
        "app password",
    ]) {
        AuthFailure::AppPasswordRequired
    } else if enhanced == Some((7, 139))
        || says(&[
            "smtpclientauthentication is disabled",
            "smtp auth is disabled",
            "basic authentication is disabled",
        ])
    {
        AuthFailure::SmtpAuthDisabled
    } else if enhanced == Some((7, 14)) || says(&["web browser", "web login required"]) {
        AuthFailure::WebLoginRequired
    } else if reply.is_transient() {
        AuthFailure::Temporary
    } else if reply.code == 538
        || enhanced == Some((7, 11))
        || says(&["encryption required"])
        || (reply.code == 530 && says(&["tls"]))
    {
        AuthFailure::EncryptionRequired
    } else if reply.code == 534 || enhanced == Some((7, 9)) {
        AuthFailure::MechanismTooWeak
    } else if reply.code == 530 {
        AuthFailure::AuthRequired
    } else if reply.code == 535 || enhanced == Some((7, 8)) {
        AuthFailure::BadCredentials
    } else {
        AuthFailure::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(code: u16, text: &str) -> AuthFailure {
        classify(&Reply::new(code, text))
    }

    #[test]
    fn real_world_replies() {
        use AuthFailure::*;
        assert_eq!(
            c(
                535,
                "5.7.8 Error: authentication failed: authentication failure"
            ),
            BadCredentials
        );
        assert_eq!(
            c(
                535,
                "5.7.8 Username and Password not accepted. For more information, go to"
            ),
            BadCredentials
        );
        assert_eq!(c(535, "5.7.3 Authentication unsuccessful"), BadCredentials);
        assert_eq!(
            c(534, "5.7.9 Application-specific password required."),
            AppPasswordRequired
        );
        assert_eq!(
            c(
                534,
                "5.7.14 <https://accounts.google.com/signin/continue?...> Please log in via your web browser"
            ),
            WebLoginRequired
        );
        assert_eq!(
            c(
                535,
                "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."
            ),
            SmtpAuthDisabled
        );
        assert_eq!(
            c(
                535,
                "5.7.139 Authentication unsuccessful, basic authentication is disabled."
            ),
            SmtpAuthDisabled
        );
        assert_eq!(
            c(534, "5.7.9 Authentication mechanism is too weak"),
            MechanismTooWeak
        );
        assert_eq!(
            c(
                538,
                "5.7.11 Encryption required for requested authentication mechanism"
            ),
            EncryptionRequired
        );
        assert_eq!(
            c(530, "5.7.0 Must issue a STARTTLS command first"),
            EncryptionRequired
        );
        assert_eq!(c(530, "5.7.0 Authentication required"), AuthRequired);
        assert_eq!(c(454, "4.7.0 Temporary authentication failure"), Temporary);
        assert_eq!(c(501, "5.5.4 Syntax error in parameters"), Other);
    }

    #[test]
    fn hints_name_what_to_do() {
        assert!(
            AuthFailure::BadCredentials
                .hint()
                .contains("Gmail, iCloud, Yahoo, Outlook.com")
        );
        assert!(
            AuthFailure::AppPasswordRequired
                .hint()
                .contains("app password")
        );
        assert!(
            AuthFailure::EncryptionRequired
                .hint()
                .contains("Security::StartTlsRequired")
        );
        assert!(AuthFailure::Temporary.is_transient());
        assert!(!AuthFailure::BadCredentials.is_transient());
        assert_eq!(
            AuthFailure::SmtpAuthDisabled.to_string(),
            "SMTP AUTH is disabled for this account"
        );
    }
}
