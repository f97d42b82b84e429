//! Server replies and a sans-IO streaming reply parser.

use std::borrow::Cow;
use std::fmt;

/// Longest reply line accepted (RFC 5321 §4.5.3.1.5 says 512; servers
/// exceed it, so allow some room while still bounding memory).
pub(crate) const MAX_LINE_LEN: usize = 4096;
/// Most lines accepted in one multi-line reply (bounds memory).
pub(crate) const MAX_LINES: usize = 256;

/// An RFC 3463 enhanced status code such as `5.7.8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnhancedCode {
    /// Class: 2, 4 or 5.
    pub class: u8,
    /// Subject (0..=999).
    pub subject: u16,
    /// Detail (0..=999).
    pub detail: u16,
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Digits by hand: every outcome of a bulk run prints one, and
        // three integer `write!`s cost more than the rest of the reply.
        let mut buf = [0u8; 17];
        let mut at = push_decimal(&mut buf, 0, u16::from(self.class));
        buf[at] = b'.';
        at = push_decimal(&mut buf, at + 1, self.subject);
        buf[at] = b'.';
        at = push_decimal(&mut buf, at + 1, self.detail);
        f.write_str(std::str::from_utf8(&buf[..at]).unwrap_or_default())
    }
}

/// Writes `n` in decimal at `buf[at..]`; returns the position after it.
fn push_decimal(buf: &mut [u8], at: usize, n: u16) -> usize {
    let mut digits = [0u8; 5];
    let mut len = 0;
    let mut n = n;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for (i, d) in digits[..len].iter().rev().enumerate() {
        buf[at + i] = *d;
    }
    at + len
}

impl EnhancedCode {
    /// Parses `x.y.z` at the start of `text`; returns the code and the rest.
    pub fn parse_prefix(text: &str) -> Option<(EnhancedCode, &str)> {
        // Bytes, not `split`: this runs on every line of every reply.
        let bytes = text.as_bytes();
        let end = memchr::memchr(b' ', bytes).unwrap_or(bytes.len());
        let (class, at) = parse_num(bytes, 0, 1)?;
        let (subject, at) = parse_num(bytes, dot(bytes, at, end)?, 3)?;
        let (detail, at) = parse_num(bytes, dot(bytes, at, end)?, 3)?;
        if at != end || !matches!(class, 2 | 4 | 5) {
            return None;
        }
        let rest = text[end..].trim_start_matches(' ');
        Some((
            EnhancedCode {
                class: class as u8,
                subject,
                detail,
            },
            rest,
        ))
    }
}

/// The position after a `.` at `at`, if it is one (and before `end`).
fn dot(bytes: &[u8], at: usize, end: usize) -> Option<usize> {
    (at < end && bytes[at] == b'.').then_some(at + 1)
}

/// 1 to `max_digits` ASCII digits at `start`, up to the next non-digit:
/// the value and the position after them.
fn parse_num(bytes: &[u8], start: usize, max_digits: usize) -> Option<(u16, usize)> {
    let digits = bytes[start.min(bytes.len())..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > max_digits {
        return None;
    }
    let value = bytes[start..start + digits]
        .iter()
        .fold(0u16, |v, b| v * 10 + u16::from(b - b'0'));
    Some((value, start + digits))
}

/// One complete (possibly multi-line) reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code, 200..=599.
    pub code: u16,
    /// The enhanced status code of the first line, if present.
    pub enhanced: Option<EnhancedCode>,
    /// Text of each line, without code, separator or enhanced code.
    pub lines: Vec<String>,
}

impl Reply {
    /// Builds a one-line reply (mostly for tests and synthetic outcomes).
    pub fn new(code: u16, text: &str) -> Reply {
        let (enhanced, rest) = match EnhancedCode::parse_prefix(text) {
            Some((e, rest)) => (Some(e), rest.to_string()),
            None => (None, text.to_string()),
        };
        Reply {
            code,
            enhanced,
            lines: vec![rest],
        }
    }
    /// 2xx.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }
    /// 3xx (e.g. `354` to DATA, `334` to AUTH).
    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }
    /// 4xx: try again later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }
    /// 5xx: do not retry as is.
    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }
    /// All lines joined by a space.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }
    /// The first line's text.
    pub fn first_line(&self) -> &str {
        self.lines.first().map(String::as_str).unwrap_or("")
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As `code enhanced text()`, written piece by piece: every outcome
        // of a bulk run prints its reply.
        let mut code = [0u8; 5];
        let len = push_decimal(&mut code, 0, self.code);
        f.write_str(std::str::from_utf8(&code[..len]).unwrap_or_default())?;
        if let Some(e) = self.enhanced {
            write!(f, " {e}")?;
        }
        if self.lines.iter().any(|l| !l.is_empty()) || self.lines.len() > 1 {
            for line in &self.lines {
                f.write_str(" ")?;
                f.write_str(line)?;
            }
        }
        Ok(())
    }
}

