//! MAIL FROM / RCPT TO command lines (RFC 5321 §4.1.1.2-3 and extensions).

use std::fmt::Write as _;

use crate::address::Envelope;
use crate::capabilities::Capabilities;
use crate::dsn::{IfUnsupported, xtext};
use crate::error::{Error, RequireTlsProblem};
use crate::message::MessageSource;
use crate::tls::TlsInfo;
use crate::transcript::SessionEvent;

impl super::Session {
    /// [`prelude`] for this session; says so (event and warning) when a
    /// DSN request is dropped because the server lacks DSN.
    pub(super) fn prelude(
        &self,
        envelope: &Envelope,
        message: &MessageSource,
    ) -> Result<Vec<String>, Error> {
        let p = prelude(&self.caps, self.tls.as_ref(), envelope, message)?;
        self.note_dsn_dropped(envelope);
        Ok(p)
    }

    pub(super) fn note_dsn_dropped(&self, envelope: &Envelope) {
        if envelope.wants_dsn() && !self.caps.dsn {
            let from = format!("<{}>", envelope.from().map(|a| a.as_str()).unwrap_or(""));
            tracing::warn!(target = %self.config.target, %from, "the server does not offer DSN: sending without the DSN request, which allows that (IfUnsupported::Drop)");
            self.event(SessionEvent::DsnDropped { from });
        }
    }
}

/// Builds MAIL/RCPT for one message (the planner adds DATA or BDAT), refusing early what the
/// server would refuse: a message over `SIZE`, non-ASCII addresses
/// without `SMTPUTF8`, a DSN request without `DSN`, REQUIRETLS without
/// verified TLS and `REQUIRETLS`.
pub(crate) fn prelude(
    caps: &Capabilities,
    tls: Option<&TlsInfo>,
    envelope: &Envelope,
    message: &MessageSource,
) -> Result<Vec<String>, Error> {
    if let (Some(limit), Some(size)) = (caps.size.filter(|&l| l > 0), message.size())
        && size > limit
    {
        return Err(Error::MessageTooBig { size, limit });
    }
    if !caps.eight_bit_mime && message.eight_bit() == Some(true) {
        return Err(Error::EightBitNotSupported);
    }
    // Written in place, not formatted piece by piece: this runs once per
    // message (issue 20).
    let mut body_params = String::with_capacity(40);
    if caps.size.is_some()
        && let Some(size) = message.size()
    {
        let _ = write!(body_params, " SIZE={size}");
    }
    if caps.eight_bit_mime && message.eight_bit() != Some(false) {
        body_params.push_str(" BODY=8BITMIME");
    }
    envelope_lines(caps, tls, envelope, &body_params)
}

/// `MAIL FROM` (with `body_params`, the message's own `SIZE`/`BODY`,
/// right after the path) and one `RCPT TO` per recipient, with the
/// envelope's extension parameters; refuses what the server cannot carry.
pub(crate) fn envelope_lines(
    caps: &Capabilities,
    tls: Option<&TlsInfo>,
    envelope: &Envelope,
    body_params: &str,
) -> Result<Vec<String>, Error> {
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
    if envelope.requires_tls() {
        let problem = match tls {
            None => Some(RequireTlsProblem::NoTls),
            Some(t) if !t.verified => Some(RequireTlsProblem::UnverifiedCertificate),
            Some(_) if !caps.requiretls => Some(RequireTlsProblem::NotOffered),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            return Err(Error::RequireTls { problem });
        }
    }
    let dsn = envelope.wants_dsn() && caps.dsn;
    if envelope.wants_dsn()
        && !caps.dsn
        && envelope
            .dsn()
            .is_none_or(|d| d.if_unsupported_value() == IfUnsupported::Fail)
    {
        return Err(Error::DsnNotSupported);
    }
    let from = envelope.from().map(|a| a.as_str()).unwrap_or("");
    let mut mail = String::with_capacity(64 + from.len() + body_params.len());
    mail.push_str("MAIL FROM:<");
    mail.push_str(from);
    mail.push('>');
    mail.push_str(body_params);
    if envelope.needs_smtputf8() {
        mail.push_str(" SMTPUTF8");
    }
    if dsn && let Some(d) = envelope.dsn() {
        if let Some(ret) = d.ret_value() {
            let _ = write!(mail, " RET={ret}");
        }
        if let Some(envid) = d.envid_value() {
            let _ = write!(mail, " ENVID={}", xtext(envid));
        }
    }
    if envelope.requires_tls() {
        mail.push_str(" REQUIRETLS");
    }
    let mut lines = Vec::with_capacity(1 + envelope.to().len());
    lines.push(mail);
    for (i, r) in envelope.to().iter().enumerate() {
        let mut rcpt = String::with_capacity(if dsn { 96 } else { 12 } + r.as_str().len());
        rcpt.push_str("RCPT TO:<");
        rcpt.push_str(r.as_str());
        rcpt.push('>');
        if dsn {
            let (notify, orcpt) = envelope.rcpt_dsn_params(i);
            if let Some(n) = notify {
                let _ = write!(rcpt, " NOTIFY={n}");
            }
            if let Some(o) = orcpt {
                let _ = write!(rcpt, " ORCPT={}", o.encoded());
            }
        }
        lines.push(rcpt);
    }
    Ok(lines)
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
            None,
            &env("a@b.c", &["x@y.z", "ü@y.z"]),
            &MessageSource::from_bytes("hi ✓"),
        )
        .unwrap();
        assert_eq!(
            p,
            vec![
                "MAIL FROM:<a@b.c> SIZE=8 BODY=8BITMIME SMTPUTF8",
                "RCPT TO:<x@y.z>",
                "RCPT TO:<ü@y.z>",
            ]
        );
    }

    #[test]
    fn seven_bit_body_has_no_body_param() {
        let caps = Capabilities {
            pipelining: true,
            chunking: true,
            eight_bit_mime: true,
            ..Default::default()
        };
        let p = prelude(
            &caps,
            None,
            &env("a@b.c", &["x@y.z"]),
            &MessageSource::from_bytes("ascii"),
        )
        .unwrap();
        assert_eq!(p, vec!["MAIL FROM:<a@b.c>", "RCPT TO:<x@y.z>"]);
    }

    #[test]
    fn size_refused_before_sending() {
        let caps = Capabilities {
            size: Some(3),
            ..Default::default()
        };
        let e = prelude(
            &caps,
            None,
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
                None,
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
            None,
            &env("ü@b.c", &["x@y.z"]),
            &MessageSource::from_bytes(""),
        )
        .unwrap_err();
        assert!(e.to_string().contains("SMTPUTF8"), "{e}");
    }

    #[test]
    fn null_reverse_path() {
        let e = Envelope::new(None, vec![Address::new("x@y.z").unwrap()]).unwrap();
        let p = prelude(
            &Capabilities::default(),
            None,
            &e,
            &MessageSource::from_bytes(""),
        )
        .unwrap();
        assert_eq!(p[0], "MAIL FROM:<>");
    }
}
