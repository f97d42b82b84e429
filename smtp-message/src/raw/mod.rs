//! Reading existing messages: [`RawMessage`] takes recipients from the
//! header block and removes Bcc, streaming the body untouched.

mod head;

use std::fmt;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use smtp_core::{Address, MessageSource};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt};

use crate::Error;
use crate::wire::WireSize;

/// How [`RawMessage`] treats a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawOptions {
    /// Remove every `Bcc` and `Resent-Bcc` field from the header block
    /// (their recipients still count). Default `true`.
    pub strip_bcc: bool,
    /// Largest header block accepted, in bytes. Default 1 MiB.
    pub max_header_bytes: usize,
}

impl RawOptions {
    /// The defaults: strip Bcc, header block up to 1 MiB.
    pub const DEFAULT: RawOptions = RawOptions {
        strip_bcc: true,
        max_header_bytes: 1024 * 1024,
    };

    /// Sets [`RawOptions::strip_bcc`].
    pub const fn strip_bcc(mut self, strip: bool) -> Self {
        self.strip_bcc = strip;
        self
    }

    /// Sets [`RawOptions::max_header_bytes`].
    pub const fn max_header_bytes(mut self, max: usize) -> Self {
        self.max_header_bytes = max;
        self
    }
}

impl Default for RawOptions {
    fn default() -> Self {
        RawOptions::DEFAULT
    }
}

type BoxReader = Box<dyn AsyncRead + Send + Unpin>;

/// An existing RFC 5322 message (what `sendmail -t` reads): the header
/// block is read, CRLF-normalised, parsed and rewritten without Bcc; the
/// body is streamed as it is, never held whole.
///
/// The recipients are parsed from exactly the header bytes that are sent,
/// so the envelope and the content cannot disagree.
pub struct RawMessage {
    head: Arc<[u8]>,
    /// Where the first From field is in `head`, and whether it has a name.
    from_field: Option<(std::ops::Range<usize>, bool)>,
    recipients: Vec<Address>,
    from: Option<Address>,
    message_id: Option<String>,
    has_bcc: bool,
    body: Body,
    /// The private copy [`RawMessage::read_spooled`] made; removed with
    /// the message.
    #[cfg(feature = "dkim")]
    _spool: Option<Arc<tempfile::TempPath>>,
}

enum Body {
    /// The rest of a file, from `offset`; reopened for every open.
    File {
        path: PathBuf,
        offset: u64,
        file_len: u64,
        wire_size: u64,
        eight_bit: bool,
    },
    /// Bytes already read past the header block, then the reader: once.
    Stream(Mutex<Option<(Vec<u8>, BoxReader)>>),
}

impl fmt::Debug for RawMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawMessage")
            .field("recipients", &self.recipients)
            .field("from", &self.from)
            .field("message_id", &self.message_id)
            .field("has_bcc", &self.has_bcc)
            .field("header_bytes", &self.head.len())
            .finish_non_exhaustive()
    }
}

impl RawMessage {
    /// Reads a message from a stream: the header block now, the body when
    /// the message is opened (once).
    pub async fn read(
        reader: impl AsyncRead + Send + Unpin + 'static,
        options: &RawOptions,
    ) -> Result<RawMessage, Error> {
        let mut reader = reader;
        let (raw_head, rest) = head::read_head(&mut reader, options.max_header_bytes).await?;
        let body = Body::Stream(Mutex::new(Some((rest, Box::new(reader) as BoxReader))));
        RawMessage::new(&raw_head, body, options)
    }

    /// Reads a message from a stream that can be read only once (a pipe)
    /// into a private temporary file (mode 0600, removed with the message),
    /// so that it can be opened again: signing reads a message twice.
    /// Like [`RawMessage::from_file`] on that copy.
    #[cfg(feature = "dkim")]
    pub async fn read_spooled(
        mut reader: impl AsyncRead + Send + Unpin + 'static,
        options: &RawOptions,
    ) -> Result<RawMessage, Error> {
        let spool = tempfile::NamedTempFile::new()
            .map_err(Error::Io)?
            .into_temp_path();
        let mut file = tokio::fs::File::create(&spool)
            .await
            .map_err(Error::file(spool.to_path_buf()))?;
        tokio::io::copy(&mut reader, &mut file)
            .await
            .map_err(Error::file(spool.to_path_buf()))?;
        drop(file);
        let mut raw = RawMessage::from_file(&spool, options).await?;
        raw._spool = Some(Arc::new(spool));
        Ok(raw)
    }

