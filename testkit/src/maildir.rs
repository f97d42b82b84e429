//! Waiting for a delivered message in a Maildir.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(50);

/// Polls `maildir/new` and `maildir/cur` until at least one message contains
/// `needle`, and returns the bytes of every message that does.
///
/// Postfix delivers after its `250` reply (asynchronously), so a test that
/// just sent a message polls; put something unique in the message (see
/// [`crate::unique_tag`]) because the Maildir is shared by every test.
///
/// This blocks the calling thread: call it from a synchronous test, from
/// `tokio::task::spawn_blocking`, or use [`wait_for_mail_async`] from async
/// code (blocking a current-thread runtime would stall the server tasks of
/// the same test).
///
/// # Panics
///
/// When no message matches within `timeout`, or a message cannot be read
/// (Maildir files are mode 0600, owned by `nobody`: run the tests as root).
pub fn wait_for_mail(maildir: &Path, needle: &str, timeout: Duration) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    // Maildir files never change once in new/ or cur/ (moving renames them),
    // so a file that did not match is never read again.
    let mut seen: HashSet<OsString> = HashSet::new();
    let mut found: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    loop {
        for sub in ["new", "cur"] {
            let dir = maildir.join(sub);
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => panic!("cannot list {}: {e}", dir.display()),
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                if seen.contains(&name) {
                    continue;
                }
                let bytes = match std::fs::read(entry.path()) {
                    Ok(b) => b,
                    // moved from new/ to cur/ by someone between list and read
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => panic!(
                        "cannot read {}: {e} (Maildir files belong to `nobody`, mode 0600: run the tests as root)",
                        entry.path().display()
                    ),
                };
                seen.insert(name);
                if contains(&bytes, needle.as_bytes()) {
                    found.push((entry.path(), bytes));
                }
            }
        }
        if !found.is_empty() {
            found.sort_by(|a, b| a.0.cmp(&b.0));
            return found.into_iter().map(|(_, b)| b).collect();
        }
        if Instant::now() >= deadline {
            panic!(
                "no message containing {needle:?} arrived in {} within {timeout:?} ({} other messages there)",
                maildir.display(),
                seen.len()
            );
        }
        std::thread::sleep(POLL);
    }
}

/// Waits until exactly `expected` messages containing `needle` are in
/// `maildir` (a server may deliver a moment after the client is done), and
/// returns them.
///
/// # Panics
///
/// When the count is still different after `timeout`, naming both counts;
/// as [`wait_for_mail`] when none arrives at all.
pub fn wait_for_mail_count(
    maildir: &Path,
    needle: &str,
    expected: usize,
    timeout: Duration,
) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    loop {
        let found = wait_for_mail(maildir, needle, timeout);
        if found.len() == expected {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{} has {} messages containing {needle:?}, expected {expected}",
            maildir.display(),
            found.len()
        );
        std::thread::sleep(POLL);
    }
}

/// [`wait_for_mail`] for async tests: runs it on tokio's blocking pool.
///
/// # Panics
///
/// As [`wait_for_mail`] (the panic is carried over to the caller).
pub async fn wait_for_mail_async(
    maildir: impl Into<PathBuf>,
    needle: impl Into<String>,
    timeout: Duration,
) -> Vec<Vec<u8>> {
    let maildir = maildir.into();
    let needle = needle.into();
    match tokio::task::spawn_blocking(move || wait_for_mail(&maildir, &needle, timeout)).await {
        Ok(found) => found,
        Err(e) => match e.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(e) => panic!("wait_for_mail task failed: {e}"),
        },
    }
}

/// Removes every message containing `needle` from `maildir` (a test that
/// delivered tens of MiB cleans up, so other tests' searches stay fast).
/// Returns how many were removed.
pub fn remove_mail(maildir: &Path, needle: &str) -> usize {
    let mut removed = 0;
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(maildir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let hit =
                std::fs::read(entry.path()).is_ok_and(|bytes| contains(&bytes, needle.as_bytes()));
            if hit && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maildir() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir(d.path().join(sub)).unwrap();
        }
        d
    }

    #[test]
    fn finds_every_match_in_new_and_cur() {
        let d = maildir();
        std::fs::write(d.path().join("new/1"), b"Subject: tag-a\r\n\r\nx").unwrap();
        std::fs::write(d.path().join("cur/2:2,S"), b"Subject: tag-a again").unwrap();
        std::fs::write(d.path().join("new/3"), b"Subject: other").unwrap();
        let found = wait_for_mail(d.path(), "tag-a", Duration::from_secs(1));
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|m| contains(m, b"tag-a")));
    }

    #[test]
    fn waits_for_a_late_delivery() {
        let d = maildir();
        let path = d.path().to_owned();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            std::fs::write(path.join("tmp/9"), b"late-tag").unwrap();
            std::fs::rename(path.join("tmp/9"), path.join("new/9")).unwrap();
        });
        let found = wait_for_mail(d.path(), "late-tag", Duration::from_secs(5));
        writer.join().unwrap();
        assert_eq!(found, vec![b"late-tag".to_vec()]);
    }

    #[test]
    #[should_panic(expected = "no message containing \"absent\"")]
    fn panics_on_timeout() {
        let d = maildir();
        std::fs::write(d.path().join("new/1"), b"something else").unwrap();
        wait_for_mail(d.path(), "absent", Duration::from_millis(200));
    }

    #[tokio::test]
    async fn async_variant_finds_and_carries_panics() {
        let d = maildir();
        std::fs::write(d.path().join("new/1"), b"async-tag").unwrap();
        let found = wait_for_mail_async(d.path(), "async-tag", Duration::from_secs(1)).await;
        assert_eq!(found.len(), 1);
        let path = d.path().to_owned();
        let res = tokio::spawn(async move {
            wait_for_mail_async(path, "nope", Duration::from_millis(100)).await
        })
        .await;
        assert!(res.unwrap_err().is_panic());
    }
}
