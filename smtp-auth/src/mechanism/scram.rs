//! SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677), without channel
//! binding (`n,,`). The server must prove it knows the password: `finish()`
//! fails unless a valid `v=` arrived.
//!
//! Iteration counts: RFC 7677 §4 says servers SHOULD use at least 4096.
//! A lower count announced by a man in the middle makes the client proof an
//! easy offline target, so by default anything below 4096 is refused
//! (not just warned about); a count above [`DEFAULT_MAX_ITERATIONS`] is
//! refused too, so a hostile server cannot make us spin for minutes.
//!
//! The password is prepared with SASLprep (RFC 4013); if it contains
//! characters SASLprep prohibits, it is used as is (as libpq does) rather
//! than failing, since most servers do not SASLprep either.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use smtp_core::BoxError;
use smtp_core::sasl::{Mechanism, SecretBytes};

use super::oauth::gs2_saslname;
use super::{DEFAULT_MAX_ITERATIONS, DEFAULT_MIN_ITERATIONS, secret, shown};
use crate::error::Error;

/// `n,,`: no channel binding, no authorization identity.
const GS2_HEADER: &str = "n,,";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha1,
    Sha256,
}

impl Hash {
    fn hmac(self, key: &[u8], data: &[u8]) -> Zeroizing<Vec<u8>> {
        // HMAC accepts keys of any length, so new_from_slice cannot fail.
        Zeroizing::new(match self {
            Hash::Sha1 => {
                let mut m = Hmac::<Sha1>::new_from_slice(key).expect("hmac takes any key length");
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            Hash::Sha256 => {
                let mut m = Hmac::<Sha256>::new_from_slice(key).expect("hmac takes any key length");
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
        })
    }

    fn verify(self, key: &[u8], data: &[u8], signature: &[u8]) -> bool {
        // verify_slice compares in constant time.
        match self {
            Hash::Sha1 => {
                let mut m = Hmac::<Sha1>::new_from_slice(key).expect("hmac takes any key length");
                m.update(data);
                m.verify_slice(signature).is_ok()
            }
            Hash::Sha256 => {
                let mut m = Hmac::<Sha256>::new_from_slice(key).expect("hmac takes any key length");
                m.update(data);
                m.verify_slice(signature).is_ok()
            }
        }
    }

    fn digest(self, data: &[u8]) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(match self {
            Hash::Sha1 => Sha1::digest(data).to_vec(),
            Hash::Sha256 => Sha256::digest(data).to_vec(),
        })
    }

    fn hi(self, password: &[u8], salt: &[u8], iterations: u32) -> Zeroizing<Vec<u8>> {
        match self {
            Hash::Sha1 => {
                let mut out = Zeroizing::new(vec![0u8; 20]);
                pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out);
                out
            }
            Hash::Sha256 => {
                let mut out = Zeroizing::new(vec![0u8; 32]);
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
                out
            }
        }
    }
}

enum State {
    Start,
    SentFirst {
        client_first_bare: String,
    },
    SentFinal {
        server_key: Zeroizing<Vec<u8>>,
        auth_message: String,
    },
    Verified,
}

/// SCRAM-SHA-1 or SCRAM-SHA-256.
pub struct Scram {
    hash: Hash,
    username: String,
    password: SecretString,
    nonce: String,
    min_iterations: u32,
    max_iterations: u32,
    state: State,
}

impl fmt::Debug for Scram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scram")
            .field("mechanism", &self.name())
            .field("username", &self.username)
            .field("min_iterations", &self.min_iterations)
            .field("max_iterations", &self.max_iterations)
            .finish_non_exhaustive()
    }
}

impl Scram {
    /// SCRAM-SHA-256 for `username` with `password`.
    pub fn sha256(username: impl Into<String>, password: SecretString) -> Scram {
        Scram::new(Hash::Sha256, username.into(), password)
    }

    /// SCRAM-SHA-1 for `username` with `password`.
    pub fn sha1(username: impl Into<String>, password: SecretString) -> Scram {
        Scram::new(Hash::Sha1, username.into(), password)
    }

    fn new(hash: Hash, username: String, password: SecretString) -> Scram {
        let mut raw = [0u8; 24];
        // The OS source directly: a nonce needs unpredictability, not a
        // fast generator, and 24 bytes per login is nothing.
        getrandom::getrandom(&mut raw).expect("the operating system's random source works");
        Scram {
            hash,
            username,
            password,
            nonce: STANDARD.encode(raw),
            min_iterations: DEFAULT_MIN_ITERATIONS,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            state: State::Start,
        }
    }

    /// Accepts PBKDF2 iteration counts in `min..=max` (default
    /// 4096..=1,000,000). Lowering `min` below 4096 weakens the password
    /// against anyone who can read or alter the connection.
    pub fn iterations(mut self, min: u32, max: u32) -> Scram {
        self.min_iterations = min.max(1);
        self.max_iterations = max.max(self.min_iterations);
        self
    }

    #[cfg(test)]
    fn with_nonce(mut self, nonce: &str) -> Scram {
        self.nonce = nonce.to_string();
        self
    }

    fn err_invalid(&self, reason: impl Into<String>) -> BoxError {
        Box::new(Error::InvalidChallenge {
            mechanism: self.name(),
            reason: reason.into(),
        })
    }

