//! Sending messages: one, a pipelined batch, or a body after a raw `DATA`;
//! and reading message bodies under the total time limit.

use std::future::Future;
use std::time::{Duration, Instant};

use super::Session;
use super::data::BodyChunks;
use super::envelope::{Prelude, prelude};
use super::transaction::Opening;
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
    /// write as the previous message's end of data (RFC 2920 §3.1).
    pub async fn send_batch(
        &mut self,
        items: Vec<(Envelope, MessageSource)>,
    ) -> Vec<Result<Delivery, Error>> {
        if self.begin(Phase::Mail).is_err() {
            return items
                .iter()
                .map(|_| Err(Error::ConnectionClosed { phase: Phase::Mail }))
                .collect();
        }
        let results = self.send_all(items).await;
        self.in_flight = false;
        results
    }

    async fn send_all(
        &mut self,
        items: Vec<(Envelope, MessageSource)>,
    ) -> Vec<Result<Delivery, Error>> {
        let total = self.config.timeouts.total;
        let mut results = Vec::with_capacity(items.len());
        let mut sent_ahead: Option<Prelude> = None;
        // The body of the coming message, opened before its commands were
        // allowed to ride ahead.
        let mut opened: Option<Result<BodyChunks, Error>> = None;
        let mut items = items.into_iter().peekable();
        while let Some((envelope, mut message)) = items.next() {
            let opened_body = opened.take();
            if self.broken {
                results.push(Err(Error::ConnectionClosed { phase: Phase::Mail }));
                continue;
            }
            // Each message gets the whole total limit; the pool arms the
            // first one itself so that connecting counts too.
            if self.deadline.is_none() {
                self.deadline = total.map(|t| Instant::now() + t);
            }
            let body = match opened_body {
                Some(b) => b,
                None => self.start_body(&mut message).await,
            };
            let result = match body {
                Ok(body) => {
                    // Open the next body before its commands go out: if it
                    // cannot even be read, its MAIL/RCPT(/DATA) must not sit
                    // in the server's queue with nothing to follow them.
                    let next = match items.peek_mut() {
                        Some((e, m)) if self.caps.pipelining => match prelude(&self.caps, e, m) {
                            Ok(p) => {
                                let b = self.start_body(m).await;
                                let ok = b.is_ok();
                                opened = Some(b);
                                ok.then_some(p)
                            }
                            Err(_) => None,
                        },
                        _ => None,
                    };
                    let mut next_written = false;
                    let result = self
                        .transaction(
                            &envelope,
                            &mut message,
                            body,
                            sent_ahead.take(),
                            next.as_ref(),
                            &mut next_written,
                        )
                        .await;
                    if next_written {
                        sent_ahead = next;
                    }
                    result
                }
                // Nothing of this message went out: its prelude only rides
                // ahead once its body has been opened.
                Err(e) => Err(e),
            };
            if result.is_ok() {
                self.messages += 1;
            }
            self.deadline = None;
            results.push(result);
        }
        // A broken session skips the loop body: never leave a deadline armed.
        self.deadline = None;
        results
    }

    /// After a raw `DATA` command got `354` (interactive use): streams the
    /// body, dot-stuffed, with the terminator, and returns the final reply.
    pub async fn send_data(&mut self, mut message: MessageSource) -> Result<Reply, Error> {
        self.begin(Phase::Data)?;
        let result = async {
            let mut body = BodyChunks::start(&mut message, true).await?;
            let opening = Opening::after_raw_data();
            let mut unused = false;
            self.finish_data(&opening, &mut body, &mut message, None, &mut unused)
                .await
        }
        .await;
        self.in_flight = false;
        result
    }

    /// Reads the first chunk of a message (dot-stuffed unless CHUNKING).
    async fn start_body(&mut self, message: &mut MessageSource) -> Result<BodyChunks, Error> {
        let dot_stuffing = !self.caps.chunking;
        within(self.total_left(), BodyChunks::start(message, dot_stuffing)).await
    }

    /// The next encoded chunk of a body whose transaction is under way.
    pub(super) async fn next_chunk(
        &mut self,
        body: &mut BodyChunks,
        message: &mut MessageSource,
        out: &mut Vec<u8>,
    ) -> Result<bool, Error> {
        let result = within(self.total_left(), body.next(message, out)).await;
        if result.is_err() {
            // Never terminate a half-read message: drop the line so the
            // server discards it.
            self.broken = true;
        }
        result
    }

    /// The running total deadline and the limit it came from.
    fn total_left(&self) -> Option<(Instant, Duration)> {
        self.deadline.zip(self.config.timeouts.total)
    }
}

/// The message source is the caller's, but a total limit was asked for
/// the whole send: a stalled source must not outlast it.
async fn within<T>(
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
