//! The transaction logic of a session, without I/O: the planner is told
//! the messages, what the server offers, the body chunks as they are read
//! and the replies as they come, and says what to write, which reply comes
//! next (its phase and time limit), and how each message ended. No
//! sockets, no clocks: `Session` does the timed I/O (`drive.rs`) and the
//! property tests drive it with scripted replies (`tests.rs`).
//!
//! One state machine serves every way of sending: DATA (the body waits
//! for `354`; with PIPELINING, MAIL/RCPT/DATA go in one write and the next
//! transaction's commands ride behind the final dot, RFC 2920 §3.1), BDAT
//! without PIPELINING (each command waits for its reply), and windowed
//! BDAT (CHUNKING with PIPELINING: up to `window` transactions in flight,
//! each message of one chunk going out as MAIL, RCPTs and `BDAT n LAST` in
//! one write, RFC 3030 §4.2). A single message is a window of one.
//!
//! Failure isolation, checked against Postfix 3.7 (the test rig's port
//! 2525): a refused MAIL, or no accepted recipient, gets its `BDAT` refused
//! and the chunk discarded (RFC 3030 §2), and `BDAT LAST` ends the
//! transaction either way, so the transactions already behind it are
//! unharmed. Still, after any refusal an `RSET` rides ahead of the next
//! transaction not yet written. A transaction already in flight whose
//! `MAIL` got `503` (a predecessor left the server mid-transaction) is
//! sent again, once, after that `RSET`: a BDAT message of one chunk is kept
//! encoded until its replies are in. A BDAT message of several chunks only
//! starts when nothing is in flight, keeps at most [`CHUNKS_UNANSWERED`]
//! chunk replies outstanding, and stops at the first refusal with an
//! `RSET` (RFC 3030 §2: no further BDAT after a failed one).

mod fill;
mod replies;
#[cfg(test)]
mod tests;
mod tx;

use std::collections::VecDeque;

use crate::address::Envelope;
use crate::delivery::Delivery;
use crate::error::{Error, Phase};

use tx::{DataCmd, Tx, copy_error};

/// Chunk replies a BDAT message of several chunks may have outstanding: a
/// refusal stops it after at most this many chunks (256 KiB each).
pub(crate) const CHUNKS_UNANSWERED: usize = 4;

/// What the server offers that shapes the conversation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mode {
    pub pipelining: bool,
    pub chunking: bool,
    /// BDAT transactions in flight at once (CHUNKING with PIPELINING).
    pub window: usize,
}

impl Mode {
    /// Transactions that may be open at once: with DATA the next one's
    /// commands ride behind the final dot, its body waiting for its `354`.
    fn open_limit(self) -> usize {
        match (self.pipelining, self.chunking) {
            (false, _) => 1,
            (true, false) => 2,
            (true, true) => self.window.max(1),
        }
    }
}

/// What the next reply from the server answers (replies come strictly in
/// the order the commands went out, RFC 2920 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    Mail(u64),
    Rcpt(u64),
    /// `DATA`, answered `354` when the body may go.
    Data(u64),
    /// A `BDAT` chunk that is not the last.
    Chunk(u64),
    /// The final dot or `BDAT LAST`.
    End(u64),
    /// The empty message that ends a refused transaction whose `DATA`
    /// got `354` anyway.
    Discard(u64),
    Rset,
    Quit,
}

impl Expect {
    pub fn phase(self) -> Phase {
        match self {
            Expect::Mail(_) => Phase::Mail,
            Expect::Rcpt(_) => Phase::Rcpt,
            Expect::Data(_) | Expect::Chunk(_) | Expect::End(_) | Expect::Discard(_) => Phase::Data,
            Expect::Rset => Phase::Reset,
            Expect::Quit => Phase::Quit,
        }
    }
}

/// What the planner needs done next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Build the commands of the message in this slot and read the first
    /// chunk of its body ([`Planner::opening`], then [`Planner::opened`]).
    Open(usize),
    /// Read the next chunk of this slot's body ([`Planner::body`]).
    Body(usize),
    /// Write [`Planner::output`], then report with [`Planner::written`].
    Write,
    /// Wait for the reply to this; report with [`Planner::reply`] or
    /// [`Planner::failed`].
    Read(Expect),
    /// Nothing more: every message has its outcome.
    Done,
}

