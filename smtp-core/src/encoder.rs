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
    ///
    /// Runs of bytes that need no change (CRLF-ended lines not starting
    /// with a dot) are found with `memchr` and copied whole; only a bare
    /// CR or LF, or a dot to stuff, cuts a run.
    pub fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        if input.is_empty() {
            return;
        }
        out.reserve(input.len() + input.len() / 32 + 4);
        // `input[start..i]` is scanned and unchanged, not yet copied.
        let (mut start, mut i) = (0, 0);
        if self.pending_cr {
            // A CR ended the previous chunk: its line end is complete now,
            // with this chunk's LF if it starts with one.
            self.pending_cr = false;
            out.push(b'\n');
            self.at_line_start = true;
            if input[0] == b'\n' {
                (start, i) = (1, 1);
            }
        }
        loop {
            // Here `at_line_start` says whether `input[i]` starts a line.
            if self.at_line_start && self.dot_stuffing && input.get(i) == Some(&b'.') {
                out.extend_from_slice(&input[start..i]);
                out.push(b'.');
                start = i; // the dot itself goes out with the next run
            }
            let Some(at) = memchr::memchr2(b'\r', b'\n', &input[i..]) else {
                if i < input.len() {
                    self.at_line_start = false;
                }
                break;
            };
            let p = i + at;
            i = p + 1;
            self.at_line_start = true;
            if input[p] == b'\n' {
                // Bare LF.
                out.extend_from_slice(&input[start..p]);
                out.extend_from_slice(b"\r\n");
                start = i;
                continue;
            }
            match input.get(i) {
                // CRLF: part of the run.
                Some(b'\n') => i += 1,
                // Bare CR.
                Some(_) => {
                    out.extend_from_slice(&input[start..i]);
                    out.push(b'\n');
                    start = i;
                }
                // CR at the end: the next chunk decides.
                None => {
                    self.pending_cr = true;
                    self.at_line_start = false;
                    break;
                }
            }
        }
        out.extend_from_slice(&input[start..]);
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

    /// The encoder byte by byte, as it was before runs were copied whole:
    /// the reference for the test below.
    fn reference(input: &[u8], dot_stuffing: bool) -> Vec<u8> {
        let (mut out, mut at_line_start, mut i) = (Vec::new(), true, 0);
        while i < input.len() {
            let b = input[i];
            if at_line_start && dot_stuffing && b == b'.' {
                out.push(b'.');
            }
            match b {
                b'\r' if input.get(i + 1) == Some(&b'\n') => i += 1,
                b'\r' | b'\n' => {}
                _ => {
                    out.push(b);
                    at_line_start = false;
                    i += 1;
                    continue;
                }
            }
            out.extend_from_slice(b"\r\n");
            at_line_start = true;
            i += 1;
        }
        if !at_line_start {
            out.extend_from_slice(b"\r\n");
        }
        if dot_stuffing {
            out.extend_from_slice(b".\r\n");
        }
        out
    }

    #[test]
    fn random_inputs_and_splits_match_the_byte_by_byte_encoder() {
        // A small LCG: deterministic, no dependency.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize % n
        };
        for _ in 0..2000 {
            let len = next(40);
            let input: Vec<u8> = (0..len).map(|_| b"ab.\r\n."[next(6)]).collect();
            for dot_stuffing in [true, false] {
                let expected = reference(&input, dot_stuffing);
                // Whole, at every single split, and at random splits.
                let mut splits: Vec<Vec<usize>> = (0..=len).map(|s| vec![s]).collect();
                for _ in 0..8 {
                    let mut cuts: Vec<usize> = (0..next(6)).map(|_| next(len + 1)).collect();
                    cuts.sort_unstable();
                    splits.push(cuts);
                }
                for cuts in splits {
                    let mut e = BodyEncoder::new(dot_stuffing);
                    let mut out = Vec::new();
                    let mut from = 0;
                    for &cut in &cuts {
                        e.encode(&input[from..cut], &mut out);
                        from = cut;
                    }
                    e.encode(&input[from..], &mut out);
                    e.finish(&mut out);
                    assert_eq!(
                        out, expected,
                        "{input:?} cut at {cuts:?}, dots {dot_stuffing}"
                    );
                }
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
