//! A sans-IO reader for the proxy's answer to `CONNECT`: status line and
//! headers, bounded in size, that never takes a byte past the blank line
//! (everything after it is the SMTP server's, through the tunnel).

/// The most a response head (all interim heads included) may take.
pub(crate) const MAX_HEAD: usize = 16 * 1024;

/// What went wrong reading a head; turned into a protocol error.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeadError {
    TooLarge,
    Malformed(&'static str),
}

impl HeadError {
    pub(crate) fn describe(&self) -> String {
        match self {
            HeadError::TooLarge => format!("the response head exceeds {} KiB", MAX_HEAD / 1024),
            HeadError::Malformed(what) => format!("malformed HTTP response: {what}"),
        }
    }
}

/// A parsed status line and the headers we use.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ResponseHead {
    pub(crate) status: u16,
    pub(crate) reason: String,
    /// Scheme names from `Proxy-Authenticate` (or, for proxies that answer
    /// 401, `WWW-Authenticate`) headers, e.g. `Basic`.
    pub(crate) authenticate: Vec<String>,
}

/// Accumulates one head. Feed it at most [`HeadReader::max_read`] bytes at
/// a time and it can never be handed a byte beyond the head's end.
#[derive(Debug, Default)]
pub(crate) struct HeadReader {
    buf: Vec<u8>,
    /// A byte other than CR/LF arrived: empty lines before the status
    /// line are skipped (RFC 9112 §2.2), not taken as the end.
    started: bool,
}

impl HeadReader {
    pub(crate) fn new() -> HeadReader {
        HeadReader::default()
    }

    /// How many bytes can be read without risking one past the head: the
    /// head ends at the first empty line, `\n\n` or `\n\r\n` (bare LF is
    /// accepted, RFC 9112 §2.2), so after a `\n` or `\n\r` the end may be
    /// one byte away, and otherwise at least two.
    pub(crate) fn max_read(&self) -> usize {
        if self.buf.ends_with(b"\n") || self.buf.ends_with(b"\n\r") {
            1
        } else {
            2
        }
    }

    /// Adds bytes; `Some(consumed)` once the head is complete, with the
    /// number of input bytes that belong to it (the rest must be kept).
    pub(crate) fn push(&mut self, input: &[u8], budget: usize) -> Result<Option<usize>, HeadError> {
        for (i, &b) in input.iter().enumerate() {
            if self.buf.len() >= budget {
                return Err(HeadError::TooLarge);
            }
            self.buf.push(b);
            self.started |= b != b'\r' && b != b'\n';
            if self.started && (self.buf.ends_with(b"\n\n") || self.buf.ends_with(b"\n\r\n")) {
                return Ok(Some(i + 1));
            }
        }
        Ok(None)
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn finish(&self) -> Result<ResponseHead, HeadError> {
        let text = String::from_utf8_lossy(&self.buf);
        let mut lines = text
            .trim_start_matches(['\r', '\n'])
            .split('\n')
            .map(|l| l.trim_end_matches('\r'));
        let status_line = lines.next().ok_or(HeadError::Malformed("empty"))?;
        let (status, reason) = parse_status_line(status_line)?;
        let mut authenticate = Vec::new();
        for line in lines.filter(|l| !l.is_empty()) {
            let (name, value) = line
                .split_once(':')
                .ok_or(HeadError::Malformed("header line without ':'"))?;
            let name = name.trim();
            if name.eq_ignore_ascii_case("proxy-authenticate")
                || name.eq_ignore_ascii_case("www-authenticate")
            {
                // `Basic realm="x"`: the scheme is the first token.
                if let Some(scheme) = value.split_whitespace().next() {
                    authenticate.push(clean(scheme.trim_end_matches(','), 32));
                }
            }
        }
        Ok(ResponseHead {
            status,
            reason,
            authenticate,
        })
    }
}

fn parse_status_line(line: &str) -> Result<(u16, String), HeadError> {
    let rest = line.strip_prefix("HTTP/").ok_or(HeadError::Malformed(
        "the status line does not start with HTTP/",
    ))?;
    let (_version, rest) = rest
        .split_once(' ')
        .ok_or(HeadError::Malformed("no status code"))?;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HeadError::Malformed("the status code is not three digits"));
    }
    let status: u16 = code
        .parse()
        .map_err(|_| HeadError::Malformed("bad status code"))?;
    if !(100..=599).contains(&status) {
        return Err(HeadError::Malformed("status code out of range"));
    }
    Ok((status, clean(reason, 200)))
}

