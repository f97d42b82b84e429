//! LOGIN (draft-murchison-sasl-login): username and password, one challenge each.

use secrecy::{ExposeSecret, SecretString};
use smtp_core::BoxError;
use smtp_core::sasl::{Mechanism, SecretBytes};

use super::{secret, shown};
use crate::error::Error;

/// The LOGIN mechanism. Sends the password itself: use it over TLS only.
#[derive(Debug)]
pub struct Login {
    username: String,
    password: SecretString,
    answered: u8,
}

impl Login {
    /// LOGIN for `username` with `password`.
    pub fn new(username: impl Into<String>, password: SecretString) -> Login {
        Login {
            username: username.into(),
            password,
            answered: 0,
        }
    }
}

impl Mechanism for Login {
    fn name(&self) -> &'static str {
        "LOGIN"
    }

    fn initial_response(&mut self) -> Option<SecretBytes> {
        // `AUTH LOGIN <user>` is a later extension not every server takes.
        None
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<SecretBytes, BoxError> {
        // Servers send "Username:" then "Password:"; the text is not
        // standardised (some localise it), so the order decides.
        let reply = match self.answered {
            0 => self.username.as_bytes().to_vec(),
            1 => self.password.expose_secret().as_bytes().to_vec(),
            _ => {
                return Err(Box::new(Error::InvalidChallenge {
                    mechanism: "LOGIN",
                    reason: format!("unexpected third challenge {:?}", shown(challenge)),
                }));
            }
        };
        self.answered += 1;
        Ok(secret(reply))
    }

    fn sends_secret_in_clear(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanism::test_util::text;

    #[test]
    fn username_then_password() {
        let mut m = Login::new("tim", SecretString::from("tanstaaftanstaaf"));
        assert!(m.initial_response().is_none());
        assert_eq!(text(m.respond(b"Username:").unwrap()), "tim");
        assert_eq!(text(m.respond(b"Password:").unwrap()), "tanstaaftanstaaf");
        let e = m.respond(b"More:").unwrap_err().to_string();
        assert!(e.contains("unexpected third challenge \"More:\""), "{e}");
        assert!(m.sends_secret_in_clear());
    }
}
