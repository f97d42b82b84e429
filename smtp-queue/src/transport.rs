//! The queue as a [`Transport`]: `send` stores the message and answers at
//! once; a runner ([`Queue::flush`]) delivers it later. What the CLI uses
//! as its outbox when no server is configured.

use std::sync::Arc;

use async_trait::async_trait;
use smtp_core::{Delivery, Envelope, Error, MessageSource, Reply, Transport};

use crate::flush::{Event, FlushOptions};
use crate::spool::Queue;

/// Stores every message in a [`Queue`]: only that (an outbox), or that
/// and then an attempt through an inner transport ([`QueueTransport::
/// delivering`]), msmtpq's way: the message is on disk before anything is
/// tried, so a dead server or a crash loses nothing.
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
#[derive(Clone)]
pub struct QueueTransport {
    queue: Queue,
    inner: Option<Arc<dyn Transport>>,
    options: FlushOptions,
}

impl std::fmt::Debug for QueueTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueTransport")
            .field("queue", &self.queue)
            .field("delivering", &self.inner.is_some())
            .finish()
    }
}

impl QueueTransport {
    /// A transport that only queues into `queue` (an outbox).
    pub fn new(queue: Queue) -> QueueTransport {
        QueueTransport {
            queue,
            inner: None,
            options: FlushOptions::default(),
        }
    }

    /// A decorator: each message is queued, then sent at once through
    /// `inner`. Sent: it leaves the queue and `send` returns the server's
    /// answer. Refused for good: it leaves the queue and `send` returns the
    /// error. Anything else (server unreachable, 4xx, unknown outcome): it
    /// stays queued for a runner ([`Queue::flush`]) and `send` succeeds
    /// with a reply saying so ([`QueueTransport::queued_id`] reads it).
    pub fn delivering(
        queue: Queue,
        inner: Arc<dyn Transport>,
        options: FlushOptions,
    ) -> QueueTransport {
        QueueTransport {
            queue,
            inner: Some(inner),
            options,
        }
    }

    /// The queue id when `delivery` is this transport's "kept for later"
    /// answer, `None` when the server took the message.
    pub fn queued_id(delivery: &Delivery) -> Option<String> {
        let text = delivery.reply.text();
        let rest = text.strip_prefix("queued as ")?;
        rest.split_whitespace().next().map(str::to_string)
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
        let Some(inner) = &self.inner else {
            let why = format!("written to {}", path.display());
            return Ok(kept(envelope, &entry.id, &why));
        };
        let mut result = None;
        let ids = [entry.id.clone()].into_iter().collect();
        self.queue
            .send_stored(ids, inner.clone(), &self.options, |event| {
                result = Some(match event {
                    Event::Sent { delivery, .. } => Ok(delivery),
                    Event::Failed { error, .. } => Err(error),
                    Event::Deferred { entry, error } => Ok(kept(
                        envelope,
                        &entry.id,
                        &format!("for later delivery: {error}"),
                    )),
                    Event::Unknown { entry, detail } => Ok(kept(
                        envelope,
                        &entry.id,
                        &format!("outcome unknown: {detail}"),
                    )),
                    other => Ok(kept(envelope, &entry.id, &format!("{other:?}"))),
                });
            })
            .await
            .map_err(|e| Error::Outbox {
                path: self.queue.dir().display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })?;
        match result {
            Some(Err(error)) => Err(error),
            Some(Ok(delivery)) => Ok(delivery),
            // Claimed by another runner meanwhile: it is in good hands.
            None => Ok(kept(envelope, &entry.id, "a queue runner is sending it")),
        }
    }
}

/// The answer for a message that is safe in the queue but not delivered.
fn kept(envelope: &Envelope, id: &str, why: &str) -> Delivery {
    Delivery::to_all(
        envelope,
        Reply::new(250, "2.0.0 queued"),
        Reply::new(250, &format!("2.0.0 queued as {id} {why}")),
    )
}