    /// Reads a message from a file. The body is scanned once (streaming)
    /// for its size and 8-bit bytes; every [`open`](RawMessage::open)
    /// reopens the file.
    pub async fn from_file(
        path: impl AsRef<Path>,
        options: &RawOptions,
    ) -> Result<RawMessage, Error> {
        let path = path.as_ref();
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(Error::file(path))?;
        let (raw_head, rest) = head::read_head(&mut file, options.max_header_bytes)
            .await
            .map_err(|e| match e {
                Error::Io(source) => Error::File {
                    path: path.to_path_buf(),
                    source,
                },
                other => other,
            })?;
        let (mut wire, mut eight_bit) = (WireSize::default(), !rest.is_ascii());
        wire.feed(&rest);
        let mut body_len = rest.len() as u64;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file.read(&mut buf).await.map_err(Error::file(path))?;
            if n == 0 {
                break;
            }
            wire.feed(&buf[..n]);
            eight_bit |= !buf[..n].is_ascii();
            body_len += n as u64;
        }
        let offset = raw_head.len() as u64;
        let body = Body::File {
            path: path.to_path_buf(),
            offset,
            file_len: offset + body_len,
            wire_size: wire.finish(),
            eight_bit,
        };
        RawMessage::new(&raw_head, body, options)
    }

    fn new(raw_head: &[u8], body: Body, options: &RawOptions) -> Result<RawMessage, Error> {
        let normalized = head::normalize(raw_head)?;
        let parsed = head::parse(&normalized)?;
        let has_bcc = !parsed.bcc_fields.is_empty();
        let head = if options.strip_bcc {
            head::cut(&normalized, &parsed.bcc_fields)?
        } else {
            normalized
        };
        // Cutting Bcc fields moves what follows them: parse the final block.
        let from_field = head::parse(&head)?.from_field;
        Ok(RawMessage {
            head: Arc::from(head),
            from_field,
            recipients: parsed.recipients,
            from: parsed.from,
            message_id: parsed.message_id,
            has_bcc,
            body,
            #[cfg(feature = "dkim")]
            _spool: None,
        })
    }

    /// Every address in To, Cc and Bcc, in order, duplicates removed.
    pub fn recipients(&self) -> &[Address] {
        &self.recipients
    }

    /// The first address of `From`, when present and valid (a default
    /// envelope sender).
    pub fn from(&self) -> Option<&Address> {
        self.from.as_ref()
    }

    /// The Message-ID, without `<>`.
    pub fn message_id(&self) -> Option<&str> {
        self.message_id.as_deref()
    }

    /// Gives the sender a full name (sendmail's `-F`): a From field
    /// without a display name is rewritten as `From: name <its address>`;
    /// a message without From gets `From: name <sender>`; a From that
    /// already has a name is left as it is. The name is checked like any
    /// header value (no CR, LF or NUL) and RFC 2047-encoded when it is
    /// not plain ASCII.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use smtp_message::{RawMessage, RawOptions};
    /// let raw = b"From: ann@example.com\r\nTo: bob@example.com\r\n\r\nhi\r\n";
    /// let mut m = RawMessage::read(&raw[..], &RawOptions::default()).await.unwrap();
    /// let sender = smtp_core::Address::new("ann@example.com").unwrap();
    /// m.set_sender_name("Ann Example", &sender).unwrap();
    /// assert!(m.header_block().starts_with(b"From: \"Ann Example\" <ann@example.com>\r\n"));
    /// # });
    /// ```
    pub fn set_sender_name(&mut self, name: &str, sender: &Address) -> Result<(), Error> {
        crate::validate::check_header_value("sender full name", name)?;
        let (range, address) = match &self.from_field {
            Some((_, true)) => return Ok(()),
            Some((range, false)) => match &self.from {
                Some(from) => (range.clone(), from.clone()),
                // A From we could not read: leave it alone.
                None => return Ok(()),
            },
            None => (0..0, sender.clone()),
        };
        let mut field = b"From: ".to_vec();
        use mail_builder::headers::Header;
        mail_builder::headers::address::Address::new_address(Some(name), address.as_str())
            .write_header(&mut field, 6)
            .map_err(Error::Io)?;
        let mut head = Vec::with_capacity(self.head.len() + field.len());
        head.extend_from_slice(&self.head[..range.start]);
        head.extend_from_slice(&field);
        head.extend_from_slice(&self.head[range.end..]);
        let parsed = head::parse(&head)?;
        self.from_field = parsed.from_field;
        self.from = parsed.from;
        self.head = Arc::from(head);
        Ok(())
    }

    /// The header block as it will be sent (Bcc removed, line ends CRLF).
    pub fn header_block(&self) -> &[u8] {
        &self.head
    }

    /// Whether the message had a Bcc or Resent-Bcc field (removed when
    /// [`RawOptions::strip_bcc`]).
    pub fn has_bcc(&self) -> bool {
        self.has_bcc
    }

    /// Opens the message for sending: the rewritten header block, then the
    /// body. From a file: any number of times (the file is reopened; one
    /// whose size changed is refused with [`Error::Changed`]). From a
    /// stream: once, then [`Error::Consumed`].
    pub async fn open(&self) -> Result<MessageSource, Error> {
        let head = Cursor::new(self.head.clone());
        let head_eight_bit = !self.head.is_ascii();
        match &self.body {
            Body::File {
                path,
                offset,
                file_len,
                wire_size,
                eight_bit,
            } => {
                let mut file = tokio::fs::File::open(path)
                    .await
                    .map_err(Error::file(path))?;
                let now = file.metadata().await.map_err(Error::file(path))?.len();
                if now != *file_len {
                    return Err(Error::Changed {
                        path: path.clone(),
                        expected: *file_len,
                        actual: now,
                    });
                }
                file.seek(std::io::SeekFrom::Start(*offset))
                    .await
                    .map_err(Error::file(path))?;
                let size = self.head.len() as u64 + wire_size;
                Ok(MessageSource::from_reader(head.chain(file), Some(size))
                    .with_eight_bit(head_eight_bit || *eight_bit))
            }
            Body::Stream(slot) => {
                let (rest, reader) = slot
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .ok_or_else(|| Error::Consumed {
                        what: "raw message".into(),
                    })?;
                let source =
                    MessageSource::from_reader(head.chain(Cursor::new(rest)).chain(reader), None);
                Ok(if head_eight_bit {
                    source.with_eight_bit(true)
                } else {
                    source
                })
            }
        }
    }
}
