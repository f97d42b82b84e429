//! Sending messages: one, a pipelined batch, or a body after a raw `DATA`;
//! and reading message bodies under the total time limit.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use super::Session;
use super::drive::Source;
use super::plan::{Planner, QuitState};
use crate::address::Envelope;
use crate::delivery::Delivery;
use crate::error::{Error, Phase};
use crate::message::MessageSource;
use crate::reply::Reply;

impl Session {
    /// Sends one message. Recipients the server refuses are listed in the
    /// [`Delivery`]; the message still goes to the others.
    pub async fn send(
        &mut self,
        envelope: &Envelope,
        message: MessageSource,
    ) -> Result<Delivery, Error> {
        let mut results = self.send_batch(vec![(envelope.clone(), message)]).await;
        results
            .pop()
            .unwrap_or(Err(Error::ConnectionClosed { phase: Phase::Mail }))
    }

    /// Sends several messages on this connection, one result each, in
    /// order. With PIPELINING, each message's MAIL/RCPT ride in the same
    /// write as the previous message's end of data (RFC 2920 §3.1); with
    /// CHUNKING too, up to
    /// [`pipeline_window`](crate::SmtpTransportBuilder::pipeline_window)
    /// messages are in flight at once, replies matched strictly in order.
    pub async fn send_batch(
        &mut self,
        items: Vec<(Envelope, MessageSource)>,
    ) -> Vec<Result<Delivery, Error>> {
        self.send_guarded(items, false).await.0
    }

    /// Sends one message and closes the connection: with PIPELINING,
    /// `QUIT` rides in the same write as the end of data and its `221` is
    /// read with the message's replies, so closing costs no round trip.
    /// For one-shot use; a pooled connection is closed by the pool.
    pub async fn send_and_quit(
        self,
        envelope: &Envelope,
        message: MessageSource,
    ) -> Result<Delivery, Error> {
        let mut results = self
            .send_batch_and_quit(vec![(envelope.clone(), message)])
            .await;
        results
            .pop()
            .unwrap_or(Err(Error::ConnectionClosed { phase: Phase::Mail }))
    }

    /// [`Session::send_batch`], then closes the connection, `QUIT` riding
    /// in the last write (see [`Session::send_and_quit`]). Without
    /// PIPELINING it goes on its own after the last reply.
    pub async fn send_batch_and_quit(
        mut self,
        items: Vec<(Envelope, MessageSource)>,
    ) -> Vec<Result<Delivery, Error>> {
        let (results, quit) = self.send_guarded(items, true).await;
        match quit {
            QuitState::Sent | QuitState::Answered => {
                if let Some(mut s) = self.stream.take() {
                    let _ = tokio::time::timeout(Duration::from_secs(1), s.shutdown()).await;
                }
            }
            QuitState::NotWanted | QuitState::Wanted => self.quit().await,
        }
        results
    }

    async fn send_guarded(
        &mut self,
        items: Vec<(Envelope, MessageSource)>,
        quit: bool,
    ) -> (Vec<Result<Delivery, Error>>, QuitState) {
        if let Err(e) = self.begin(Phase::Mail) {
            let cause = e.to_string();
            let failed = items
                .iter()
                .map(|_| {
                    Err(Error::NotStarted {
                        cause: cause.clone(),
                    })
                })
                .collect();
            return (failed, QuitState::NotWanted);
        }
        // Split in one pass into buffers of the exact size: a batch may
        // hold tens of thousands of messages.
        let mut sources = Vec::with_capacity(items.len());
        let envelopes = items.into_iter().map(|(envelope, message)| {
            sources.push(Source::new(message));
            envelope
        });
        let mut plan = Planner::new(self.plan_mode(), envelopes, quit);
        let results = self.drive(&mut plan, sources).await;
        self.in_flight = false;
        (results, plan.quit_state())
    }

    /// After a raw `DATA` command got `354` (interactive use): streams the
    /// body, dot-stuffed, with the terminator, and returns the final reply.
    pub async fn send_data(&mut self, message: MessageSource) -> Result<Reply, Error> {
        self.begin(Phase::Data)?;
        let mut plan = Planner::after_raw_data();
        let result = self
            .drive(&mut plan, vec![Source::new(message)])
            .await
            .pop();
        self.in_flight = false;
        match result {
            Some(Ok(delivery)) => Ok(delivery.reply),
            // A refusal is the server's answer, not a failure to send.
            Some(Err(Error::Rejected {
                phase: Phase::Data,
                reply,
            })) if reply.code != 421 => Ok(reply),
            Some(Err(e)) => Err(e),
            None => Err(Error::ConnectionClosed { phase: Phase::Data }),
        }
    }

    /// The running total deadline and the limit it came from.
    pub(super) fn total_left(&self) -> Option<(Instant, Duration)> {
        self.deadline.zip(self.config.timeouts.total)
    }
}

/// The message source is the caller's, but a total limit was asked for
/// the whole send: a stalled source must not outlast it.
pub(super) async fn within<T>(
    total: Option<(Instant, Duration)>,
    read: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match total {
        Some((deadline, total)) => tokio::time::timeout_at(deadline.into(), read)
            .await
            .unwrap_or(Err(Error::Timeout {
                phase: Phase::Data,
                after: total,
            })),
        None => read.await,
    }
}