/// What the driver wrote last: which phase a failure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WriteKind {
    pub phase: Phase,
    /// Message data is in it (its own time limit).
    pub body: bool,
    /// Nothing was outstanding when it began: a reply already waiting
    /// would answer a command never sent.
    pub after_idle: bool,
}

/// `QUIT` riding with the last write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QuitState {
    NotWanted,
    Wanted,
    Sent,
    Answered,
}

/// A message the planner has not opened yet.
struct Queued {
    slot: usize,
    envelope: Envelope,
}

/// A message whose commands and first body chunk the driver prepared.
pub(crate) struct Opened {
    /// `MAIL FROM` and one `RCPT TO` per recipient (`envelope.rs`).
    pub lines: Vec<String>,
    pub first: Vec<u8>,
    /// The first chunk is the whole body.
    pub last: bool,
}

/// The transactions of one send call, in flight or to come.
pub(crate) struct Planner {
    mode: Mode,
    queue: VecDeque<Queued>,
    /// Handed to the driver to open (`Action::Open`).
    opening: Option<Queued>,
    /// Opened, waiting for room to start.
    ready: Option<Tx>,
    /// Sent once into a transaction the server had left open (`503`):
    /// to go again after an RSET, in the order they failed.
    replays: VecDeque<Tx>,
    /// Started, in the order they went out.
    txs: VecDeque<Tx>,
    expects: VecDeque<Expect>,
    out: Vec<u8>,
    /// Reused to encode a BDAT message of one chunk.
    scratch: Vec<u8>,
    out_kind: Option<WriteKind>,
    /// A DATA body chunk is in the output: write it before reading more.
    flush_now: bool,
    /// Something was written already.
    wrote: bool,
    /// Client lines for the transcript, when someone reads it.
    notes: Option<Vec<String>>,
    settled: Vec<(usize, Result<Delivery, Error>)>,
    next_id: u64,
    /// A refusal came: the next transaction started gets an RSET first.
    rset_needed: bool,
    quit: QuitState,
    /// The connection failed: where it stands is unknown.
    broken: bool,
}

impl Planner {
    /// A planner for `messages` (in slot order), `QUIT` riding behind the
    /// last one when `quit`.
    pub fn new(mode: Mode, messages: impl IntoIterator<Item = Envelope>, quit: bool) -> Planner {
        let queue = messages
            .into_iter()
            .enumerate()
            .map(|(slot, envelope)| Queued { slot, envelope })
            .collect();
        Planner {
            mode,
            queue,
            opening: None,
            ready: None,
            replays: VecDeque::new(),
            txs: VecDeque::new(),
            expects: VecDeque::new(),
            out: Vec::new(),
            scratch: Vec::new(),
            out_kind: None,
            flush_now: false,
            wrote: false,
            notes: None,
            settled: Vec::new(),
            next_id: 0,
            rset_needed: false,
            quit: if quit {
                QuitState::Wanted
            } else {
                QuitState::NotWanted
            },
            broken: false,
        }
    }

    /// After a raw `DATA` typed by a person got its `354`: one body, in
    /// slot 0, dot-stuffed whatever the server offers; its end reply is
    /// the outcome.
    pub fn after_raw_data() -> Planner {
        let mode = Mode {
            pipelining: false,
            chunking: false,
            window: 1,
        };
        let mut p = Planner::new(mode, Vec::new(), false);
        let mut tx = Tx::new(0, 0, None, Vec::new(), true);
        tx.raw_data = true;
        tx.data = DataCmd::Go;
        p.ready = Some(tx);
        p.next_id = 1;
        p
    }

    /// Keeps the client lines for the transcript ([`Planner::take_notes`]).
    pub fn keep_notes(&mut self) {
        self.notes = Some(Vec::new());
    }

    /// What to do next.
    pub fn next_action(&mut self) -> Action {
        if self.broken {
            return Action::Done;
        }
        if let Some(action) = self.fill() {
            return action;
        }
        if !self.out.is_empty() {
            return Action::Write;
        }
        match self.expects.front() {
            Some(&e) => Action::Read(e),
            None => Action::Done,
        }
    }

    /// The envelope of the message being opened (`Action::Open`).
    pub fn opening(&self) -> Option<&Envelope> {
        self.opening.as_ref().map(|q| &q.envelope)
    }

