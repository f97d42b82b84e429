//! The spool directory: `<id>.eml` (the message, written once) and
//! `<id>.json` (its [`Entry`], replaced atomically at each change), both
//! mode 0600, in a directory of mode 0700.
//!
//! Every write goes to a temporary name, is flushed to disk, renamed into
//! place, and the directory is flushed too: a crash at any instant leaves
//! the old file or the new one, never half of either. A message exists
//! once its `.json` does (the `.eml` is written first). Whoever sends a
//! message holds an exclusive lock on its `.eml` (never replaced, so the
//! lock stays with the file), so two runners never send it twice; the
//! lock goes with the process, so a killed runner leaves nothing locked.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use smtp_core::{Envelope, MessageSource};
use tokio::io::AsyncWriteExt;

use crate::entry::{Entry, State, now};
use crate::error::Error;

/// A queue directory.
#[derive(Debug, Clone)]
pub struct Queue {
    dir: PathBuf,
}

/// What [`Queue::list`] finds: entries, and files it could not read
/// (reported, skipped, never deleted).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Listing {
    /// Readable entries, oldest first.
    pub entries: Vec<Entry>,
    /// Metadata files that are truncated or not ours.
    pub corrupt: Vec<Error>,
}

/// An exclusive claim on one queued message (its `.eml` locked).
#[derive(Debug)]
pub struct Claim {
    pub(crate) entry: Entry,
    _lock: File,
}

impl Claim {
    /// The message's entry as it was when claimed.
    pub fn entry(&self) -> &Entry {
        &self.entry
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn new_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}.{:06}-{:x}-{}",
        t.as_secs(),
        t.subsec_micros(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A queue id is a file name of ours: nothing that could leave the
/// directory.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        && !id.starts_with('.')
}

impl Queue {
    /// The queue in `dir`, created (mode 0700) if missing.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Queue, Error> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
        restrict(&dir, 0o700)?;
        Ok(Queue { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The message file of `id`.
    pub fn message_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.eml"))
    }

    fn meta_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Stores a message: streamed to disk, flushed, then made visible.
    /// Returns its entry (state `queued`, due now).
    pub async fn enqueue(
        &self,
        envelope: &Envelope,
        mut message: MessageSource,
        message_id: Option<String>,
    ) -> Result<Entry, Error> {
        let id = new_id();
        let eml = self.message_path(&id);
        let tmp = self.dir.join(format!(".{id}.eml.tmp"));
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .await
            .map_err(Error::io(&tmp))?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut size = 0u64;
        loop {
            let n = message.read(&mut buf).await.map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                Error::Message(smtp_core::Error::Message(e))
            })?;
            if n == 0 {
                break;
            }
            size += n as u64;
            file.write_all(&buf[..n]).await.map_err(Error::io(&tmp))?;
        }
        file.sync_all().await.map_err(Error::io(&tmp))?;
        drop(file);
        std::fs::rename(&tmp, &eml).map_err(Error::io(&eml))?;
        let entry = Entry::new(id, envelope, size, message_id);
        self.write_entry(&entry)?;
        Ok(entry)
    }

    /// Replaces an entry's metadata atomically.
    pub(crate) fn write_entry(&self, entry: &Entry) -> Result<(), Error> {
        let path = self.meta_path(&entry.id);
        let tmp = self.dir.join(format!(".{}.json.tmp", entry.id));
        let bytes = serde_json::to_vec_pretty(entry).map_err(|e| Error::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(Error::io(&tmp))?;
        f.write_all(&bytes).map_err(Error::io(&tmp))?;
        f.sync_all().map_err(Error::io(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(Error::io(&path))?;
        sync_dir(&self.dir)
    }

    /// Every message in the queue, oldest first; unreadable metadata files
    /// are listed apart.
    pub fn list(&self) -> Result<Listing, Error> {
        let mut listing = Listing::default();
        for item in std::fs::read_dir(&self.dir).map_err(Error::io(&self.dir))? {
            let Ok(item) = item else { continue };
            let name = item.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if !valid_id(id) {
                continue;
            }
            match self.read_entry(id) {
                Ok(e) => listing.entries.push(e),
                Err(Error::NotFound { .. }) => {}
                Err(e) => listing.corrupt.push(e),
            }
        }
        listing
            .entries
            .sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        Ok(listing)
    }

    /// One entry.
    pub fn get(&self, id: &str) -> Result<Entry, Error> {
        if !valid_id(id) {
            return Err(Error::NotFound { id: id.into() });
        }
        self.read_entry(id)
    }

    fn read_entry(&self, id: &str) -> Result<Entry, Error> {
        let path = self.meta_path(id);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound { id: id.into() });
            }
            Err(e) => return Err(Error::io(&path)(e)),
        };
        let entry = Entry::parse(&bytes, &path)?;
        if entry.id != id {
            return Err(Error::Corrupt {
                path,
                reason: format!("it names another message ({:?})", entry.id),
            });
        }
        if !self.message_path(id).exists() {
            return Err(Error::Corrupt {
                path,
                reason: "its message file is missing".into(),
            });
        }
        Ok(entry)
    }

