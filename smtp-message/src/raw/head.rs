//! The header block of an existing message: read it (bounded), normalise
//! its line ends, parse it with mail-parser, cut the Bcc fields.

use std::ops::Range;

use mail_parser::{HeaderName, HeaderValue, MessageParser};
use smtp_core::Address;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::{Error, validate};

/// Reads from the start of `reader` up to and including the first empty
/// line (CRLF CRLF, LF LF, or LF CRLF), at most `max` bytes. Returns the
/// header block as read and the body bytes read past it.
pub(crate) async fn read_head<R: AsyncRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let mut buf: Vec<u8> = Vec::with_capacity(8 * 1024);
    let mut searched = 0;
    loop {
        if let Some(end) = head_end(&buf, searched) {
            if end > max {
                return Err(Error::HeaderTooLarge { limit: max });
            }
            let body = buf.split_off(end);
            return Ok((buf, body));
        }
        if buf.len() > max {
            return Err(Error::HeaderTooLarge { limit: max });
        }
        searched = buf.len().saturating_sub(2);
        let start = buf.len();
        buf.resize(start + 8 * 1024, 0);
        let n = reader.read(&mut buf[start..]).await?;
        buf.truncate(start + n);
        if n == 0 {
            // No body: the whole message is its header block.
            if buf.len() > max {
                return Err(Error::HeaderTooLarge { limit: max });
            }
            return Ok((buf, Vec::new()));
        }
    }
}

/// Index just past the empty line that ends the header block.
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    if buf.starts_with(b"\n") {
        return Some(1);
    }
    if buf.starts_with(b"\r\n") {
        return Some(2);
    }
    let mut i = from;
    while let Some(p) = buf.get(i..)?.iter().position(|&b| b == b'\n') {
        let lf = i + p;
        match buf.get(lf + 1..) {
            Some([b'\n', ..]) => return Some(lf + 2),
            Some([b'\r', b'\n', ..]) => return Some(lf + 3),
            Some([b'\r']) | Some([]) => return None,
            _ => i = lf + 1,
        }
    }
    None
}

/// CRLF-normalises a header block: bare LF becomes CRLF; a CR not
/// followed by LF, or a NUL, is refused (a receiver could split lines
/// where we did not). Ends with a line end.
pub(crate) fn normalize(head: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(head.len() + head.len() / 32 + 2);
    for (i, &b) in head.iter().enumerate() {
        match b {
            b'\0' => {
                return Err(Error::MalformedHeader {
                    reason: "NUL byte",
                    offset: i,
                });
            }
            b'\r' if head.get(i + 1) != Some(&b'\n') => {
                return Err(Error::MalformedHeader {
                    reason: "CR not followed by LF",
                    offset: i,
                });
            }
            b'\n' if i == 0 || head[i - 1] != b'\r' => out.extend_from_slice(b"\r\n"),
            _ => out.push(b),
        }
    }
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    Ok(out)
}

/// What the header block says.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) recipients: Vec<Address>,
    pub(crate) from: Option<Address>,
    pub(crate) message_id: Option<String>,
    /// Byte range of the first From field, continuations included, and
    /// whether its (first) mailbox has a display name.
    pub(crate) from_field: Option<(Range<usize>, bool)>,
    /// Byte ranges of every Bcc and Resent-Bcc field, continuations included.
    pub(crate) bcc_fields: Vec<Range<usize>>,
}

