//! PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd` in the initial response.

use secrecy::{ExposeSecret, SecretString};
use smtp_core::BoxError;
use smtp_core::sasl::{Mechanism, SecretBytes};

use super::{secret, shown};
use crate::error::Error;

/// The PLAIN mechanism. Sends the password itself: use it over TLS only.
#[derive(Debug)]
pub struct Plain {
    authzid: Option<String>,
    username: String,
    password: SecretString,
}

impl Plain {
    /// PLAIN for `username` with `password`, no authorization identity.
    pub fn new(username: impl Into<String>, password: SecretString) -> Plain {
        Plain {
            authzid: None,
            username: username.into(),
            password,
        }
    }

    /// Acts as `authzid` (e.g. a shared mailbox) after authenticating as
    /// the username, when the server permits it.
    pub fn with_authzid(mut self, authzid: impl Into<String>) -> Plain {
        self.authzid = Some(authzid.into());
        self
    }
}

impl Mechanism for Plain {
    fn name(&self) -> &'static str {
        "PLAIN"
    }

    fn initial_response(&mut self) -> Option<SecretBytes> {
        let authzid = self.authzid.as_deref().unwrap_or("");
        let password = self.password.expose_secret();
        let mut out = Vec::with_capacity(authzid.len() + self.username.len() + password.len() + 2);
        out.extend_from_slice(authzid.as_bytes());
        out.push(0);
        out.extend_from_slice(self.username.as_bytes());
        out.push(0);
        out.extend_from_slice(password.as_bytes());
        Some(secret(out))
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<SecretBytes, BoxError> {
        // Everything went in the initial response; a challenge after it is
        // a server we do not understand.
        Err(Box::new(Error::InvalidChallenge {
            mechanism: "PLAIN",
            reason: format!(
                "unexpected challenge {:?} after the initial response",
                shown(challenge)
            ),
        }))
    }

    fn sends_secret_in_clear(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanism::test_util::bytes;

    #[test]
    fn rfc4616_examples() {
        // RFC 4616 §4: "\0tim\0tanstaaftanstaaf" and "Ursel\0Kurt\0xipj3plmq".
        let mut m = Plain::new("tim", SecretString::from("tanstaaftanstaaf"));
        assert_eq!(bytes(m.initial_response()), b"\0tim\0tanstaaftanstaaf");
        let mut m = Plain::new("Kurt", SecretString::from("xipj3plmq")).with_authzid("Ursel");
        assert_eq!(bytes(m.initial_response()), b"Ursel\0Kurt\0xipj3plmq");
        assert!(m.sends_secret_in_clear());
        assert_eq!(m.name(), "PLAIN");
    }

    #[test]
    fn utf8_password_is_sent_as_utf8() {
        let mut m = Plain::new("other@example.test", SecretString::from("pässwörd-2"));
        assert_eq!(
            bytes(m.initial_response()),
            "\0other@example.test\0pässwörd-2".as_bytes()
        );
    }

    #[test]
    fn a_challenge_is_an_error() {
        let mut m = Plain::new("u", SecretString::from("p"));
        let e = m.respond(b"what?").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid PLAIN challenge from the server: unexpected challenge \"what?\" after the initial response"
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let m = Plain::new("tim", SecretString::from("tanstaaftanstaaf"));
        let d = format!("{m:?}");
        assert!(d.contains("tim") && !d.contains("tanstaaf"), "{d}");
    }
}
