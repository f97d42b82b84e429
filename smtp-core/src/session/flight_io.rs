//! Primitives for pipelined flights: writes that count what went out,
//! replies taken from the read buffer without waiting, and the time
//! allowed for each awaited reply.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Session;
use crate::error::{Error, Phase};
use crate::reply::Reply;

impl Session {
    /// A reply already in the read buffer, without reading the socket;
    /// a failure breaks the session, as in [`Session::read_reply`].
    pub(super) fn buffered_reply(&mut self, phase: Phase) -> Result<Option<Reply>, Error> {
        let result = match self.parse_buffered(phase) {
            Ok(Some(reply)) => self.check_reply(phase, reply).map(Some),
            other => other,
        };
        self.broken |= result.is_err();
        result
    }

    /// Polls the stream for bytes once, never waiting: `None` when none
    /// are there, else how many were read (`Some(Err)`: an error, which
    /// the next real read or write reports).
    pub(super) async fn poll_read_once(
        &mut self,
        buf: &mut [u8],
    ) -> Option<Result<usize, std::io::Error>> {
        let stream = self.stream.as_mut()?;
        let mut read = std::pin::pin!(stream.read(buf));
        // Poll once and never wait (a zero `timeout` would wait for the
        // next millisecond tick of tokio's timer).
        match std::future::poll_fn(|cx| std::task::Poll::Ready(read.as_mut().poll(cx))).await {
            std::task::Poll::Pending => None,
            std::task::Poll::Ready(r) => Some(r),
        }
    }

    /// Takes what the parser can use from the read buffer (logging the
    /// bytes it consumed) and returns the reply they complete, if any,
    /// before [`Self::check_reply`]. Bytes that are no reply are an error.
    pub(super) fn parse_buffered(&mut self, phase: Phase) -> Result<Option<Reply>, Error> {
        let (reply, used) = match self.parser.parse(&self.rbuf) {
            Ok(r) => r,
            Err(e) => {
                return Err(Error::Protocol {
                    phase,
                    detail: e.to_string(),
                });
            }
        };
        if used > 0 {
            self.log_server_bytes(used);
            self.rbuf.drain(..used);
        }
        Ok(reply)
    }

    /// Writes and flushes `bytes`; also returns how many were handed to
    /// the connection, so a failure tells which messages went out whole.
    pub(super) async fn write_counted(
        &mut self,
        bytes: &[u8],
        phase: Phase,
        timeout: Duration,
    ) -> (usize, Result<(), Error>) {
        let limit = self.limit(timeout);
        let mut written = 0usize;
        let Some(stream) = self.stream.as_mut() else {
            return (0, Err(Error::ConnectionClosed { phase }));
        };
        // Most flights fit the socket buffer: the write completes on its
        // first poll and the session's timer is never armed.
        let result = self
            .timer
            .run(limit, async {
                while written < bytes.len() {
                    match stream.write(&bytes[written..]).await? {
                        0 => return Err(std::io::ErrorKind::WriteZero.into()),
                        n => written += n,
                    }
                }
                stream.flush().await
            })
            .await;
        let result = match result {
            Some(Ok(())) => Ok(()),
            Some(Err(source)) => Err(super::io_error(phase, source)),
            None => Err(Error::Timeout {
                phase,
                after: limit,
            }),
        };
        // Half a write leaves the server mid-command: not reusable.
        self.broken |= result.is_err();
        (written, result)
    }
}
