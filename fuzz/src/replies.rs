//! Drives `ReplyParser` over a whole buffer or chunk by chunk, and checks
//! what every parsed reply promises. Included by the proptest suite of
//! smtp-core as well (`#[path]`), so both check the same things.

use smtp_core::{Reply, ReplyParseError, ReplyParser};

/// Everything a parser made of some input.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
    /// Complete replies, in order.
    pub replies: Vec<Reply>,
    /// The error that stopped parsing, if any.
    pub error: Option<ReplyParseError>,
    /// Bytes (or lines of an unfinished reply) wait for more input.
    pub pending: bool,
}

/// Parses `input` handed over in one piece.
pub fn parse_whole(input: &[u8]) -> Parsed {
    let mut parser = ReplyParser::new();
    let mut replies = Vec::new();
    let mut used = 0;
    loop {
        let rest = &input[used..];
        match parser.parse(rest) {
            Ok((Some(reply), n)) => {
                assert!(n > 0 && n <= rest.len(), "used {n} of {}", rest.len());
                used += n;
                replies.push(reply);
            }
            Ok((None, n)) => {
                assert!(n <= rest.len(), "used {n} of {}", rest.len());
                used += n;
                let pending = used < input.len() || parser.in_reply();
                return Parsed {
                    replies,
                    error: None,
                    pending,
                };
            }
            Err(error) => {
                return Parsed {
                    replies,
                    error: Some(error),
                    pending: false,
                };
            }
        }
    }
}

/// Parses `input` as it would arrive from a socket, in `chunks`, keeping
/// unused bytes in a buffer as the session does.
pub fn parse_chunked(chunks: &[&[u8]]) -> Parsed {
    let mut parser = ReplyParser::new();
    let mut replies = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match parser.parse(&buf) {
                Ok((reply, n)) => {
                    assert!(n <= buf.len(), "used {n} of {}", buf.len());
                    buf.drain(..n);
                    match reply {
                        Some(reply) => replies.push(reply),
                        None => break,
                    }
                }
                Err(error) => {
                    return Parsed {
                        replies,
                        error: Some(error),
                        pending: false,
                    };
                }
            }
        }
    }
    let pending = !buf.is_empty() || parser.in_reply();
    Parsed {
        replies,
        error: None,
        pending,
    }
}

/// What every reply the parser returns must satisfy; panics otherwise.
pub fn check_reply(reply: &Reply) {
    assert!((200..600).contains(&reply.code), "code {}", reply.code);
    assert!(
        !reply.lines.is_empty() && reply.lines.len() <= ReplyParser::MAX_LINES,
        "{} lines",
        reply.lines.len()
    );
    if let Some(e) = reply.enhanced {
        assert_eq!(u16::from(e.class), reply.code / 100, "{reply:?}");
        assert!(e.subject <= 999 && e.detail <= 999, "{reply:?}");
    }
    for line in &reply.lines {
        assert!(crate::oracles::is_one_printable_line(line), "{line:?}");
    }
    let shown = reply.to_string();
    assert!(crate::oracles::is_one_printable_line(&shown), "{shown:?}");
    assert!(shown.starts_with(&reply.code.to_string()), "{shown:?}");
}

/// A reply as a server would send it: `code-line` … `code line`, the
/// enhanced code (if any) in front of the first line's text.
pub fn to_wire(reply: &Reply) -> Vec<u8> {
    let mut out = Vec::new();
    let last = reply.lines.len().saturating_sub(1);
    for (i, line) in reply.lines.iter().enumerate() {
        let sep = if i == last { ' ' } else { '-' };
        out.extend_from_slice(format!("{}{sep}", reply.code).as_bytes());
        if let (0, Some(e)) = (i, reply.enhanced) {
            out.extend_from_slice(format!("{e} ").as_bytes());
        }
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}
