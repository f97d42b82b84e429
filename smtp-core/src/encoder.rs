//! Streaming body encoder: CRLF line ends and, for `DATA`, dot-stuffing.

/// Turns message bytes into what goes on the wire, one chunk at a time.
///
/// Bare LF and bare CR become CRLF (servers such as Postfix reject bare
/// LF, and RFC 5321 §2.3.8 forbids both). With `dot_stuffing` (for
/// `DATA`), a `.` at the start of a line is doubled (RFC 5321 §4.5.2).
/// State carries across chunk boundaries, so a CR at the end of one chunk
/// and an LF at the start of the next are one line end.
#[derive(Debug, Clone)]
pub struct BodyEncoder {
    dot_stuffing: bool,
    at_line_start: bool,
    pending_cr: bool,
}

impl BodyEncoder {
    /// An encoder for `DATA` (dot-stuffing on) or `BDAT` (off).
    pub fn new(dot_stuffing: bool) -> BodyEncoder {
        BodyEncoder {
            dot_stuffing,
            at_line_start: true,
            pending_cr: false,
        }
    }

    /// Encodes `input`, appending to `out`.
    pub fn encode(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + input.len() / 32 + 4);
        while !input.is_empty() {
            if self.pending_cr {
                self.pending_cr = false;
                out.push(b'\n');
                self.at_line_start = true;
                if input[0] == b'\n' {
                    input = &input[1..];
                    continue;
                }
            }
            if self.at_line_start && self.dot_stuffing && input[0] == b'.' {
                out.push(b'.');
            }
            // Copy the run up to the next line-end byte in one go.
            match input.iter().position(|&b| b == b'\r' || b == b'\n') {
                None => {
                    out.extend_from_slice(input);
                    self.at_line_start = false;
                    return;
                }
                Some(i) => {
                    out.extend_from_slice(&input[..i]);
                    out.push(b'\r');
                    if input[i] == b'\n' {
                        out.push(b'\n');
                        self.at_line_start = true;
                    } else {
                        self.pending_cr = true;
                        self.at_line_start = false;
                    }
                    input = &input[i + 1..];
                }
            }
        }
    }

    /// Ends the body: completes a dangling CR, adds a final CRLF if the
    /// body did not end with one, and, for `DATA`, the `.` terminator.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.pending_cr {
            self.pending_cr = false;
            out.push(b'\n');
            self.at_line_start = true;
        }
        if !self.at_line_start {
            out.extend_from_slice(b"\r\n");
            self.at_line_start = true;
        }
        if self.dot_stuffing {
            out.extend_from_slice(b".\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(input: &[u8]) -> Vec<u8> {
        let mut e = BodyEncoder::new(true);
        let mut out = Vec::new();
        e.encode(input, &mut out);
        e.finish(&mut out);
        out
    }

    #[test]
    fn dot_stuffing() {
        assert_eq!(
            data(b".hidden\r\nx\r\n.\r\n..two\r\n"),
            b"..hidden\r\nx\r\n..\r\n...two\r\n.\r\n"
        );
        assert_eq!(data(b"a.b\r\n"), b"a.b\r\n.\r\n");
    }

    #[test]
    fn line_end_normalisation() {
        assert_eq!(data(b"a\nb\rc\r\n"), b"a\r\nb\r\nc\r\n.\r\n");
        assert_eq!(data(b"no newline"), b"no newline\r\n.\r\n");
        assert_eq!(data(b"ends in cr\r"), b"ends in cr\r\n.\r\n");
        assert_eq!(data(b"\n.x"), b"\r\n..x\r\n.\r\n");
        assert_eq!(data(b""), b".\r\n");
        assert_eq!(data(b"\r\r\n"), b"\r\n\r\n.\r\n");
    }

    #[test]
    fn bdat_has_no_stuffing_or_terminator() {
        let mut e = BodyEncoder::new(false);
        let mut out = Vec::new();
        e.encode(b".x\nend", &mut out);
        e.finish(&mut out);
        assert_eq!(out, b".x\r\nend\r\n");
    }

    #[test]
    fn chunk_boundaries_do_not_matter() {
        let input: &[u8] = b"head\r\n.dot\r\n\r\n..\nbare\rcr\r\n.\r\nlast.line\r";
        let whole = data(input);
        for split in 0..input.len() {
            for split2 in split..input.len() {
                let mut e = BodyEncoder::new(true);
                let mut out = Vec::new();
                e.encode(&input[..split], &mut out);
                e.encode(&input[split..split2], &mut out);
                e.encode(&input[split2..], &mut out);
                e.finish(&mut out);
                assert_eq!(out, whole, "split at {split},{split2}");
            }
        }
    }

    #[test]
    fn unstuffing_recovers_the_normalised_input() {
        let input = b"line one\r\n.leading dot\r\n...\r\nend\r\n";
        let wire = data(input);
        // What a server does: drop the terminator, remove one leading dot.
        let body = &wire[..wire.len() - 3];
        let mut back = Vec::new();
        for line in body.split_inclusive(|&b| b == b'\n') {
            back.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
        }
        assert_eq!(back, input);
    }
}
