//! An in-memory transport for tests of code that sends mail.

use std::sync::Mutex;

use async_trait::async_trait;

use super::Transport;
use crate::address::Envelope;
use crate::delivery::Delivery;
use crate::error::Error;
use crate::message::MessageSource;
use crate::reply::Reply;

/// A message captured by [`MemoryTransport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The envelope it was sent with.
    pub envelope: Envelope,
    /// The message bytes, as given.
    pub bytes: Vec<u8>,
}

/// Keeps every message in memory; every recipient is accepted.
#[derive(Debug, Default)]
pub struct MemoryTransport {
    sent: Mutex<Vec<SentMessage>>,
}

impl MemoryTransport {
    /// An empty transport.
    pub fn new() -> MemoryTransport {
        MemoryTransport::default()
    }
    /// The messages sent so far, in order.
    pub fn messages(&self) -> Vec<SentMessage> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Transport for MemoryTransport {
    async fn send(&self, envelope: &Envelope, message: MessageSource) -> Result<Delivery, Error> {
        let bytes = message.read_to_end().await.map_err(Error::Message)?;
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(SentMessage {
                envelope: envelope.clone(),
                bytes,
            });
        }
        Ok(accept_all(
            envelope,
            Reply::new(250, "2.0.0 kept in memory"),
        ))
    }
}

pub(crate) fn accept_all(envelope: &Envelope, reply: Reply) -> Delivery {
    Delivery::to_all(envelope, Reply::new(250, "2.1.5 Ok"), reply)
}
