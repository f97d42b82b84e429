//! The message layout, written by mail-builder: the header block, the MIME
//! structure, the text bodies (encoded by mail-builder) and every part
//! header. Attachment contents are left out: a unique placeholder marks
//! each one, and the output is split there, so the attachments can be
//! streamed between the fixed pieces.

use std::borrow::Cow;
use std::sync::Arc;

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::headers::{Header, HeaderType};
use mail_builder::mime::{BodyPart, MimePart};

use super::{Checked, Composer, Recipient};
use crate::wire;

/// The fixed pieces of a message: `pieces[0]` is the header block, then
/// come the MIME body's pieces, where `pieces[i + 1]` comes before
/// attachment `i` and the last one after the last attachment. Each is
/// CRLF-normalised, exactly the bytes sent. The body pieces are the
/// template's, shared: only the header block is written per message.
pub(crate) struct Layout {
    pub(crate) pieces: Vec<Arc<[u8]>>,
    pub(crate) message_id: String,
}

pub(crate) fn layout(c: &Composer, checked: &Checked) -> std::io::Result<Layout> {
    let extra_id = c
        .fixed
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("Message-ID"));
    let message_id = match &checked.own_id {
        Some(id) => id.clone(),
        None => generate_message_id(&c.fixed.from),
    };

    let mut headers: Vec<(&str, HeaderType<'_>)> = Vec::with_capacity(9 + c.fixed.headers.len());
    let from: Address<'_> = match &c.fixed.from_name {
        Some(name) => (name.as_str(), c.fixed.from.as_str()).into(),
        None => c.fixed.from.as_str().into(),
    };
    headers.push(("From", from.into()));
    for (name, list) in [("To", &c.to), ("Cc", &c.cc)] {
        if !list.is_empty() {
            let list: Vec<&str> = list.iter().map(Recipient::as_str).collect();
            headers.push((name, Address::from(list).into()));
        }
    }
    if !c.fixed.reply_to.is_empty() {
        let list: Vec<&str> = c.fixed.reply_to.iter().map(String::as_str).collect();
        headers.push(("Reply-To", Address::from(list).into()));
    }
    if let Some(s) = &c.fixed.subject {
        headers.push(("Subject", Text::new(s.as_str()).into()));
    }
    let date = (!checked.own_date).then(date_now);
    if let Some(date) = &date {
        headers.push(("Date", Raw::new(date.as_str()).into()));
    }
    if !extra_id {
        headers.push(("Message-ID", MessageId::new(message_id.as_str()).into()));
    }
    headers.push(("MIME-Version", Raw::new("1.0").into()));
    for (name, value) in &c.fixed.headers {
        headers.push((name.as_str(), Raw::new(value.as_str()).into()));
    }

    let mut out = Vec::with_capacity(1024);
    for (name, value) in &headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        value.write_header(&mut out, name.len() + 2)?;
    }

    // The header block ends in CRLF, so normalising it apart from the body
    // gives the bytes normalising them together would.
    let mut pieces = Vec::with_capacity(c.fixed.attachments.len() + 2);
    pieces.push(Arc::from(wire::normalize(&out, false)));
    c.fixed.body.append_pieces(c, &mut pieces)?;
    Ok(Layout { pieces, message_id })
}

/// The `Date` value for now, as mail-builder writes it, made once per
/// second: a bulk run builds thousands of messages a second, and the
/// calendar arithmetic and formatting cost more than the rest of the header.
fn date_now() -> String {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    LAST.try_with(|last| {
        let (second, text) = &mut *last.borrow_mut();
        if *second != now {
            *second = now;
            *text = Date::new(now).to_rfc822();
        }
        text.clone()
    })
    // A thread being torn down has no cache left.
    .unwrap_or_else(|_| Date::new(now).to_rfc822())
}

