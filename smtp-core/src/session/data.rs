//! Reading the message body in bounded chunks, one chunk ahead. The
//! planner (`plan/`) encodes them: dot-stuffing for DATA, BDAT framing.

use crate::error::Error;
use crate::message::MessageSource;

/// Raw bytes read from the message per chunk. Memory stays bounded at a
/// few chunks whatever the message size.
pub(crate) const CHUNK: usize = 256 * 1024;

/// Reads the message one chunk ahead, so the last chunk is known when it
/// is handed out: the terminator (or `LAST`) then rides in the same write.
pub(crate) struct BodyReader {
    /// The server takes 7-bit only and the message did not say it is
    /// 7-bit: every chunk is checked before it is sent.
    seven_bit_only: bool,
    ahead: Vec<u8>,
    finished: bool,
}

impl BodyReader {
    pub async fn start(
        message: &mut MessageSource,
        eight_bit_mime: bool,
    ) -> Result<BodyReader, Error> {
        let seven_bit_only = !eight_bit_mime && message.eight_bit() != Some(false);
        // A small message needs a small buffer: sized from the known size,
        // one byte more so EOF is seen in the same chunk.
        let cap = message
            .size()
            .map_or(CHUNK, |s| (s as usize).saturating_add(1).min(CHUNK));
        let mut ahead = Vec::with_capacity(cap);
        read_full(message, &mut ahead).await?;
        check_seven_bit(seven_bit_only, &ahead)?;
        Ok(BodyReader {
            seven_bit_only,
            ahead,
            finished: false,
        })
    }

    /// The next raw chunk, and whether it is the last.
    pub async fn next(&mut self, message: &mut MessageSource) -> Result<(Vec<u8>, bool), Error> {
        if self.finished {
            return Ok((Vec::new(), true));
        }
        if self.ahead.len() < self.ahead.capacity() {
            // The look-ahead stopped short of its capacity: at EOF.
            self.finished = true;
            return Ok((std::mem::take(&mut self.ahead), true));
        }
        // A full look-ahead: more may follow, in full chunks.
        let mut current = Vec::with_capacity(CHUNK);
        read_full(message, &mut current).await?;
        check_seven_bit(self.seven_bit_only, &current)?;
        std::mem::swap(&mut current, &mut self.ahead);
        self.finished = self.ahead.is_empty();
        Ok((current, self.finished))
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
