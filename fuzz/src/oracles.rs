//! Independent reference code the fuzz targets and the proptest suites
//! check the library against. Pure std, so the property tests include this
//! very file (`#[path]`) instead of a copy.

/// What the body encoder must produce before dot-stuffing: every CR LF,
/// bare CR and bare LF becomes CR LF, and a body whose last line has no
/// line end gets one. Written byte by byte, unlike the encoder.
pub fn normalize_line_ends(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + 2);
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if input.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// What a server does with `DATA` bytes (RFC 5321 §4.5.2): reads CR LF
/// lines up to the lone `.` line and removes one leading dot from every
/// other line. Errors on anything a conforming client never sends: a bare
/// CR or LF, a missing terminator, bytes after it.
pub fn unstuff(wire: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::with_capacity(wire.len());
    let mut rest = wire;
    loop {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| format!("no CR LF terminator in {:?}", String::from_utf8_lossy(rest)))?;
        let line = &rest[..end];
        if line.contains(&b'\r') || line.contains(&b'\n') {
            return Err(format!(
                "bare CR or LF in line {:?}",
                String::from_utf8_lossy(line)
            ));
        }
        rest = &rest[end + 2..];
        if line == b"." {
            return if rest.is_empty() {
                Ok(body)
            } else {
                Err(format!("{} bytes after the terminator", rest.len()))
            };
        }
        body.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
        body.extend_from_slice(b"\r\n");
    }
}

/// True when `text` is one line a person can read: no CR, LF or other
/// control character except tab.
pub fn is_one_printable_line(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() && c != '\t')
}

/// Splits `input` into chunks whose sizes come from `sizes` (cycled; a 0
/// becomes 1), so a streaming parser or encoder sees the same bytes cut
/// differently.
pub fn chunks<'a, N: Copy + Into<u64>>(input: &'a [u8], sizes: &[N]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = input;
    let mut i = 0;
    while !rest.is_empty() {
        let size = sizes
            .get(i % sizes.len().max(1))
            .map_or(0, |&s| s.into())
            .max(1);
        let n = usize::try_from(size).unwrap_or(usize::MAX).min(rest.len());
        out.push(&rest[..n]);
        rest = &rest[n..];
        i += 1;
    }
    out
}
