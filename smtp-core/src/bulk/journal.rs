//! A journal of what a bulk run got done, so the same run can be started
//! again after an interrupt and send only what was not accepted.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What the journal knows of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recorded {
    /// The server accepted it (for at least one recipient).
    Sent,
    /// The connection broke after its end of data: it may have arrived.
    Unknown,
}

impl Recorded {
    fn word(self) -> &'static str {
        match self {
            Recorded::Sent => "sent",
            Recorded::Unknown => "unknown",
        }
    }
}

/// An append-only file with one line per message that was accepted or
/// whose outcome is unknown: `sent<TAB>key` or `unknown<TAB>key`.
///
/// Each line is one `write` to a file opened for appending, made the
/// moment the outcome is known, so a killed process loses nothing the
/// server accepted. Keys are kept as 64-bit hashes, so a million entries
/// take a few MiB.
///
/// ```
/// use smtp_core::bulk::{Journal, Recorded};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("run.journal");
/// Journal::open(&path).unwrap().record("ops@example.com", Recorded::Sent).unwrap();
/// let again = Journal::open(&path).unwrap();
/// assert_eq!(again.recorded("ops@example.com"), Some(Recorded::Sent));
/// assert_eq!(again.recorded("dev@example.com"), None);
/// ```
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<std::fs::File>,
    seen: Mutex<HashMap<u64, Recorded>>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` and reads what it holds.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Journal> {
        let path = path.as_ref().to_path_buf();
        let mut seen = HashMap::new();
        let mut ends_cut = false;
        match std::fs::File::open(&path) {
            Ok(f) => {
                for line in std::io::BufReader::new(f).split(b'\n') {
                    let line = line?;
                    ends_cut = !line.is_empty();
                    // A line cut short by a crash has no newline and may be
                    // partial: the split still yields it, and it is taken
                    // only if it parses.
                    if let Some((state, key)) = parse(&line) {
                        seen.insert(hash(&key), state);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        // `split` cannot tell whether the last line had its newline: ask
        // the file, and end a cut line so the next entry starts afresh.
        if ends_cut && !ends_with_newline(&path)? {
            file.write_all(b"\n")?;
        }
        Ok(Journal {
            path,
            file: Mutex::new(file),
            seen: Mutex::new(seen),
        })
    }

    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What an earlier run recorded for `key`.
    pub fn recorded(&self, key: &str) -> Option<Recorded> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(&hash(key)).copied()
    }

    /// How many messages the journal holds.
    pub fn len(&self) -> usize {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// True when the journal holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends one line, now.
    pub fn record(&self, key: &str, state: Recorded) -> std::io::Result<()> {
        let mut line = Vec::with_capacity(key.len() + 10);
        line.extend_from_slice(state.word().as_bytes());
        line.push(b'\t');
        escape(key, &mut line);
        line.push(b'\n');
        {
            let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
            file.write_all(&line)?;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.insert(hash(key), state);
        Ok(())
    }

    /// Flushes the file to disk (at the end of a run).
    pub fn sync(&self) -> std::io::Result<()> {
        let file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.sync_data()
    }
}

fn ends_with_newline(path: &Path) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    if f.seek(SeekFrom::End(0))? == 0 {
        return Ok(true);
    }
    f.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

fn hash(key: &str) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// Keys are labels (addresses, file names): tab, newline and backslash
/// are escaped so one line is always one entry.
fn escape(key: &str, out: &mut Vec<u8>) {
    for b in key.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

fn parse(line: &[u8]) -> Option<(Recorded, String)> {
    let tab = line.iter().position(|&b| b == b'\t')?;
    let state = match &line[..tab] {
        b"sent" => Recorded::Sent,
        b"unknown" => Recorded::Unknown,
        _ => return None,
    };
    let mut key = Vec::with_capacity(line.len() - tab);
    let mut bytes = line[tab + 1..].iter();
    while let Some(&b) = bytes.next() {
        if b != b'\\' {
            key.push(b);
            continue;
        }
        match bytes.next()? {
            b'\\' => key.push(b'\\'),
            b't' => key.push(b'\t'),
            b'n' => key.push(b'\n'),
            b'r' => key.push(b'\r'),
            _ => return None,
        }
    }
    Some((state, String::from_utf8(key).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_tabs_newlines_and_backslashes_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let keys = ["a@b.c", "odd\tname\nwith\\slash", "/path/to/msg 1.eml"];
        let j = Journal::open(&path).unwrap();
        for k in keys {
            j.record(k, Recorded::Sent).unwrap();
        }
        j.record("maybe@b.c", Recorded::Unknown).unwrap();
        let again = Journal::open(&path).unwrap();
        assert_eq!(again.len(), 4);
        for k in keys {
            assert_eq!(again.recorded(k), Some(Recorded::Sent), "{k:?}");
        }
        assert_eq!(again.recorded("maybe@b.c"), Some(Recorded::Unknown));
        assert_eq!(again.recorded("odd"), None);
    }

    #[test]
    fn a_line_cut_short_by_a_crash_is_ignored_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        std::fs::write(&path, "sent\tone@x.test\nsen").unwrap();
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.len(), 1);
        assert_eq!(j.recorded("one@x.test"), Some(Recorded::Sent));
        j.record("two@x.test", Recorded::Sent).unwrap();
        let again = Journal::open(&path).unwrap();
        assert_eq!(again.recorded("two@x.test"), Some(Recorded::Sent));
    }
}
