//! The message body as an async stream.

use std::fmt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::Error;

/// A message that can be read as often as needed: each [`Message::open`]
/// gives a new [`MessageSource`] from the start, so a retry (or a signer's
/// first pass) reads the same bytes again without holding them in memory.
///
/// Implemented for bytes in memory (`Vec<u8>`, `Arc<[u8]>`), for a file
/// ([`PathBuf`]), and by the composer and raw-message reader of
/// `smtp-message`. A source that can be read only once (a pipe) returns
/// an error from its second `open`.
#[async_trait]
pub trait Message: Send + Sync {
    /// The message from its first byte.
    async fn open(&self) -> Result<MessageSource, Error>;
}

#[async_trait]
impl Message for Vec<u8> {
    async fn open(&self) -> Result<MessageSource, Error> {
        Ok(MessageSource::from_bytes(self.clone()))
    }
}

#[async_trait]
impl Message for Arc<[u8]> {
    async fn open(&self) -> Result<MessageSource, Error> {
        Ok(MessageSource::from_bytes(self.to_vec()))
    }
}

/// A shared message (what a bulk [`Job`](crate::bulk::Job) holds), so a
/// wrapper such as a DKIM signer can take a job's message as it is.
#[async_trait]
impl Message for Arc<dyn Message> {
    async fn open(&self) -> Result<MessageSource, Error> {
        (**self).open().await
    }
}

/// A message file, streamed from disk at every open.
#[async_trait]
impl Message for PathBuf {
    async fn open(&self) -> Result<MessageSource, Error> {
        MessageSource::from_file(self).await.map_err(Error::Message)
    }
}

/// The bytes of an RFC 5322 message (headers and body), read in bounded
/// chunks so a 50 MiB attachment is never held whole in memory.
///
/// Line ends may be CRLF or bare LF; the engine sends CRLF.
pub struct MessageSource {
    reader: Pin<Box<dyn AsyncRead + Send>>,
    size: Option<u64>,
    eight_bit: Option<bool>,
}

impl fmt::Debug for MessageSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageSource")
            .field("size", &self.size)
            .field("eight_bit", &self.eight_bit)
            .finish_non_exhaustive()
    }
}

impl MessageSource {
    /// A message held in memory. Size and 8-bit content are known.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> MessageSource {
        let bytes = bytes.into();
        let eight_bit = Some(!bytes.is_ascii());
        let mut wire = WireSize::default();
        wire.feed(&bytes);
        let size = Some(wire.finish());
        MessageSource {
            reader: Box::pin(std::io::Cursor::new(bytes)),
            size,
            eight_bit,
        }
    }

    /// A message in a file. The file is scanned once, streaming, for its
    /// size and for 8-bit bytes, then streamed again when sent.
    pub async fn from_file(path: impl AsRef<Path>) -> std::io::Result<MessageSource> {
        let path = path.as_ref();
        let mut file = tokio::fs::File::open(path).await?;
        let mut buf = vec![0u8; 64 * 1024];
        let (mut wire, mut eight_bit) = (WireSize::default(), false);
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            wire.feed(&buf[..n]);
            eight_bit |= !buf[..n].is_ascii();
        }
        let size = wire.finish();
        let file = tokio::fs::File::open(path).await?;
        Ok(MessageSource {
            reader: Box::pin(file),
            size: Some(size),
            eight_bit: Some(eight_bit),
        })
    }

    /// Any async reader. Give the size if known (for the `SIZE` check and
    /// parameter); 8-bit content is assumed unless declared otherwise.
    pub fn from_reader(
        reader: impl AsyncRead + Send + 'static,
        size: Option<u64>,
    ) -> MessageSource {
        MessageSource {
            reader: Box::pin(reader),
            size,
            eight_bit: None,
        }
    }

    /// Declares whether the body has bytes above 127 (`BODY=8BITMIME`).
    pub fn with_eight_bit(mut self, eight_bit: bool) -> MessageSource {
        self.eight_bit = Some(eight_bit);
        self
    }

    /// Puts header fields in front of the message (a `DKIM-Signature:`
    /// computed over it, a trace field): `fields` must be complete
    /// CRLF-ended header lines. The size grows by their length; the 8-bit
    /// flag is kept.
    pub fn prepend(self, fields: Vec<u8>) -> MessageSource {
        let size = self.size.map(|s| s + fields.len() as u64);
        MessageSource {
            reader: Box::pin(std::io::Cursor::new(fields).chain(self.reader)),
            size,
            eight_bit: self.eight_bit,
        }
    }

    /// The size in bytes, when known.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Whether the content has 8-bit bytes; `None` when unknown.
    pub fn eight_bit(&self) -> Option<bool> {
        self.eight_bit
    }

    /// Reads up to `buf.len()` bytes.
    pub async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reader.read(buf).await
    }

    /// Reads into the spare capacity of `buf` (no zero-filling), up to
    /// its capacity; returns how many bytes were added.
    pub async fn read_buf(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        if buf.len() == buf.capacity() {
            return Ok(0);
        }
        let mut limited = (&mut self.reader).take((buf.capacity() - buf.len()) as u64);
        limited.read_buf(buf).await
    }

    /// Reads everything (for in-memory transports and tests).
    pub async fn read_to_end(mut self) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.size.unwrap_or(0).min(1 << 20) as usize);
        self.reader.read_to_end(&mut out).await?;
        Ok(out)
    }
}

