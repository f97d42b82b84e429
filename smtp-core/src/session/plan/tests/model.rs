//! A model SMTP server for the planner's property tests: it reads what
//! the client wrote as a server would (commands, dot-stuffed DATA, BDAT
//! frames), answers by a policy per message, and notes every breach of
//! the protocol it sees.

use std::collections::VecDeque;

use super::super::Mode;
use crate::reply::Reply;

/// How the model server treats one message.
#[derive(Debug, Clone)]
pub(super) struct Policy {
    pub mail_ok: bool,
    pub rcpt_ok: Vec<bool>,
    /// `354` to DATA when a recipient was accepted.
    pub data_ok: bool,
    /// `354` to DATA even with no valid recipient (RFC 2920 §3.1).
    pub stray_354: bool,
    /// Every BDAT chunk before the last accepted.
    pub chunks_ok: bool,
    pub end_ok: bool,
    /// Refusals are `4xx` rather than `5xx`.
    pub transient: bool,
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
pub(super) struct Server {
    mode: Mode,
    policies: Vec<Policy>,
    input: Vec<u8>,
    state: State,
    data: Vec<u8>,
    pub replies: VecDeque<Reply>,
    produced: usize,
    pub consumed: usize,
    /// What the server queued: the body and the accepted recipients.
    pub queued: Vec<Option<(Vec<u8>, Vec<usize>)>>,
    pub quit: bool,
    pub violations: Vec<String>,
}

impl Server {
    pub fn new(mode: Mode, policies: Vec<Policy>) -> Server {
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

    pub fn feed(&mut self, bytes: &[u8]) {
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
