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
    ahead: Vec<u8>,
    finished: bool,
}

impl BodyChunks {
    pub async fn start(
        message: &mut MessageSource,
        dot_stuffing: bool,
    ) -> Result<BodyChunks, Error> {
        let mut ahead = Vec::with_capacity(CHUNK);
        read_full(message, &mut ahead).await?;
        Ok(BodyChunks {
            encoder: BodyEncoder::new(dot_stuffing),
            ahead,
            finished: false,
        })
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
        let mut current = Vec::with_capacity(CHUNK);
        read_full(message, &mut current).await?;
        std::mem::swap(&mut current, &mut self.ahead);
        self.encoder.encode(&current, out);
        if self.ahead.is_empty() {
            self.encoder.finish(out);
            self.finished = true;
        }
        Ok(self.finished)
    }
}

async fn read_full(message: &mut MessageSource, buf: &mut Vec<u8>) -> Result<(), Error> {
    buf.clear();
    buf.resize(CHUNK, 0);
    let mut filled = 0;
    while filled < CHUNK {
        let n = message
            .read(&mut buf[filled..])
            .await
            .map_err(Error::Message)?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    buf.truncate(filled);
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
