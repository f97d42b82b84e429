//! Mailbox addresses and the SMTP envelope.

use std::fmt;
use std::str::FromStr;

use crate::dsn::{Dsn, Notify, OriginalRecipient, RecipientDsn};
use crate::error::Error;

/// Longest address accepted (RFC 5321 §4.5.3.1.3: path of 256 octets).
const MAX_ADDRESS_LEN: usize = 254;

/// A validated mailbox address (`local@domain`) for the SMTP envelope.
///
/// Rejects CR, LF, NUL, `<`, `>`, spaces outside a quoted local part, and
/// anything without exactly one unquoted `@` between non-empty parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    raw: String,
    at: usize,
}

impl Address {
    /// Parses and validates an address.
    pub fn new(input: impl AsRef<str>) -> Result<Address, Error> {
        let raw = input.as_ref();
        let bad = |reason| Error::InvalidInput {
            what: "address",
            value: raw.to_string(),
            reason,
        };
        if raw.is_empty() {
            return Err(bad("empty address"));
        }
        if raw.len() > MAX_ADDRESS_LEN {
            return Err(bad("longer than 254 bytes"));
        }
        // Nearly every address is printable ASCII without a space or angle
        // bracket: one byte pass passes it through the three checks below
        // (a bulk send validates an address per message).
        let plain = raw
            .bytes()
            .all(|b| (b'!'..=b'~').contains(&b) && b != b'<' && b != b'>');
        if !plain {
            if raw.contains(['\r', '\n', '\0']) {
                return Err(bad("contains CR, LF or NUL"));
            }
            if raw.chars().any(|c| c.is_control()) {
                return Err(bad("contains a control character"));
            }
            if raw.contains(['<', '>']) {
                return Err(bad(
                    "contains '<' or '>': give the bare address, without angle brackets",
                ));
            }
        }
        let at = split_at(raw).ok_or_else(|| bad("expected local@domain"))?;
        let (local, domain) = (&raw[..at], &raw[at + 1..]);
        if local.is_empty() {
            return Err(bad("empty local part before '@'"));
        }
        if local.len() > 64 {
            return Err(bad("local part longer than 64 bytes"));
        }
        if !local.starts_with('"') {
            if !plain && local.contains(' ') {
                return Err(bad("unquoted space in local part"));
            }
            if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
                return Err(bad("misplaced '.' in local part"));
            }
            // Bytes: every special is ASCII, and no byte of a multi-byte
            // character is.
            if local.bytes().any(|b| {
                matches!(
                    b,
                    b'(' | b')' | b',' | b':' | b';' | b'@' | b'[' | b']' | b'\\' | b'"'
                )
            }) {
                return Err(bad("special character in unquoted local part"));
            }
        }
        validate_domain(domain).map_err(bad)?;
        Ok(Address {
            raw: raw.to_string(),
            at,
        })
    }

    /// The whole address.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
    /// The part before `@`.
    pub fn local_part(&self) -> &str {
        &self.raw[..self.at]
    }
    /// The part after `@`.
    pub fn domain(&self) -> &str {
        &self.raw[self.at + 1..]
    }
    /// True when the address has non-ASCII characters, so the server must
    /// offer SMTPUTF8 (RFC 6531) to accept it.
    pub fn needs_smtputf8(&self) -> bool {
        !self.raw.is_ascii()
    }
}

/// Index of the `@` that separates local part and domain: the last one,
/// and only if the local part is not a quoted string containing it.
fn split_at(raw: &str) -> Option<usize> {
    if let Some(rest) = raw.strip_prefix('"') {
        let close = rest.find('"')? + 1;
        if raw[close + 1..].starts_with('@') && !raw[close + 2..].contains('@') {
            return Some(close + 1);
        }
        return None;
    }
    let at = raw.find('@')?;
    if raw[at + 1..].contains('@') {
        return None;
    }
    Some(at)
}

fn validate_domain(domain: &str) -> Result<(), &'static str> {
    if domain.is_empty() {
        return Err("empty domain after '@'");
    }
    if let Some(lit) = domain.strip_prefix('[') {
        let inner = lit
            .strip_suffix(']')
            .ok_or("unterminated address literal")?;
        let ok = match inner.strip_prefix("IPv6:") {
            Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
            None => inner.parse::<std::net::Ipv4Addr>().is_ok(),
        };
        return if ok {
            Ok(())
        } else {
            Err("bad address literal")
        };
    }
    if domain.len() > 253 {
        return Err("domain longer than 253 bytes");
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err("empty label in domain");
        }
        if label.len() > 63 {
            return Err("domain label longer than 63 bytes");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("domain label starts or ends with '-'");
        }
        // Bytes, as `char::is_alphanumeric` decides for ASCII; any
        // non-ASCII character is let through (IDNs), and every byte of one
        // is >= 0x80.
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b >= 0x80)
        {
            return Err("invalid character in domain");
        }
    }
    Ok(())
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl FromStr for Address {
    type Err = Error;
    fn from_str(s: &str) -> Result<Address, Error> {
        Address::new(s)
    }
}

