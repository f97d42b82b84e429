//! Builds the RFC 5322 message from command-line flags (mail-builder).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use smtp_core::Address;

/// What the user asked to send, before config defaults are applied.
#[derive(Debug, Default, Clone)]
pub struct Draft {
    pub from: String,
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub body: Option<String>,
    pub body_file: Option<PathBuf>,
    pub html_file: Option<PathBuf>,
    pub attach: Vec<PathBuf>,
    pub headers: Vec<String>,
}

/// Longest header line (RFC 5322 §2.1.1). Subjects and display names are
/// folded by mail-builder, but a value longer than one whole line is a
/// mistake, not something to fold.
const MAX_HEADER_LINE: usize = 998;

/// Rejects values that would break out of a header line, or not fit one.
pub fn check_header_value(what: &str, value: &str) -> Result<()> {
    if value.contains(['\r', '\n', '\0']) {
        bail!("invalid {what} {value:?}: contains CR, LF or NUL");
    }
    if value.len() > MAX_HEADER_LINE {
        bail!(
            "invalid {what}: {} bytes, longer than a header line ({MAX_HEADER_LINE})",
            value.len()
        );
    }
    Ok(())
}

fn parse_header(h: &str) -> Result<(String, String)> {
    let (name, value) = h
        .split_once(':')
        .with_context(|| format!("invalid --header {h:?}: expected \"Name: value\""))?;
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
        bail!("invalid --header name {name:?}: printable ASCII without ':' or spaces");
    }
    check_header_value("--header value", value)?;
    // Sent as given, never folded: the whole line must fit.
    check_header_value("--header", h)?;
    Ok((name.to_string(), value.trim().to_string()))
}

/// Every envelope recipient: To, Cc and Bcc (Bcc never appears in headers).
pub fn recipients(d: &Draft) -> Result<Vec<Address>> {
    d.to.iter()
        .chain(&d.cc)
        .chain(&d.bcc)
        .map(|r| Address::new(r.trim()).map_err(anyhow::Error::from))
        .collect()
}

fn read_text(path: &Path, what: &str) -> Result<String> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    String::from_utf8(bytes).with_context(|| format!("{what} {} is not UTF-8", path.display()))
}

