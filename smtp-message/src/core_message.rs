//! Composed and raw messages as smtp-core [`Message`]s: what the bulk
//! sender and a queue open again for every attempt.

use async_trait::async_trait;
use smtp_core::{Message, MessageSource};

use crate::{Composed, Error, RawMessage};

/// Reading a message that was valid when built can still fail (a file
/// removed or changed meanwhile, a pipe read twice): the engine reports it
/// as a message that could not be read, naming what went wrong.
fn unreadable(e: Error) -> smtp_core::Error {
    match e {
        Error::Io(io) => smtp_core::Error::Message(io),
        other => smtp_core::Error::Message(std::io::Error::other(other.to_string())),
    }
}

#[async_trait]
impl Message for Composed {
    async fn open(&self) -> Result<MessageSource, smtp_core::Error> {
        Composed::open(self).await.map_err(unreadable)
    }
}

#[async_trait]
impl Message for RawMessage {
    async fn open(&self) -> Result<MessageSource, smtp_core::Error> {
        RawMessage::open(self).await.map_err(unreadable)
    }
}