/// The size a message has on the wire once bare LF and bare CR become CRLF
/// and a final line end is added (what the engine sends), so a `SIZE` check before sending agrees with
/// what the server counts. Streaming: feed chunks as they come.
#[derive(Debug, Default)]
pub struct WireSize {
    size: u64,
    /// The last byte fed, if any (a CR there is decided by the next one).
    prev: Option<u8>,
}

impl WireSize {
    /// Counts `bytes`: one each, plus one for every bare LF and bare CR.
    /// Counted as line ends less CRLF pairs (`line_end_counts`): a
    /// search per line end cost more than that for short lines.
    pub fn feed(&mut self, bytes: &[u8]) {
        let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
            return;
        };
        let (lf, cr, pairs) = line_end_counts(bytes);
        // A CR that ended the previous chunk is bare unless this one
        // starts with its LF.
        let carried_cr = self.prev == Some(b'\r');
        let joined = usize::from(carried_cr && first == b'\n');
        let carried_bare = usize::from(carried_cr && first != b'\n');
        let extra = (lf - pairs - joined) + (cr - pairs) + carried_bare;
        self.size += (bytes.len() + extra) as u64;
        self.prev = Some(last);
    }

    /// The size of everything fed, with the final line end the engine adds.
    pub fn finish(&self) -> u64 {
        match self.prev {
            None | Some(b'\n') => self.size,
            Some(b'\r') => self.size + 1,
            Some(_) => self.size + 2,
        }
    }
}

/// LFs, CRs before the last byte (a CR there waits for the next chunk, or
/// for `finish`) and CRLF pairs in `bytes`. Counted per block of 64 in
/// byte-sized sums, which the compiler turns into SIMD compares even at
/// the baseline target (wider sums, or a search per line end, cost several
/// instructions per byte).
fn line_end_counts(bytes: &[u8]) -> (usize, usize, usize) {
    let (mut lf, mut cr, mut pairs) = (0usize, 0usize, 0usize);
    let Some((_, head)) = bytes.split_last() else {
        return (0, 0, 0);
    };
    let next = &bytes[1..];
    let blocks = head.chunks(64).zip(next.chunks(64));
    for (block, after) in blocks {
        let (mut l, mut c, mut p) = (0u8, 0u8, 0u8);
        for (&a, &b) in block.iter().zip(after) {
            l += u8::from(b == b'\n');
            c += u8::from(a == b'\r');
            p += u8::from(a == b'\r') & u8::from(b == b'\n');
        }
        lf += usize::from(l);
        cr += usize::from(c);
        pairs += usize::from(p);
    }
    // `next` covers every byte but the first: its LF is counted here.
    lf += usize::from(bytes[0] == b'\n');
    (lf, cr, pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_is_counted_as_sent() {
        let size = |b: &[u8]| MessageSource::from_bytes(b.to_vec()).size().unwrap();
        assert_eq!(size(b"a\r\nb\r\n"), 6);
        assert_eq!(size(b"a\nb\n"), 6);
        assert_eq!(size(b"a\rb"), 6);
        assert_eq!(size(b"no end"), 8);
        assert_eq!(size(b""), 0);
        let mut e = crate::encoder::BodyEncoder::new(false);
        let mut out = Vec::new();
        let input = b"x\ny\r\rz\r\n\nlast";
        e.encode(input, &mut out);
        e.finish(&mut out);
        assert_eq!(size(input), out.len() as u64);
    }

    /// Every text of up to 7 bytes over `a`, CR and LF, and a few longer
    /// ones, fed in two parts split anywhere, counts what the encoder sends.
    #[test]
    fn size_matches_the_encoder_for_every_short_text_and_split() {
        let alphabet = [b'a', b'\r', b'\n'];
        for len in 0..=7u32 {
            for n in 0..3usize.pow(len) {
                let text: Vec<u8> = (0..len).map(|i| alphabet[n / 3usize.pow(i) % 3]).collect();
                let mut e = crate::encoder::BodyEncoder::new(false);
                let mut out = Vec::new();
                e.encode(&text, &mut out);
                e.finish(&mut out);
                let want = if text.is_empty() { 0 } else { out.len() as u64 };
                for split in 0..=text.len() {
                    let mut wire = WireSize::default();
                    wire.feed(&text[..split]);
                    wire.feed(&text[split..]);
                    assert_eq!(wire.finish(), want, "{text:?} split at {split}");
                }
            }
        }
        // Longer texts cross the 64-byte blocks of the count.
        let mut state = 7u32;
        for len in [63usize, 64, 65, 129, 1000] {
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    alphabet[(state >> 16) as usize % 3]
                })
                .collect();
            let mut e = crate::encoder::BodyEncoder::new(false);
            let mut out = Vec::new();
            e.encode(&text, &mut out);
            e.finish(&mut out);
            for split in [0, 1, len / 2, len - 1, len] {
                let mut wire = WireSize::default();
                wire.feed(&text[..split]);
                wire.feed(&text[split..]);
                assert_eq!(
                    wire.finish(),
                    out.len() as u64,
                    "length {len} split at {split}"
                );
            }
        }
    }

    #[tokio::test]
    async fn prepended_fields_come_first_and_count_in_the_size() {
        let source = MessageSource::from_bytes(b"Subject: x\r\n\r\nbody\r\n".to_vec())
            .with_eight_bit(true)
            .prepend(b"X-A: 1\r\n".to_vec());
        assert_eq!(source.size(), Some(28));
        assert_eq!(source.eight_bit(), Some(true));
        assert_eq!(
            source.read_to_end().await.unwrap(),
            b"X-A: 1\r\nSubject: x\r\n\r\nbody\r\n"
        );
    }
}