/// The files a draft names, read once: a bulk send builds every message
/// from the same bytes, even if a file changes meanwhile.
pub struct Contents {
    text: Option<String>,
    html: Option<String>,
    attachments: Vec<(&'static str, String, Vec<u8>)>,
}

impl Contents {
    /// Reads the body, HTML and attachment files of `d`.
    pub fn load(d: &Draft) -> Result<Contents> {
        let text = match (&d.body, &d.body_file) {
            (Some(b), _) => Some(b.clone()),
            (None, Some(p)) => Some(read_text(p, "body file")?),
            (None, None) => None,
        };
        let html = d
            .html_file
            .as_deref()
            .map(|p| read_text(p, "html file"))
            .transpose()?;
        let mut attachments = Vec::new();
        for path in &d.attach {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read attachment {}", path.display()))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "attachment".into());
            attachments.push((content_type(path), name, bytes));
        }
        Ok(Contents {
            text,
            html,
            attachments,
        })
    }
}

/// Builds the message bytes.
pub fn build(d: &Draft) -> Result<Vec<u8>> {
    build_with(d, &Contents::load(d)?)
}

/// Builds the message bytes from contents already read.
pub fn build_with(d: &Draft, contents: &Contents) -> Result<Vec<u8>> {
    Address::new(&d.from)?;
    check_header_value("subject", &d.subject)?;
    if let Some(n) = &d.from_name {
        check_header_value("from name", n)?;
    }
    let from: mail_builder::headers::address::Address = match &d.from_name {
        Some(name) => (name.as_str(), d.from.as_str()).into(),
        None => d.from.as_str().into(),
    };
    let mut m = MessageBuilder::new().from(from).subject(d.subject.as_str());
    if !d.to.is_empty() {
        m = m.to(d.to.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    }
    if !d.cc.is_empty() {
        m = m.cc(d.cc.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    }
    if let Some(r) = &d.reply_to {
        Address::new(r)?;
        m = m.reply_to(r.as_str());
    }
    let mut own_id = false;
    for h in &d.headers {
        let (name, value) = parse_header(h)?;
        own_id |= name.eq_ignore_ascii_case("Message-ID");
        m = m.header(name, Raw::new(value));
    }
    if !own_id {
        if let Some(id) = message_id(&d.from) {
            m = m.message_id(id);
        }
    }
    if let Some(t) = &contents.text {
        m = m.text_body(t.as_str());
    }
    if let Some(h) = &contents.html {
        m = m.html_body(h.as_str());
    }
    for (content_type, name, bytes) in &contents.attachments {
        m = m.attachment(*content_type, name.as_str(), bytes.as_slice());
    }
    m.write_to_vec().context("building the message failed")
}

/// A Message-ID in the sender's domain, as mail clients make them: the
/// machine's host name (mail-builder's default) would tell every recipient
/// an internal name, and costs a system call per message. An ID must be
/// ASCII: a domain that is not gets `localhost` (the left part is what
/// makes the ID unique).
fn message_id(from: &str) -> Option<String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let domain = match from.rsplit_once('@')?.1 {
        "" => return None,
        d if d.is_ascii() => d,
        _ => "localhost",
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let pid = PID.get_or_init(std::process::id);
    Some(format!("{nanos:x}.{n:x}.{pid:x}@{domain}"))
}

fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "pdf" => "application/pdf",
        "json" => "application/json",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "xml" => "application/xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_with_attachment_and_no_bcc_header() {
        let dir = tempfile::tempdir().unwrap();
        let att = dir.path().join("report.csv");
        std::fs::write(&att, "a,b\n1,2\n").unwrap();
        let d = Draft {
            from: "app@example.test".into(),
            from_name: Some("App Bot".into()),
            to: vec!["ops@example.test".into()],
            bcc: vec!["hidden@example.test".into()],
            subject: "Nightly ✓".into(),
            body: Some("hello".into()),
            attach: vec![att],
            headers: vec!["X-Job: nightly".into()],
            ..Draft::default()
        };
        let text = String::from_utf8(build(&d).unwrap()).unwrap();
        assert!(
            text.contains("From: \"App Bot\" <app@example.test>"),
            "{text}"
        );
        assert!(text.contains("X-Job: nightly"));
        assert!(text.contains("report.csv"));
        assert!(!text.contains("hidden@example.test"));
        assert_eq!(recipients(&d).unwrap().len(), 2);
    }

    fn header<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
        text.lines()
            .filter_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
            .collect()
    }

    #[test]
    fn message_ids_are_unique_in_the_senders_domain_unless_given() {
        let d = Draft {
            from: "app@mail.example.test".into(),
            body: Some("x".into()),
            ..Draft::default()
        };
        let contents = Contents::load(&d).unwrap();
        let ids: std::collections::HashSet<String> = (0..100)
            .map(|_| {
                let text = String::from_utf8(build_with(&d, &contents).unwrap()).unwrap();
                let id = header(&text, "Message-ID")[0].to_string();
                assert!(
                    id.starts_with('<') && id.ends_with("@mail.example.test>"),
                    "{id}"
                );
                id
            })
            .collect();
        assert_eq!(ids.len(), 100);
        let given = Draft {
            headers: vec!["Message-ID: <mine@example.test>".into()],
            ..d
        };
        let text = String::from_utf8(build(&given).unwrap()).unwrap();
        assert_eq!(header(&text, "Message-ID"), ["<mine@example.test>"]);
    }

    #[test]
    fn files_are_read_once_for_every_message() {
        let dir = tempfile::tempdir().unwrap();
        let body = dir.path().join("body.txt");
        std::fs::write(&body, "first version").unwrap();
        let d = Draft {
            from: "app@example.test".into(),
            body_file: Some(body.clone()),
            ..Draft::default()
        };
        let contents = Contents::load(&d).unwrap();
        std::fs::write(&body, "changed meanwhile").unwrap();
        let text = String::from_utf8(build_with(&d, &contents).unwrap()).unwrap();
        assert!(
            text.contains("first version") && !text.contains("changed"),
            "{text}"
        );
    }

    #[test]
    fn header_injection_is_refused() {
        let d = Draft {
            from: "a@b.c".into(),
            subject: "x\r\nBcc: evil@x".into(),
            ..Draft::default()
        };
        assert!(build(&d).unwrap_err().to_string().contains("CR, LF"));
        let d = Draft {
            from: "a@b.c".into(),
            headers: vec!["X: a\nB: c".into()],
            ..Draft::default()
        };
        assert!(build(&d).is_err());
        assert!(parse_header("NoColon").is_err());
    }
}
