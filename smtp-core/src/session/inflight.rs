//! The bookkeeping of windowed BDAT: what each reply answers, and what
//! each transaction in flight has been told so far.

use std::collections::VecDeque;

use super::data::BodyChunks;
use crate::address::Envelope;
use crate::delivery::{Delivery, RecipientOutcome};
use crate::error::{Error, Phase};
use crate::message::MessageSource;
use crate::reply::Reply;

/// What the next reply from the server answers (replies come strictly in
/// the order the commands went out, RFC 2920 §3.1).
#[derive(Debug, Clone, Copy)]
pub(super) enum Expect {
    Mail(u64),
    Rcpt(u64),
    Chunk { tx: u64, last: bool },
    Rset,
    Quit,
}

impl Expect {
    pub fn phase(self) -> Phase {
        match self {
            Expect::Mail(_) => Phase::Mail,
            Expect::Rcpt(_) => Phase::Rcpt,
            Expect::Chunk { .. } => Phase::Data,
            Expect::Rset => Phase::Reset,
            Expect::Quit => Phase::Quit,
        }
    }
}

/// A message waiting to go out.
pub(super) struct Queued {
    pub slot: usize,
    pub envelope: Envelope,
    pub body: QueuedBody,
}

pub(super) enum QueuedBody {
    /// Not read yet.
    Source(MessageSource),
    /// Sent once already into a transaction the server had left open (its
    /// MAIL got `503`): the commands and the whole encoded body, to go
    /// again after an RSET.
    Replay {
        lines: Vec<String>,
        encoded: Vec<u8>,
    },
}

/// One transaction whose commands started going out.
pub(super) struct Tx {
    pub id: u64,
    pub slot: usize,
    pub envelope: Envelope,
    /// `MAIL` and the `RCPT`s, kept with `whole` for a replay.
    pub lines: Vec<String>,
    /// The rest of a body of several chunks.
    pub source: Option<(MessageSource, BodyChunks)>,
    /// The whole encoded body of a message that fits one chunk.
    pub whole: Option<Vec<u8>>,
    pub replayed: bool,
    pub mail: Option<Reply>,
    pub accepted: Vec<RecipientOutcome>,
    pub rejected: Vec<RecipientOutcome>,
    /// The first refused chunk before `LAST`.
    pub chunk_refused: Option<Reply>,
    /// The reply to `BDAT LAST`.
    pub end: Option<Reply>,
    /// Reading the body failed: the transaction was abandoned with RSET.
    pub source_error: Option<Error>,
    /// Replies still owed to this transaction.
    pub unanswered: usize,
    pub chunks_unanswered: usize,
    /// Nothing more of it will be written: `BDAT LAST` or the `RSET` that
    /// abandons it is queued.
    pub closed: bool,
    /// Where `BDAT LAST` ends in the write buffer not flushed yet.
    pub last_end: Option<usize>,
    /// `BDAT LAST` was handed to the connection whole: from then on the
    /// server may queue the message whatever we hear next.
    pub last_written: bool,
    /// A reply refused it: no more chunks go out (RFC 3030 §2).
    pub dead: bool,
}

/// What became of a finished transaction.
pub(super) enum Finished {
    Done(Result<Delivery, Error>),
    /// Its MAIL hit a transaction the server had left open: send it again.
    Replay(Queued),
}

impl Tx {
    pub fn new(id: u64, slot: usize, envelope: Envelope, lines: Vec<String>) -> Tx {
        Tx {
            id,
            slot,
            envelope,
            lines,
            source: None,
            whole: None,
            replayed: false,
            mail: None,
            accepted: Vec::new(),
            rejected: Vec::new(),
            chunk_refused: None,
            end: None,
            source_error: None,
            unanswered: 0,
            chunks_unanswered: 0,
            closed: false,
            last_end: None,
            last_written: false,
            dead: false,
        }
    }

    /// Files the reply to one of its RCPTs; true when the last RCPT reply
    /// left no recipient accepted.
    pub fn rcpt_reply(&mut self, reply: Reply) -> bool {
        let answered = self.accepted.len() + self.rejected.len();
        let recipient = self.envelope.to()[answered].clone();
        let outcome = RecipientOutcome { recipient, reply };
        if outcome.reply.is_positive() {
            self.accepted.push(outcome);
        } else {
            self.rejected.push(outcome);
        }
        self.accepted.is_empty() && self.rejected.len() == self.envelope.to().len()
    }

