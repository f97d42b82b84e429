//! What may go out now: the newest transaction moved on as far as the
//! replies so far allow, new transactions while there is room, `QUIT`
//! last; and the output they are written into.

use std::io::Write as _;

use super::tx::DataCmd;
use super::{Action, CHUNKS_UNANSWERED, Expect, Planner, QuitState, WriteKind};
use crate::error::Phase;

impl Planner {
    /// Appends to the output everything that may go out now; returns an
    /// action when that needs a message opened or a body chunk read.
    pub(super) fn fill(&mut self) -> Option<Action> {
        loop {
            if self.flush_now {
                return None;
            }
            if self.txs.back().is_some_and(|t| !t.closed) {
                match self.advance_back() {
                    Advance::Progress => continue,
                    Advance::Blocked => return None,
                    Advance::Need(action) => return Some(action),
                }
            }
            if self.txs.len() >= self.mode.open_limit() {
                return None;
            }
            let tx = match self.ready.take() {
                Some(tx) => tx,
                None => match self.replays.pop_front() {
                    Some(tx) => tx,
                    None => match self.queue.pop_front() {
                        Some(q) => {
                            let slot = q.slot;
                            self.opening = Some(q);
                            return Some(Action::Open(slot));
                        }
                        None => break,
                    },
                },
            };
            // Only a BDAT message kept whole can be sent again after a
            // 503, so a longer one never rides behind unanswered ones.
            if self.mode.chunking && tx.whole.is_none() && !self.txs.is_empty() {
                self.ready = Some(tx);
                return None;
            }
            self.txs.push_back(tx);
        }
        let all_closed = self.txs.back().is_none_or(|t| t.closed);
        if self.quit == QuitState::Wanted && all_closed && self.may_command() {
            self.push_line("QUIT", Expect::Quit);
            self.quit = QuitState::Sent;
        }
        None
    }

    /// Without PIPELINING a command waits until every reply is in.
    fn may_command(&self) -> bool {
        self.mode.pipelining || self.expects.is_empty()
    }

    /// Moves the newest transaction on by one step.
    fn advance_back(&mut self) -> Advance {
        let mode = self.mode;
        let may_command = self.may_command();
        let rset_needed = self.rset_needed;
        let Some(tx) = self.txs.back_mut() else {
            return Advance::Blocked;
        };
        let id = tx.id;
        if tx.dead {
            if !mode.chunking {
                match tx.data {
                    // Its answer decides whether an empty message must
                    // end it first.
                    DataCmd::Sent => return Advance::Blocked,
                    DataCmd::Go if !tx.emptied => {
                        // RFC 2920 §3.1: the server took DATA with no
                        // valid recipient; an empty message ends it.
                        tx.emptied = true;
                        tx.unanswered += 1;
                        self.push_line(".", Expect::Discard(id));
                        return Advance::Progress;
                    }
                    _ => {}
                }
            }
            if !may_command {
                return Advance::Blocked;
            }
            // RFC 3030 §2: an RSET before BDAT LAST clears the chunks
            // sent so far; after a refusal it leaves a clean state.
            tx.closed = true;
            tx.raw = None;
            self.rset_needed = false;
            self.push_line("RSET", Expect::Rset);
            return Advance::Progress;
        }
        if tx.lines_out == 0 && rset_needed && !tx.raw_data {
            if !may_command {
                return Advance::Blocked;
            }
            self.rset_needed = false;
            self.push_line("RSET", Expect::Rset);
            return Advance::Progress;
        }
        if tx.lines_out < tx.lines.len() {
            if !may_command {
                return Advance::Blocked;
            }
            let n = if mode.pipelining {
                tx.lines.len()
            } else {
                tx.lines_out + 1
            };
            let from = tx.lines_out;
            tx.lines_out = n;
            tx.unanswered += n - from;
            // Lent out while the output grows, then put back (a replay
            // needs them).
            let lines = std::mem::take(&mut tx.lines);
            for (i, line) in lines.iter().enumerate().take(n).skip(from) {
                let expect = if i == 0 {
                    Expect::Mail(id)
                } else {
                    Expect::Rcpt(id)
                };
                self.push_line(line, expect);
            }
            if let Some(tx) = self.txs.back_mut() {
                tx.lines = lines;
            }
            return Advance::Progress;
        }
        if !mode.chunking && !tx.raw_data {
            match tx.data {
                DataCmd::NotSent if may_command => {
                    tx.data = DataCmd::Sent;
                    tx.unanswered += 1;
                    self.push_line("DATA", Expect::Data(id));
                    return Advance::Progress;
                }
                DataCmd::Go => {}
                _ => return Advance::Blocked,
            }
        }
        if mode.chunking {
            let limit = if mode.pipelining {
                CHUNKS_UNANSWERED
            } else {
                1
            };
            if tx.chunks_unanswered >= limit || !may_command {
                return Advance::Blocked;
            }
        }
        if let Some(whole) = tx.whole.take() {
            self.push_bdat(&whole, true);
            if let Some(tx) = self.txs.back_mut() {
                tx.whole = Some(whole);
            }
            return Advance::Progress;
        }
        match tx.raw.take() {
            Some((chunk, last)) if mode.chunking => {
                let mut encoded = Vec::with_capacity(chunk.len() + 2);
                tx.encoder.encode(&chunk, &mut encoded);
                if last {
                    tx.encoder.finish(&mut encoded);
                }
                self.push_bdat(&encoded, last);
                Advance::Progress
            }
            Some((chunk, last)) => {
                self.push_data(&chunk, last);
                Advance::Progress
            }
            None if tx.reading => Advance::Blocked,
            None => {
                tx.reading = true;
                Advance::Need(Action::Body(tx.slot))
            }
        }
    }

