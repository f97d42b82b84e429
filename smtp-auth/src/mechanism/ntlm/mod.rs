//! NTLM (MS-NLMP, MS-SMTPNTLM): the NEGOTIATE message as the initial
//! response, then one CHALLENGE answered with an AUTHENTICATE message.
//!
//! Always NTLMv2 (LMv2 + NTLMv2 responses), as Windows itself sends by
//! default since Vista (LmCompatibilityLevel 3): every Windows server since
//! NT4 SP4 accepts it, whatever its CHALLENGE looks like, and so do Cyrus
//! SASL (`ntlm_v2: yes`) and Dovecot. There is no fallback to NTLMv1 or
//! LM: their responses can be turned back into the password hash, which
//! logs in anywhere the account does.

mod response;
mod wire;

use std::time::{SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use smtp_core::BoxError;
use smtp_core::sasl::{Mechanism, SecretBytes};

use super::{secret, shown};
use crate::error::Error;
use wire::flag;

/// Seconds from 1601-01-01 (the FILETIME epoch) to 1970-01-01.
const FILETIME_UNIX_OFFSET: u64 = 11_644_473_600;

/// The NTLM mechanism, for on-premises Exchange and other Windows servers.
///
/// The username may carry the Windows domain: `DOMAIN\user` (or
/// `DOMAIN/user`) sends `user` in domain `DOMAIN`; `user@example.com` is
/// sent whole, with no domain, as Windows accepts a UPN.
///
/// The password never crosses the wire, but the response can be attacked
/// offline and relayed to another server, so the authenticator treats NTLM
/// like a cleartext mechanism: TLS first, unless
/// [`allow_cleartext`](crate::SaslAuthenticatorBuilder::allow_cleartext).
///
/// ```
/// use smtp_auth::mechanism::Ntlm;
/// use smtp_core::sasl::Mechanism;
///
/// let mut ntlm = Ntlm::new(r"CORP\alice", "s3cret".into());
/// let negotiate = ntlm.initial_response().expect("NTLM starts with NEGOTIATE");
/// # let _ = negotiate;
/// assert!(ntlm.sends_secret_in_clear());
/// ```
pub struct Ntlm {
    user: String,
    domain: String,
    password: SecretString,
    state: State,
    /// Fixed only by the tests that replay the spec's examples.
    client_challenge: Option<[u8; 8]>,
    time: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Negotiated,
    Answered,
}

impl std::fmt::Debug for Ntlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ntlm")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Ntlm {
    /// NTLM for `username` (`DOMAIN\user`, `user@domain` or `user`) with `password`.
    pub fn new(username: impl Into<String>, password: SecretString) -> Ntlm {
        let username = username.into();
        let (domain, user) = match username.split_once(['\\', '/']) {
            Some((domain, user)) => (domain.to_string(), user.to_string()),
            None => (String::new(), username),
        };
        Ntlm {
            user,
            domain,
            password,
            state: State::Start,
            client_challenge: None,
            time: None,
        }
    }

    /// The user name sent, without the domain.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The domain sent (empty when the username has none).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    fn authenticate(&self, challenge: &[u8]) -> Result<Vec<u8>, Error> {
        let parsed =
            wire::parse_challenge(challenge).map_err(|reason| invalid(reason, challenge))?;
        let client_challenge = self.client_challenge.unwrap_or_else(|| {
            let mut raw = [0u8; 8];
            getrandom::getrandom(&mut raw).expect("the operating system's random source works");
            raw
        });
        let nt_hash = response::nt_hash(self.password.expose_secret());
        let key = response::ntowf_v2(&nt_hash, &self.user, &self.domain);
        let time = self.time.or(parsed.timestamp).unwrap_or_else(now_filetime);
        let responses = response::ntlm_v2(
            &key,
            &parsed.server_challenge,
            &client_challenge,
            time,
            &parsed.target_info,
            parsed.timestamp.is_some(),
        );
        let unicode = parsed.unicode();
        let encode = |s: &str| wire::text(s, unicode).map_err(|reason| invalid(reason, challenge));
        let charset = if unicode { flag::UNICODE } else { flag::OEM };
        let flags = (parsed.flags & wire::NEGOTIATE_FLAGS & !(flag::UNICODE | flag::OEM)) | charset;
        wire::Authenticate {
            flags,
            lm_response: &responses.lm,
            nt_response: &responses.nt,
            domain: &encode(&self.domain)?,
            user: &encode(&self.user)?,
            workstation: &[],
        }
        .to_bytes()
        .map_err(|reason| invalid(reason, challenge))
    }
}

fn invalid(reason: String, challenge: &[u8]) -> Error {
    Error::InvalidChallenge {
        mechanism: "NTLM",
        reason: format!("{reason} (challenge {:?})", shown(challenge)),
    }
}

/// Now as a FILETIME (100 ns ticks since 1601), for the NTLMv2 blob.
fn now_filetime() -> u64 {
    let since_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (since_unix.as_secs() + FILETIME_UNIX_OFFSET) * 10_000_000
        + u64::from(since_unix.subsec_nanos() / 100)
}

impl Mechanism for Ntlm {
    fn name(&self) -> &'static str {
        "NTLM"
    }

    /// The NEGOTIATE message: Exchange and Dovecot take it with `AUTH NTLM`,
    /// which skips Exchange's non-base64 `334 NTLM supported`.
    fn initial_response(&mut self) -> Option<SecretBytes> {
        self.state = State::Negotiated;
        Some(secret(wire::negotiate()))
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<SecretBytes, BoxError> {
        match self.state {
            State::Negotiated => {
                self.state = State::Answered;
                Ok(secret(self.authenticate(challenge)?))
            }
            State::Start => Err(Box::new(Error::InvalidChallenge {
                mechanism: "NTLM",
                reason: "a challenge came before the NEGOTIATE message was sent".into(),
            })),
            State::Answered => Err(Box::new(Error::InvalidChallenge {
                mechanism: "NTLM",
                reason: format!("unexpected second challenge {:?}", shown(challenge)),
            })),
        }
    }

    /// True: not the password itself, but a response that can be cracked
    /// offline or relayed, so it needs TLS like PLAIN does.
    fn sends_secret_in_clear(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
