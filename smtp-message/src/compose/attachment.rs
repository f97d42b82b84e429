//! [`Attachment`]: a file, bytes or a reader to attach.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::AsyncRead;

use super::SharedReader;
use crate::{Error, validate};

/// A file, bytes or a reader to attach. Base64-encoded while the message
/// is read, so even a large file is never whole in memory.
#[derive(Clone)]
pub struct Attachment {
    pub(crate) name: String,
    pub(crate) content_type: String,
    pub(crate) source: Source,
}

#[derive(Clone)]
pub(crate) enum Source {
    File(Arc<PathBuf>),
    Bytes(Arc<[u8]>),
    Reader(SharedReader),
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::File(p) => format!("file {}", p.display()),
            Source::Bytes(b) => format!("{} bytes", b.len()),
            Source::Reader(_) => "reader".to_string(),
        };
        f.debug_struct("Attachment")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("source", &source)
            .finish()
    }
}

impl Attachment {
    /// A file, streamed from disk each time the message is opened. The
    /// name is the file name; the content type comes from the extension
    /// (`application/octet-stream` when unknown).
    pub fn file(path: impl Into<PathBuf>) -> Attachment {
        let path = path.into();
        Attachment {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "attachment".into()),
            content_type: content_type(&path).to_string(),
            source: Source::File(Arc::new(path)),
        }
    }

    /// Bytes in memory (shared by every message built from the template).
    pub fn bytes(
        name: impl Into<String>,
        content_type: impl Into<String>,
        bytes: impl Into<Vec<u8>>,
    ) -> Attachment {
        Attachment {
            name: name.into(),
            content_type: content_type.into(),
            source: Source::Bytes(Arc::from(bytes.into())),
        }
    }

    /// Any reader. It can be read once: the first [`Composed::open`](crate::Composed::open) of a
    /// message with it takes it, a second open fails with
    /// [`Error::Consumed`]. The message size is then unknown.
    pub fn reader(
        name: impl Into<String>,
        content_type: impl Into<String>,
        reader: impl AsyncRead + Send + Unpin + 'static,
    ) -> Attachment {
        Attachment {
            name: name.into(),
            content_type: content_type.into(),
            source: Source::Reader(Arc::new(Mutex::new(Some(Box::new(reader))))),
        }
    }

    /// Sets the file name shown to the recipient.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the MIME type (`type/subtype`, no parameters).
    pub fn content_type(mut self, ct: impl Into<String>) -> Self {
        self.content_type = ct.into();
        self
    }

    pub(super) fn check(&self) -> Result<(), Error> {
        validate::check_header_value("attachment name", &self.name)?;
        validate::content_type("attachment content type", &self.content_type)
    }
}

/// The content type of a file, from its extension.
fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "pdf" => "application/pdf",
        "json" => "application/json",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "xml" => "application/xml",
        _ => "application/octet-stream",
    }
}
