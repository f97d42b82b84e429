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
#[async_trait]
pub trait Transport: Send + Sync {
    /// Sends `message` to the envelope's recipients.
    async fn send(&self, envelope: &Envelope, message: MessageSource) -> Result<Delivery, Error>;
}
