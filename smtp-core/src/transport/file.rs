//! Writes messages into a directory: the outbox used when no server is
//! configured, and a way to inspect what would be sent.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;

use super::Transport;
use super::memory::accept_all;
use crate::address::Envelope;
use crate::delivery::Delivery;
use crate::error::Error;
use crate::message::MessageSource;
use crate::reply::Reply;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Stores each message as `<id>.eml` with its envelope beside it in
/// `<id>.envelope` (`MAIL FROM:<..>` / `RCPT TO:<..>` lines).
///
/// Files appear atomically (written under a temporary name, then renamed),
/// so a reader never sees half a message.
#[derive(Debug, Clone)]
pub struct FileTransport {
    dir: PathBuf,
}

impl FileTransport {
    /// An outbox in `dir` (created when the first message is written).
    pub fn new(dir: impl Into<PathBuf>) -> FileTransport {
        FileTransport { dir: dir.into() }
    }

    /// The outbox directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes the message and returns the path of the `.eml` file.
    pub async fn write(
        &self,
        envelope: &Envelope,
        mut message: MessageSource,
    ) -> Result<PathBuf, Error> {
        let outbox = |source| Error::Outbox {
            path: self.dir.display().to_string(),
            source,
        };
        tokio::fs::create_dir_all(&self.dir).await.map_err(outbox)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let id = format!(
            "{}.{:06}-{}-{}",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let eml = self.dir.join(format!("{id}.eml"));
        let tmp = self.dir.join(format!(".{id}.eml.tmp"));
        let mut file = tokio::fs::File::create(&tmp).await.map_err(outbox)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = message.read(&mut buf).await.map_err(Error::Message)?;
            if n == 0 {
                break;
            }
            file.write_all(&buf[..n]).await.map_err(outbox)?;
        }
        file.sync_all().await.map_err(outbox)?;
        drop(file);
        let mut env = format!(
            "MAIL FROM:<{}>\n",
            envelope.from().map(|a| a.as_str()).unwrap_or("")
        );
        for r in envelope.to() {
            env.push_str(&format!("RCPT TO:<{r}>\n"));
        }
        tokio::fs::write(self.dir.join(format!("{id}.envelope")), env)
            .await
            .map_err(outbox)?;
        tokio::fs::rename(&tmp, &eml).await.map_err(outbox)?;
        Ok(eml)
    }
}

#[async_trait]
impl Transport for FileTransport {
    async fn send(&self, envelope: &Envelope, message: MessageSource) -> Result<Delivery, Error> {
        let path = self.write(envelope, message).await?;
        Ok(accept_all(
            envelope,
            Reply::new(250, &format!("2.0.0 written to {}", path.display())),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;

    #[tokio::test]
    async fn writes_message_and_envelope() {
        let dir = tempfile::tempdir().unwrap();
        let t = FileTransport::new(dir.path().join("outbox"));
        let env = Envelope::new(
            Some(Address::new("a@b.c").unwrap()),
            vec![
                Address::new("x@y.z").unwrap(),
                Address::new("q@y.z").unwrap(),
            ],
        )
        .unwrap();
        let d = t
            .send(
                &env,
                MessageSource::from_bytes("Subject: hi\r\n\r\nbody\r\n"),
            )
            .await
            .unwrap();
        assert_eq!(d.accepted.len(), 2);
        let mut names: Vec<_> = std::fs::read_dir(t.dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        let eml = names
            .iter()
            .find(|p| p.extension().unwrap() == "eml")
            .unwrap();
        assert_eq!(std::fs::read(eml).unwrap(), b"Subject: hi\r\n\r\nbody\r\n");
        let envelope = names
            .iter()
            .find(|p| p.extension().unwrap() == "envelope")
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(envelope).unwrap(),
            "MAIL FROM:<a@b.c>\nRCPT TO:<x@y.z>\nRCPT TO:<q@y.z>\n"
        );
    }
}
