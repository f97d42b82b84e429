//! The SASL mechanisms, each a small [`smtp_core::sasl::Mechanism`], and
//! [`MechanismKind`], the names the authenticator chooses among.

#[cfg(feature = "cram-md5")]
mod cram_md5;
mod login;
#[cfg(feature = "ntlm")]
mod ntlm;
mod oauth;
mod plain;
#[cfg(feature = "scram")]
mod scram;

use std::fmt;
use std::str::FromStr;

use secrecy::SecretSlice;
use smtp_core::sasl::SecretBytes;

use crate::error::Error;

#[cfg(feature = "cram-md5")]
pub use cram_md5::CramMd5;
pub use login::Login;
#[cfg(feature = "ntlm")]
pub use ntlm::Ntlm;
pub use oauth::{OAuthBearer, XOAuth2};
pub use plain::Plain;
#[cfg(feature = "scram")]
pub use scram::Scram;

/// Fewest PBKDF2 iterations SCRAM accepts by default (RFC 7677 §4).
pub const DEFAULT_MIN_ITERATIONS: u32 = 4096;
/// Most PBKDF2 iterations SCRAM accepts by default.
pub const DEFAULT_MAX_ITERATIONS: u32 = 1_000_000;

/// A mechanism this crate implements.
///
/// [`MechanismKind::PREFERENCE`] is the order the authenticator tries them in;
/// `Ord` follows the same order (strongest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MechanismKind {
    /// SCRAM-SHA-256 (RFC 7677): password never sent, server proves itself.
    ScramSha256,
    /// SCRAM-SHA-1 (RFC 5802).
    ScramSha1,
    /// CRAM-MD5 (RFC 2195): password never sent, but weak and replayable offline.
    CramMd5,
    /// NTLM (MS-NLMP; on-premises Exchange): NTLMv2, password never sent,
    /// but the response can be cracked offline or relayed, so it needs TLS
    /// like PLAIN. Only with the `ntlm` feature.
    #[cfg(feature = "ntlm")]
    Ntlm,
    /// PLAIN (RFC 4616): password sent as is.
    Plain,
    /// LOGIN (draft-murchison-sasl-login): password sent as is.
    Login,
    /// OAUTHBEARER (RFC 7628): OAuth2 bearer token.
    OAuthBearer,
    /// XOAUTH2 (Google/Microsoft): OAuth2 bearer token.
    XOAuth2,
}

impl MechanismKind {
    /// Every mechanism, strongest first: password mechanisms, then token ones.
    ///
    /// NTLM comes after CRAM-MD5 and before PLAIN/LOGIN (as in curl): the
    /// password itself never reaches the server.
    pub const PREFERENCE: [MechanismKind; 7 + cfg!(feature = "ntlm") as usize] = [
        MechanismKind::ScramSha256,
        MechanismKind::ScramSha1,
        MechanismKind::CramMd5,
        #[cfg(feature = "ntlm")]
        MechanismKind::Ntlm,
        MechanismKind::Plain,
        MechanismKind::Login,
        MechanismKind::OAuthBearer,
        MechanismKind::XOAuth2,
    ];

