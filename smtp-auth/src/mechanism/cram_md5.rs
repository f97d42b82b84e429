//! CRAM-MD5 (RFC 2195): `user HEX(HMAC-MD5(password, challenge))`.

use std::fmt::Write;

use hmac::{Hmac, Mac};
use md5::Md5;
use secrecy::{ExposeSecret, SecretString};
use smtp_core::BoxError;
use smtp_core::sasl::{Mechanism, SecretBytes};

use super::{secret, shown};
use crate::error::Error;

/// The CRAM-MD5 mechanism: the password never crosses the wire, but the
/// server must store it in clear and a recorded exchange can be attacked
/// offline. Prefer SCRAM; prefer TLS either way.
#[derive(Debug)]
pub struct CramMd5 {
    username: String,
    password: SecretString,
    answered: bool,
}

impl CramMd5 {
    /// CRAM-MD5 for `username` with `password`.
    pub fn new(username: impl Into<String>, password: SecretString) -> CramMd5 {
        CramMd5 {
            username: username.into(),
            password,
            answered: false,
        }
    }
}

impl Mechanism for CramMd5 {
    fn name(&self) -> &'static str {
        "CRAM-MD5"
    }

    fn initial_response(&mut self) -> Option<SecretBytes> {
        None
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<SecretBytes, BoxError> {
        if self.answered {
            return Err(Box::new(Error::InvalidChallenge {
                mechanism: "CRAM-MD5",
                reason: format!("unexpected second challenge {:?}", shown(challenge)),
            }));
        }
        self.answered = true;
        let mut mac = Hmac::<Md5>::new_from_slice(self.password.expose_secret().as_bytes())
            .map_err(|_| invalid("hmac key rejected"))?;
        mac.update(challenge);
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(self.username.len() + 33);
        out.push_str(&self.username);
        out.push(' ');
        for b in digest {
            let _ = write!(out, "{b:02x}");
        }
        Ok(secret(out.into_bytes()))
    }

    fn sends_secret_in_clear(&self) -> bool {
        false
    }
}

fn invalid(reason: &str) -> BoxError {
    Box::new(Error::InvalidChallenge {
        mechanism: "CRAM-MD5",
        reason: reason.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanism::test_util::text;

    #[test]
    fn rfc2195_example() {
        let mut m = CramMd5::new("tim", SecretString::from("tanstaaftanstaaf"));
        assert!(m.initial_response().is_none());
        let r = m
            .respond(b"<1896.697170952@postoffice.reston.mci.net>")
            .unwrap();
        assert_eq!(text(r), "tim b913a602c7eda7a495b4e6e7334d3890");
        assert!(!m.sends_secret_in_clear());
        assert!(m.respond(b"again").is_err());
    }
}