/// Parses a normalised header block with mail-parser.
pub(crate) fn parse(head: &[u8]) -> Result<Parsed, Error> {
    let mut parsed = Parsed::default();
    let Some(msg) = MessageParser::default().parse_headers(head) else {
        return Ok(parsed);
    };
    parsed.message_id = msg.message_id().map(str::to_string);
    for h in msg.headers() {
        let range = h.offset_field as usize..h.offset_end as usize;
        match h.name {
            HeaderName::To | HeaderName::Cc | HeaderName::Bcc => {
                let field = format!("header {}", h.name.as_str());
                for a in addresses(&field, &h.value)? {
                    if !parsed.recipients.contains(&a) {
                        parsed.recipients.push(a);
                    }
                }
            }
            HeaderName::From if parsed.from_field.is_none() => {
                parsed.from = addresses("header From", &h.value)
                    .ok()
                    .and_then(|v| v.into_iter().next());
                let named = match &h.value {
                    HeaderValue::Address(a) => a.first().is_some_and(|a| a.name.is_some()),
                    _ => false,
                };
                parsed.from_field = Some((range.clone(), named));
            }
            _ => {}
        }
        if matches!(h.name, HeaderName::Bcc | HeaderName::ResentBcc) {
            if range.end > head.len() || (range.end < head.len() && head[range.end - 1] != b'\n') {
                return Err(Error::MalformedHeader {
                    reason: "Bcc field does not end at a line end",
                    offset: range.start,
                });
            }
            parsed.bcc_fields.push(range);
        }
    }
    Ok(parsed)
}

/// The mailboxes of an address header; groups are flattened (an empty
/// group like `undisclosed-recipients:;` gives none).
fn addresses(field: &str, value: &HeaderValue<'_>) -> Result<Vec<Address>, Error> {
    let addrs: Vec<&mail_parser::Addr<'_>> = match value {
        HeaderValue::Address(mail_parser::Address::List(list)) => list.iter().collect(),
        HeaderValue::Address(mail_parser::Address::Group(groups)) => {
            groups.iter().flat_map(|g| &g.addresses).collect()
        }
        HeaderValue::Empty => Vec::new(),
        other => {
            return Err(Error::InvalidAddress {
                field: field.to_string(),
                value: format!("{other:?}"),
                reason: "not an address list".into(),
            });
        }
    };
    let mut out = Vec::with_capacity(addrs.len());
    for a in addrs {
        match (&a.address, &a.name) {
            (Some(addr), _) => out.push(validate::address(field, addr)?),
            (None, None) => {}
            (None, Some(name)) => {
                return Err(Error::InvalidAddress {
                    field: field.to_string(),
                    value: name.to_string(),
                    reason: "no address".into(),
                });
            }
        }
    }
    Ok(out)
}

/// Removes `ranges` (sorted, disjoint) from `head`, then checks that no
/// field named Bcc or Resent-Bcc is left (in any spelling).
pub(crate) fn cut(head: &[u8], ranges: &[Range<usize>]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(head.len());
    let mut at = 0;
    for r in ranges {
        out.extend_from_slice(&head[at..r.start]);
        at = r.end;
    }
    out.extend_from_slice(&head[at..]);
    let mut offset = 0;
    for line in out.split_inclusive(|&b| b == b'\n') {
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            if let Some(colon) = line.iter().position(|&b| b == b':') {
                let name = line[..colon].trim_ascii();
                if name.eq_ignore_ascii_case(b"bcc") || name.eq_ignore_ascii_case(b"resent-bcc") {
                    return Err(Error::MalformedHeader {
                        reason: "a Bcc field the parser did not read",
                        offset,
                    });
                }
            }
        }
        offset += line.len();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_block_ends_at_the_first_empty_line_in_any_line_end() {
        assert_eq!(head_end(b"A: b\r\n\r\nbody", 0), Some(8));
        assert_eq!(head_end(b"A: b\n\nbody", 0), Some(6));
        assert_eq!(head_end(b"A: b\n\r\nbody", 0), Some(7));
        assert_eq!(head_end(b"\r\nbody", 0), Some(2));
        assert_eq!(head_end(b"A: b\r\n", 0), None);
        assert_eq!(head_end(b"A: b\r\n\r", 0), None);
    }

    #[tokio::test]
    async fn header_block_split_across_reads_is_found() {
        let (head, body) = read_head(&mut &b"A: b\r\n\r\nrest"[..], 100).await.unwrap();
        assert_eq!(
            (head.as_slice(), body.as_slice()),
            (&b"A: b\r\n\r\n"[..], &b"rest"[..])
        );
    }
}