/// Server text as it may be shown to a person: control characters (bare
/// CR, ESC sequences, NUL) and the invisible bidirectional controls
/// (U+202E RIGHT-TO-LEFT OVERRIDE and its kin, which make text read
/// differently from what it is) are written as `\u{202e}`, so a hostile
/// server cannot drive a terminal, forge lines or disguise a message
/// through error messages and transcripts. Tab stays.
pub(crate) fn printable(text: &str) -> Cow<'_, str> {
    // Nearly every reply is printable ASCII: a byte test settles it.
    if text
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) || b == b'\t')
        || !text.contains(hidden)
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Characters [`printable`] escapes.
fn hidden(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// What went wrong while parsing a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyParseError {
    /// A line was longer than [`ReplyParser::MAX_LINE_LEN`].
    LineTooLong,
    /// A reply had more than [`ReplyParser::MAX_LINES`] lines.
    TooManyLines,
    /// A line did not start with a three-digit code and ` `/`-`.
    Malformed(String),
    /// Lines of one reply carried different codes.
    CodeMismatch {
        /// Code of the first line.
        first: u16,
        /// Code of the offending line.
        then: u16,
    },
}

impl fmt::Display for ReplyParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyParseError::LineTooLong => {
                write!(f, "reply line longer than {MAX_LINE_LEN} bytes")
            }
            ReplyParseError::TooManyLines => write!(f, "reply longer than {MAX_LINES} lines"),
            ReplyParseError::Malformed(line) => write!(f, "malformed reply line {line:?}"),
            ReplyParseError::CodeMismatch { first, then } => {
                write!(f, "multi-line reply changes code from {first} to {then}")
            }
        }
    }
}

/// A sans-IO reply parser: feed it bytes, take complete replies out.
///
/// It accepts `LF` as well as `CRLF` line ends (some servers), bounds line
/// length and line count, and never panics.
#[derive(Debug, Default)]
pub struct ReplyParser {
    pending: Vec<String>,
    code: Option<u16>,
    /// The enhanced code of the pending reply's first line.
    enhanced: Option<EnhancedCode>,
}

impl ReplyParser {
    /// The longest reply line accepted, in bytes (RFC 5321 §4.5.3.1.5 says
    /// 512; servers exceed it).
    pub const MAX_LINE_LEN: usize = MAX_LINE_LEN;
    /// The most lines one reply may have.
    pub const MAX_LINES: usize = MAX_LINES;

    /// A fresh parser.
    pub fn new() -> ReplyParser {
        ReplyParser::default()
    }

    /// True when part of a multi-line reply has been consumed.
    pub fn in_reply(&self) -> bool {
        self.code.is_some()
    }

    /// Tries to take one complete reply from the front of `buf`.
    ///
    /// Returns the reply and how many bytes of `buf` it used, `Ok(None)` if
    /// more bytes are needed (lines consumed so far are kept inside the
    /// parser and reported in the returned count on the next call only as
    /// the bytes not yet seen), or an error for input that is not SMTP.
    pub fn parse(&mut self, buf: &[u8]) -> Result<(Option<Reply>, usize), ReplyParseError> {
        let mut used = 0;
        loop {
            let rest = &buf[used..];
            let Some(nl) = memchr::memchr(b'\n', rest) else {
                if rest.len() > MAX_LINE_LEN {
                    return Err(ReplyParseError::LineTooLong);
                }
                return Ok((None, used));
            };
            if nl > MAX_LINE_LEN {
                return Err(ReplyParseError::LineTooLong);
            }
            let mut line = &rest[..nl];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            used += nl + 1;
            if let Some(reply) = self.line(line)? {
                return Ok((Some(reply), used));
            }
        }
    }

