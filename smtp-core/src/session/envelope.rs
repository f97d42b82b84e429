//! MAIL FROM / RCPT TO command lines (RFC 5321 §4.1.1.2-3 and extensions).

use crate::address::Envelope;
use crate::capabilities::Capabilities;
use crate::error::Error;
use crate::message::MessageSource;

/// The commands that open a transaction, already checked against what
/// the server offers.
#[derive(Debug, Clone)]
pub(crate) struct Prelude {
    /// `MAIL FROM:<..> params` then one `RCPT TO:<..>` per recipient, and
    /// `DATA` when it can ride along (PIPELINING without CHUNKING).
    pub lines: Vec<String>,
    /// True when the last line is `DATA`.
    pub has_data: bool,
}

/// Builds MAIL/RCPT (and DATA) for one message, refusing early what the
/// server would refuse: a message over `SIZE`, non-ASCII addresses
/// without `SMTPUTF8`.
pub(crate) fn prelude(
    caps: &Capabilities,
    envelope: &Envelope,
    message: &MessageSource,
) -> Result<Prelude, Error> {
    if let (Some(limit), Some(size)) = (caps.size.filter(|&l| l > 0), message.size())
        && size > limit
    {
        return Err(Error::MessageTooBig { size, limit });
    }
    if envelope.needs_smtputf8() && !caps.smtputf8 {
        let addr = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .find(|a| a.needs_smtputf8())
            .map(|a| a.to_string())
            .unwrap_or_default();
        return Err(Error::InvalidInput {
            what: "address",
            value: addr,
            reason: "has non-ASCII characters but the server does not offer SMTPUTF8",
        });
    }
    if !caps.eight_bit_mime && message.eight_bit() == Some(true) {
        return Err(Error::EightBitNotSupported);
    }
    let mut mail = format!(
        "MAIL FROM:<{}>",
        envelope.from().map(|a| a.as_str()).unwrap_or("")
    );
    if caps.size.is_some()
        && let Some(size) = message.size()
    {
        mail.push_str(&format!(" SIZE={size}"));
    }
    if caps.eight_bit_mime && message.eight_bit() != Some(false) {
        mail.push_str(" BODY=8BITMIME");
    }
    if envelope.needs_smtputf8() {
        mail.push_str(" SMTPUTF8");
    }
    let mut lines = vec![mail];
    lines.extend(envelope.to().iter().map(|r| format!("RCPT TO:<{r}>")));
    let has_data = caps.pipelining && !caps.chunking;
    if has_data {
        lines.push("DATA".into());
    }
    Ok(Prelude { lines, has_data })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;

    fn env(from: &str, to: &[&str]) -> Envelope {
        Envelope::new(
            Some(Address::new(from).unwrap()),
            to.iter().map(|t| Address::new(t).unwrap()).collect(),
        )
        .unwrap()
    }

    #[test]
    fn pipelined_prelude_order_and_params() {
        let caps = Capabilities {
            pipelining: true,
            size: Some(1000),
            eight_bit_mime: true,
            smtputf8: true,
            ..Capabilities::default()
        };
        let p = prelude(
            &caps,
            &env("a@b.c", &["x@y.z", "ü@y.z"]),
            &MessageSource::from_bytes("hi ✓"),
        )
        .unwrap();
        assert_eq!(
            p.lines,
            vec![
                "MAIL FROM:<a@b.c> SIZE=8 BODY=8BITMIME SMTPUTF8",
                "RCPT TO:<x@y.z>",
                "RCPT TO:<ü@y.z>",
                "DATA"
            ]
        );
    }

    #[test]
    fn seven_bit_body_has_no_body_param_and_chunking_has_no_data() {
        let caps = Capabilities {
            pipelining: true,
            chunking: true,
            eight_bit_mime: true,
            ..Default::default()
        };
        let p = prelude(
            &caps,
            &env("a@b.c", &["x@y.z"]),
            &MessageSource::from_bytes("ascii"),
        )
        .unwrap();
        assert_eq!(p.lines, vec!["MAIL FROM:<a@b.c>", "RCPT TO:<x@y.z>"]);
        assert!(!p.has_data);
    }

    #[test]
    fn size_refused_before_sending() {
        let caps = Capabilities {
            size: Some(3),
            ..Default::default()
        };
        let e = prelude(
            &caps,
            &env("a@b.c", &["x@y.z"]),
            &MessageSource::from_bytes("four"),
        )
        .unwrap_err();
        assert!(matches!(e, Error::MessageTooBig { size: 6, limit: 3 }));
        // SIZE 0 means "no fixed limit".
        let caps = Capabilities {
            size: Some(0),
            ..Default::default()
        };
        assert!(
            prelude(
                &caps,
                &env("a@b.c", &["x@y.z"]),
                &MessageSource::from_bytes("four")
            )
            .is_ok()
        );
    }

    #[test]
    fn utf8_address_needs_smtputf8() {
        let e = prelude(
            &Capabilities::default(),
            &env("ü@b.c", &["x@y.z"]),
            &MessageSource::from_bytes(""),
        )
        .unwrap_err();
        assert!(e.to_string().contains("SMTPUTF8"), "{e}");
    }

    #[test]
    fn null_reverse_path() {
        let e = Envelope::new(None, vec![Address::new("x@y.z").unwrap()]).unwrap();
        let p = prelude(&Capabilities::default(), &e, &MessageSource::from_bytes("")).unwrap();
        assert_eq!(p.lines[0], "MAIL FROM:<>");
    }
}