/// The MIME body of a template (everything after the header block), split
/// at the attachments and CRLF-normalised, written at most once: a bulk
/// run that clones one [`Composer`] per recipient encodes the same text
/// once, not once per message (mail-builder's encoding choice scans every
/// byte). A MIME boundary need only be unique within a message, so the
/// messages may share one.
#[derive(Clone, Default)]
pub(crate) struct BodyCache(Arc<std::sync::OnceLock<Vec<Arc<[u8]>>>>);

impl BodyCache {
    fn append_pieces(&self, c: &Composer, out: &mut Vec<Arc<[u8]>>) -> std::io::Result<()> {
        if let Some(pieces) = self.0.get() {
            out.extend(pieces.iter().cloned());
            return Ok(());
        }
        let pieces = body_pieces(c)?;
        out.extend(pieces.iter().cloned());
        // Two threads building the first message at once both write it;
        // either result is right.
        let _ = self.0.set(pieces);
        Ok(())
    }
}

fn body_pieces(c: &Composer) -> std::io::Result<Vec<Arc<[u8]>>> {
    let nonce = generate_message_id("x@placeholder");
    let tokens: Vec<String> = (0..c.fixed.attachments.len())
        .map(|i| format!("\0smtp-message-attachment-{i}-{nonce}\0"))
        .collect();
    let mut body = MessageBuilder::new();
    if let Some(t) = &c.fixed.text {
        body = body.text_body(Cow::Borrowed(t.as_ref()));
    }
    if let Some(h) = &c.fixed.html {
        body = body.html_body(Cow::Borrowed(h.as_ref()));
    }
    for (a, token) in c.fixed.attachments.iter().zip(&tokens) {
        let part = MimePart::new(
            ContentType::new(a.content_type.as_str()),
            BodyPart::Binary(Cow::Borrowed(token.as_bytes())),
        )
        .attachment(a.name.as_str())
        .transfer_encoding("base64");
        body.attachments.get_or_insert_with(Vec::new).push(part);
    }
    let mut out = Vec::with_capacity(1024);
    body.write_body(&mut out)?;

    let mut pieces = Vec::with_capacity(tokens.len() + 1);
    let mut rest = out.as_slice();
    for token in &tokens {
        let at = find(rest, token.as_bytes())
            .ok_or_else(|| std::io::Error::other("attachment placeholder missing"))?;
        pieces.push(Arc::from(wire::normalize(&rest[..at], false)));
        rest = &rest[at + token.len()..];
    }
    pieces.push(Arc::from(wire::normalize(rest, true)));
    Ok(pieces)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A Message-ID in the sender's domain, as mail clients make them: the
/// machine's host name (mail-builder's default) would tell every recipient
/// an internal name, and costs a system call per message. An ID must be
/// ASCII: a domain that is not gets `localhost` (the left part is what
/// makes the ID unique).
pub(crate) fn generate_message_id(from: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let domain = match from.rsplit_once('@').map_or("", |(_, d)| d) {
        d if !d.is_empty() && d.is_ascii() => d,
        _ => "localhost",
    };
    // Nanoseconds fit 64 bits until the year 2554.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let pid = PID.get_or_init(std::process::id);
    // `format!` with `{:x}` costs more than the rest of the header block.
    let mut id = String::with_capacity(16 + 16 + 8 + 3 + domain.len());
    push_hex(&mut id, nanos);
    id.push('.');
    push_hex(&mut id, n);
    id.push('.');
    push_hex(&mut id, u64::from(*pid));
    id.push('@');
    id.push_str(domain);
    id
}

/// `n` in lower-case hex without leading zeros, as `{:x}` writes it.
fn push_hex(out: &mut String, n: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 16];
    let mut at = buf.len();
    let mut n = n;
    loop {
        at -= 1;
        buf[at] = DIGITS[(n & 0xf) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[at..]).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_unique_and_in_the_senders_domain() {
        let ids: std::collections::HashSet<String> = (0..100)
            .map(|_| generate_message_id("app@mail.example.test"))
            .collect();
        assert_eq!(ids.len(), 100);
        assert!(ids.iter().all(|i| i.ends_with("@mail.example.test")));
        assert!(generate_message_id("a@bücher.example").ends_with("@localhost"));
    }

    #[test]
    fn a_checked_address_goes_in_as_it_is_and_text_is_checked_at_build() {
        let checked = smtp_core::Address::new("x@example.test").unwrap();
        let built = Composer::new("app@example.test")
            .to(checked.clone())
            .cc("y@example.test")
            .text_body("hi")
            .build()
            .unwrap();
        assert_eq!(
            built.envelope().to(),
            &[checked, smtp_core::Address::new("y@example.test").unwrap()]
        );
        let shown = Recipient::from(&built.envelope().to()[0]);
        assert_eq!(shown, Recipient::from("x@example.test"), "equal as written");
        assert_eq!(
            (shown.to_string(), format!("{shown:?}")),
            (
                "x@example.test".to_string(),
                "\"x@example.test\"".to_string()
            )
        );
        let refused = Composer::new("app@example.test")
            .to("not an address")
            .text_body("hi")
            .build();
        assert!(
            matches!(&refused, Err(crate::Error::InvalidAddress { field, .. }) if field == "to"),
            "{refused:?}"
        );
    }

    #[test]
    fn hex_is_written_as_format_writes_it() {
        for n in [0, 1, 15, 16, 255, 0xdead_beef, u64::MAX] {
            let mut s = String::new();
            push_hex(&mut s, n);
            assert_eq!(s, format!("{n:x}"));
        }
    }

    #[test]
    fn the_date_is_the_current_second_as_mail_builder_writes_it() {
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let date = date_now();
        let again = date_now();
        let after = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        for d in [&date, &again] {
            assert!(
                (before..=after).any(|t| Date::new(t).to_rfc822() == *d),
                "the cached text is a fresh rendering of a second in range: {d}"
            );
        }
    }

    #[test]
    fn clones_of_a_template_share_one_written_body_until_one_changes_it() {
        let template = Composer::new("app@example.test").text_body("héllo wörld\n".repeat(20));
        let a = template.clone().to("x@example.test");
        let b = template.clone().to("y@example.test");
        let la = layout(&a, &a.check().unwrap()).unwrap();
        assert!(
            template.fixed.body.0.get().is_some(),
            "written once, for every clone"
        );
        let lb = layout(&b, &b.check().unwrap()).unwrap();
        let body = |l: &Layout| {
            let text = String::from_utf8(l.pieces[1].to_vec()).unwrap();
            assert!(
                !text.contains("Message-ID:"),
                "the body pieces carry no header"
            );
            let at = text.find("Content-Type: text/plain").expect(&text);
            text[at..].to_string()
        };
        assert_eq!(body(&la), body(&lb));
        assert!(
            body(&la).contains("aMOpbGxv"),
            "the text, encoded: {}",
            body(&la)
        );
        let la_text = String::from_utf8(la.pieces[0].to_vec()).unwrap();
        assert!(la_text.contains("To: <x@example.test>") || la_text.contains("To: x@example.test"));

        assert!(
            Arc::ptr_eq(&a.fixed, &template.fixed),
            "a clone that only adds recipients shares everything else"
        );
        let changed = template
            .clone()
            .to("z@example.test")
            .text_body("other text\n");
        assert!(!Arc::ptr_eq(&changed.fixed, &template.fixed));
        assert!(
            changed.fixed.body.0.get().is_none(),
            "a new body starts a new cache"
        );
        let lc = layout(&changed, &changed.check().unwrap()).unwrap();
        assert!(body(&lc).contains("other text") && !body(&lc).contains("aMOpbGxv"));
        // The template's own cache is untouched by the clone's change.
        let again = template.clone().to("w@example.test");
        assert_eq!(
            body(&layout(&again, &again.check().unwrap()).unwrap()),
            body(&la)
        );
    }
}
