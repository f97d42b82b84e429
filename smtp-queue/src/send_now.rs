//! Queue on failure, msmtpq's way: messages are stored first (on disk,
//! flushed), then sent from the queue at once; what cannot go now stays
//! queued, what is refused for good is reported and dropped.

use std::collections::HashSet;
use std::sync::Arc;

use smtp_core::Transport;
use smtp_core::bulk::Job;

use crate::error::Error;
use crate::flush::{Event, FlushOptions, FlushReport};
use crate::spool::Queue;

impl Queue {
    /// Stores every job, then sends them at once through `transport`
    /// (see [`Queue::send_stored`]). A dead server or a crash between the
    /// two loses nothing, and a message read from a pipe can still be
    /// retried later.
    pub async fn store_and_send(
        &self,
        jobs: impl IntoIterator<Item = Job>,
        transport: Arc<dyn Transport>,
        options: &FlushOptions,
        on_event: impl FnMut(Event),
    ) -> Result<FlushReport, Error> {
        let mut ids = HashSet::new();
        for job in jobs {
            let source = job.message.open().await.map_err(Error::Message)?;
            let entry = self.enqueue(&job.envelope, source, Some(job.key)).await?;
            ids.insert(entry.id);
        }
        self.send_stored(ids, transport, options, on_event).await
    }

    /// Sends the stored messages `ids` now, due or not. A message refused
    /// for good is reported, then removed: the caller told its user, and
    /// the queue keeps only what may still go.
    pub async fn send_stored(
        &self,
        ids: HashSet<String>,
        transport: Arc<dyn Transport>,
        options: &FlushOptions,
        mut on_event: impl FnMut(Event),
    ) -> Result<FlushReport, Error> {
        let mut options = options.clone();
        options.ignore_schedule = true;
        options.only = Some(ids);
        let mut refused = Vec::new();
        let report = self
            .flush(transport, &options, None, |event| {
                if let Event::Failed { entry, .. } = &event {
                    refused.push(entry.id.clone());
                }
                on_event(event);
            })
            .await?;
        for id in refused {
            self.remove(&id)?;
        }
        Ok(report)
    }
}
