//! Where messages go: the [`Transport`] trait and its implementations.

mod file;
mod memory;
mod pool;
mod smtp;

use async_trait::async_trait;

use crate::address::Envelope;
use crate::delivery::Delivery;
use crate::error::Error;
use crate::message::MessageSource;

pub use file::FileTransport;
pub use memory::{MemoryTransport, SentMessage};
pub use pool::PoolConfig;
pub use smtp::{SmtpTransport, SmtpTransportBuilder};

/// Sends a message somewhere: an SMTP server, a directory, memory.
///
/// Only [`Transport::send`] is required; the others have defaults that
/// a transport with connections (such as [`SmtpTransport`]) overrides to
/// save round trips. Decorators (a queue, a signer) forward all four.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Sends `message` to the envelope's recipients.
    async fn send(&self, envelope: &Envelope, message: MessageSource) -> Result<Delivery, Error>;

    /// Sends several messages, one result each, in order. The default
    /// sends them one by one; [`SmtpTransport`] pipelines them over one
    /// connection.
    async fn send_batch(
        &self,
        items: Vec<(Envelope, MessageSource)>,
    ) -> Vec<Result<Delivery, Error>> {
        let mut results = Vec::with_capacity(items.len());
        for (envelope, message) in items {
            results.push(self.send(&envelope, message).await);
        }
        results
    }

    /// Sends one message when nothing else will follow soon (a one-shot
    /// command): [`SmtpTransport`] closes the connection in the same
    /// write as the end of data. The default is [`Transport::send`].
    async fn send_and_close(
        &self,
        envelope: &Envelope,
        message: MessageSource,
    ) -> Result<Delivery, Error> {
        self.send(envelope, message).await
    }

    /// Closes idle connections, if the transport keeps any.
    async fn close(&self) {}
}