    /// A refusal already heard, which settles the outcome whatever else
    /// comes: nothing of this message can have been queued.
    fn refusal(&mut self) -> Option<Error> {
        if let Some(e) = self.source_error.take() {
            return Some(e);
        }
        match &self.mail {
            Some(m) if !m.is_positive() => {
                return Some(Error::Rejected {
                    phase: Phase::Mail,
                    reply: m.clone(),
                });
            }
            _ => {}
        }
        if self.accepted.is_empty() && self.rejected.len() == self.envelope.to().len() {
            return Some(Error::NoRecipientsAccepted {
                rejected: std::mem::take(&mut self.rejected),
            });
        }
        self.chunk_refused.take().map(|reply| Error::Rejected {
            phase: Phase::Data,
            reply,
        })
    }

    /// Every reply is in: the result, or a replay.
    pub fn finish(mut self, can_replay: bool) -> Finished {
        let end = self.end.take();
        let accepted_end = end.as_ref().is_some_and(Reply::is_positive);
        let mail_503 = self.mail.as_ref().is_some_and(|m| m.code == 503);
        if mail_503 && !accepted_end && can_replay && !self.replayed {
            if let Some(encoded) = self.whole.take() {
                return Finished::Replay(Queued {
                    slot: self.slot,
                    envelope: self.envelope,
                    body: QueuedBody::Replay {
                        lines: self.lines,
                        encoded,
                    },
                });
            }
        }
        let refusal = self.refusal();
        Finished::Done(match (refusal, end) {
            // The server said no earlier, then yes to the data: it may
            // have queued the message under a transaction of its own.
            (Some(e), Some(end)) if end.is_positive() => Err(Error::UnknownOutcome {
                detail: format!(
                    "the server accepted the message ({end}) after refusing it ({e}); the envelope may not be the one sent"
                ),
            }),
            (Some(e), _) => Err(e),
            (None, Some(end)) if end.is_positive() => Ok(Delivery {
                accepted: self.accepted,
                rejected: self.rejected,
                reply: end,
            }),
            (None, Some(end)) => Err(Error::Rejected {
                phase: Phase::Data,
                reply: end,
            }),
            (None, None) => Err(Error::Protocol {
                phase: Phase::Data,
                detail: "the transaction ended without a reply to BDAT LAST".into(),
            }),
        })
    }

    /// The connection failed with `error` before every reply came.
    pub fn fail(mut self, error: &Error) -> Result<Delivery, Error> {
        if self.end.is_some() {
            // The reply to BDAT LAST came (a `421`, say): it decides.
            if let Finished::Done(result) = self.finish(false) {
                return result;
            }
            return Err(copy_error(error));
        }
        if let Some(e) = self.refusal() {
            return Err(e);
        }
        if self.last_written {
            return Err(Error::UnknownOutcome {
                detail: format!("no reply to the end of data ({error})"),
            });
        }
        // Not all of it went out: the server cannot have queued it.
        Err(copy_error(error))
    }
}

/// Every transaction in flight, in the order they went out.
#[derive(Default)]
pub(super) struct InFlight {
    pub txs: VecDeque<Tx>,
    pub expects: VecDeque<Expect>,
}

impl InFlight {
    pub fn tx(&mut self, id: u64) -> Option<&mut Tx> {
        self.txs.iter_mut().find(|t| t.id == id)
    }
}

/// The same failure again, for each other message it cut off (errors do
/// not implement `Clone`: an I/O error keeps its kind and text).
pub(super) fn copy_error(e: &Error) -> Error {
    match e {
        Error::Timeout { phase, after } => Error::Timeout {
            phase: *phase,
            after: *after,
        },
        Error::Io { phase, source } => Error::Io {
            phase: *phase,
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        Error::Protocol { phase, detail } => Error::Protocol {
            phase: *phase,
            detail: detail.clone(),
        },
        Error::Rejected { phase, reply } => Error::Rejected {
            phase: *phase,
            reply: reply.clone(),
        },
        other => Error::ConnectionClosed {
            phase: other.phase(),
        },
    }
}
