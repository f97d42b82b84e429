//! Checks on every value before it is written into a header.

use smtp_core::Address;

use crate::Error;

/// Longest header line (RFC 5322 §2.1.1), without its CRLF.
pub const MAX_HEADER_LINE: usize = 998;

/// Header fields this crate writes itself (or never writes, like Bcc): an
/// extra header of one of these names would duplicate or contradict them.
const STRUCTURAL: &[(&str, &str)] = &[
    ("Bcc", "Bcc never appears in the content: use Composer::bcc"),
    ("Resent-Bcc", "Bcc never appears in the content"),
    ("Content-Type", "written from the bodies and attachments"),
    (
        "Content-Transfer-Encoding",
        "written from the bodies and attachments",
    ),
    ("Content-Disposition", "written for attachments"),
    ("MIME-Version", "always written"),
    ("From", "use Composer::new and Composer::from_name"),
    ("To", "use Composer::to"),
    ("Cc", "use Composer::cc"),
    ("Reply-To", "use Composer::reply_to"),
    ("Subject", "use Composer::subject"),
];

/// Checks a header field name: RFC 5322 §2.2, printable ASCII (33..=126)
/// except `:`, not empty.
///
/// ```
/// assert!(smtp_message::check_header_name("X-Job").is_ok());
/// assert!(smtp_message::check_header_name("X Job").is_err());
/// ```
pub fn check_header_name(name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::invalid("header name", name, "empty"));
    }
    if !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
        return Err(Error::invalid(
            "header name",
            name,
            "only printable ASCII without ':' or spaces is allowed",
        ));
    }
    if name.len() > MAX_HEADER_LINE - 2 {
        return Err(Error::invalid(
            "header name",
            name,
            "longer than a header line",
        ));
    }
    Ok(())
}

/// Checks a value written into a header (subject, display name, extra
/// header value): no CR, LF, NUL, no other C0 control character or DEL
/// (TAB is allowed), at most 998 bytes. `field` names the value in the
/// error ("subject", "header X-Job").
///
/// ```
/// assert!(smtp_message::check_header_value("subject", "Hello\tthere").is_ok());
/// let err = smtp_message::check_header_value("subject", "x\r\nBcc: evil@x").unwrap_err();
/// assert_eq!(err.to_string(), r#"invalid subject "x\r\nBcc: evil@x": contains CR or LF"#);
/// ```
pub fn check_header_value(field: &str, value: &str) -> Result<(), Error> {
    if value.contains(['\r', '\n']) {
        return Err(Error::invalid(field, value, "contains CR or LF"));
    }
    if value.contains('\0') {
        return Err(Error::invalid(field, value, "contains NUL"));
    }
    if value.chars().any(|c| c.is_ascii_control() && c != '\t') {
        return Err(Error::invalid(
            field,
            value,
            "contains a control character (only TAB is allowed)",
        ));
    }
    if value.len() > MAX_HEADER_LINE {
        return Err(Error::invalid(
            field,
            value,
            "longer than a header line (998 bytes)",
        ));
    }
    Ok(())
}

/// Checks an extra header: its name, its value, that it is not one this
/// crate writes itself, and that the whole line fits 998 bytes.
pub(crate) fn check_extra_header(name: &str, value: &str) -> Result<(), Error> {
    check_header_name(name)?;
    if let Some((_, why)) = STRUCTURAL
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        return Err(Error::invalid("header name", name, why));
    }
    let field = format!("header {name}");
    check_header_value(&field, value)?;
    if name.len() + 2 + value.len() > MAX_HEADER_LINE {
        return Err(Error::invalid(
            field,
            value,
            "the header line is longer than 998 bytes",
        ));
    }
    Ok(())
}

/// Validates an address on the exact string given (no trimming).
pub(crate) fn address(field: &str, value: &str) -> Result<Address, Error> {
    Address::new(value).map_err(|e| Error::InvalidAddress {
        field: field.to_string(),
        value: value.to_string(),
        reason: match e {
            smtp_core::Error::InvalidInput { reason, .. } => reason.to_string(),
            other => other.to_string(),
        },
    })
}

/// Checks a MIME type given for an attachment: `type/subtype`, RFC 2045
/// token characters only (parameters are not accepted).
pub(crate) fn content_type(field: &str, ct: &str) -> Result<(), Error> {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| (33..=126).contains(&b) && !b"()<>@,;:\\\"/[]?=".contains(&b))
    };
    match ct.split_once('/') {
        Some((t, s)) if token(t) && token(s) => Ok(()),
        _ => Err(Error::invalid(
            field,
            ct,
            "expected a MIME type such as application/pdf",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_refuse_every_control_but_tab() {
        assert!(check_header_value("subject", "a\tb ✓").is_ok());
        for bad in [
            "x\r\n\r\n",
            "x\n",
            "x\r",
            "x\0",
            "x\x1b",
            "x\x07",
            "x\x0b",
            "x\x7f",
        ] {
            let err = check_header_value("subject", bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid subject \"x\\"), "{bad:?}: {err}");
        }
        assert!(check_header_value("subject", &"a".repeat(999)).is_err());
    }

    #[test]
    fn header_names_follow_rfc_5322() {
        for ok in ["X-Job", "x_1", "List-Unsubscribe"] {
            check_header_name(ok).unwrap();
        }
        for bad in ["", "X Job", "X:Job", "X\tJob", "Jöb", "X\r\n"] {
            assert!(check_header_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn structural_headers_are_refused_in_any_case() {
        for name in [
            "bcc",
            "BCC",
            "Content-Type",
            "mime-version",
            "Content-Transfer-Encoding",
        ] {
            let err = check_extra_header(name, "x").unwrap_err().to_string();
            assert!(err.contains(name), "{err}");
        }
        check_extra_header("X-Job", "nightly").unwrap();
        assert!(check_extra_header("X-Job", &"a".repeat(992)).is_err());
        check_extra_header("X-Job", &"a".repeat(991)).unwrap();
    }

    #[test]
    fn content_types_are_type_slash_subtype() {
        content_type("attachment content type", "application/pdf").unwrap();
        for bad in ["pdf", "text/plain; charset=x", "a/b\r\n", "/b", "a/"] {
            assert!(
                content_type("attachment content type", bad).is_err(),
                "{bad:?}"
            );
        }
    }
}
