//! Replies into the planner: each one filed under the command it answers,
//! and transactions settled once every reply owed to them is in.

use super::tx::{DataCmd, Tx};
use super::{Expect, Planner, QuitState};
use crate::error::{Error, Phase};
use crate::reply::Reply;

impl Planner {
    /// The reply to [`Planner::expecting`].
    pub fn reply(&mut self, reply: Reply) {
        if let Err(e) = self.dispatch(reply) {
            self.fail_all(&e);
            return;
        }
        self.complete();
    }

    /// Reading the reply to [`Planner::expecting`] failed.
    pub fn failed(&mut self, error: Error) {
        // A `421` still answers its command: a MAIL that got it was
        // refused, an end of data that got it decides the outcome.
        if let Error::Rejected { reply, .. } = &error
            && matches!(self.expecting(), Some(Expect::Mail(_) | Expect::End(_)))
        {
            let _ = self.dispatch(reply.clone());
        }
        self.fail_all(&error);
    }

    /// Files one reply under what it answers; an error when it leaves the
    /// connection in an unknown state.
    fn dispatch(&mut self, reply: Reply) -> Result<(), Error> {
        let chunking = self.mode.chunking;
        let Some(expect) = self.expects.pop_front() else {
            return Ok(());
        };
        let refused = !reply.is_positive();
        let id = match expect {
            Expect::Rset if refused => {
                // Where the server stands is unknown from here on.
                return Err(Error::Rejected {
                    phase: Phase::Reset,
                    reply,
                });
            }
            Expect::Rset => return Ok(()),
            Expect::Quit => {
                self.quit = QuitState::Answered;
                return Ok(());
            }
            Expect::Mail(id)
            | Expect::Rcpt(id)
            | Expect::Data(id)
            | Expect::Chunk(id)
            | Expect::End(id)
            | Expect::Discard(id) => id,
        };
        let Some(tx) = self.txs.iter_mut().find(|t| t.id == id) else {
            return Ok(());
        };
        tx.unanswered -= 1;
        let failed = match expect {
            Expect::Mail(_) => {
                tx.mail = Some(reply);
                refused
            }
            Expect::Rcpt(_) => tx.rcpt_reply(reply),
            Expect::Data(_) if reply.code == 354 => {
                tx.data = DataCmd::Go;
                false
            }
            Expect::Data(_) if reply.is_positive() => {
                // DATA has no 2xx: one reply too many came before it.
                return Err(Error::Protocol {
                    phase: Phase::Data,
                    detail: format!("DATA answered with {reply}, not 354"),
                });
            }
            Expect::Data(_) => {
                tx.data = DataCmd::Refused;
                tx.body_refused.get_or_insert(reply);
                true
            }
            Expect::Chunk(_) => {
                tx.chunks_unanswered -= 1;
                if reply.is_intermediate() {
                    return Err(Error::Protocol {
                        phase: Phase::Data,
                        detail: format!("BDAT answered with {reply}"),
                    });
                }
                if refused {
                    tx.body_refused.get_or_insert(reply);
                }
                refused
            }
            Expect::End(_) => {
                if chunking {
                    tx.chunks_unanswered -= 1;
                }
                if reply.is_intermediate() {
                    // Neither accepted nor refused: what happened to the
                    // message is unknown, and so is where the server is.
                    return Err(Error::UnknownOutcome {
                        detail: format!("the end of data got {reply}, which is not a final reply"),
                    });
                }
                tx.end = Some(reply);
                // A refused final dot ends the transaction; a server may
                // keep state after a refused BDAT LAST.
                refused && chunking
            }
            // The empty message's refusal is the expected end of it.
            _ => false,
        };
        if failed {
            tx.dead = true;
            self.rset_needed = true;
        }
        Ok(())
    }

    /// Takes every fully answered transaction off the front, in order.
    fn complete(&mut self) {
        let can_replay = matches!(self.quit, QuitState::NotWanted | QuitState::Wanted);
        while self
            .txs
            .front()
            .is_some_and(|t| t.closed && t.unanswered == 0)
        {
            let Some(tx) = self.txs.pop_front() else {
                break;
            };
            if tx.wants_replay(can_replay) {
                tracing::debug!(
                    slot = tx.slot,
                    "MAIL got 503 behind a failed transaction: sending again"
                );
                let id = self.next_id;
                self.next_id += 1;
                self.rset_needed = true;
                self.replays.push_back(replay(id, tx));
            } else {
                self.settled.push((tx.slot, tx.finish()));
            }
        }
    }
}

/// The transaction afresh, to go once more: its commands and its whole
/// encoded body, none of the replies.
fn replay(id: u64, old: Tx) -> Tx {
    let mut tx = Tx::new(id, old.slot, old.envelope, old.lines, false);
    tx.whole = old.whole;
    tx.replayed = true;
    tx
}