    /// The message handed out with `Action::Open` is ready, or failed
    /// before anything of it went out.
    pub fn opened(&mut self, result: Result<Opened, Error>) {
        let Some(q) = self.opening.take() else {
            return;
        };
        let opened = match result {
            Ok(o) => o,
            Err(e) => return self.settled.push((q.slot, Err(e))),
        };
        let id = self.next_id;
        self.next_id += 1;
        let dot_stuffing = !self.mode.chunking;
        let mut tx = Tx::new(id, q.slot, Some(q.envelope), opened.lines, dot_stuffing);
        if self.mode.chunking && opened.last {
            self.scratch.clear();
            tx.encoder.encode(&opened.first, &mut self.scratch);
            tx.encoder.finish(&mut self.scratch);
            // Without dot-stuffing the encoder only ever adds bytes (line
            // ends completed): the same length means the same bytes, and
            // the chunk read is kept as it is.
            tx.whole = Some(if self.scratch.len() == opened.first.len() {
                opened.first
            } else {
                self.scratch.clone()
            });
        } else {
            tx.raw = Some((opened.first, opened.last));
        }
        self.ready = Some(tx);
    }

    /// The next chunk of `slot`'s body (`Action::Body`), or why it could
    /// not be read.
    pub fn body(&mut self, slot: usize, chunk: Result<(Vec<u8>, bool), Error>) {
        let Some(tx) = self.txs.iter_mut().find(|t| t.slot == slot && !t.closed) else {
            return;
        };
        tx.reading = false;
        match chunk {
            Ok(c) => tx.raw = Some(c),
            Err(e) if self.mode.chunking => {
                // RFC 3030 §2: an RSET (next round) clears the chunks sent
                // so far, rather than a message ended short.
                tx.source_error = Some(e);
                tx.dead = true;
            }
            Err(e) => {
                // Mid-DATA nothing can take back what went out, and the
                // terminator would deliver half a message: drop the line.
                let cause = copy_error(&e);
                tx.source_error = Some(e);
                self.fail_all(&cause);
            }
        }
    }

    /// The bytes to write (`Action::Write`).
    pub fn output(&self) -> &[u8] {
        &self.out
    }

    /// What the output holds, for the phase and time limit of its write.
    pub fn write_kind(&self) -> WriteKind {
        self.out_kind.unwrap_or(WriteKind {
            phase: Phase::Data,
            body: false,
            after_idle: false,
        })
    }

    /// The output was written (`Ok`), or `written` bytes of it were
    /// before the connection failed.
    pub fn written(&mut self, written: usize, result: Result<(), Error>) {
        for tx in self.txs.iter_mut() {
            if let Some(end) = tx.last_end.take() {
                tx.last_written = end <= written;
            }
        }
        self.out.clear();
        self.out_kind = None;
        self.flush_now = false;
        self.wrote = true;
        if let Err(e) = result {
            self.fail_all(&e);
        }
    }

    /// The reply awaited next, if any.
    pub fn expecting(&self) -> Option<Expect> {
        self.expects.front().copied()
    }

    /// Client lines to log, in order (empty unless [`Planner::keep_notes`]).
    pub fn take_notes(&mut self) -> Vec<String> {
        match self.notes.as_mut() {
            Some(notes) if !notes.is_empty() => std::mem::take(notes),
            _ => Vec::new(),
        }
    }

    /// Messages whose outcome is settled since the last call.
    pub fn take_settled(&mut self) -> std::vec::Drain<'_, (usize, Result<Delivery, Error>)> {
        self.settled.drain(..)
    }

    /// True once the connection failed.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    pub fn quit_state(&self) -> QuitState {
        self.quit
    }

    // ----- failure -----------------------------------------------------------

    /// The connection failed: settles every message still pending.
    fn fail_all(&mut self, error: &Error) {
        self.broken = true;
        self.expects.clear();
        self.out.clear();
        self.out_kind = None;
        for tx in self.txs.drain(..) {
            self.settled.push((tx.slot, tx.fail(error)));
        }
        // Opened but not written, or refused only because of a
        // predecessor (replays): the server accepted nothing of these.
        let waiting = self.ready.take().into_iter().chain(self.replays.drain(..));
        let slots: Vec<usize> = waiting
            .map(|t| t.slot)
            .chain(self.opening.take().map(|q| q.slot))
            .chain(self.queue.drain(..).map(|q| q.slot))
            .collect();
        for slot in slots {
            self.settled.push((
                slot,
                Err(Error::NotStarted {
                    cause: error.to_string(),
                }),
            ));
        }
    }
}
