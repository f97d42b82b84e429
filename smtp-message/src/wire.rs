//! Line ends as sent: what the engine puts on the wire, so sizes agree.

/// CRLF-normalises `bytes` the way the engine sends them: bare LF and bare
/// CR become CRLF. With `final_eol`, a missing final line end is added.
pub(crate) fn normalize(bytes: &[u8], final_eol: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 64 + 2);
    // `bytes[start..]` is not yet copied; runs without a bare CR or LF go
    // out whole.
    let mut start = 0;
    let mut skip_lf = None; // the LF of a CRLF, already part of the run
    for p in memchr::memchr2_iter(b'\r', b'\n', bytes) {
        if skip_lf == Some(p) {
            continue;
        }
        if bytes[p] == b'\r' {
            if bytes.get(p + 1) == Some(&b'\n') {
                skip_lf = Some(p + 1);
                continue;
            }
            out.extend_from_slice(&bytes[start..=p]);
            out.push(b'\n');
        } else {
            out.extend_from_slice(&bytes[start..p]);
            out.extend_from_slice(b"\r\n");
        }
        start = p + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    if final_eol && !out.is_empty() && !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

pub(crate) use smtp_core::WireSize;

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
    fn wire_size_and_normalize_match_byte_by_byte_at_any_split() {
        // The byte-by-byte versions these replaced, as references.
        fn size_ref(bytes: &[u8]) -> u64 {
            let (mut size, mut prev) = (0u64, None);
            for &b in bytes {
                size += 1;
                match (prev, b) {
                    (Some(b'\r'), b'\n') => {}
                    (_, b'\n') | (Some(b'\r'), _) => size += 1,
                    _ => {}
                }
                prev = Some(b);
            }
            size + match prev {
                None | Some(b'\n') => 0,
                Some(b'\r') => 1,
                Some(_) => 2,
            }
        }
        fn normalize_ref(bytes: &[u8]) -> Vec<u8> {
            let (mut out, mut i) = (Vec::new(), 0);
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
            out
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize % n
        };
        for _ in 0..2000 {
            let len = next(40);
            let input: Vec<u8> = (0..len).map(|_| b"ab\r\n\r"[next(5)]).collect();
            let expected = size_ref(&input);
            assert_eq!(normalize(&input, false), normalize_ref(&input), "{input:?}");
            assert_eq!(normalize(&input, true).len() as u64, expected, "{input:?}");
            let mut splits: Vec<Vec<usize>> = (0..=len).map(|s| vec![s]).collect();
            for _ in 0..8 {
                let mut cuts: Vec<usize> = (0..next(6)).map(|_| next(len + 1)).collect();
                cuts.sort_unstable();
                splits.push(cuts);
            }
            for cuts in splits {
                let mut w = WireSize::default();
                let mut from = 0;
                for &cut in &cuts {
                    w.feed(&input[from..cut]);
                    from = cut;
                }
                w.feed(&input[from..]);
                assert_eq!(w.finish(), expected, "{input:?} cut at {cuts:?}");
            }
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
