//! [`Composed`]: a built message, and the reader that streams it with
//! every attachment base64-encoded on the fly.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use base64::Engine;
use smtp_core::{Envelope, MessageSource};
use tokio::io::{AsyncRead, ReadBuf};

use super::{Checked, Composer, Source, mime};
use crate::{Error, wire};

/// Input bytes per base64 line (76 characters).
const LINE_IN: usize = 57;
/// Input read from an attachment at once: 1024 lines (57 KiB in, 78 KiB out).
const CHUNK_IN: usize = LINE_IN * 1024;

/// A message built by [`Composer::build`]: validated and laid out, ready to
/// be opened (and reopened, for retries) as a [`MessageSource`].
pub struct Composed {
    envelope: Envelope,
    message_id: String,
    /// The header block, then the body pieces around the attachments.
    pieces: Vec<Arc<[u8]>>,
    parts: Vec<Part>,
    size: Option<u64>,
    eight_bit: bool,
}

/// One attachment of a built message.
struct Part {
    name: String,
    source: Source,
    /// Size of the content, when known (files: metadata at build time).
    len: Option<u64>,
}

impl fmt::Debug for Composed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Composed")
            .field("envelope", &self.envelope)
            .field("message_id", &self.message_id)
            .field("size", &self.size)
            .field("attachments", &self.parts.len())
            .finish_non_exhaustive()
    }
}

impl Composed {
    pub(super) fn new(c: &Composer, checked: Checked) -> Result<Composed, Error> {
        let layout = mime::layout(c, &checked)?;
        let mut parts = Vec::with_capacity(c.fixed.attachments.len());
        for a in &c.fixed.attachments {
            let len = match &a.source {
                Source::File(path) => {
                    let meta =
                        std::fs::metadata(path.as_path()).map_err(Error::file(path.as_path()))?;
                    if !meta.is_file() {
                        return Err(Error::File {
                            path: path.to_path_buf(),
                            source: io::Error::other("not a regular file"),
                        });
                    }
                    Some(meta.len())
                }
                Source::Bytes(b) => Some(b.len() as u64),
                Source::Reader(_) => None,
            };
            parts.push(Part {
                name: a.name.clone(),
                source: a.source.clone(),
                len,
            });
        }
        let pieces = layout.pieces;
        let fixed: u64 = pieces.iter().map(|p| p.len() as u64).sum();
        let size = parts
            .iter()
            .try_fold(fixed, |acc, p| Some(acc + wire::base64_len(p.len?)));
        // Attachments are base64 (ASCII): only the fixed pieces can be 8-bit,
        // when an address has raw UTF-8 or an extra header has non-ASCII.
        let eight_bit = pieces.iter().any(|p| !p.is_ascii());
        Ok(Composed {
            envelope: checked.envelope,
            message_id: layout.message_id,
            pieces,
            parts,
            size,
            eight_bit,
        })
    }

    /// The envelope: the sender and every To, Cc and Bcc recipient
    /// (duplicates removed, in order).
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The Message-ID, without `<>`.
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    /// The exact size on the wire, when every attachment's size is known
    /// (files and bytes; not readers).
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Opens the message for sending. Can be called again and again (for
    /// retries): files are reopened each time. A reader attachment can be
    /// read once; opening again fails with [`Error::Consumed`].
    ///
    /// A file whose size changed since [`Composer::build`] is refused
    /// ([`Error::Changed`]), and one that changes while it is read fails the
    /// read, so the size announced to the server is never wrong.
    pub async fn open(&self) -> Result<MessageSource, Error> {
        let mut readers: Vec<PartReader> = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            let reader: Box<dyn AsyncRead + Send + Unpin> = match &p.source {
                Source::File(path) => {
                    let file = tokio::fs::File::open(path.as_path())
                        .await
                        .map_err(Error::file(path.as_path()))?;
                    let now = file
                        .metadata()
                        .await
                        .map_err(Error::file(path.as_path()))?
                        .len();
                    let expected = p.len.unwrap_or(now);
                    if now != expected {
                        return Err(Error::Changed {
                            path: path.to_path_buf(),
                            expected,
                            actual: now,
                        });
                    }
                    Box::new(file)
                }
                Source::Bytes(b) => Box::new(io::Cursor::new(b.clone())),
                Source::Reader(_) => Box::new(tokio::io::empty()),
            };
            readers.push(PartReader {
                reader,
                expected: p.len,
            });
        }
        // Readers last, so a failing file does not use them up.
        for (p, r) in self.parts.iter().zip(&mut readers) {
            if let Source::Reader(shared) = &p.source {
                let taken = shared.lock().unwrap_or_else(|e| e.into_inner()).take();
                r.reader = taken.ok_or_else(|| Error::Consumed {
                    what: format!("attachment {:?}", p.name),
                })?;
            }
        }
        // The base64 buffers only serve attachments: a message without
        // any (one per recipient in bulk sends) skips their 57 KiB zero
        // fill and the 76 KiB reservation.
        let (input, out) = if readers.is_empty() {
            (Box::default(), Vec::new())
        } else {
            (
                vec![0; CHUNK_IN].into_boxed_slice(),
                Vec::with_capacity(CHUNK_IN / LINE_IN * 78),
            )
        };
        let reader = ComposedReader {
            pieces: self.pieces.clone(),
            parts: readers,
            state: State::Piece { idx: 0, pos: 0 },
            input,
            in_len: 0,
            out,
            out_pos: 0,
        };
        Ok(MessageSource::from_reader(reader, self.size).with_eight_bit(self.eight_bit))
    }
}

