//! The outcome of a transaction.

use crate::address::Address;
use crate::reply::Reply;

/// One recipient and the server's reply to its `RCPT TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientOutcome {
    /// The recipient.
    pub recipient: Address,
    /// The server's reply to `RCPT TO`.
    pub reply: Reply,
}

/// A message the server accepted, for at least one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Recipients the server accepted.
    pub accepted: Vec<RecipientOutcome>,
    /// Recipients the server refused; the message went to the others.
    pub rejected: Vec<RecipientOutcome>,
    /// The reply to the end of data (often carries the queue id).
    pub reply: Reply,
}

impl Delivery {
    /// Every recipient of `envelope` accepted with `each`, and `reply` to
    /// the message (what a transport that cannot refuse anyone answers:
    /// an outbox, a queue, a test double).
    pub fn to_all(envelope: &crate::address::Envelope, each: Reply, reply: Reply) -> Delivery {
        Delivery {
            accepted: envelope
                .to()
                .iter()
                .map(|r| RecipientOutcome {
                    recipient: r.clone(),
                    reply: each.clone(),
                })
                .collect(),
            rejected: Vec::new(),
            reply,
        }
    }

    /// True when every recipient was accepted.
    pub fn is_complete(&self) -> bool {
        self.rejected.is_empty()
    }
}
