//! Composing: validation before anything connects, structure, round trip.

mod common;

use mail_parser::{MessageParser, MimeHeaders};
use smtp_message::{Attachment, Composer, Error};

fn base() -> Composer {
    Composer::new("app@example.test")
        .to("ops@example.test")
        .subject("s")
        .text_body("hi")
}

#[test]
fn every_input_with_control_characters_is_refused_at_build() {
    let tails = [
        "x\r\n\r\n",
        "x\n",
        "x\r",
        "x\0",
        "x\x1b",
        "x\x07",
        "x\x0b",
        "x\x7f",
    ];
    type Set = fn(Composer, String) -> Composer;
    let inputs: &[(&str, Set)] = &[
        ("to", |c, v| c.to(format!("b@{v}"))),
        ("cc", |c, v| c.cc(format!("b@{v}"))),
        ("bcc", |c, v| c.bcc(format!("b@{v}"))),
        ("reply-to", |c, v| c.reply_to(format!("b@{v}"))),
        ("from", |c, v| {
            let mut n = Composer::new(format!("a@{v}")).to("ops@example.test");
            n = n.subject("s");
            let _ = c;
            n
        }),
        ("from name", |c, v| c.from_name(v)),
        ("subject", |c, v| c.subject(v)),
        ("header name", |c, v| c.header(v, "value")),
        ("header X-Job", |c, v| c.header("X-Job", v)),
        ("message id", |c, v| {
            c.message_id(format!("id.{v}@example.test"))
        }),
        ("attachment name", |c, v| {
            c.attach(Attachment::bytes(v, "text/plain", "x"))
        }),
        ("attachment content type", |c, v| {
            c.attach(Attachment::bytes("a.txt", format!("text/{v}"), "x"))
        }),
    ];
    for (field, set) in inputs {
        for tail in tails {
            let err = set(base(), tail.to_string()).build().unwrap_err();
            let text = err.to_string();
            let named = text.starts_with(&format!("invalid {field} "))
                || (text.starts_with("invalid address ")
                    && text.contains(&format!(" in {field}: ")));
            assert!(named, "{field} with {tail:?}: {text}");
            let escaped = format!("{tail:?}");
            assert!(
                text.contains(escaped.trim_matches('"')),
                "value shown escaped: {text}"
            );
            assert!(
                !text.contains('\r') && !text.contains('\n') && !text.contains('\0'),
                "{text}"
            );
        }
    }
}

#[test]
fn addresses_are_checked_exactly_as_given() {
    for bad in [
        " ops@example.test",
        "ops@example.test ",
        "<ops@example.test>",
        "b@x\r\n\r\n",
    ] {
        let err = Composer::new("a@example.test").to(bad).build().unwrap_err();
        assert!(
            matches!(err, Error::InvalidAddress { ref field, .. } if field == "to"),
            "{err}"
        );
    }
}

#[test]
fn structural_and_malformed_headers_are_refused() {
    for name in [
        "Bcc",
        "bcc",
        "Content-Type",
        "MIME-Version",
        "content-transfer-encoding",
        "Subject",
    ] {
        let err = base().header(name, "x").build().unwrap_err().to_string();
        assert!(err.starts_with("invalid header name"), "{err}");
    }
    for name in ["", "X Job", "X:Job", "Jöb"] {
        assert!(base().header(name, "x").build().is_err(), "{name:?}");
    }
    let long = "v".repeat(998 - "X-Long: ".len() + 1);
    assert!(base().header("X-Long", long).build().is_err());
    let fits = "v".repeat(998 - "X-Long: ".len());
    base().header("X-Long", fits).build().unwrap();
}

#[test]
fn at_least_one_recipient_is_needed() {
    let err = Composer::new("a@example.test")
        .subject("s")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::NoRecipients));
    let only_bcc = Composer::new("a@example.test")
        .bcc("h@example.test")
        .build()
        .unwrap();
    assert_eq!(only_bcc.envelope().to().len(), 1);
}

#[tokio::test]
async fn composed_message_round_trips_through_mail_parser() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.bin");
    let len = 3 * 1024 * 1024 + 17;
    common::write_noise_file(&path, len);
    let c = Composer::new("app@mail.example.test")
        .from_name("Ärger, Bot")
        .to("ops@example.test")
        .to("dev@example.test")
        .cc("cc@example.test")
        .bcc("hidden@example.test")
        .reply_to("replies@example.test")
        .subject("Nightly ✓ report — ünïcödé")
        .text_body("Grüße,\nline two\n")
        .html_body("<p>Grüße</p>")
        .attach(Attachment::file(&path))
        .attach(Attachment::bytes("small.txt", "text/plain", "tiny\n"))
        .header("X-Job", "nightly");
    assert_eq!(c.recipients(), 4);
    let m = c.build().unwrap();
    assert!(
        m.message_id().ends_with("@mail.example.test"),
        "{}",
        m.message_id()
    );
    let bytes = m.open().await.unwrap().read_to_end().await.unwrap();
    assert_eq!(
        m.size(),
        Some(bytes.len() as u64),
        "size() is the bytes read"
    );
    assert!(bytes.is_ascii(), "7-bit message");
    assert!(
        !String::from_utf8_lossy(&bytes).contains("hidden"),
        "Bcc in content"
    );
    assert!(
        bytes
            .windows(2)
            .enumerate()
            .all(|(i, w)| w[1] != b'\n' || w[0] == b'\r' || i == 0)
    );

    let parsed = MessageParser::default().parse(&bytes).unwrap();
    assert_eq!(parsed.subject(), Some("Nightly ✓ report — ünïcödé"));
    assert_eq!(parsed.message_id(), Some(m.message_id()));
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Ärger, Bot"));
    assert_eq!(from.address(), Some("app@mail.example.test"));
    assert_eq!(parsed.to().unwrap().iter().count(), 2);
    assert!(parsed.bcc().is_none());
    assert_eq!(
        parsed.body_text(0).unwrap().replace("\r\n", "\n"),
        "Grüße,\nline two\n"
    );
    assert_eq!(parsed.body_html(0).unwrap(), "<p>Grüße</p>");
    let atts: Vec<_> = parsed.attachments().collect();
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0].attachment_name(), Some("data.bin"));
    assert_eq!(atts[0].content_type().unwrap().ctype(), "application");
    assert!(
        atts[0].contents() == std::fs::read(&path).unwrap(),
        "attachment bytes differ"
    );
    assert_eq!(atts[1].contents(), b"tiny\n");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("\r\nX-Job: nightly\r\n"));
    assert!(text.contains("multipart/mixed") && text.contains("multipart/alternative"));
    for line in text
        .lines()
        .skip_while(|l| !l.contains("data.bin"))
        .skip(3)
        .take(100)
    {
        assert!(line.len() <= 76, "base64 line {line:?}");
    }

    // Reopening (a retry) gives the same bytes except nothing: identical.
    let again = m.open().await.unwrap().read_to_end().await.unwrap();
    assert_eq!(again, bytes);
    // A second build is a new message: new Message-ID.
    assert_ne!(c.build().unwrap().message_id(), m.message_id());
}

