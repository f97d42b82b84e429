//! The planner driven without sockets: a model SMTP server reads the
//! bytes it writes as a server would (commands, dot-stuffed DATA, BDAT
//! frames) and answers by a random policy; the connection may drop after
//! any reply and a body may fail to read. Whatever happens, the wire stays
//! well-formed, each message gets exactly one outcome, a message is
//! reported delivered only when the server queued it (2xx to its end of
//! data), and a message the server queued is never reported as failed.

use std::collections::VecDeque;

use proptest::collection::vec;
use proptest::prelude::*;

use super::{Action, Mode, Opened, Planner, QuitState};
use crate::address::{Address, Envelope};
use crate::delivery::Delivery;
use crate::error::{Error, Phase};
use crate::reply::Reply;

/// How the model server treats one message.
#[derive(Debug, Clone)]
struct Policy {
    mail_ok: bool,
    rcpt_ok: Vec<bool>,
    /// `354` to DATA when a recipient was accepted.
    data_ok: bool,
    /// `354` to DATA even with no valid recipient (RFC 2920 §3.1).
    stray_354: bool,
    /// Every BDAT chunk before the last accepted.
    chunks_ok: bool,
    end_ok: bool,
    /// Refusals are `4xx` rather than `5xx`.
    transient: bool,
}

#[derive(Debug, Clone)]
struct Message {
    /// Canonical CRLF lines, so encoding then decoding gives it back.
    body: Vec<u8>,
    /// Sizes of the raw chunks the body is read in.
    chunk: usize,
    /// Reading fails at this chunk (0: when the message is opened).
    unreadable_at: Option<usize>,
    policy: Policy,
}

impl Message {
    fn chunks(&self) -> Vec<Vec<u8>> {
        let mut c: Vec<Vec<u8>> = self.body.chunks(self.chunk).map(<[u8]>::to_vec).collect();
        if c.is_empty() {
            c.push(Vec::new());
        }
        c
    }
}

fn line() -> impl Strategy<Value = Vec<u8>> {
    vec(
        prop_oneof![4 => b'a'..=b'z', 2 => Just(b'.'), 1 => Just(b' ')],
        0..12,
    )
}

fn message() -> impl Strategy<Value = Message> {
    (
        vec(line(), 0..6),
        1usize..40,
        prop_oneof![8 => Just(None), 1 => (0usize..3).prop_map(Some)],
        any::<[bool; 6]>(),
        vec(prop_oneof![4 => Just(true), 1 => Just(false)], 1..4),
    )
        .prop_map(|(lines, chunk, unreadable_at, b, rcpt_ok)| {
            let mut body = Vec::new();
            for l in lines {
                body.extend_from_slice(&l);
                body.extend_from_slice(b"\r\n");
            }
            Message {
                body,
                chunk,
                unreadable_at,
                policy: Policy {
                    mail_ok: b[0] || b[1],
                    rcpt_ok,
                    data_ok: b[1] || b[2],
                    stray_354: b[3] && b[4],
                    chunks_ok: b[2] || b[3],
                    end_ok: b[4] || b[5],
                    transient: b[5],
                },
            }
        })
}

fn mode() -> impl Strategy<Value = Mode> {
    (any::<bool>(), any::<bool>(), 1usize..5).prop_map(|(pipelining, chunking, window)| Mode {
        pipelining,
        chunking,
        window,
    })
}

fn reply(code: u16) -> Reply {
    Reply::new(code, "model")
}

/// Where the model server is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Idle,
    /// MAIL accepted for this slot; the recipients accepted so far.
    Mail {
        slot: usize,
        accepted: Vec<usize>,
    },
    /// Reading DATA; `None`: no valid recipient (the empty message).
    /// `reply_seq`: the number of the `354`.
    Data {
        slot: Option<usize>,
        accepted: Vec<usize>,
        reply_seq: usize,
    },
    /// BDAT chunks refused: the rest are refused until LAST.
    BdatFailed,
}

/// A server that reads what the client wrote, as a server would.
struct Server {
    mode: Mode,
    policies: Vec<Policy>,
    input: Vec<u8>,
    state: State,
    data: Vec<u8>,
    replies: VecDeque<Reply>,
    produced: usize,
    consumed: usize,
    /// What the server queued: the body and the accepted recipients.
    queued: Vec<Option<(Vec<u8>, Vec<usize>)>>,
    quit: bool,
    violations: Vec<String>,
}

impl Server {
    fn new(mode: Mode, policies: Vec<Policy>) -> Server {
        let n = policies.len();
        Server {
            mode,
            policies,
            input: Vec::new(),
            state: State::Idle,
            data: Vec::new(),
            replies: VecDeque::new(),
            produced: 0,
            consumed: 0,
            queued: vec![None; n],
            quit: false,
            violations: Vec::new(),
        }
    }

