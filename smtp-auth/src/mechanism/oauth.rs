//! The OAuth2 bearer-token mechanisms: XOAUTH2 (Google/Microsoft) and
//! OAUTHBEARER (RFC 7628). Both send the token in the initial response; a
//! rejected token comes back as a JSON error challenge, which the client
//! acknowledges so the server can finish with its 5xx.

use secrecy::{ExposeSecret, SecretString};
use smtp_core::BoxError;
use smtp_core::sasl::{Mechanism, SecretBytes};

use super::{secret, shown};
use crate::error::Error;

/// XOAUTH2: `user=U ^A auth=Bearer T ^A ^A`.
#[derive(Debug)]
pub struct XOAuth2 {
    username: String,
    token: SecretString,
    server_error: Option<String>,
}

impl XOAuth2 {
    /// XOAUTH2 for `username` (the mailbox the token was issued for).
    pub fn new(username: impl Into<String>, token: SecretString) -> XOAuth2 {
        XOAuth2 {
            username: username.into(),
            token,
            server_error: None,
        }
    }

    /// The server's JSON error (status, scope), if it rejected the token.
    pub fn server_error(&self) -> Option<&str> {
        self.server_error.as_deref()
    }
}

impl Mechanism for XOAuth2 {
    fn name(&self) -> &'static str {
        "XOAUTH2"
    }

    fn initial_response(&mut self) -> Option<SecretBytes> {
        let ir = format!(
            "user={}\x01auth=Bearer {}\x01\x01",
            self.username,
            self.token.expose_secret()
        );
        Some(secret(ir.into_bytes()))
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<SecretBytes, BoxError> {
        error_challenge("XOAUTH2", &mut self.server_error, challenge)?;
        // Google's documented answer to the error challenge: an empty line.
        Ok(secret(Vec::new()))
    }

    fn sends_secret_in_clear(&self) -> bool {
        true
    }
}

/// OAUTHBEARER (RFC 7628): `n,a=U, ^A [host=H ^A] [port=P ^A] auth=Bearer T ^A ^A`.
#[derive(Debug)]
pub struct OAuthBearer {
    username: String,
    token: SecretString,
    host: Option<String>,
    port: Option<u16>,
    server_error: Option<String>,
}

impl OAuthBearer {
    /// OAUTHBEARER for `username` (sent as the authorization identity).
    pub fn new(username: impl Into<String>, token: SecretString) -> OAuthBearer {
        OAuthBearer {
            username: username.into(),
            token,
            host: None,
            port: None,
            server_error: None,
        }
    }

    /// Adds the optional `host=` and `port=` keys (RFC 7628 §3.1).
    pub fn with_host(mut self, host: impl Into<String>, port: Option<u16>) -> OAuthBearer {
        self.host = Some(host.into());
        self.port = port;
        self
    }

    /// The server's JSON error (status, scope), if it rejected the token.
    pub fn server_error(&self) -> Option<&str> {
        self.server_error.as_deref()
    }
}

impl Mechanism for OAuthBearer {
    fn name(&self) -> &'static str {
        "OAUTHBEARER"
    }

    fn initial_response(&mut self) -> Option<SecretBytes> {
        let mut ir = format!("n,a={},\x01", gs2_saslname(&self.username));
        if let Some(host) = &self.host {
            ir.push_str(&format!("host={host}\x01"));
        }
        if let Some(port) = self.port {
            ir.push_str(&format!("port={port}\x01"));
        }
        ir.push_str("auth=Bearer ");
        ir.push_str(self.token.expose_secret());
        ir.push_str("\x01\x01");
        Some(secret(ir.into_bytes()))
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<SecretBytes, BoxError> {
        error_challenge("OAUTHBEARER", &mut self.server_error, challenge)?;
        // RFC 7628 §3.2.3: the client answers the error with a single %x01.
        Ok(secret(vec![0x01]))
    }

    fn sends_secret_in_clear(&self) -> bool {
        true
    }
}

/// RFC 5801 saslname: `,` and `=` escaped as `=2C` and `=3D`.
pub(crate) fn gs2_saslname(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

/// Records the first error challenge; a second one means the server does
/// not follow the protocol.
fn error_challenge(
    mechanism: &'static str,
    slot: &mut Option<String>,
    challenge: &[u8],
) -> Result<(), BoxError> {
    let text = shown(challenge);
    if slot.is_some() {
        return Err(Box::new(Error::InvalidChallenge {
            mechanism,
            reason: format!("unexpected second challenge {text:?}"),
        }));
    }
    tracing::debug!(mechanism, error = %text, "the server rejected the oauth2 token");
    *slot = Some(text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;
    use crate::mechanism::test_util::bytes;

    #[test]
    fn xoauth2_google_example() {
        // developers.google.com/gmail/imap/xoauth2-protocol, "SASL XOAUTH2".
        let mut m = XOAuth2::new(
            "someuser@example.com",
            SecretString::from("ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
        );
        let ir = bytes(m.initial_response());
        assert_eq!(
            STANDARD.encode(&ir),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
        );
        assert!(m.sends_secret_in_clear());
    }

    #[test]
    fn xoauth2_error_challenge_gets_an_empty_answer() {
        let mut m = XOAuth2::new("u", SecretString::from("t"));
        let json = br#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#;
        assert!(m.respond(json).unwrap().expose_secret().is_empty());
        assert!(m.server_error().unwrap().contains("\"status\":\"400\""));
        assert!(m.respond(json).is_err());
    }

    #[test]
    fn oauthbearer_rfc7628_example() {
        // RFC 7628 §4.1, IMAP example.
        let mut m = OAuthBearer::new(
            "user@example.com",
            SecretString::from("vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="),
        )
        .with_host("server.example.com", Some(143));
        let ir = bytes(m.initial_response());
        assert_eq!(
            STANDARD.encode(&ir),
            "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"
        );
    }

    #[test]
    fn oauthbearer_minimal_form() {
        let mut m = OAuthBearer::new("user", SecretString::from("token"));
        assert_eq!(
            bytes(m.initial_response()),
            b"n,a=user,\x01auth=Bearer token\x01\x01"
        );
        let mut m = OAuthBearer::new("a,b=c", SecretString::from("t"));
        assert!(bytes(m.initial_response()).starts_with(b"n,a=a=2Cb=3Dc,\x01"));
    }

    #[test]
    fn oauthbearer_error_challenge_gets_a_single_0x01() {
        // RFC 7628 §4.3: the failure challenge, then the client's %x01.
        let challenge = STANDARD
            .decode(
                "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=",
            )
            .unwrap();
        let mut m = OAuthBearer::new("user@example.com", SecretString::from("t"));
        let answer = m.respond(&challenge).unwrap();
        assert_eq!(STANDARD.encode(answer.expose_secret()), "AQ==");
        assert!(m.server_error().unwrap().contains("invalid_token"));
    }

    #[test]
    fn debug_hides_the_token() {
        let m = OAuthBearer::new("user", SecretString::from("very-secret-token"));
        assert!(!format!("{m:?}").contains("very-secret-token"));
        let m = XOAuth2::new("user", SecretString::from("very-secret-token"));
        assert!(!format!("{m:?}").contains("very-secret-token"));
    }
}