struct PartReader {
    reader: Box<dyn AsyncRead + Send + Unpin>,
    expected: Option<u64>,
}

enum State {
    /// Copying fixed piece `idx` from `pos`: piece 0 is the header block,
    /// piece `i + 1` comes before attachment `i`.
    Piece {
        idx: usize,
        pos: usize,
    },
    /// Encoding attachment `idx`, `read` bytes of it so far.
    Part {
        idx: usize,
        read: u64,
    },
    Done,
}

/// The message as an `AsyncRead`: fixed pieces, and between them each
/// attachment read in chunks and base64-encoded line by line. Holds at most
/// one input chunk and its encoding.
struct ComposedReader {
    pieces: Vec<Arc<[u8]>>,
    parts: Vec<PartReader>,
    state: State,
    input: Box<[u8]>,
    in_len: usize,
    out: Vec<u8>,
    out_pos: usize,
}

impl ComposedReader {
    /// Encodes `input[..n]` as base64 lines into `out`.
    fn encode(&mut self, n: usize) {
        self.out.clear();
        self.out_pos = 0;
        for line in self.input[..n].chunks(LINE_IN) {
            let start = self.out.len();
            self.out.resize(start + line.len().div_ceil(3) * 4, 0);
            let written = base64::engine::general_purpose::STANDARD
                .encode_slice(line, &mut self.out[start..])
                .expect("buffer sized for the encoding");
            self.out.truncate(start + written);
            self.out.extend_from_slice(b"\r\n");
        }
    }
}

impl AsyncRead for ComposedReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.out_pos < this.out.len() {
                let n = buf.remaining().min(this.out.len() - this.out_pos);
                buf.put_slice(&this.out[this.out_pos..this.out_pos + n]);
                this.out_pos += n;
                return Poll::Ready(Ok(()));
            }
            match this.state {
                State::Piece { idx, pos } => {
                    let piece = &this.pieces[idx];
                    if pos < piece.len() {
                        let n = buf.remaining().min(piece.len() - pos);
                        buf.put_slice(&piece[pos..pos + n]);
                        this.state = State::Piece { idx, pos: pos + n };
                        return Poll::Ready(Ok(()));
                    }
                    this.state = match idx {
                        0 => State::Piece { idx: 1, pos: 0 },
                        _ if idx - 1 < this.parts.len() => {
                            this.in_len = 0;
                            State::Part {
                                idx: idx - 1,
                                read: 0,
                            }
                        }
                        _ => State::Done,
                    };
                }
                State::Part { idx, read } => {
                    let part = &mut this.parts[idx];
                    let mut rb = ReadBuf::new(&mut this.input[this.in_len..]);
                    ready!(Pin::new(&mut part.reader).poll_read(cx, &mut rb))?;
                    let n = rb.filled().len();
                    let read = read + n as u64;
                    if part.expected.is_some_and(|e| read > e)
                        || (n == 0 && part.expected.is_some_and(|e| read != e))
                    {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "attachment file changed while the message was sent",
                        )));
                    }
                    this.in_len += n;
                    if n == 0 {
                        // End of this attachment: encode the short last line.
                        part.reader = Box::new(tokio::io::empty());
                        let tail = this.in_len;
                        this.encode(tail);
                        this.in_len = 0;
                        this.state = State::Piece {
                            idx: idx + 2,
                            pos: 0,
                        };
                        continue;
                    }
                    this.state = State::Part { idx, read };
                    let whole = this.in_len / LINE_IN * LINE_IN;
                    if this.in_len == this.input.len() || whole >= LINE_IN * 64 {
                        this.encode(whole);
                        this.input.copy_within(whole..this.in_len, 0);
                        this.in_len -= whole;
                    }
                }
                State::Done => return Poll::Ready(Ok(())),
            }
        }
    }
}
