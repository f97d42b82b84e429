//! The jobs not yet taken: pulled from the caller's iterator a little
//! ahead of the senders, and shared out evenly between them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::{InvalidJob, Job, Journal, Recorded};

type Jobs = Box<dyn Iterator<Item = Result<Job, InvalidJob>> + Send>;

/// A job taken by a sender, with its position in the input.
pub(super) struct Taken {
    pub index: u64,
    pub item: Result<Job, InvalidJob>,
}

/// What one call to [`Feed::take`] hands a sender.
pub(super) struct Share {
    pub jobs: Vec<Taken>,
    /// The only job of the whole input: its connection may close with it.
    pub alone: bool,
    /// Jobs passed over because the journal has them.
    pub skipped: u64,
}

pub(super) struct Feed {
    state: Mutex<State>,
    workers: usize,
    batch_size: usize,
    journal: Option<Arc<Journal>>,
    resend_unknown: bool,
}

struct State {
    jobs: Jobs,
    ahead: VecDeque<Taken>,
    next_index: u64,
    exhausted: bool,
    taken: u64,
}

impl Feed {
    pub fn new(
        jobs: Jobs,
        workers: usize,
        batch_size: usize,
        journal: Option<Arc<Journal>>,
        resend_unknown: bool,
    ) -> Feed {
        Feed {
            state: Mutex::new(State {
                jobs,
                ahead: VecDeque::new(),
                next_index: 0,
                exhausted: false,
                taken: 0,
            }),
            workers,
            batch_size,
            journal,
            resend_unknown,
        }
    }

    /// The next share: an even part of what is buffered across the
    /// senders, at least one job and at most `limit`. Empty when the
    /// input is used up.
    pub fn take(&self, limit: usize) -> Share {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut skipped = 0;
        let look_ahead = self.workers * self.batch_size;
        while !state.exhausted && state.ahead.len() < look_ahead {
            let Some(item) = state.jobs.next() else {
                state.exhausted = true;
                break;
            };
            let index = state.next_index;
            state.next_index += 1;
            if let (Ok(job), Some(journal)) = (&item, &self.journal) {
                match journal.recorded(&job.key) {
                    Some(Recorded::Sent) => {
                        skipped += 1;
                        continue;
                    }
                    Some(Recorded::Unknown) if !self.resend_unknown => {
                        skipped += 1;
                        continue;
                    }
                    _ => {}
                }
            }
            state.ahead.push_back(Taken { index, item });
        }
        let share = state
            .ahead
            .len()
            .div_ceil(self.workers)
            .clamp(1, limit.max(1))
            .min(state.ahead.len());
        let alone = state.exhausted && state.taken == 0 && state.ahead.len() == 1;
        state.taken += share as u64;
        let jobs = state.ahead.drain(..share).collect();
        Share {
            jobs,
            alone,
            skipped,
        }
    }
}
