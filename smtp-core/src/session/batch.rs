//! Sending messages: one, a pipelined batch, or a body after a raw `DATA`;
//! and reading message bodies under the total time limit.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use super::Session;
use super::data::BodyChunks;
use super::envelope::Prelude;
use super::transaction::Opening;
use super::window::QuitState;
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
    /// PIPELINING, or when the last message failed early, `QUIT` goes on
    /// its own afterwards.
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
        let outcome = if self.caps.chunking && self.caps.pipelining {
            self.send_windowed(items, quit).await
        } else {
            self.send_all(items, quit && self.caps.pipelining).await
        };
        self.in_flight = false;
        outcome
    }

    /// One message after the other (DATA, or CHUNKING without
    /// PIPELINING); with `quit` (PIPELINING only) `QUIT` rides behind the
    /// last message's final dot.
    async fn send_all(
        &mut self,
        items: Vec<(Envelope, MessageSource)>,
        quit: bool,
    ) -> (Vec<Result<Delivery, Error>>, QuitState) {
        let total = self.config.timeouts.total;
        let mut quit_state = if quit {
            QuitState::Wanted
        } else {
            QuitState::NotWanted
        };
        let mut results = Vec::with_capacity(items.len());
        let mut sent_ahead: Option<Prelude> = None;
        // The body of the coming message, opened before its commands were
        // allowed to ride ahead.
        let mut opened: Option<Result<BodyChunks, Error>> = None;
        // What broke the connection, for the messages it stopped.
        let mut broke_on: Option<String> = None;
        let mut items = items.into_iter().peekable();
        while let Some((envelope, mut message)) = items.next() {
            let opened_body = opened.take();
            if self.broken {
                results.push(Err(Error::NotStarted {
                    cause: broke_on
                        .clone()
                        .unwrap_or_else(|| "the connection was already broken".into()),
                }));
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
                        Some((e, m)) if self.caps.pipelining => match self.prelude(e, m) {
                            Ok(p) => {
                                let b = self.start_body(m).await;
                                let ok = b.is_ok();
                                opened = Some(b);
                                ok.then_some(p)
                            }
                            Err(_) => None,
                        },
                        Some(_) => None,
                        // The last message: QUIT may ride behind its dot.
                        None if quit => Some(Prelude {
                            lines: vec!["QUIT".into()],
                            has_data: false,
                        }),
                        None => None,
                    };
                    let last = items.peek().is_none();
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
                    if next_written && last {
                        quit_state = self.quit_reply().await;
                    } else if next_written {
                        sent_ahead = next;
                    }
                    result
                }
                // Nothing of this message went out: its prelude only rides
                // ahead once its body has been opened.
                Err(e) => Err(e),
            };
            match &result {
                Ok(_) => self.messages += 1,
                Err(e) if self.broken && broke_on.is_none() => broke_on = Some(e.to_string()),
                Err(_) => {}
            }
            self.deadline = None;
            results.push(result);
        }
        // A broken session skips the loop body: never leave a deadline armed.
        self.deadline = None;
        (results, quit_state)
    }

    /// The `221` to a QUIT that rode behind the last end of data.
    async fn quit_reply(&mut self) -> QuitState {
        if self.broken {
            return QuitState::Sent;
        }
        match self
            .read_reply(Phase::Quit, self.config.timeouts.command)
            .await
        {
            Ok(_) => QuitState::Answered,
            Err(_) => QuitState::Sent,
        }
    }

    /// After a raw `DATA` command got `354` (interactive use): streams the
    /// body, dot-stuffed, with the terminator, and returns the final reply.
    pub async fn send_data(&mut self, mut message: MessageSource) -> Result<Reply, Error> {
        self.begin(Phase::Data)?;
        let result = async {
            let mut body = BodyChunks::start(&mut message, true, self.caps.eight_bit_mime).await?;
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
    pub(super) async fn start_body(
        &mut self,
        message: &mut MessageSource,
    ) -> Result<BodyChunks, Error> {
        let dot_stuffing = !self.caps.chunking;
        let eight_bit_mime = self.caps.eight_bit_mime;
        within(
            self.total_left(),
            BodyChunks::start(message, dot_stuffing, eight_bit_mime),
        )
        .await
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
