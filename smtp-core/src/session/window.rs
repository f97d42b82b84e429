//! Windowed BDAT: with CHUNKING and PIPELINING, up to `pipeline_window`
//! transactions are in flight at once. Each message's `MAIL`, `RCPT`s and
//! `BDAT n LAST` (RFC 3030 §4.2) go out behind the previous ones without
//! waiting for their replies, all in one write; the replies are then
//! matched to the commands strictly in order (RFC 2920 §3.1).
//!
//! Failure isolation, checked against Postfix 3.7 (the test rig's port
//! 2525): a refused MAIL, or no accepted recipient, gets its `BDAT` refused
//! and the chunk discarded (RFC 3030 §2 requires a pipelining server to
//! swallow chunks after a failure), and `BDAT LAST` ends the transaction
//! either way, so the transactions already behind it are unharmed. Still,
//! after any refusal an `RSET` rides ahead of the next transaction not yet
//! written, so a server that keeps state after a failed `BDAT LAST` cannot
//! pull that one into it. A transaction already in flight whose `MAIL` got
//! `503` (bad sequence: a predecessor left the server mid-transaction) is
//! sent again, once, after that `RSET`: a message of one chunk is kept
//! encoded until its replies are in. A message of several chunks only
//! starts when nothing is in flight, keeps at most [`CHUNKS_UNANSWERED`]
//! chunk replies outstanding, and stops at the first refusal with an
//! `RSET` (RFC 3030 §2: no further BDAT after a failed one).

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use super::Session;
use super::batch::within;
use super::data::bdat_frame;
use super::inflight::{Expect, Finished, InFlight, Queued, QueuedBody, Tx};
use crate::address::Envelope;
use crate::delivery::Delivery;
use crate::error::{Error, Phase};
use crate::message::MessageSource;
use crate::reply::Reply;

/// Chunk replies a message of several chunks may have outstanding: a
/// refusal stops it after at most this many chunks (256 KiB each).
const CHUNKS_UNANSWERED: usize = 4;

/// The state of one windowed batch.
struct Batch {
    queue: std::collections::VecDeque<Queued>,
    /// Messages to send again after an RSET, in the order they failed.
    replays: std::collections::VecDeque<Queued>,
    /// A message of several chunks, opened, waiting for an empty window.
    held: Option<Tx>,
    flight: InFlight,
    results: Vec<Option<Result<Delivery, Error>>>,
    next_id: u64,
    /// A refusal came: the next transaction written gets an RSET first.
    rset_needed: bool,
    quit: QuitState,
}

/// `QUIT` riding with the last group ([`Session::send_batch_and_quit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum QuitState {
    NotWanted,
    Wanted,
    Sent,
    Answered,
}

impl Session {
    /// Sends `items` with up to `pipeline_window` transactions in flight.
    /// With `quit`, `QUIT` rides in the last write; returns whether it did.
    pub(super) async fn send_windowed(
        &mut self,
        items: Vec<(Envelope, MessageSource)>,
        quit: bool,
    ) -> (Vec<Result<Delivery, Error>>, QuitState) {
        let total = self.config.timeouts.total;
        if self.deadline.is_none() {
            self.deadline = total.map(|t| Instant::now() + t);
        }
        let mut b = Batch {
            results: items.iter().map(|_| None).collect(),
            queue: items
                .into_iter()
                .enumerate()
                .map(|(slot, (envelope, message))| Queued {
                    slot,
                    envelope,
                    body: QueuedBody::Source(message),
                })
                .collect(),
            replays: Default::default(),
            held: None,
            flight: InFlight::default(),
            next_id: 0,
            rset_needed: false,
            quit: if quit {
                QuitState::Wanted
            } else {
                QuitState::NotWanted
            },
        };
        // Nothing is outstanding: a reply already here answers nothing.
        match self.ensure_no_surplus(Phase::Mail).await {
            Ok(()) => self.run_window(&mut b).await,
            Err(e) => self.fail_batch(&mut b, &e),
        }
        self.deadline = None;
        let results = b
            .results
            .into_iter()
            .map(|r| r.unwrap_or(Err(Error::ConnectionClosed { phase: Phase::Mail })))
            .collect();
        (results, b.quit)
    }

