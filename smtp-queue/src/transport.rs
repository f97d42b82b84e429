//! The queue as a [`Transport`]: `send` stores the message and answers at
//! once; a runner ([`Queue::flush`]) delivers it later. What the CLI uses
//! as its outbox when no server is configured.

use async_trait::async_trait;
use smtp_core::{Delivery, Envelope, Error, MessageSource, RecipientOutcome, Reply, Transport};

use crate::spool::Queue;

/// Stores every message in a [`Queue`] instead of sending it.
///
/// ```
/// use smtp_core::{Address, Envelope, MessageSource, Transport};
/// use smtp_queue::{Queue, QueueTransport};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let outbox = QueueTransport::new(Queue::open(dir.path())?);
/// let envelope = Envelope::new(
///     Some(Address::new("app@example.com")?),
///     vec![Address::new("ops@example.com")?],
/// )?;
/// let d = outbox
///     .send(&envelope, MessageSource::from_bytes("Subject: hi\r\n\r\nlater\r\n"))
///     .await?;
/// assert!(d.reply.text().contains("queued as"));
/// assert_eq!(outbox.queue().list()?.entries.len(), 1);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct QueueTransport {
    queue: Queue,
}

impl QueueTransport {
    /// A transport that queues into `queue`.
    pub fn new(queue: Queue) -> QueueTransport {
        QueueTransport { queue }
    }

    /// The queue it writes to.
    pub fn queue(&self) -> &Queue {
        &self.queue
    }
}

#[async_trait]
impl Transport for QueueTransport {
    async fn send(&self, envelope: &Envelope, message: MessageSource) -> Result<Delivery, Error> {
        let entry = self
            .queue
            .enqueue(envelope, message, None)
            .await
            .map_err(|e| match e {
                crate::Error::Message(inner) => inner,
                other => Error::Outbox {
                    path: self.queue.dir().display().to_string(),
                    source: std::io::Error::other(other.to_string()),
                },
            })?;
        let path = self.queue.message_path(&entry.id);
        let queued = Reply::new(250, "2.0.0 queued");
        Ok(Delivery {
            accepted: envelope
                .to()
                .iter()
                .map(|r| RecipientOutcome {
                    recipient: r.clone(),
                    reply: queued.clone(),
                })
                .collect(),
            rejected: vec![],
            reply: Reply::new(
                250,
                &format!("2.0.0 queued as {} written to {}", entry.id, path.display()),
            ),
        })
    }
}
