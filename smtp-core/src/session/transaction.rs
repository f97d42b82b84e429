//! One mail transaction at a time: MAIL, RCPT, then DATA (with PIPELINING
//! (RFC 2920) the next transaction rides behind the previous end of data),
//! or BDAT without PIPELINING, each chunk waiting for its reply. CHUNKING
//! with PIPELINING goes through the window instead (`window.rs`).

use super::Session;
use super::data::{BodyChunks, CHUNK, bdat_frame};
use super::envelope::Prelude;
use crate::address::Envelope;
use crate::delivery::{Delivery, RecipientOutcome};
use crate::error::{Error, Phase};
use crate::message::MessageSource;
use crate::reply::Reply;
use crate::transcript::Direction;

/// What the server said to the opening commands of a transaction.
pub(super) struct Opening {
    mail: Reply,
    accepted: Vec<RecipientOutcome>,
    rejected: Vec<RecipientOutcome>,
    /// The reply to a pipelined `DATA`, when it was sent.
    data: Option<Reply>,
}

impl Opening {
    /// A raw `DATA` typed by a person already got its `354`.
    pub(super) fn after_raw_data() -> Opening {
        Opening {
            mail: Reply::new(250, ""),
            accepted: vec![],
            rejected: vec![],
            data: Some(Reply::new(354, "")),
        }
    }
}

impl Session {
    /// One transaction; `body` is already opened (its first chunk read).
    /// `send_guarded` sends CHUNKING with PIPELINING through the window;
    /// here BDAT chunks each wait for their reply, valid either way.
    pub(super) async fn transaction(
        &mut self,
        envelope: &Envelope,
        message: &mut MessageSource,
        mut body: BodyChunks,
        sent_ahead: Option<Prelude>,
        next: Option<&Prelude>,
        next_written: &mut bool,
    ) -> Result<Delivery, Error> {
        let pre_sent = sent_ahead.is_some();
        let prelude = match sent_ahead {
            Some(p) => p,
            None => self.prelude(envelope, message)?,
        };
        if !pre_sent {
            // Nothing is outstanding: a reply already here answers nothing.
            self.ensure_no_surplus(Phase::Mail).await?;
        }
        let body = &mut body;

        let opening = if self.caps.pipelining {
            // A prelude sent ahead already rode behind the previous dot.
            if !pre_sent {
                let flight = self.log_lines(&prelude.lines);
                self.write_all(&flight, Phase::Mail, self.config.timeouts.command)
                    .await?;
            }
            self.read_opening(envelope, &prelude).await?
        } else {
            self.opening_one_by_one(envelope, &prelude).await?
        };

        if !opening.mail.is_positive() || opening.accepted.is_empty() {
            self.abandon(&opening).await;
            return Err(if opening.mail.is_positive() {
                Error::NoRecipientsAccepted {
                    rejected: opening.rejected,
                }
            } else {
                Error::Rejected {
                    phase: Phase::Mail,
                    reply: opening.mail,
                }
            });
        }

        let end = if self.caps.chunking {
            // Without PIPELINING nothing rides behind the end of data.
            self.finish_bdat(body, message).await?
        } else {
            self.finish_data(&opening, body, message, next, next_written)
                .await?
        };
        if end.is_positive() {
            Ok(Delivery {
                accepted: opening.accepted,
                rejected: opening.rejected,
                reply: end,
            })
        } else {
            Err(Error::Rejected {
                phase: Phase::Data,
                reply: end,
            })
        }
    }