    fn client_final(
        &mut self,
        client_first_bare: &str,
        server_first: &[u8],
    ) -> Result<SecretBytes, BoxError> {
        let mechanism = self.name();
        let server_first = std::str::from_utf8(server_first)
            .map_err(|_| self.err_invalid("server-first-message is not utf-8"))?;
        let attrs = parse_attributes(server_first);
        if let Some(e) = attr(&attrs, 'e') {
            return Err(Box::new(Error::ServerError {
                mechanism,
                message: e.to_string(),
            }));
        }
        if attrs.first().is_some_and(|(k, _)| *k == 'm') {
            return Err(
                self.err_invalid("the server requires an extension (m=) this client does not know")
            );
        }
        let nonce = attr(&attrs, 'r').ok_or_else(|| self.err_invalid("no nonce (r=)"))?;
        let salt = attr(&attrs, 's').ok_or_else(|| self.err_invalid("no salt (s=)"))?;
        let count = attr(&attrs, 'i').ok_or_else(|| self.err_invalid("no iteration count (i=)"))?;
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(Box::new(Error::NonceMismatch { mechanism }));
        }
        let salt = STANDARD
            .decode(salt)
            .map_err(|_| self.err_invalid("the salt is not base64"))?;
        let count: u32 = count
            .parse()
            .map_err(|_| self.err_invalid(format!("bad iteration count {count:?}")))?;
        if count < self.min_iterations || count > self.max_iterations {
            return Err(Box::new(Error::IterationCount {
                mechanism,
                count,
                min: self.min_iterations,
                max: self.max_iterations,
            }));
        }

        let prepared = prepare_password(self.password.expose_secret());
        let salted = self.hash.hi(prepared.as_bytes(), &salt, count);
        let client_key = self.hash.hmac(&salted, b"Client Key");
        let stored_key = self.hash.digest(&client_key);
        let without_proof = format!("c={},r={nonce}", STANDARD.encode(GS2_HEADER));
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let signature = self.hash.hmac(&stored_key, auth_message.as_bytes());
        let proof: Zeroizing<Vec<u8>> = Zeroizing::new(
            client_key
                .iter()
                .zip(signature.iter())
                .map(|(k, s)| k ^ s)
                .collect(),
        );
        let server_key = self.hash.hmac(&salted, b"Server Key");
        self.state = State::SentFinal {
            server_key,
            auth_message,
        };
        Ok(secret(
            format!("{without_proof},p={}", STANDARD.encode(&proof)).into_bytes(),
        ))
    }

    fn verify_server(
        &mut self,
        server_key: &[u8],
        auth_message: &str,
        server_final: &[u8],
    ) -> Result<SecretBytes, BoxError> {
        let mechanism = self.name();
        let text = std::str::from_utf8(server_final)
            .map_err(|_| self.err_invalid("server-final-message is not utf-8"))?;
        let attrs = parse_attributes(text);
        if let Some(e) = attr(&attrs, 'e') {
            return Err(Box::new(Error::ServerError {
                mechanism,
                message: e.to_string(),
            }));
        }
        let v = attr(&attrs, 'v').ok_or_else(|| {
            self.err_invalid(format!("expected v=, got {:?}", shown(server_final)))
        })?;
        let v = STANDARD
            .decode(v)
            .map_err(|_| self.err_invalid("the server signature is not base64"))?;
        if !self.hash.verify(server_key, auth_message.as_bytes(), &v) {
            return Err(Box::new(Error::ServerSignatureMismatch { mechanism }));
        }
        self.state = State::Verified;
        Ok(secret(Vec::new()))
    }
}

impl Mechanism for Scram {
    fn name(&self) -> &'static str {
        match self.hash {
            Hash::Sha1 => "SCRAM-SHA-1",
            Hash::Sha256 => "SCRAM-SHA-256",
        }
    }

    fn initial_response(&mut self) -> Option<SecretBytes> {
        let client_first_bare = format!("n={},r={}", gs2_saslname(&self.username), self.nonce);
        let out = format!("{GS2_HEADER}{client_first_bare}");
        self.state = State::SentFirst { client_first_bare };
        Some(secret(out.into_bytes()))
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<SecretBytes, BoxError> {
        match std::mem::replace(&mut self.state, State::Start) {
            State::SentFirst { client_first_bare } => {
                self.client_final(&client_first_bare, challenge)
            }
            State::SentFinal {
                server_key,
                auth_message,
            } => self.verify_server(&server_key, &auth_message, challenge),
            State::Start | State::Verified => {
                Err(self.err_invalid(format!("unexpected challenge {:?}", shown(challenge))))
            }
        }
    }

    fn sends_secret_in_clear(&self) -> bool {
        false
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        match self.state {
            State::Verified => Ok(()),
            _ => Err(Box::new(Error::ServerNotVerified {
                mechanism: self.name(),
            })),
        }
    }
}

fn parse_attributes(text: &str) -> Vec<(char, &str)> {
    text.split(',')
        .filter_map(|part| {
            let mut chars = part.chars();
            let key = chars.next()?;
            part[key.len_utf8()..]
                .strip_prefix('=')
                .map(|value| (key, value))
        })
        .collect()
}

fn attr<'a>(attrs: &[(char, &'a str)], key: char) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

fn prepare_password(password: &str) -> Zeroizing<String> {
    match stringprep::saslprep(password) {
        Ok(p) => Zeroizing::new(p.into_owned()),
        Err(_) => {
            tracing::debug!("password is not valid under saslprep; using it unprepared");
            Zeroizing::new(password.to_string())
        }
    }
}

#[cfg(test)]
mod tests;