    // ----- the output --------------------------------------------------------

    fn note_kind(&mut self, phase: Phase, body: bool) {
        // As a server's reply can only be checked for where none is due,
        // and polling costs a system call: before the first write, and
        // before each command without PIPELINING.
        let after_idle = self.expects.is_empty() && !body && (!self.wrote || !self.mode.pipelining);
        let kind = self.out_kind.get_or_insert(WriteKind {
            phase,
            body,
            after_idle,
        });
        if body && !kind.body {
            kind.body = true;
            kind.phase = Phase::Data;
        }
    }

    fn note(&mut self, line: impl FnOnce() -> String) {
        if let Some(notes) = self.notes.as_mut() {
            notes.push(line());
        }
    }

    fn push_line(&mut self, line: &str, expect: Expect) {
        self.note_kind(expect.phase(), false);
        self.note(|| line.to_string());
        self.out.extend_from_slice(line.as_bytes());
        self.out.extend_from_slice(b"\r\n");
        self.expects.push_back(expect);
    }

    /// `BDAT <n>[ LAST]` and the chunk, for the newest transaction.
    fn push_bdat(&mut self, chunk: &[u8], last: bool) {
        self.note_kind(Phase::Data, true);
        let last_word = if last { " LAST" } else { "" };
        let n = chunk.len();
        self.note(|| format!("BDAT {n}{last_word} <{n} bytes of message data>"));
        // The command goes straight into the output, not through a string
        // of its own: once per message (issue 20).
        self.out.reserve(32 + n);
        let _ = write!(self.out, "BDAT {n}{last_word}\r\n");
        self.out.extend_from_slice(chunk);
        let end = self.out.len();
        let Some(tx) = self.txs.back_mut() else {
            return;
        };
        tx.unanswered += 1;
        tx.chunks_unanswered += 1;
        let expect = if last {
            tx.closed = true;
            tx.last_end = Some(end);
            Expect::End(tx.id)
        } else {
            Expect::Chunk(tx.id)
        };
        self.expects.push_back(expect);
    }

    /// A chunk of a DATA body, dot-stuffed; the terminator after the last.
    fn push_data(&mut self, chunk: &[u8], last: bool) {
        self.note_kind(Phase::Data, true);
        let start = self.out.len();
        let Some(tx) = self.txs.back_mut() else {
            return;
        };
        tx.encoder.encode(chunk, &mut self.out);
        if !last {
            tx.body_bytes += self.out.len() - start;
            // Write it before reading on: memory stays at a chunk or two.
            self.flush_now = true;
            return;
        }
        tx.encoder.finish(&mut self.out);
        tx.body_bytes += self.out.len() - start;
        tx.closed = true;
        tx.unanswered += 1;
        tx.last_end = Some(self.out.len());
        let (id, bytes) = (tx.id, tx.body_bytes);
        self.expects.push_back(Expect::End(id));
        self.note(|| format!("<{bytes} bytes of message data>"));
        self.note(|| ".".to_string());
    }
}

/// How far [`Planner::advance_back`] got.
enum Advance {
    Progress,
    Blocked,
    Need(Action),
}
