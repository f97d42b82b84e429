//! Replies that answer nothing: a reply of a class no command of the
//! phase can get, a `421` wherever it comes, and bytes that arrived before
//! any command asked for them. Each would otherwise be taken for the
//! answer to the wrong command.

use super::Session;
use crate::error::{Error, Phase};
use crate::reply::Reply;

impl Session {
    /// Replies no command of `phase` can get (the caller, reading the
    /// reply, breaks the session on the error). `421` (RFC 5321 §3.8: the
    /// server is closing) ends the session wherever it comes. A `3xx` is
    /// only an answer to DATA (`354`) or AUTH (`334`): elsewhere client and
    /// server disagree about where they are, and the next line written
    /// could become message text. Raw commands ([`Phase::Reset`], typed in
    /// `smtp shell`) may get anything.
    pub(super) fn check_reply(&mut self, phase: Phase, reply: Reply) -> Result<Reply, Error> {
        if reply.code == 421 {
            return Err(Error::Rejected { phase, reply });
        }
        let expects_intermediate = matches!(phase, Phase::Data | Phase::Auth | Phase::Reset);
        if reply.is_intermediate() && !expects_intermediate {
            return Err(Error::Protocol {
                phase,
                detail: format!("unexpected intermediate reply {reply}"),
            });
        }
        Ok(reply)
    }

    /// Before a command written when no reply is outstanding: anything the
    /// server sent already answers a command never sent (or is one reply
    /// too many in a pipelined flight). Read as this command's reply it
    /// would be mis-attributed, so it is a protocol error and the session
    /// is dropped. Polls the stream once, never waiting, so bytes that
    /// arrived but were not read yet count too.
    pub(super) async fn ensure_no_surplus(&mut self, phase: Phase) -> Result<(), Error> {
        if self.rbuf.is_empty() && !self.parser.in_reply() {
            let mut buf = [0u8; 512];
            // EOF or an error: the command's own write or read reports it.
            if let Some(Ok(n)) = self.poll_read_once(&mut buf).await {
                self.rbuf.extend_from_slice(&buf[..n]);
            }
        }
        if self.rbuf.is_empty() && !self.parser.in_reply() {
            return Ok(());
        }
        self.broken = true;
        let first = self.rbuf.split(|&b| b == b'\n').next().unwrap_or_default();
        let first = String::from_utf8_lossy(&first[..first.len().min(80)]).into_owned();
        Err(Error::Protocol {
            phase,
            detail: format!(
                "the server sent {} bytes no command asked for ({:?}): a reply to a command never sent",
                self.rbuf.len(),
                crate::reply::printable(first.trim_end())
            ),
        })
    }
}
