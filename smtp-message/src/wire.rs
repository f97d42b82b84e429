//! Line ends as sent: what the engine puts on the wire, so sizes agree.

/// CRLF-normalises `bytes` the way the engine sends them: bare LF and bare
/// CR become CRLF. With `final_eol`, a missing final line end is added.
pub(crate) fn normalize(bytes: &[u8], final_eol: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 64 + 2);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    if final_eol && !out.is_empty() && !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The size a message has on the wire once bare LF and bare CR become CRLF
/// and a final line end is added (as `smtp_core::MessageSource` counts it).
#[derive(Debug, Default)]
pub(crate) struct WireSize {
    size: u64,
    prev: Option<u8>,
}

impl WireSize {
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.size += 1;
            match (self.prev, b) {
                (Some(b'\r'), b'\n') => {}
                (_, b'\n') | (Some(b'\r'), _) => self.size += 1,
                _ => {}
            }
            self.prev = Some(b);
        }
    }

    pub(crate) fn finish(&self) -> u64 {
        match self.prev {
            None | Some(b'\n') => self.size,
            Some(b'\r') => self.size + 1,
            Some(_) => self.size + 2,
        }
    }
}

/// Length of `n` bytes base64-encoded in 76-character lines, each ending
/// in CRLF (57 input bytes per line).
pub(crate) fn base64_len(n: u64) -> u64 {
    let (lines, rest) = (n / 57, n % 57);
    lines * 78
        + if rest > 0 {
            rest.div_ceil(3) * 4 + 2
        } else {
            0
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_and_wire_size_agree() {
        for input in [
            &b"a\r\nb"[..],
            b"a\nb\n",
            b"a\rb",
            b"",
            b"x\r",
            b"\n\n",
            b"x\r\r\n",
        ] {
            let mut w = WireSize::default();
            w.feed(input);
            assert_eq!(normalize(input, true).len() as u64, w.finish(), "{input:?}");
        }
    }

    #[test]
    fn base64_lengths_match_the_encoder() {
        use base64::Engine;
        for n in [0u64, 1, 2, 3, 56, 57, 58, 114, 1000] {
            let data = vec![7u8; n as usize];
            let mut out = String::new();
            for chunk in data.chunks(57) {
                out.push_str(&base64::engine::general_purpose::STANDARD.encode(chunk));
                out.push_str("\r\n");
            }
            assert_eq!(base64_len(n), out.len() as u64, "{n}");
        }
    }
}