impl TryFrom<&str> for Address {
    type Error = Error;
    fn try_from(s: &str) -> Result<Address, Error> {
        Address::new(s)
    }
}

/// The SMTP envelope: reverse path and recipients, and the extension
/// parameters asked for this message: a DSN request (RFC 3461, see
/// [`crate::dsn`]) and REQUIRETLS (RFC 8689).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    from: Option<Address>,
    to: Vec<Address>,
    dsn: Option<Dsn>,
    /// Empty, or one per recipient (index as in `to`).
    recipient_dsn: Vec<RecipientDsn>,
    require_tls: bool,
}

impl Envelope {
    /// An envelope with a sender (`None` is the null reverse path `<>`,
    /// used for bounces) and at least one recipient.
    pub fn new(from: Option<Address>, to: Vec<Address>) -> Result<Envelope, Error> {
        if to.is_empty() {
            return Err(Error::InvalidInput {
                what: "envelope",
                value: String::new(),
                reason: "no recipients",
            });
        }
        Ok(Envelope {
            from,
            to,
            dsn: None,
            recipient_dsn: Vec::new(),
            require_tls: false,
        })
    }
    /// The reverse path; `None` means `<>`.
    pub fn from(&self) -> Option<&Address> {
        self.from.as_ref()
    }
    /// The recipients, in order.
    pub fn to(&self) -> &[Address] {
        &self.to
    }
    /// True when any address needs SMTPUTF8.
    pub fn needs_smtputf8(&self) -> bool {
        self.from
            .iter()
            .chain(&self.to)
            .any(Address::needs_smtputf8)
    }

    /// Asks for delivery status notifications (RFC 3461): `RET`/`ENVID`
    /// for the message, and the `NOTIFY`/`ORCPT` every recipient gets
    /// unless [`Envelope::with_recipient_dsn`] gives it its own.
    pub fn with_dsn(mut self, dsn: Dsn) -> Envelope {
        self.dsn = Some(dsn);
        self
    }

    /// Gives the recipient at `index` (as in [`Envelope::to`]) its own
    /// `NOTIFY` and/or `ORCPT`, in place of the message's.
    pub fn with_recipient_dsn(
        mut self,
        index: usize,
        dsn: RecipientDsn,
    ) -> Result<Envelope, Error> {
        if index >= self.to.len() {
            return Err(Error::InvalidInput {
                what: "recipient index",
                value: index.to_string(),
                reason: "no recipient at this index",
            });
        }
        if self.recipient_dsn.is_empty() {
            self.recipient_dsn = vec![RecipientDsn::new(); self.to.len()];
        }
        self.recipient_dsn[index] = dsn;
        Ok(self)
    }

    /// Sends the message only over TLS with a verified certificate to a
    /// server that offers REQUIRETLS (RFC 8689), with `REQUIRETLS` on
    /// `MAIL FROM`: the server then must relay it only over verified TLS,
    /// or bounce it. Otherwise the message is refused before `MAIL`
    /// ([`Error::RequireTls`]).
    pub fn with_require_tls(mut self, on: bool) -> Envelope {
        self.require_tls = on;
        self
    }

    /// The message's DSN request.
    pub fn dsn(&self) -> Option<&Dsn> {
        self.dsn.as_ref()
    }

    /// The recipient's own DSN request, when it has one.
    pub fn recipient_dsn(&self, index: usize) -> Option<&RecipientDsn> {
        self.recipient_dsn.get(index)
    }

    /// True when the message must go with REQUIRETLS.
    pub fn requires_tls(&self) -> bool {
        self.require_tls
    }

    /// True when any DSN parameter would be sent.
    pub fn wants_dsn(&self) -> bool {
        self.dsn.as_ref().is_some_and(|d| !d.is_empty())
            || self
                .recipient_dsn
                .iter()
                .any(|r| r.notify_value().is_some() || r.orcpt_value().is_some())
    }

    /// The `NOTIFY` and `ORCPT` the recipient at `index` is sent with:
    /// its own, else the message's.
    pub fn rcpt_dsn_params(&self, index: usize) -> (Option<Notify>, Option<OriginalRecipient>) {
        let own = self.recipient_dsn.get(index);
        let notify = own
            .and_then(RecipientDsn::notify_value)
            .or_else(|| self.dsn.as_ref().and_then(Dsn::notify_value));
        let orcpt = own.and_then(|r| r.orcpt_value().cloned()).or_else(|| {
            let auto = self.dsn.as_ref().is_some_and(Dsn::orcpt_value);
            auto.then(|| self.to.get(index))
                .flatten()
                .and_then(|a| OriginalRecipient::rfc822(a).ok())
        });
        (notify, orcpt)
    }
}

