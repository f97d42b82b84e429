//! The message body: DATA with dot-stuffing, or BDAT chunks (RFC 3030).

use crate::encoder::BodyEncoder;
use crate::error::Error;
use crate::message::MessageSource;

/// Raw bytes read from the message per chunk. Memory stays bounded at a
/// few chunks whatever the message size.
pub(crate) const CHUNK: usize = 256 * 1024;

/// Reads the message one chunk ahead, so the last chunk is known when it
/// is encoded: the terminator (or `LAST`) then rides in the same write.
pub(crate) struct BodyChunks {
    encoder: BodyEncoder,
    /// The server takes 7-bit only and the message did not say it is
    /// 7-bit: every chunk is checked before it is encoded.
    seven_bit_only: bool,
    ahead: Vec<u8>,
    finished: bool,
}

impl BodyChunks {
    pub async fn start(
        message: &mut MessageSource,
        dot_stuffing: bool,
        eight_bit_mime: bool,
    ) -> Result<BodyChunks, Error> {
        let seven_bit_only = !eight_bit_mime && message.eight_bit() != Some(false);
        // A small message needs a small buffer: sized from the known size,
        // one byte more so EOF is seen in the same chunk.
        let cap = message
            .size()
            .map_or(CHUNK, |s| (s as usize).saturating_add(1).min(CHUNK));
        let mut ahead = Vec::with_capacity(cap);
        read_full(message, &mut ahead).await?;
        check_seven_bit(seven_bit_only, &ahead)?;
        Ok(BodyChunks {
            encoder: BodyEncoder::new(dot_stuffing),
            seven_bit_only,
            ahead,
            finished: false,
        })
    }

    /// True when the whole message is in the first chunk (its end was
    /// already seen): it then goes out as one `BDAT n LAST`.
    pub fn is_whole(&self) -> bool {
        !self.finished && self.ahead.len() < self.ahead.capacity()
    }

    /// Appends the next encoded chunk to `out`; returns true for the last
    /// one (then the DATA terminator has been appended too).
    pub async fn next(
        &mut self,
        message: &mut MessageSource,
        out: &mut Vec<u8>,
    ) -> Result<bool, Error> {
        if self.finished {
            return Ok(true);
        }
        // A full look-ahead means the size hint (if any) was low: go to
        // full chunks; otherwise EOF is next and a small buffer will do.
        let cap = if self.ahead.len() == self.ahead.capacity() {
            CHUNK
        } else {
            1
        };
        let mut current = Vec::with_capacity(cap);
        read_full(message, &mut current).await?;
        check_seven_bit(self.seven_bit_only, &current)?;
        std::mem::swap(&mut current, &mut self.ahead);
        self.encoder.encode(&current, out);
        if self.ahead.is_empty() {
            self.encoder.finish(out);
            self.finished = true;
        }
        Ok(self.finished)
    }
}

/// An 8-bit byte for a 7-bit-only server is an error before it is sent;
/// the caller drops the connection, so the server discards what it got.
fn check_seven_bit(seven_bit_only: bool, chunk: &[u8]) -> Result<(), Error> {
    if seven_bit_only && !chunk.is_ascii() {
        return Err(Error::EightBitNotSupported);
    }
    Ok(())
}

/// Fills `buf` up to its capacity, or to EOF.
async fn read_full(message: &mut MessageSource, buf: &mut Vec<u8>) -> Result<(), Error> {
    buf.clear();
    while buf.len() < buf.capacity() {
        if message.read_buf(buf).await.map_err(Error::Message)? == 0 {
            break;
        }
    }
    Ok(())
}

/// Frames one BDAT chunk: `BDAT <n>[ LAST]\r\n<bytes>`.
pub(crate) fn bdat_frame(chunk: &[u8], last: bool, out: &mut Vec<u8>) -> String {
    let header = if last {
        format!("BDAT {} LAST", chunk.len())
    } else {
        format!("BDAT {}", chunk.len())
    };
    out.reserve(header.len() + 2 + chunk.len());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(chunk);
    header
}