/// Proxy-chosen text goes into our error messages: keep it printable and short.
fn clean(s: &str, max: usize) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(chunks: &[&[u8]]) -> Result<(ResponseHead, usize), HeadError> {
        let mut r = HeadReader::new();
        for (n, chunk) in chunks.iter().enumerate() {
            if let Some(used) = r.push(chunk, MAX_HEAD)? {
                return Ok((
                    r.finish()?,
                    used + chunks[..n].iter().map(|c| c.len()).sum::<usize>(),
                ));
            }
        }
        panic!("head not complete");
    }

    #[test]
    fn status_reason_and_authenticate_schemes() {
        let raw = b"HTTP/1.1 407 Proxy Authentication Required\r\nServer: squid\r\n\
                    Proxy-Authenticate: Basic realm=\"smtp-peers squid\"\r\nproxy-authenticate: NTLM\r\n\r\n";
        let (head, used) = read_all(&[raw]).unwrap();
        assert_eq!(used, raw.len());
        assert_eq!(head.status, 407);
        assert_eq!(head.reason, "Proxy Authentication Required");
        assert_eq!(
            head.authenticate,
            vec!["Basic".to_string(), "NTLM".to_string()]
        );
        let (head, _) = read_all(&[b"HTTP/1.0 200\r\n\r\n"]).unwrap();
        assert_eq!((head.status, head.reason.as_str()), (200, ""));
    }

    #[test]
    fn split_reads_of_every_size_give_the_same_head() {
        let raw = b"HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\n";
        for size in 1..raw.len() {
            let chunks: Vec<&[u8]> = raw.chunks(size).collect();
            let (head, used) = read_all(&chunks).unwrap();
            assert_eq!((head.status, used), (200, raw.len()), "chunk size {size}");
        }
    }

    #[test]
    fn stops_exactly_at_the_blank_line() {
        for (raw, head_len) in [
            (&b"HTTP/1.1 200 OK\r\n\r\n220 mail ESMTP\r\n"[..], 19),
            (b"HTTP/1.1 200 OK\n\n220 x", 17),
            (b"HTTP/1.1 200 OK\r\nA: b\n\r\n220", 24),
            (b"\r\nHTTP/1.1 200 OK\r\n\r\n220", 21),
            (b"\r\n\r\nHTTP/1.1 200 OK\r\n\r\n220", 23),
        ] {
            let (_, used) = read_all(&[raw]).unwrap();
            assert_eq!(used, head_len, "{:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn max_read_never_crosses_the_end() {
        // Reading max_read() bytes at a time, the head always ends on the
        // last byte of a read: nothing after it is ever taken.
        for raw in [
            &b"HTTP/1.1 200 OK\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\n\n",
            b"HTTP/1.1 200 OK\r\nX: y\r\n\r\n",
        ] {
            let mut r = HeadReader::new();
            let mut pos = 0;
            loop {
                let n = r.max_read().min(raw.len() - pos);
                let used = r.push(&raw[pos..pos + n], MAX_HEAD).unwrap();
                pos += n;
                if let Some(used) = used {
                    assert_eq!(used, n);
                    break;
                }
            }
            assert_eq!(pos, raw.len());
        }
    }

    #[test]
    fn bounded_and_strict() {
        let mut r = HeadReader::new();
        let big = vec![b'a'; MAX_HEAD + 10];
        assert_eq!(r.push(&big, MAX_HEAD), Err(HeadError::TooLarge));
        for bad in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 999 x\r\n\r\n",
            b"HTTP/1.1\r\n\r\n",
        ] {
            assert!(
                read_all(&[bad]).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let (head, _) = read_all(&[b"HTTP/1.1 403 Forbidden\x1b[31m\x07 \r\n\r\n"]).unwrap();
        assert_eq!(head.reason, "Forbidden[31m");
    }
}