/// Checks a value that goes on the wire inside a command (EHLO name, an
/// extension parameter): no CR, LF, NUL or other control characters.
pub fn check_wire_value(what: &'static str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::InvalidInput {
            what,
            value: value.into(),
            reason: "empty",
        });
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(Error::InvalidInput {
            what,
            value: value.into(),
            reason: "contains CR, LF, NUL or another control character",
        });
    }
    if value.contains(' ') {
        return Err(Error::InvalidInput {
            what,
            value: value.into(),
            reason: "contains a space",
        });
    }
    Ok(())
}

/// Longest host, EHLO or TLS server name: an RFC 5321 §4.5.3.1.2 domain.
/// The one limit every layer checks names against (smtp-config refuses a
/// longer `host` or `ehlo_name` when it loads).
pub const MAX_NAME_LEN: usize = 255;

/// [`check_wire_value`] for a name (host, EHLO, TLS server name), which is
/// also at most [`MAX_NAME_LEN`] bytes.
pub(crate) fn check_name(what: &'static str, value: &str) -> Result<(), Error> {
    check_wire_value(what, value)?;
    if value.len() > MAX_NAME_LEN {
        return Err(Error::InvalidInput {
            what,
            value: value.into(),
            reason: "longer than 255 bytes",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_forms() {
        for ok in [
            "a@b.c",
            "first.last+tag@example.test",
            "\"quoted name\"@example.test",
            "user@[127.0.0.1]",
            "user@[IPv6:::1]",
            "postmaster@localhost",
            "jörg@bücher.example",
        ] {
            Address::new(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn rejects_injection_and_malformed() {
        for bad in [
            "",
            "a@b.c\r\nRCPT TO:<evil@x>",
            "a\n@b.c",
            "a\0@b.c",
            "<a@b.c>",
            "a@b.c>",
            "ab.c",
            "a@",
            "@b.c",
            "a@b@c",
            "a b@c.d",
            ".a@b.c",
            "a..b@c.d",
            "a@b..c",
            "a@-b.c",
            "a@[999.1.1.1]",
            "a@b c",
        ] {
            let err = Address::new(bad).unwrap_err();
            assert!(
                err.to_string().starts_with("invalid address"),
                "{bad:?}: {err}"
            );
        }
    }

    /// The reason each check gives, on both sides of the printable-ASCII
    /// fast path (one byte pass) and the character checks behind it.
    #[test]
    fn each_refusal_names_its_reason() {
        let reason = |raw: &str| match Address::new(raw) {
            Err(Error::InvalidInput { reason, .. }) => reason,
            other => panic!("{raw:?}: {other:?}"),
        };
        for (raw, want) in [
            ("a\r@b.c", "contains CR, LF or NUL"),
            ("a\n@b.c", "contains CR, LF or NUL"),
            ("a\0@b.c", "contains CR, LF or NUL"),
            ("a\t@b.c", "contains a control character"),
            ("a\u{7f}@b.c", "contains a control character"),
            ("a\u{85}@b.c", "contains a control character"),
            (
                "<a@b.c",
                "contains '<' or '>': give the bare address, without angle brackets",
            ),
            ("a b@c.d", "unquoted space in local part"),
            ("a(b@c.d", "special character in unquoted local part"),
            ("a\\b@c.d", "special character in unquoted local part"),
            ("a.@c.d", "misplaced '.' in local part"),
            ("a@b_c.d", "invalid character in domain"),
            ("a@b c.d", "invalid character in domain"),
            ("a@-b.c", "domain label starts or ends with '-'"),
        ] {
            assert_eq!(reason(raw), want, "{raw:?}");
        }
        Address::new("\"a b\"@c.d").expect("a quoted space");
        Address::new("ä\u{a0}b@bü.c").expect("non-ASCII local part and domain");
    }

    #[test]
    fn smtputf8_detection() {
        assert!(!Address::new("a@b.c").unwrap().needs_smtputf8());
        assert!(Address::new("jörg@b.c").unwrap().needs_smtputf8());
        let env = Envelope::new(
            Some("a@b.c".parse().unwrap()),
            vec![
                "x@y.z".parse().unwrap(),
                "δοκιμή@παράδειγμα.δοκιμή".parse().unwrap(),
            ],
        )
        .unwrap();
        assert!(env.needs_smtputf8());
    }

    #[test]
    fn parts() {
        let a = Address::new("\"x@y\"@example.test").unwrap();
        assert_eq!(a.local_part(), "\"x@y\"");
        assert_eq!(a.domain(), "example.test");
    }

    #[test]
    fn envelope_needs_recipients() {
        assert!(Envelope::new(None, vec![]).is_err());
    }

    #[test]
    fn wire_values() {
        assert!(check_wire_value("ehlo name", "client.example").is_ok());
        assert!(check_wire_value("ehlo name", "x\r\nMAIL FROM:<>").is_err());
        assert!(check_wire_value("ehlo name", "").is_err());
        assert!(check_name("ehlo name", &"h".repeat(255)).is_ok());
        assert!(check_name("ehlo name", &"h".repeat(256)).is_err());
    }
}