    fn log_lines(&self, lines: &[String]) -> Vec<u8> {
        let mut out = Vec::new();
        for l in lines {
            self.log(Direction::Client, l);
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// The replies to a pipelined MAIL, RCPTs and DATA. No message data
    /// has gone out yet, so a connection lost here loses nothing.
    async fn read_opening(
        &mut self,
        envelope: &Envelope,
        prelude: &Prelude,
    ) -> Result<Opening, Error> {
        let timeout = self.config.timeouts.command;
        let mail = self.read_reply(Phase::Mail, timeout).await?;
        let (mut accepted, mut rejected) = (Vec::new(), Vec::new());
        for rcpt in envelope.to() {
            let reply = self.read_reply(Phase::Rcpt, timeout).await?;
            let outcome = RecipientOutcome {
                recipient: rcpt.clone(),
                reply,
            };
            if outcome.reply.is_positive() {
                accepted.push(outcome)
            } else {
                rejected.push(outcome)
            }
        }
        let data = if prelude.has_data {
            Some(
                self.read_reply(Phase::Data, self.config.timeouts.data_start)
                    .await?,
            )
        } else {
            None
        };
        Ok(Opening {
            mail,
            accepted,
            rejected,
            data,
        })
    }

    /// Without PIPELINING: each command waits for its reply.
    async fn opening_one_by_one(
        &mut self,
        envelope: &Envelope,
        prelude: &Prelude,
    ) -> Result<Opening, Error> {
        let timeout = self.config.timeouts.command;
        let mail_line = &prelude.lines[0];
        self.log(Direction::Client, mail_line);
        self.write_all(format!("{mail_line}\r\n").as_bytes(), Phase::Mail, timeout)
            .await?;
        let mail = self.read_reply(Phase::Mail, timeout).await?;
        let mut opening = Opening {
            mail,
            accepted: vec![],
            rejected: vec![],
            data: None,
        };
        if !opening.mail.is_positive() {
            return Ok(opening);
        }
        for (rcpt, line) in envelope.to().iter().zip(&prelude.lines[1..]) {
            self.log(Direction::Client, line);
            self.write_all(format!("{line}\r\n").as_bytes(), Phase::Rcpt, timeout)
                .await?;
            let reply = self.read_reply(Phase::Rcpt, timeout).await?;
            let outcome = RecipientOutcome {
                recipient: rcpt.clone(),
                reply,
            };
            if outcome.reply.is_positive() {
                opening.accepted.push(outcome)
            } else {
                opening.rejected.push(outcome)
            }
        }
        Ok(opening)
    }

    /// Leaves a failed transaction cleanly: answers a stray 354, then
    /// RSET. Failures here only mark the session broken.
    async fn abandon(&mut self, opening: &Opening) {
        if opening.data.as_ref().is_some_and(|d| d.code == 354) {
            // RFC 2920 §3.1: the server took DATA with no valid recipient;
            // an empty message ends it and is rejected.
            self.log(Direction::Client, ".");
            let timeout = self.config.timeouts.data_end;
            if self
                .write_all(b".\r\n", Phase::Data, timeout)
                .await
                .is_err()
                || self.read_reply(Phase::Data, timeout).await.is_err()
            {
                return;
            }
        }
        if self.reset().await.is_err() {
            self.broken = true;
        }
    }

    /// DATA path: wait for 354 (already read when pipelined), stream the
    /// dot-stuffed body; the terminator and the next prelude share the
    /// last write. Returns the end-of-data reply.
    pub(super) async fn finish_data(
        &mut self,
        opening: &Opening,
        body: &mut BodyChunks,
        message: &mut MessageSource,
        next: Option<&Prelude>,
        next_written: &mut bool,
    ) -> Result<Reply, Error> {
        let go = match &opening.data {
            Some(r) => r.clone(),
            None => {
                self.log(Direction::Client, "DATA");
                let t = self.config.timeouts.data_start;
                self.write_all(b"DATA\r\n", Phase::Data, t).await?;
                self.read_reply(Phase::Data, t).await?
            }
        };
        if go.is_positive() {
            // DATA has no 2xx: one reply too many came before it.
            self.broken = true;
            return Err(Error::Protocol {
                phase: Phase::Data,
                detail: format!("DATA answered with {go}, not 354"),
            });
        }
        if go.code != 354 {
            if self.reset().await.is_err() {
                self.broken = true;
            }
            return Err(Error::Rejected {
                phase: Phase::Data,
                reply: go,
            });
        }
        let mut out = Vec::with_capacity(super::data::CHUNK * 2);
        let mut bytes = 0usize;
        loop {
            out.clear();
            let last = self.next_chunk(body, message, &mut out).await?;
            bytes += out.len();
            if last {
                self.log(
                    Direction::Client,
                    &format!("<{bytes} bytes of message data>"),
                );
                self.log(Direction::Client, ".");
                if let Some(n) = next {
                    out.extend_from_slice(&self.log_lines(&n.lines));
                    *next_written = true;
                }
            }
            self.write_all(&out, Phase::Data, self.config.timeouts.data_block)
                .await?;
            if last {
                break;
            }
        }
        self.end_of_data_reply().await
    }

    /// BDAT without PIPELINING: each chunk waits for its reply (RFC 3030
    /// §4.2 allows pipelining them only when PIPELINING is offered).
    async fn finish_bdat(
        &mut self,
        body: &mut BodyChunks,
        message: &mut MessageSource,
    ) -> Result<Reply, Error> {
        let mut chunk = Vec::with_capacity(CHUNK + 1024);
        let mut flight = Vec::with_capacity(CHUNK + 1024);
        loop {
            chunk.clear();
            flight.clear();
            let last = self.next_chunk(body, message, &mut chunk).await?;
            let header = bdat_frame(&chunk, last, &mut flight);
            self.log(
                Direction::Client,
                &format!("{header} <{} bytes of message data>", chunk.len()),
            );
            self.write_all(&flight, Phase::Data, self.config.timeouts.data_block)
                .await?;
            if last {
                return self.end_of_data_reply().await;
            }
            let reply = self
                .read_reply(Phase::Data, self.config.timeouts.data_block)
                .await?;
            if !reply.is_positive() {
                // RFC 3030 §2: the state after a failed BDAT is
                // indeterminate until RSET; without one, not reusable.
                if self.reset().await.is_err() {
                    self.broken = true;
                }
                return Err(Error::Rejected {
                    phase: Phase::Data,
                    reply,
                });
            }
        }
    }

    /// The reply to the final dot / BDAT LAST. A connection lost here
    /// leaves the outcome unknown: the server may have queued the message.
    async fn end_of_data_reply(&mut self) -> Result<Reply, Error> {
        let reply = self
            .read_reply(Phase::Data, self.config.timeouts.data_end)
            .await
            .map_err(unknown_if_lost)?;
        if reply.is_intermediate() {
            // Neither accepted nor refused: what happened to the message
            // is unknown, and so is where the server is.
            self.broken = true;
            return Err(Error::UnknownOutcome {
                detail: format!("the end of data got {reply}, which is not a final reply"),
            });
        }
        Ok(reply)
    }
}

/// Once the server may hold the whole message, a connection that breaks
/// (or answers garbage) before its reply leaves the outcome unknown: a
/// retry could deliver twice. `read_reply` has marked the session broken.
fn unknown_if_lost(e: Error) -> Error {
    match e {
        Error::ConnectionClosed { .. }
        | Error::Io { .. }
        | Error::Timeout { .. }
        | Error::Protocol { .. } => Error::UnknownOutcome {
            detail: format!("no reply to the end of data ({e})"),
        },
        e => e,
    }
}