#[tokio::test]
async fn text_only_is_a_single_part_and_text_with_html_is_alternative() {
    let one = base()
        .build()
        .unwrap()
        .open()
        .await
        .unwrap()
        .read_to_end()
        .await
        .unwrap();
    let one = String::from_utf8(one).unwrap();
    assert!(
        one.contains("Content-Type: text/plain; charset=") && !one.contains("multipart"),
        "{one}"
    );
    let alt = base().html_body("<b>x</b>").build().unwrap();
    let alt = String::from_utf8(alt.open().await.unwrap().read_to_end().await.unwrap()).unwrap();
    assert!(
        alt.contains("multipart/alternative") && !alt.contains("multipart/mixed"),
        "{alt}"
    );
}

#[tokio::test]
async fn message_id_and_date_can_be_given() {
    let m = base().message_id("<mine@example.test>").build().unwrap();
    assert_eq!(m.message_id(), "mine@example.test");
    let text = String::from_utf8(m.open().await.unwrap().read_to_end().await.unwrap()).unwrap();
    assert_eq!(
        text.matches("Message-ID: <mine@example.test>\r\n").count(),
        1,
        "{text}"
    );

    let m = base()
        .header("message-id", "<hdr@example.test>")
        .header("Date", "Mon, 23 Nov 2026 10:00:00 +0000")
        .build()
        .unwrap();
    assert_eq!(m.message_id(), "hdr@example.test");
    let text = String::from_utf8(m.open().await.unwrap().read_to_end().await.unwrap()).unwrap();
    assert_eq!(
        text.to_ascii_lowercase().matches("message-id:").count(),
        1,
        "{text}"
    );
    assert_eq!(text.matches("Date:").count(), 1, "{text}");
    assert!(
        base()
            .message_id("a@b")
            .header("Message-ID", "<c@d>")
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn utf8_address_makes_the_message_eight_bit() {
    let m = Composer::new("jörg@example.test")
        .to("a@example.test")
        .build()
        .unwrap();
    assert_eq!(m.open().await.unwrap().eight_bit(), Some(true));
    assert!(m.message_id().ends_with("@example.test"));
    let m = Composer::new("a@bücher.example")
        .to("a@example.test")
        .build()
        .unwrap();
    assert!(m.message_id().ends_with("@localhost"));
    assert_eq!(
        base().build().unwrap().open().await.unwrap().eight_bit(),
        Some(false)
    );
}

#[tokio::test]
async fn a_reader_attachment_is_sent_once_with_unknown_size() {
    let data = common::noise(3, 200_000);
    let m = base()
        .attach(Attachment::reader(
            "r.bin",
            "application/octet-stream",
            std::io::Cursor::new(data.clone()),
        ))
        .build()
        .unwrap();
    assert_eq!(m.size(), None);
    let bytes = m.open().await.unwrap().read_to_end().await.unwrap();
    let parsed = MessageParser::default().parse(&bytes).unwrap();
    assert!(parsed.attachments().next().unwrap().contents() == data);
    assert!(matches!(
        m.open().await.unwrap_err(),
        Error::Consumed { .. }
    ));
}

#[tokio::test]
async fn a_file_changed_after_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.txt");
    std::fs::write(&path, "one").unwrap();
    let m = base().attach(Attachment::file(&path)).build().unwrap();
    std::fs::write(&path, "longer").unwrap();
    assert!(matches!(m.open().await.unwrap_err(), Error::Changed { .. }));
    let missing = base()
        .attach(Attachment::file(dir.path().join("nope")))
        .build();
    assert!(matches!(missing.unwrap_err(), Error::File { .. }));
}

#[test]
fn file_attachments_take_name_and_type_from_the_path() {
    let a = Attachment::file("/tmp/Report.PDF");
    let text = format!("{a:?}");
    assert!(
        text.contains("\"Report.PDF\"") && text.contains("application/pdf"),
        "{text}"
    );
    let a = a.name("r.pdf").content_type("application/x-custom");
    assert!(format!("{a:?}").contains("application/x-custom"));
}
