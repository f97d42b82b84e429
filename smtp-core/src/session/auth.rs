//! AUTH (RFC 4954): the engine runs the exchange; mechanisms see bytes.

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::ExposeSecret;

use super::{Session, bounded};
use crate::error::{Error, Phase};
use crate::reply::Reply;
use crate::sasl::{AuthContext, Mechanism};
use crate::transcript::{Direction, SessionEvent};

/// Most `334` challenges one exchange may take. Real mechanisms need two
/// or three; a server that keeps challenging (each answer instantly, so no
/// time limit fires) must not keep the client in the loop forever.
const MAX_CHALLENGES: usize = 16;

enum Outcome {
    Done,
    Rejected(Reply),
}

impl Session {
    /// Authenticates when an authenticator is configured; retries once when
    /// the authenticator asks to (OAuth2 token refresh).
    pub(super) async fn authenticate(&mut self) -> Result<(), Error> {
        let result = self.authenticate_inner().await;
        self.scrub.clear();
        result
    }

    /// Remembers a response just sent, in the forms a server could echo:
    /// the base64 line itself and, for the last field (the password of
    /// PLAIN and LOGIN, the token of XOAUTH2), the field and its base64.
    fn remember_sent(&mut self, response: &[u8]) {
        let mut forms = vec![STANDARD.encode(response)];
        let last = response
            .split(|b| *b == 0 || *b == 1)
            .rev()
            .find(|f| !f.is_empty());
        if let Some(field) = last {
            let field = field.strip_prefix(b"auth=Bearer ").unwrap_or(field);
            forms.push(STANDARD.encode(field));
            forms.push(STANDARD.encode(field).trim_end_matches('=').to_string());
            if let Ok(text) = std::str::from_utf8(field) {
                forms.push(text.to_string());
            }
        }
        // Short strings would redact ordinary words of the reply.
        for form in forms.into_iter().filter(|f| f.len() >= 4) {
            self.scrub.push(secrecy::SecretString::from(form));
        }
        // Longest first, so a blob is redacted whole, not around a part.
        self.scrub
            .sort_by_key(|s| std::cmp::Reverse(s.expose_secret().len()));
    }

    async fn authenticate_inner(&mut self) -> Result<(), Error> {
        let Some(authenticator) = self.config.authenticator.clone() else {
            return Ok(());
        };
        let started = Instant::now();
        let timeout = self.config.timeouts.command;
        let mut retried = false;
        loop {
            let ctx = AuthContext::new(
                &self.caps.auth,
                self.tls.is_some(),
                &self.config.target.host,
            );
            // The authenticator may fetch a token over the network.
            let limit = self.limit(timeout);
            let mechanism = bounded(Phase::Auth, limit, authenticator.mechanism(&ctx))
                .await?
                .map_err(|source| Error::Sasl { source })?;
            let Some(mut mechanism) = mechanism else {
                return Ok(());
            };
            if mechanism.sends_secret_in_clear()
                && self.tls.is_none()
                && !authenticator.allow_cleartext()
            {
                return Err(Error::CleartextAuthRefused {
                    mechanism: mechanism.name().into(),
                });
            }
            match self.exchange(mechanism.as_mut()).await? {
                Outcome::Done => {
                    let name = mechanism.name().to_string();
                    self.event(SessionEvent::Authenticated {
                        mechanism: name.clone(),
                        elapsed: started.elapsed(),
                    });
                    self.mechanism = Some(name);
                    return Ok(());
                }
                Outcome::Rejected(reply) => {
                    let limit = self.limit(timeout);
                    if !retried
                        && bounded(
                            Phase::Auth,
                            limit,
                            authenticator.retry_after_failure(&reply),
                        )
                        .await?
                    {
                        retried = true;
                        continue;
                    }
                    return Err(Error::Rejected {
                        phase: Phase::Auth,
                        reply,
                    });
                }
            }
        }
    }

    async fn exchange(&mut self, mechanism: &mut dyn Mechanism) -> Result<Outcome, Error> {
        let timeout = self.config.timeouts.command;
        let name = mechanism.name();
        let command = match mechanism.initial_response() {
            None => format!("AUTH {name}"),
            Some(ir) if ir.expose_secret().is_empty() => format!("AUTH {name} ="),
            Some(ir) => {
                self.remember_sent(ir.expose_secret());
                format!("AUTH {name} {}", STANDARD.encode(ir.expose_secret()))
            }
        };
        // A `235` sent ahead of AUTH would pass for a successful login.
        self.ensure_no_surplus(Phase::Auth).await?;
        let shown = if command.len() > 6 + name.len() {
            format!("AUTH {name} <redacted>")
        } else {
            command.clone()
        };
        self.log(Direction::Client, &shown);
        self.write_all(format!("{command}\r\n").as_bytes(), Phase::Auth, timeout)
            .await?;
        drop(command);
        let mut challenges = 0;
        loop {
            let reply = self.read_reply(Phase::Auth, timeout).await?;
            if reply.code == 334 {
                challenges += 1;
                if challenges > MAX_CHALLENGES {
                    self.cancel_auth().await?;
                    return Err(Error::Protocol {
                        phase: Phase::Auth,
                        detail: format!("server sent more than {MAX_CHALLENGES} auth challenges"),
                    });
                }
            }
            match reply.code {
                235 => {
                    mechanism
                        .finish()
                        .map_err(|source| Error::Sasl { source })?;
                    return Ok(Outcome::Done);
                }
                334 => {
                    let challenge = match STANDARD.decode(reply.first_line().trim()) {
                        Ok(c) => c,
                        Err(_) => {
                            self.cancel_auth().await?;
                            return Err(Error::Protocol {
                                phase: Phase::Auth,
                                detail: format!(
                                    "334 challenge is not base64: {:?}",
                                    reply.first_line()
                                ),
                            });
                        }
                    };
                    match mechanism.respond(&challenge) {
                        Ok(response) => {
                            self.remember_sent(response.expose_secret());
                            let line = STANDARD.encode(response.expose_secret());
                            self.log(Direction::Client, "<redacted>");
                            self.write_all(format!("{line}\r\n").as_bytes(), Phase::Auth, timeout)
                                .await?;
                        }
                        Err(source) => {
                            self.cancel_auth().await?;
                            return Err(Error::Sasl { source });
                        }
                    }
                }
                _ => {
                    let mut reply = reply;
                    for line in &mut reply.lines {
                        if let std::borrow::Cow::Owned(clean) = self.scrubbed(line) {
                            *line = clean;
                        }
                    }
                    return Ok(Outcome::Rejected(reply));
                }
            }
        }
    }

    /// Aborts an exchange with `*` (RFC 4954 §4) and reads the 501.
    async fn cancel_auth(&mut self) -> Result<(), Error> {
        let timeout = self.config.timeouts.command;
        self.log(Direction::Client, "*");
        self.write_all(b"*\r\n", Phase::Auth, timeout).await?;
        self.read_reply(Phase::Auth, timeout).await.map(drop)
    }
}
