//! The one driver loop for every way of sending (DATA, BDAT, windowed
//! BDAT, a body after a raw `DATA`): the planner (`plan/`) decides, this
//! does the timed I/O it asks for.

use std::time::{Duration, Instant};

use super::Session;
use super::batch::within;
use super::data::BodyReader;
use super::plan::{Action, Expect, Mode, Opened, Planner};
use crate::address::Envelope;
use crate::delivery::Delivery;
use crate::error::{Error, Phase};
use crate::message::MessageSource;
use crate::transcript::Direction;

/// A message's body as the driver reads it.
pub(super) struct Source {
    message: MessageSource,
    reader: Option<BodyReader>,
}

impl Source {
    pub fn new(message: MessageSource) -> Option<Source> {
        Some(Source {
            message,
            reader: None,
        })
    }
}

impl Session {
    /// How the planner must talk to this server.
    pub(super) fn plan_mode(&self) -> Mode {
        Mode {
            pipelining: self.caps.pipelining,
            chunking: self.caps.chunking,
            window: self.config.pipeline_window,
        }
    }

    /// Runs `plan` to its end over this connection, reading the bodies of
    /// its messages from `sources` (by slot); one result per message.
    pub(super) async fn drive(
        &mut self,
        plan: &mut Planner,
        mut sources: Vec<Option<Source>>,
    ) -> Vec<Result<Delivery, Error>> {
        let total = self.config.timeouts.total;
        // The pool arms the first deadline itself so that connecting
        // counts too.
        if self.deadline.is_none() {
            self.deadline = total.map(|t| Instant::now() + t);
        }
        if self.lines_wanted() {
            plan.keep_notes();
        }
        let mut results: Vec<Option<Result<Delivery, Error>>> =
            sources.iter().map(|_| None).collect();
        loop {
            let action = plan.next_action();
            for line in plan.take_notes() {
                self.log(Direction::Client, &line);
            }
            match action {
                Action::Open(slot) => {
                    let opened = match (plan.opening(), sources.get_mut(slot)) {
                        (Some(envelope), Some(Some(source))) => {
                            self.open_message(envelope, source).await
                        }
                        _ => Err(Error::ConnectionClosed { phase: Phase::Mail }),
                    };
                    if opened.as_ref().is_ok_and(|o| o.last) {
                        release(&mut sources, slot);
                    }
                    plan.opened(opened);
                }
                Action::Body(slot) => {
                    let chunk = match sources.get_mut(slot) {
                        Some(Some(source)) => self.read_chunk(source).await,
                        _ => Err(Error::ConnectionClosed { phase: Phase::Data }),
                    };
                    if chunk.as_ref().is_ok_and(|c| c.1) {
                        release(&mut sources, slot);
                    }
                    plan.body(slot, chunk);
                }
                Action::Write => self.write_planned(plan).await,
                Action::Read(expect) => self.read_planned(plan, expect).await,
                Action::Done => break,
            }
            for (slot, result) in plan.take_settled() {
                if result.is_ok() {
                    self.messages += 1;
                }
                // Each message gets the whole total limit, counted from
                // when the one before it was settled.
                self.deadline = total.map(|t| Instant::now() + t);
                release(&mut sources, slot);
                if let Some(r) = results.get_mut(slot) {
                    *r = Some(result);
                }
            }
        }
        if plan.is_broken() {
            self.broken = true;
        }
        self.deadline = None;
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(Error::ConnectionClosed { phase: Phase::Mail })))
            .collect()
    }

    /// A message's commands, checked against the server's limits, and
    /// the first chunk of its body: nothing of a message that cannot be
    /// read goes out.
    async fn open_message(
        &mut self,
        envelope: &Envelope,
        source: &mut Source,
    ) -> Result<Opened, Error> {
        let lines = self.prelude(envelope, &source.message)?;
        let (first, last) = self.read_chunk(source).await?;
        Ok(Opened { lines, first, last })
    }

    /// The next raw chunk of a body (the first one opens it), under the
    /// total limit.
    async fn read_chunk(&mut self, source: &mut Source) -> Result<(Vec<u8>, bool), Error> {
        let total = self.total_left();
        let eight_bit_mime = self.caps.eight_bit_mime;
        let message = &mut source.message;
        let reader = &mut source.reader;
        within(total, async move {
            if reader.is_none() {
                *reader = Some(BodyReader::start(message, eight_bit_mime).await?);
            }
            match reader.as_mut() {
                Some(r) => r.next(message).await,
                None => Ok((Vec::new(), true)),
            }
        })
        .await
    }

    async fn write_planned(&mut self, plan: &mut Planner) {
        let kind = plan.write_kind();
        if kind.after_idle {
            // Nothing is outstanding: a reply already here answers nothing.
            if let Err(e) = self.ensure_no_surplus(kind.phase).await {
                return plan.written(0, Err(e));
            }
        }
        let t = &self.config.timeouts;
        let timeout = if kind.body { t.data_block } else { t.command };
        let (written, result) = self.write_counted(plan.output(), kind.phase, timeout).await;
        plan.written(written, result);
    }

    /// One reply, waiting; then every reply that already came, so that
    /// the next write carries as many new transactions as it can.
    async fn read_planned(&mut self, plan: &mut Planner, expect: Expect) {
        match self
            .read_reply(expect.phase(), self.expect_timeout(expect))
            .await
        {
            Ok(reply) => plan.reply(reply),
            Err(e) => return plan.failed(e),
        }
        while let Some(next) = plan.expecting() {
            match self.buffered_reply(next.phase()) {
                Ok(Some(reply)) => plan.reply(reply),
                Ok(None) => break,
                Err(e) => return plan.failed(e),
            }
        }
    }

    fn expect_timeout(&self, expect: Expect) -> Duration {
        let t = &self.config.timeouts;
        match expect {
            Expect::Data(_) => t.data_start,
            Expect::Chunk(_) => t.data_block,
            Expect::End(_) | Expect::Discard(_) => t.data_end,
            _ => t.command,
        }
    }
}

/// Closes a message source as soon as its end was read (or its message
/// settled): a file or pipe is not held open for the rest of the batch,
/// and its buffers go back to the allocator while they are warm.
fn release(sources: &mut [Option<Source>], slot: usize) {
    if let Some(s) = sources.get_mut(slot) {
        *s = None;
    }
}
