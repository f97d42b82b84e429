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

mod model;

use model::{Policy, Server};

use super::{Action, Mode, Opened, Planner, QuitState};
use crate::address::{Address, Envelope};
use crate::delivery::Delivery;
use crate::error::{Error, Phase};

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
    let envelopes: Vec<Envelope> = messages
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