    async fn run_window(&mut self, b: &mut Batch) {
        let mut out = Vec::new();
        loop {
            out.clear();
            self.fill(b, &mut out).await;
            if !out.is_empty() {
                let timeout = self.config.timeouts.data_block;
                let (written, result) = self.write_counted(&out, Phase::Data, timeout).await;
                for tx in b.flight.txs.iter_mut() {
                    if let Some(end) = tx.last_end.take() {
                        tx.last_written = end <= written;
                    }
                }
                if let Err(e) = result {
                    return self.fail_batch(b, &e);
                }
            }
            let Some(&front) = b.flight.expects.front() else {
                break;
            };
            // One reply, waiting; then every reply that already came, so
            // the next write carries as many new transactions as it can.
            let first = self
                .read_reply(front.phase(), self.expect_timeout(front))
                .await;
            let mut next = first.map(Some);
            loop {
                match next {
                    Ok(Some(reply)) => {
                        if let Err(e) = self.dispatch(b, reply) {
                            return self.fail_batch(b, &e);
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        // A `421` still answers its command: a MAIL that
                        // got it was refused, whatever came before.
                        if let Error::Rejected { reply, .. } = &e {
                            let _ = self.dispatch(b, reply.clone());
                        }
                        return self.fail_batch(b, &e);
                    }
                }
                let Some(&front) = b.flight.expects.front() else {
                    break;
                };
                next = self.buffered_reply(front.phase());
            }
            self.complete(b);
            if b.quit == QuitState::Answered {
                if let Some(mut s) = self.stream.take() {
                    let _ = tokio::time::timeout(Duration::from_secs(1), s.shutdown()).await;
                }
                break;
            }
        }
    }

    /// Appends to `out` everything that may go out now: further chunks of
    /// the newest message, new transactions while the window has room,
    /// and `QUIT` once the last message is whole.
    async fn fill(&mut self, b: &mut Batch, out: &mut Vec<u8>) {
        loop {
            if let Some(tx) = b.flight.txs.back_mut().filter(|t| !t.closed) {
                if tx.dead {
                    // RFC 3030 §2: an RSET before BDAT LAST clears the
                    // chunks sent so far.
                    tx.closed = true;
                    tx.source = None;
                    self.push_line("RSET", out);
                    b.flight.expects.push_back(Expect::Rset);
                    b.rset_needed = false;
                    continue;
                }
                if tx.chunks_unanswered >= CHUNKS_UNANSWERED {
                    return;
                }
                self.push_next_chunk(b, out).await;
                continue;
            }
            if b.flight.txs.len() >= self.config.pipeline_window.max(1) {
                return;
            }
            let tx = match b.held.take() {
                Some(tx) => tx,
                None => match b.replays.pop_front().or_else(|| b.queue.pop_front()) {
                    Some(q) => match self.open_queued(b, q).await {
                        Some(tx) => tx,
                        None => continue,
                    },
                    None => break,
                },
            };
            // Only a message kept whole can be sent again after a 503, so
            // a longer one never rides behind unanswered transactions.
            if tx.whole.is_none() && !b.flight.txs.is_empty() {
                b.held = Some(tx);
                return;
            }
            self.push_transaction(b, tx, out);
        }
        let all_closed = b.flight.txs.back().is_none_or(|t| t.closed);
        if b.quit == QuitState::Wanted && all_closed {
            self.push_line("QUIT", out);
            b.flight.expects.push_back(Expect::Quit);
            b.quit = QuitState::Sent;
        }
    }

    /// Checks a queued message against the server's limits and reads its
    /// first chunk; `None` when it failed before anything went out.
    async fn open_queued(&mut self, b: &mut Batch, q: Queued) -> Option<Tx> {
        let id = b.next_id;
        b.next_id += 1;
        match q.body {
            QueuedBody::Replay { lines, encoded } => {
                let mut tx = Tx::new(id, q.slot, q.envelope, lines);
                tx.whole = Some(encoded);
                tx.replayed = true;
                Some(tx)
            }
            QueuedBody::Source(mut message) => {
                let opened = match self.prelude(&q.envelope, &message) {
                    Ok(p) => self.start_body(&mut message).await.map(|body| (p, body)),
                    Err(e) => Err(e),
                };
                let (p, mut body) = match opened {
                    Ok(o) => o,
                    Err(e) => {
                        b.results[q.slot] = Some(Err(e));
                        return None;
                    }
                };
                let mut tx = Tx::new(id, q.slot, q.envelope, p.lines);
                if body.is_whole() {
                    let mut encoded = Vec::new();
                    // The end was seen: this only encodes what is in memory.
                    if let Err(e) = body.next(&mut message, &mut encoded).await {
                        b.results[q.slot] = Some(Err(e));
                        return None;
                    }
                    tx.whole = Some(encoded);
                } else {
                    tx.source = Some((message, body));
                }
                Some(tx)
            }
        }
    }

    /// MAIL, RCPTs and, for a message kept whole, `BDAT n LAST`.
    fn push_transaction(&mut self, b: &mut Batch, mut tx: Tx, out: &mut Vec<u8>) {
        if b.rset_needed {
            self.push_line("RSET", out);
            b.flight.expects.push_back(Expect::Rset);
            b.rset_needed = false;
        }
        for line in &tx.lines {
            self.push_line(line, out);
        }
        b.flight.expects.push_back(Expect::Mail(tx.id));
        for _ in 1..tx.lines.len() {
            b.flight.expects.push_back(Expect::Rcpt(tx.id));
        }
        tx.unanswered = tx.lines.len();
        if let Some(encoded) = &tx.whole {
            let header = bdat_frame(encoded, true, out);
            self.log_chunk(&header, encoded.len());
            b.flight.expects.push_back(Expect::Chunk {
                tx: tx.id,
                last: true,
            });
            tx.unanswered += 1;
            tx.chunks_unanswered += 1;
            tx.closed = true;
            tx.last_end = Some(out.len());
        }
        b.flight.txs.push_back(tx);
    }

    /// The next chunk of the newest message (one of several chunks).
    async fn push_next_chunk(&mut self, b: &mut Batch, out: &mut Vec<u8>) {
        let total = self.total_left();
        let Some(tx) = b.flight.txs.back_mut() else {
            return;
        };
        let Some((message, body)) = tx.source.as_mut() else {
            tx.closed = true;
            return;
        };
        let mut chunk = Vec::with_capacity(super::data::CHUNK + 1024);
        match within(total, body.next(message, &mut chunk)).await {
            Ok(last) => {
                let header = bdat_frame(&chunk, last, out);
                self.log_chunk(&header, chunk.len());
                b.flight
                    .expects
                    .push_back(Expect::Chunk { tx: tx.id, last });
                tx.unanswered += 1;
                tx.chunks_unanswered += 1;
                if last {
                    tx.closed = true;
                    tx.source = None;
                    tx.last_end = Some(out.len());
                }
            }
            Err(e) => {
                // The message cannot be read to its end: abandon it with
                // RSET (next round of `fill`) rather than end it short.
                tx.source_error = Some(e);
                tx.dead = true;
            }
        }
    }

    /// Files one reply under what it answers.
    fn dispatch(&mut self, b: &mut Batch, reply: Reply) -> Result<(), Error> {
        let Some(expect) = b.flight.expects.pop_front() else {
            return Ok(());
        };
        let refused = !reply.is_positive();
        match expect {
            Expect::Rset if refused => {
                // Where the server stands is unknown from here on.
                self.broken = true;
                return Err(Error::Rejected {
                    phase: Phase::Reset,
                    reply,
                });
            }
            Expect::Rset => {}
            Expect::Quit => b.quit = QuitState::Answered,
            Expect::Mail(id) | Expect::Rcpt(id) | Expect::Chunk { tx: id, .. } => {
                let Some(tx) = b.flight.tx(id) else {
                    return Ok(());
                };
                tx.unanswered -= 1;
                let failed = match expect {
                    Expect::Mail(_) => {
                        tx.mail = Some(reply);
                        refused
                    }
                    Expect::Rcpt(_) => tx.rcpt_reply(reply),
                    _ => {
                        tx.chunks_unanswered -= 1;
                        if reply.is_intermediate() {
                            self.broken = true;
                            return Err(Error::Protocol {
                                phase: Phase::Data,
                                detail: format!("BDAT answered with {reply}"),
                            });
                        }
                        if matches!(expect, Expect::Chunk { last: true, .. }) {
                            tx.end = Some(reply);
                        } else if refused && tx.chunk_refused.is_none() {
                            tx.chunk_refused = Some(reply);
                        }
                        refused
                    }
                };
                if failed {
                    tx.dead = true;
                    b.rset_needed = true;
                }
            }
        }
        Ok(())
    }

    /// Takes every fully answered transaction off the front, in order.
    fn complete(&mut self, b: &mut Batch) {
        let can_replay = b.quit != QuitState::Sent && b.quit != QuitState::Answered;
        while b
            .flight
            .txs
            .front()
            .is_some_and(|t| t.closed && t.unanswered == 0)
        {
            let Some(tx) = b.flight.txs.pop_front() else {
                break;
            };
            let slot = tx.slot;
            match tx.finish(can_replay) {
                Finished::Done(result) => {
                    if result.is_ok() {
                        self.messages += 1;
                    }
                    b.results[slot] = Some(result);
                    // Each message gets the whole total limit, counted
                    // from when the one before it was settled.
                    self.deadline = self.config.timeouts.total.map(|t| Instant::now() + t);
                }
                Finished::Replay(q) => {
                    tracing::debug!(
                        slot,
                        "MAIL got 503 behind a failed transaction: sending again"
                    );
                    b.rset_needed = true;
                    b.replays.push_back(q);
                }
            }
        }
    }

    /// The connection failed: settle every message still pending.
    fn fail_batch(&mut self, b: &mut Batch, error: &Error) {
        self.broken = true;
        for tx in b.flight.txs.drain(..) {
            let slot = tx.slot;
            b.results[slot] = Some(tx.fail(error));
        }
        // Opened but not written, or refused only because of a predecessor
        // (replays): the server accepted nothing of these.
        let waiting = b.held.take().map(|t| t.slot).into_iter();
        let queued = b.replays.drain(..).chain(b.queue.drain(..)).map(|q| q.slot);
        for slot in waiting.chain(queued) {
            b.results[slot] = Some(Err(Error::NotStarted {
                cause: error.to_string(),
            }));
        }
    }
}