    fn answer(&mut self, code: u16) {
        self.replies.push_back(reply(code));
        self.produced += 1;
    }

    fn refuse(&self, slot: usize) -> u16 {
        if self.policies[slot].transient {
            451
        } else {
            550
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        if self.quit && !bytes.is_empty() {
            self.violations.push("bytes after QUIT".into());
        }
        self.input.extend_from_slice(bytes);
        while self.step() {}
    }

    /// Takes one line (or BDAT frame) off the input; false when more
    /// input is needed.
    fn step(&mut self) -> bool {
        let Some(end) = self.input.windows(2).position(|w| w == b"\r\n") else {
            return false;
        };
        let line = self.input[..end].to_vec();
        if let State::Data {
            slot,
            accepted,
            reply_seq,
        } = self.state.clone()
        {
            if self.consumed <= reply_seq {
                self.violations
                    .push("message data before its 354 was read".into());
            }
            self.input.drain(..end + 2);
            if line == b"." {
                let code = match slot {
                    None => 554,
                    Some(s) if self.policies[s].end_ok => {
                        self.queue(s, accepted);
                        250
                    }
                    Some(s) => self.refuse(s),
                };
                self.answer(code);
                self.state = State::Idle;
            } else {
                let line = line.strip_prefix(b".").unwrap_or(&line);
                self.data.extend_from_slice(line);
                self.data.extend_from_slice(b"\r\n");
            }
            return true;
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        if let Some(rest) = text.strip_prefix("BDAT ") {
            return self.bdat(rest, end);
        }
        if !self.mode.pipelining && self.produced > self.consumed {
            self.violations.push(format!(
                "{text:?} written before the last reply was read, without PIPELINING"
            ));
        }
        self.input.drain(..end + 2);
        self.command(&text);
        true
    }

    fn command(&mut self, text: &str) {
        let slot_of = |prefix: &str, text: &str| -> Option<usize> {
            text.strip_prefix(prefix)?.split('@').next()?.parse().ok()
        };
        if let Some(slot) = slot_of("MAIL FROM:<s", text) {
            if self.state != State::Idle {
                self.violations
                    .push(format!("MAIL in a transaction: {:?}", self.state));
                return self.answer(503);
            }
            if self.policies[slot].mail_ok {
                self.state = State::Mail {
                    slot,
                    accepted: Vec::new(),
                };
                self.data.clear();
                self.answer(250)
            } else {
                let code = self.refuse(slot);
                self.answer(code)
            }
        } else if let Some(i) = slot_of("RCPT TO:<r", text) {
            let code = match &mut self.state {
                State::Mail { slot, accepted } if self.policies[*slot].rcpt_ok[i] => {
                    accepted.push(i);
                    250
                }
                State::Mail { slot, .. } => {
                    if self.policies[*slot].transient {
                        450
                    } else {
                        550
                    }
                }
                _ => 503,
            };
            self.answer(code)
        } else if text == "DATA" {
            if self.mode.chunking {
                self.violations.push("DATA with CHUNKING".into());
            }
            let (code, slot, accepted) = match &self.state {
                State::Mail { slot, accepted } if !accepted.is_empty() => {
                    let p = &self.policies[*slot];
                    let code = if p.data_ok {
                        354
                    } else if p.transient {
                        451
                    } else {
                        554
                    };
                    (code, Some(*slot), accepted.clone())
                }
                State::Mail { slot, .. } if self.policies[*slot].stray_354 => (354, None, vec![]),
                State::Mail { .. } => (554, None, vec![]),
                _ => (503, None, vec![]),
            };
            if code == 354 {
                self.state = State::Data {
                    slot,
                    accepted,
                    reply_seq: self.produced,
                };
            }
            self.answer(code)
        } else if text == "RSET" {
            self.state = State::Idle;
            self.answer(250)
        } else if text == "QUIT" {
            self.quit = true;
            self.answer(221)
        } else {
            self.violations.push(format!("not a command: {text:?}"));
            self.answer(500)
        }
    }

    fn bdat(&mut self, rest: &str, end: usize) -> bool {
        if !self.mode.chunking {
            self.violations.push("BDAT without CHUNKING".into());
        }
        let mut words = rest.split(' ');
        let size: usize = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let last = words.next() == Some("LAST");
        if self.input.len() < end + 2 + size {
            return false;
        }
        let chunk: Vec<u8> = self.input.drain(..end + 2 + size).skip(end + 2).collect();
        if !self.mode.pipelining && self.produced > self.consumed {
            self.violations
                .push("BDAT written before the last reply was read, without PIPELINING".into());
        }
        let code = match self.state.clone() {
            State::Mail { slot, accepted } if !accepted.is_empty() => {
                self.data.extend_from_slice(&chunk);
                let p = &self.policies[slot];
                if last && p.end_ok {
                    self.queue(slot, accepted);
                    250
                } else if last || !p.chunks_ok {
                    self.state = State::BdatFailed;
                    self.refuse(slot)
                } else {
                    250
                }
            }
            State::Mail { .. } => 554,
            _ => 503,
        };
        if last {
            self.state = State::Idle;
        }
        self.answer(code);
        true
    }

    fn queue(&mut self, slot: usize, accepted: Vec<usize>) {
        self.queued[slot] = Some((std::mem::take(&mut self.data), accepted));
    }
}

/// What a run ended in.
struct Run {
    results: Vec<Option<Result<Delivery, Error>>>,
    settled_twice: Vec<usize>,
    server: Server,
    dropped: bool,
    quit: QuitState,
}

fn envelope(slot: usize, recipients: usize) -> Envelope {
    let from = Address::new(format!("s{slot}@example.test")).unwrap();
    let to = (0..recipients)
        .map(|i| Address::new(format!("r{i}@example.test")).unwrap())
        .collect();
    Envelope::new(Some(from), to).unwrap()
}

fn unreadable() -> Error {
    Error::Message(std::io::Error::other("the message cannot be read"))
}

/// Runs the planner against the model server; the connection drops when
/// the client asks for reply number `drop_at`.
fn run(mode: Mode, messages: &[Message], drop_at: Option<usize>, quit: bool) -> Run {
    let envelopes = messages
        .iter()
        .enumerate()
        .map(|(slot, m)| envelope(slot, m.policy.rcpt_ok.len()))
        .collect();
    let mut plan = Planner::new(mode, envelopes, quit);
    plan.keep_notes();
    let mut server = Server::new(mode, messages.iter().map(|m| m.policy.clone()).collect());
    let mut chunks: Vec<VecDeque<Vec<u8>>> = messages.iter().map(|m| m.chunks().into()).collect();
    let mut read: Vec<usize> = vec![0; messages.len()];
    let mut results: Vec<Option<Result<Delivery, Error>>> = messages.iter().map(|_| None).collect();
    let mut settled_twice = Vec::new();
    let mut dropped = false;
    let mut next_chunk = |slot: usize| -> Result<(Vec<u8>, bool), Error> {
        let at = read[slot];
        read[slot] += 1;
        if messages[slot].unreadable_at == Some(at) {
            return Err(unreadable());
        }
        let chunk = chunks[slot].pop_front().unwrap_or_default();
        Ok((chunk, chunks[slot].is_empty()))
    };
    for _ in 0..100_000 {
        match plan.next_action() {
            Action::Open(slot) => {
                let lines = {
                    let env = plan.opening().expect("an Open names a message");
                    let mut l = vec![format!("MAIL FROM:<{}>", env.from().unwrap())];
                    l.extend(env.to().iter().map(|r| format!("RCPT TO:<{r}>")));
                    l
                };
                let opened = next_chunk(slot).map(|(first, last)| Opened { lines, first, last });
                plan.opened(opened);
            }
            Action::Body(slot) => plan.body(slot, next_chunk(slot)),
            Action::Write => {
                let bytes = plan.output().to_vec();
                server.feed(&bytes);
                plan.written(bytes.len(), Ok(()));
            }
            Action::Read(expect) => {
                if Some(server.consumed) == drop_at {
                    dropped = true;
                    plan.failed(Error::ConnectionClosed {
                        phase: expect.phase(),
                    });
                } else {
                    match server.replies.pop_front() {
                        Some(r) => {
                            server.consumed += 1;
                            plan.reply(r);
                        }
                        None => {
                            server
                                .violations
                                .push(format!("the client waits for {expect:?}, never asked"));
                            break;
                        }
                    }
                }
            }
            Action::Done => break,
        }
        for (slot, result) in plan.take_settled() {
            if results[slot].is_some() {
                settled_twice.push(slot);
            }
            results[slot] = Some(result);
        }
    }
    if !server.replies.is_empty() && !dropped && !plan.is_broken() {
        server
            .violations
            .push(format!("{} replies never read", server.replies.len()));
    }
    Run {
        results,
        settled_twice,
        server,
        dropped,
        quit: plan.quit_state(),
    }
}

fn check(
    messages: &[Message],
    mode: Mode,
    drop_at: Option<usize>,
    quit: bool,
) -> Result<(), TestCaseError> {
    let run = run(mode, messages, drop_at, quit);
    let s = &run.server;
    prop_assert!(s.violations.is_empty(), "{:?} {mode:?}", s.violations);
    prop_assert!(
        run.settled_twice.is_empty(),
        "settled twice: {:?}",
        run.settled_twice
    );
    let unreadable_any = messages.iter().any(|m| m.unreadable_at.is_some());
    for (slot, (m, result)) in messages.iter().zip(&run.results).enumerate() {
        let Some(result) = result else {
            return Err(TestCaseError::fail(format!(
                "message {slot} has no outcome"
            )));
        };
        let queued = &s.queued[slot];
        match (result, queued) {
            (Ok(d), Some((body, accepted))) => {
                prop_assert!(d.reply.is_positive());
                prop_assert_eq!(body, &m.body, "message {} arrived altered", slot);
                let got: Vec<String> = d.accepted.iter().map(|r| r.recipient.to_string()).collect();
                let want: Vec<String> = accepted
                    .iter()
                    .map(|i| format!("r{i}@example.test"))
                    .collect();
                prop_assert_eq!(got, want);
                prop_assert_eq!(d.accepted.len() + d.rejected.len(), m.policy.rcpt_ok.len());
            }
            (Ok(d), None) => {
                return Err(TestCaseError::fail(format!(
                    "message {slot} reported delivered ({}) but never queued",
                    d.reply
                )));
            }
            // Queued but its reply lost: only "unknown" is honest.
            (Err(e), Some(_)) => prop_assert!(
                e.is_unknown_outcome(),
                "message {} was queued, reported {:?}",
                slot,
                e
            ),
            (Err(e), None) => {
                // Unknown only when the connection broke with the end of
                // data written and unanswered.
                if e.is_unknown_outcome() {
                    prop_assert!(
                        run.dropped || unreadable_any,
                        "unknown without a failure: {:?}",
                        e
                    );
                }
            }
        }
    }
    if quit && !run.dropped && !unreadable_any {
        prop_assert!(s.quit, "QUIT never went out");
        prop_assert_eq!(run.quit, QuitState::Answered);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random servers, bodies and capabilities, the connection intact.
    #[test]
    fn every_message_settles_once_and_only_queued_ones_are_delivered(
        messages in vec(message(), 1..6),
        mode in mode(),
        quit in any::<bool>(),
    ) {
        check(&messages, mode, None, quit)?;
    }

    /// The same, the connection dropping while a reply is awaited.
    #[test]
    fn a_drop_never_reports_a_queued_message_as_failed_or_retryable(
        messages in vec(message(), 1..6),
        mode in mode(),
        drop_at in 0usize..30,
        quit in any::<bool>(),
    ) {
        check(&messages, mode, Some(drop_at), quit)?;
    }
}

#[test]
fn pipelined_data_rides_the_next_transaction_behind_the_final_dot() {
    let policy = Policy {
        mail_ok: true,
        rcpt_ok: vec![true],
        data_ok: true,
        stray_354: false,
        chunks_ok: true,
        end_ok: true,
        transient: false,
    };
    let m = Message {
        body: b".a\r\nb\r\n".to_vec(),
        chunk: 100,
        unreadable_at: None,
        policy,
    };
    let mode = Mode {
        pipelining: true,
        chunking: false,
        window: 1,
    };
    let mut plan = Planner::new(mode, vec![envelope(0, 1), envelope(1, 1)], true);
    let mut writes = Vec::new();
    let mut server = Server::new(mode, vec![m.policy.clone(), m.policy.clone()]);
    loop {
        match plan.next_action() {
            Action::Open(_) => plan.opened(Ok(Opened {
                lines: vec![
                    format!("MAIL FROM:<{}>", plan.opening().unwrap().from().unwrap()),
                    "RCPT TO:<r0@example.test>".into(),
                ],
                first: m.body.clone(),
                last: true,
            })),
            Action::Write => {
                let w = plan.output().to_vec();
                server.feed(&w);
                plan.written(w.len(), Ok(()));
                writes.push(String::from_utf8(w).unwrap());
            }
            Action::Read(_) => {
                server.consumed += 1;
                plan.reply(server.replies.pop_front().unwrap());
            }
            Action::Body(_) => unreachable!("one chunk each"),
            Action::Done => break,
        }
    }
    assert_eq!(
        writes,
        [
            "MAIL FROM:<s0@example.test>\r\nRCPT TO:<r0@example.test>\r\nDATA\r\n",
            "..a\r\nb\r\n.\r\nMAIL FROM:<s1@example.test>\r\nRCPT TO:<r0@example.test>\r\nDATA\r\n",
            "..a\r\nb\r\n.\r\nQUIT\r\n",
        ]
    );
    let results: Vec<_> = plan.take_settled().collect();
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    assert!(matches!(plan.write_kind().phase, Phase::Data));
}