    /// The IANA name, as in `AUTH` lines.
    pub fn name(self) -> &'static str {
        match self {
            MechanismKind::ScramSha256 => "SCRAM-SHA-256",
            MechanismKind::ScramSha1 => "SCRAM-SHA-1",
            MechanismKind::CramMd5 => "CRAM-MD5",
            #[cfg(feature = "ntlm")]
            MechanismKind::Ntlm => "NTLM",
            MechanismKind::Plain => "PLAIN",
            MechanismKind::Login => "LOGIN",
            MechanismKind::OAuthBearer => "OAUTHBEARER",
            MechanismKind::XOAuth2 => "XOAUTH2",
        }
    }

    /// True when anyone reading the connection learns a reusable secret
    /// (or, for NTLM, a response that can be cracked offline or relayed).
    pub fn sends_secret_in_clear(self) -> bool {
        #[cfg(feature = "ntlm")]
        if self == MechanismKind::Ntlm {
            return true;
        }
        matches!(
            self,
            MechanismKind::Plain
                | MechanismKind::Login
                | MechanismKind::OAuthBearer
                | MechanismKind::XOAuth2
        )
    }

    /// The smtp-auth feature this mechanism needs, if any.
    pub fn feature(self) -> Option<&'static str> {
        match self {
            MechanismKind::ScramSha256 | MechanismKind::ScramSha1 => Some("scram"),
            MechanismKind::CramMd5 => Some("cram-md5"),
            _ => None,
        }
    }

    /// True when this build implements the mechanism: SCRAM needs the
    /// `scram` feature, CRAM-MD5 the `cram-md5` feature (both default).
    // With a feature off, cfg! is a literal `false` and clippy sees a
    // `matches!`; the match says which feature decides which kinds.
    #[allow(clippy::match_like_matches_macro)]
    pub fn is_built(self) -> bool {
        match self {
            MechanismKind::ScramSha256 | MechanismKind::ScramSha1 => cfg!(feature = "scram"),
            MechanismKind::CramMd5 => cfg!(feature = "cram-md5"),
            _ => true,
        }
    }

    /// True for the OAuth2 mechanisms (they need a token, not a password).
    pub fn uses_token(self) -> bool {
        matches!(self, MechanismKind::OAuthBearer | MechanismKind::XOAuth2)
    }

    fn supported_names() -> Vec<String> {
        MechanismKind::PREFERENCE
            .iter()
            .map(|k| k.name().to_string())
            .collect()
    }
}

impl fmt::Display for MechanismKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for MechanismKind {
    type Err = Error;

    /// Parses an IANA name, case-insensitively (`"scram-sha-256"`, `"PLAIN"`).
    fn from_str(s: &str) -> Result<MechanismKind, Error> {
        let trimmed = s.trim();
        MechanismKind::PREFERENCE
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| Error::UnknownMechanism {
                name: s.to_string(),
                supported: MechanismKind::supported_names(),
            })
    }
}

/// Moves bytes into the secret wrapper the engine takes (zeroized on drop).
pub(crate) fn secret(bytes: Vec<u8>) -> SecretBytes {
    SecretSlice::from(bytes)
}

/// The challenge as text, for messages: short and lossy, never a secret
/// (challenges come from the server).
pub(crate) fn shown(challenge: &[u8]) -> String {
    let text = String::from_utf8_lossy(challenge);
    let mut out: String = text.chars().take(120).collect();
    if text.chars().count() > 120 {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
pub(crate) mod test_util {
    use secrecy::ExposeSecret;
    use smtp_core::sasl::SecretBytes;

    pub fn bytes(s: Option<SecretBytes>) -> Vec<u8> {
        s.expect("an initial response").expose_secret().to_vec()
    }

    pub fn text(s: SecretBytes) -> String {
        String::from_utf8(s.expose_secret().to_vec()).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_insensitively() {
        for k in MechanismKind::PREFERENCE {
            assert_eq!(
                k.name()
                    .to_ascii_lowercase()
                    .parse::<MechanismKind>()
                    .unwrap(),
                k
            );
            assert_eq!(k.to_string(), k.name());
        }
        let e = "GSSAPI".parse::<MechanismKind>().unwrap_err().to_string();
        assert!(
            e.starts_with(
                "unknown auth mechanism \"GSSAPI\": supported are SCRAM-SHA-256, SCRAM-SHA-1"
            ),
            "{e}"
        );
    }

    #[test]
    fn cleartext_and_token_flags() {
        let clear: Vec<_> = MechanismKind::PREFERENCE
            .into_iter()
            .filter(|k| k.sends_secret_in_clear())
            .collect();
        assert_eq!(
            clear,
            [
                #[cfg(feature = "ntlm")]
                MechanismKind::Ntlm,
                MechanismKind::Plain,
                MechanismKind::Login,
                MechanismKind::OAuthBearer,
                MechanismKind::XOAuth2
            ]
        );
        let token: Vec<_> = MechanismKind::PREFERENCE
            .into_iter()
            .filter(|k| k.uses_token())
            .collect();
        assert_eq!(token, [MechanismKind::OAuthBearer, MechanismKind::XOAuth2]);
    }
}