    fn line(&mut self, line: &[u8]) -> Result<Option<Reply>, ReplyParseError> {
        let malformed = || ReplyParseError::Malformed(String::from_utf8_lossy(line).into_owned());
        if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
            return Err(malformed());
        }
        let code = u16::from(line[0] - b'0') * 100
            + u16::from(line[1] - b'0') * 10
            + u16::from(line[2] - b'0');
        if !(200..600).contains(&code) {
            return Err(malformed());
        }
        let last = match line.get(3) {
            None | Some(b' ') => true,
            Some(b'-') => false,
            Some(_) => return Err(malformed()),
        };
        if let Some(first) = self.code
            && first != code
        {
            return Err(ReplyParseError::CodeMismatch { first, then: code });
        }
        if self.pending.len() >= MAX_LINES {
            return Err(ReplyParseError::TooManyLines);
        }
        self.code = Some(code);
        let text = line.get(4..).unwrap_or(&[]);
        // `from_utf8` is much quicker than `from_utf8_lossy` on valid text.
        let text = match std::str::from_utf8(text) {
            Ok(t) => Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(text),
        };
        let text = printable(&text);
        // The enhanced code comes off every line of the reply's class
        // before the line is stored: one allocation per line.
        let class = (code / 100) as u8;
        let stripped = match EnhancedCode::parse_prefix(&text) {
            Some((e, rest)) if e.class == class => {
                if self.pending.is_empty() {
                    self.enhanced = Some(e);
                }
                Some(rest.to_owned())
            }
            _ => None,
        };
        self.pending
            .push(stripped.unwrap_or_else(|| text.into_owned()));
        if !last {
            return Ok(None);
        }
        self.code = None;
        Ok(Some(Reply {
            code,
            enhanced: self.enhanced.take(),
            lines: std::mem::take(&mut self.pending),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(input: &[u8]) -> Reply {
        let mut p = ReplyParser::new();
        let (r, used) = p.parse(input).unwrap();
        assert_eq!(used, input.len());
        r.unwrap()
    }

    #[test]
    fn codes_print_as_their_numbers() {
        for (class, subject, detail) in [(2, 0, 0), (4, 7, 10), (5, 999, 999), (5, 1, 100)] {
            let e = EnhancedCode {
                class,
                subject,
                detail,
            };
            assert_eq!(e.to_string(), format!("{class}.{subject}.{detail}"));
        }
        let wide = EnhancedCode {
            class: 255,
            subject: u16::MAX,
            detail: u16::MAX,
        };
        assert_eq!(
            wide.to_string(),
            "255.65535.65535",
            "any value a caller sets"
        );
        for code in [0, 7, 42, 250, 599, u16::MAX] {
            let r = Reply {
                code,
                enhanced: None,
                lines: vec!["a".into(), "".into(), "b".into()],
            };
            assert_eq!(r.to_string(), format!("{code} a  b"));
        }
        let bare = Reply {
            code: 250,
            enhanced: None,
            lines: vec![String::new()],
        };
        assert_eq!(bare.to_string(), "250");
    }

    #[test]
    fn single_line_with_enhanced_code() {
        let r = one(b"250 2.1.0 Ok\r\n");
        assert_eq!(r.code, 250);
        assert_eq!(r.enhanced.unwrap().to_string(), "2.1.0");
        assert_eq!(r.lines, vec!["Ok"]);
        assert_eq!(r.to_string(), "250 2.1.0 Ok");
    }

    #[test]
    fn multi_line() {
        let r = one(b"250-mail.example.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n");
        assert_eq!(
            r.lines,
            vec!["mail.example.test", "PIPELINING", "SIZE 1000"]
        );
        assert!(r.enhanced.is_none());
    }

    #[test]
    fn bare_code_and_empty_last_line() {
        assert_eq!(one(b"250\r\n").lines, vec![""]);
        let r = one(b"250-sink\r\n250 \r\n");
        assert_eq!(r.lines, vec!["sink", ""]);
    }

    #[test]
    fn accepts_bare_lf() {
        assert_eq!(one(b"220 hi\n").code, 220);
    }

    #[test]
    fn incremental_feeding_byte_by_byte() {
        let input = b"250-a\r\n250-b\r\n250 c\r\n220 next\r\n";
        let mut p = ReplyParser::new();
        let mut buf = Vec::new();
        let mut replies = Vec::new();
        for &b in input {
            buf.push(b);
            let (r, used) = p.parse(&buf).unwrap();
            buf.drain(..used);
            replies.extend(r);
        }
        assert_eq!(replies.len(), 2);
        assert_eq!(replies[0].lines, vec!["a", "b", "c"]);
        assert_eq!(replies[1].code, 220);
    }

    #[test]
    fn two_replies_in_one_buffer_are_taken_one_at_a_time() {
        let input = b"250 ok\r\n354 go\r\n";
        let mut p = ReplyParser::new();
        let (r, used) = p.parse(input).unwrap();
        assert_eq!(r.unwrap().code, 250);
        assert_eq!(used, 8);
        let (r, _) = p.parse(&input[used..]).unwrap();
        assert_eq!(r.unwrap().code, 354);
    }

    #[test]
    fn errors() {
        let mut p = ReplyParser::new();
        assert!(matches!(
            p.parse(b"hello\r\n"),
            Err(ReplyParseError::Malformed(_))
        ));
        let mut p = ReplyParser::new();
        assert!(matches!(
            p.parse(b"250x\r\n"),
            Err(ReplyParseError::Malformed(_))
        ));
        let mut p = ReplyParser::new();
        assert!(matches!(
            p.parse(b"199 no\r\n"),
            Err(ReplyParseError::Malformed(_))
        ));
        let mut p = ReplyParser::new();
        assert_eq!(
            p.parse(b"250-a\r\n550 b\r\n"),
            Err(ReplyParseError::CodeMismatch {
                first: 250,
                then: 550
            })
        );
        let mut p = ReplyParser::new();
        let long = vec![b'2'; MAX_LINE_LEN + 10];
        assert_eq!(p.parse(&long), Err(ReplyParseError::LineTooLong));
        let mut p = ReplyParser::new();
        let many = "250-x\r\n".repeat(MAX_LINES + 1);
        assert_eq!(p.parse(many.as_bytes()), Err(ReplyParseError::TooManyLines));
    }

    #[test]
    fn enhanced_code_must_match_class() {
        let r = one(b"550 2.0.0 odd\r\n");
        assert!(r.enhanced.is_none());
        assert_eq!(r.lines, vec!["2.0.0 odd"]);
        assert!(EnhancedCode::parse_prefix("5.7.1234 x").is_none());
        assert!(EnhancedCode::parse_prefix("5.7").is_none());
    }

    #[test]
    fn control_characters_in_server_text_never_reach_display() {
        // A hostile server's escape sequences would otherwise land in a
        // terminal through error messages; a bare CR would break "one line".
        let r = one(b"554 5.7.1 \x1b]0;owned\x07 no\rfake 250 ok\x00\tx\r\n");
        let shown = r.to_string();
        assert!(
            !shown.chars().any(|c| c.is_control() && c != '\t'),
            "{shown:?}"
        );
        assert_eq!(
            r.lines,
            vec![r"\u{1b}]0;owned\u{7} no\u{d}fake 250 ok\u{0}".to_string() + "\tx"]
        );
        assert_eq!(printable("a\u{9b}b\x7f"), r"a\u{9b}b\u{7f}");
    }

    #[test]
    fn bidi_overrides_in_server_text_are_shown_escaped() {
        let r = one("535 5.7.8 bad \u{202e}gnp.exe\u{202c} \u{2067}x\u{2069}\r\n".as_bytes());
        let shown = r.to_string();
        assert_eq!(
            shown,
            r"535 5.7.8 bad \u{202e}gnp.exe\u{202c} \u{2067}x\u{2069}"
        );
    }

    #[test]
    fn arbitrary_bytes_give_a_reply_that_matches_its_bytes_or_an_error() {
        // A cheap deterministic fuzz over a noisy alphabet: whatever comes
        // back must be explained by the bytes (the property tests and the
        // fuzz target check the same with random input).
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let (mut replies, mut partial, mut errors) = (0, 0, 0);
        for _ in 0..2000 {
            let len = (seed % 64) as usize;
            let mut bytes = Vec::with_capacity(len);
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let pick = b"0123456789 -\r\n.25abc\xff\x00";
                bytes.push(pick[(seed % pick.len() as u64) as usize]);
            }
            match ReplyParser::new().parse(&bytes) {
                Ok((Some(reply), used)) => {
                    replies += 1;
                    assert!(used <= bytes.len() && bytes[used - 1] == b'\n', "{bytes:?}");
                    let last_line = bytes[..used - 1].rsplit(|&b| b == b'\n').next().unwrap();
                    assert_eq!(
                        &last_line[..3],
                        reply.code.to_string().as_bytes(),
                        "{bytes:?}"
                    );
                    assert!((200..600).contains(&reply.code));
                    let lines = bytes[..used].iter().filter(|&&b| b == b'\n').count();
                    assert_eq!(reply.lines.len(), lines, "{bytes:?}");
                    assert!(
                        reply
                            .lines
                            .iter()
                            .flat_map(|l| l.chars())
                            .all(|c| !c.is_control()),
                        "{reply:?}"
                    );
                }
                Ok((None, used)) => {
                    partial += 1;
                    assert!(!bytes[used..].contains(&b'\n'), "{bytes:?}");
                }
                Err(ReplyParseError::Malformed(_) | ReplyParseError::CodeMismatch { .. }) => {
                    errors += 1
                }
                Err(e) => panic!("{e} from {} bytes: {bytes:?}", bytes.len()),
            }
        }
        // The corpus reaches every outcome, so none of the arms above is dead.
        assert!(
            replies > 0 && partial > 0 && errors > 0,
            "{replies} {partial} {errors}"
        );
    }
}