    /// Claims `id` for this process (its `.eml` locked), re-reading the
    /// entry under the lock; `Ok(None)` when another process holds it or
    /// it is gone (sent meanwhile).
    pub fn claim(&self, id: &str) -> Result<Option<Claim>, Error> {
        let path = self.message_path(id);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path)(e)),
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path)(e)),
        }
        match self.read_entry(id) {
            Ok(entry) => Ok(Some(Claim { entry, _lock: file })),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Updates a claimed entry.
    pub(crate) fn update(
        &self,
        claim: &mut Claim,
        change: impl FnOnce(&mut Entry),
    ) -> Result<(), Error> {
        change(&mut claim.entry);
        self.write_entry(&claim.entry)
    }

    /// Deletes a claimed message (delivered, or removed by the operator):
    /// the metadata first, so a crash in between leaves only an orphan
    /// message file, which [`Queue::list`] ignores and `clean` removes.
    pub(crate) fn delete(&self, claim: Claim) -> Result<(), Error> {
        let id = claim.entry.id.clone();
        let meta = self.meta_path(&id);
        std::fs::remove_file(&meta).map_err(Error::io(&meta))?;
        sync_dir(&self.dir)?;
        let eml = self.message_path(&id);
        std::fs::remove_file(&eml).map_err(Error::io(&eml))?;
        drop(claim);
        Ok(())
    }

    /// Removes a message (unless it is being sent right now).
    pub fn remove(&self, id: &str) -> Result<Entry, Error> {
        let claim = self.claim_for_operator(id)?;
        let entry = claim.entry.clone();
        self.delete(claim)?;
        Ok(entry)
    }

    /// Keeps a message back until [`Queue::release`].
    pub fn hold(&self, id: &str) -> Result<Entry, Error> {
        let mut claim = self.claim_for_operator(id)?;
        self.update(&mut claim, |e| e.state = State::Held)?;
        Ok(claim.entry)
    }

    /// Makes a held, failed or unknown message due now.
    pub fn release(&self, id: &str) -> Result<Entry, Error> {
        let mut claim = self.claim_for_operator(id)?;
        self.update(&mut claim, |e| {
            e.state = State::Queued;
            e.next_attempt = now();
        })?;
        Ok(claim.entry)
    }

    fn claim_for_operator(&self, id: &str) -> Result<Claim, Error> {
        self.get(id)?;
        self.claim(id)?.ok_or_else(|| Error::Busy { id: id.into() })
    }

    /// Removes leftovers of crashes: temporary files and message files
    /// without metadata, older than an hour. Returns how many.
    pub fn clean(&self) -> Result<usize, Error> {
        let mut removed = 0;
        let hour = std::time::Duration::from_secs(3600);
        for item in std::fs::read_dir(&self.dir).map_err(Error::io(&self.dir))? {
            let Ok(item) = item else { continue };
            let name = item.file_name().to_string_lossy().into_owned();
            let orphan = name
                .strip_suffix(".eml")
                .is_some_and(|id| valid_id(id) && !self.meta_path(id).exists());
            let temporary = name.starts_with('.') && name.ends_with(".tmp");
            let old = item
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > hour));
            if (orphan || temporary) && old && std::fs::remove_file(item.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(Error::io(path))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> Result<(), Error> {
    Ok(())
}

/// Makes renames and removals in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io(dir))?;
    let _ = dir;
    Ok(())
}

/// `OpenOptions::mode` on unix, nothing elsewhere.
trait Mode {
    fn mode(&mut self, mode: u32) -> &mut Self;
}

impl Mode for OpenOptions {
    fn mode(&mut self, mode: u32) -> &mut Self {
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(self, mode);
        let _ = mode;
        self
    }
}

impl Mode for tokio::fs::OpenOptions {
    fn mode(&mut self, mode: u32) -> &mut Self {
        #[cfg(unix)]
        tokio::fs::OpenOptions::mode(self, mode);
        let _ = mode;
        self
    }
}
