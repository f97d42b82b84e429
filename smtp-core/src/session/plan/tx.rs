//! One transaction in the planner: what of it went out, what the server
//! said so far, and the outcome those replies settle.

use crate::address::{Address, Envelope};
use crate::delivery::{Delivery, RecipientOutcome};
use crate::encoder::BodyEncoder;
use crate::error::{Error, Phase};
use crate::reply::Reply;

/// Where a transaction's `DATA` command stands (DATA mode only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DataCmd {
    /// BDAT mode, or DATA not written yet.
    NotSent,
    /// Written; its reply is awaited.
    Sent,
    /// `354` came: the body may go.
    Go,
    /// Refused (or never to be sent): the body must not go.
    Refused,
}

/// One transaction the planner has opened.
pub(super) struct Tx {
    pub id: u64,
    pub slot: usize,
    /// `None` after a raw `DATA` (no envelope of ours).
    pub envelope: Option<Envelope>,
    /// `MAIL` and the `RCPT`s, kept for a replay.
    pub lines: Vec<String>,
    /// How many of `lines` went into the output.
    pub lines_out: usize,
    pub data: DataCmd,
    /// A raw chunk of the body read but not encoded yet, with "it is the
    /// last one".
    pub raw: Option<(Vec<u8>, bool)>,
    /// The driver is reading the next chunk of this body.
    pub reading: bool,
    /// Encoded body bytes that went out (for the transcript).
    pub body_bytes: usize,
    /// DATA got `354` for a transaction already refused: the empty
    /// message that ends it went out (RFC 2920 §3.1).
    pub emptied: bool,
    /// The whole encoded body of a BDAT message that fits one chunk, kept
    /// until its replies are in so that it can go again after a `503`.
    pub whole: Option<Vec<u8>>,
    pub encoder: BodyEncoder,
    pub replayed: bool,
    /// A raw `DATA` typed by a person got its `354` before the planner
    /// started: no envelope of ours, the end reply is the answer.
    pub raw_data: bool,
    pub mail: Option<Reply>,
    pub accepted: Vec<RecipientOutcome>,
    pub rejected: Vec<RecipientOutcome>,
    /// The first refused `DATA` or BDAT chunk before the end.
    pub body_refused: Option<Reply>,
    /// The reply to the end of data (final dot or `BDAT LAST`).
    pub end: Option<Reply>,
    /// Reading the body failed: the transaction was abandoned.
    pub source_error: Option<Error>,
    /// Replies still owed to this transaction.
    pub unanswered: usize,
    pub chunks_unanswered: usize,
    /// Nothing more of it will be written: its end of data or the `RSET`
    /// that abandons it is in the output.
    pub closed: bool,
    /// Where its end of data ends in the output not yet written.
    pub last_end: Option<usize>,
    /// The end of data was handed to the connection whole: from then on
    /// the server may queue the message whatever we hear next.
    pub last_written: bool,
    /// A reply refused it: no more of its body goes out.
    pub dead: bool,
}

impl Tx {
    pub fn new(
        id: u64,
        slot: usize,
        envelope: Option<Envelope>,
        lines: Vec<String>,
        dot_stuffing: bool,
    ) -> Tx {
        Tx {
            id,
            slot,
            envelope,
            lines,
            lines_out: 0,
            data: DataCmd::NotSent,
            raw: None,
            reading: false,
            body_bytes: 0,
            emptied: false,
            whole: None,
            encoder: BodyEncoder::new(dot_stuffing),
            replayed: false,
            raw_data: false,
            mail: None,
            accepted: Vec::new(),
            rejected: Vec::new(),
            body_refused: None,
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

    fn recipients(&self) -> &[Address] {
        self.envelope.as_ref().map_or(&[], Envelope::to)
    }

    /// Files the reply to one of its RCPTs; true when the last RCPT reply
    /// left no recipient accepted.
    pub fn rcpt_reply(&mut self, reply: Reply) -> bool {
        let answered = self.accepted.len() + self.rejected.len();
        let Some(recipient) = self.recipients().get(answered).cloned() else {
            return false;
        };
        let outcome = RecipientOutcome { recipient, reply };
        if outcome.reply.is_positive() {
            self.accepted.push(outcome);
        } else {
            self.rejected.push(outcome);
        }
        self.no_recipient_accepted()
    }

    /// Every RCPT was answered and none accepted.
    pub fn no_recipient_accepted(&self) -> bool {
        !self.raw_data && self.accepted.is_empty() && self.rejected.len() == self.recipients().len()
    }

    /// A refusal already heard, which settles the outcome whatever else
    /// comes: nothing of this message can have been queued.
    fn refusal(&mut self) -> Option<Error> {
        if let Some(e) = self.source_error.take() {
            return Some(e);
        }
        if let Some(m) = self.mail.as_ref().filter(|m| !m.is_positive()) {
            return Some(Error::Rejected {
                phase: Phase::Mail,
                reply: m.clone(),
            });
        }
        if self.no_recipient_accepted() {
            return Some(Error::NoRecipientsAccepted {
                rejected: std::mem::take(&mut self.rejected),
            });
        }
        self.body_refused.take().map(|reply| Error::Rejected {
            phase: Phase::Data,
            reply,
        })
    }

    /// Every reply is in, and its MAIL hit a transaction the server had
    /// left open (`503`): it is to go once more, if it can.
    pub fn wants_replay(&self, can_replay: bool) -> bool {
        let accepted_end = self.end.as_ref().is_some_and(Reply::is_positive);
        let mail_503 = self.mail.as_ref().is_some_and(|m| m.code == 503);
        mail_503 && !accepted_end && can_replay && !self.replayed && self.whole.is_some()
    }

    /// Every reply is in: the outcome.
    pub fn finish(mut self) -> Result<Delivery, Error> {
        let end = self.end.take();
        let refusal = self.refusal();
        match (refusal, end) {
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
                detail: "the transaction ended without a reply to its end of data".into(),
            }),
        }
    }

    /// The connection failed with `error` before every reply came.
    pub fn fail(mut self, error: &Error) -> Result<Delivery, Error> {
        if self.end.is_some() {
            // The reply to the end of data came (a `421`, say): it decides.
            return self.finish();
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

/// The same failure again, for each other message it cut off (errors do
/// not implement `Clone`: an I/O error keeps its kind and text).
pub(crate) fn copy_error(e: &Error) -> Error {
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
        Error::UnknownOutcome { detail } => Error::UnknownOutcome {
            detail: detail.clone(),
        },
        other => Error::ConnectionClosed {
            phase: other.phase(),
        },
    }
}
