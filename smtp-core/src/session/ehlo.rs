//! EHLO, with HELO fallback for servers that refuse it.

use std::time::Instant;

use super::Session;
use crate::capabilities::Capabilities;
use crate::error::{Error, Phase};
use crate::transcript::{Direction, SessionEvent};

impl Session {
    /// Sends EHLO (or HELO when EHLO is refused) and replaces the known
    /// capabilities with the answer.
    pub(super) async fn ehlo(&mut self) -> Result<(), Error> {
        let started = Instant::now();
        let timeout = self.config.timeouts.command;
        let cmd = format!("EHLO {}", self.config.ehlo_name);
        // Replies sent with (or after) the greeting answer nothing yet.
        self.ensure_no_surplus(Phase::Ehlo).await?;
        self.log(Direction::Client, &cmd);
        self.write_all(format!("{cmd}\r\n").as_bytes(), Phase::Ehlo, timeout)
            .await?;
        let reply = self.read_reply(Phase::Ehlo, timeout).await?;
        self.caps = if reply.code == 250 {
            Capabilities::from_ehlo(&reply)
        } else if reply.is_permanent() && reply.code != 554 {
            // RFC 5321 §3.2: a server that does not know EHLO answers 500/502.
            tracing::debug!(%reply, "EHLO refused; falling back to HELO");
            let cmd = format!("HELO {}", self.config.ehlo_name);
            self.log(Direction::Client, &cmd);
            self.write_all(format!("{cmd}\r\n").as_bytes(), Phase::Ehlo, timeout)
                .await?;
            let reply = self.read_reply(Phase::Ehlo, timeout).await?;
            if reply.code != 250 {
                return Err(Error::Rejected {
                    phase: Phase::Ehlo,
                    reply,
                });
            }
            Capabilities::from_helo(&reply)
        } else {
            return Err(Error::Rejected {
                phase: Phase::Ehlo,
                reply,
            });
        };
        self.event(SessionEvent::Capabilities {
            capabilities: self.caps.clone(),
            elapsed: started.elapsed(),
        });
        Ok(())
    }
}
