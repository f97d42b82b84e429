//! The envelope's extension parameters as a queued message's metadata
//! keeps them: DSN (RFC 3461) and REQUIRETLS (RFC 8689). Every field has
//! a serde default, so metadata written before they existed still loads.

use serde::{Deserialize, Serialize};
use smtp_core::Envelope;
use smtp_core::dsn::{Dsn, IfUnsupported, OriginalRecipient, RecipientDsn};

/// DSN and REQUIRETLS settings of a queued message, in the words the
/// protocol uses (`SUCCESS,FAILURE`, `HDRS`, ...), unencoded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct EnvelopeParams {
    /// `RET`: `FULL` or `HDRS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ret: Option<String>,
    /// `ENVID`, not xtext-encoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envid: Option<String>,
    /// `NOTIFY` of recipients without their own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<String>,
    /// `ORCPT=rfc822;<recipient>` for recipients without their own.
    #[serde(skip_serializing_if = "is_false")]
    pub orcpt: bool,
    /// `fail` or `drop`: what happens when the server lacks DSN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_unsupported: Option<String>,
    /// Recipients' own settings, by index in `to`; empty when none has any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<RecipientParams>,
    /// REQUIRETLS.
    #[serde(skip_serializing_if = "is_false")]
    pub require_tls: bool,
}

/// One recipient's own DSN settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RecipientParams {
    /// Its `NOTIFY`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<String>,
    /// Its `ORCPT` address type (`rfc822`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orcpt_type: Option<String>,
    /// Its `ORCPT` address, not xtext-encoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orcpt: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl EnvelopeParams {
    /// True when there is nothing to keep (the metadata then has no
    /// `params` at all, as before).
    pub fn is_empty(&self) -> bool {
        *self == EnvelopeParams::default()
    }

    /// What `envelope` asks for.
    pub fn of(envelope: &Envelope) -> EnvelopeParams {
        let mut p = EnvelopeParams {
            require_tls: envelope.requires_tls(),
            ..EnvelopeParams::default()
        };
        if let Some(d) = envelope.dsn() {
            p.ret = d.ret_value().map(|r| r.as_str().to_string());
            p.envid = d.envid_value().map(str::to_string);
            p.notify = d.notify_value().map(|n| n.to_string());
            p.orcpt = d.orcpt_value();
            if d.if_unsupported_value() != IfUnsupported::Fail {
                p.if_unsupported = Some(d.if_unsupported_value().as_str().to_string());
            }
        }
        let own: Vec<RecipientParams> = (0..envelope.to().len())
            .map(|i| {
                let r = envelope.recipient_dsn(i);
                RecipientParams {
                    notify: r
                        .and_then(RecipientDsn::notify_value)
                        .map(|n| n.to_string()),
                    orcpt_type: r
                        .and_then(RecipientDsn::orcpt_value)
                        .map(|o| o.addr_type().to_string()),
                    orcpt: r
                        .and_then(RecipientDsn::orcpt_value)
                        .map(|o| o.address().to_string()),
                }
            })
            .collect();
        if own.iter().any(|r| *r != RecipientParams::default()) {
            p.recipients = own;
        }
        p
    }

    /// `envelope` with these settings, checked as the library checks them.
    pub fn apply(&self, mut envelope: Envelope) -> Result<Envelope, smtp_core::Error> {
        let has_dsn = self.ret.is_some()
            || self.envid.is_some()
            || self.notify.is_some()
            || self.orcpt
            || self.if_unsupported.is_some();
        if has_dsn {
            let mut d = Dsn::new().orcpt(self.orcpt);
            if let Some(r) = &self.ret {
                d = d.ret(r.parse()?);
            }
            if let Some(e) = &self.envid {
                d = d.envid(e)?;
            }
            if let Some(n) = &self.notify {
                d = d.notify(n.parse()?);
            }
            if let Some(u) = &self.if_unsupported {
                d = d.if_unsupported(u.parse()?);
            }
            envelope = envelope.with_dsn(d);
        }
        for (i, r) in self.recipients.iter().enumerate() {
            if *r == RecipientParams::default() {
                continue;
            }
            let mut own = RecipientDsn::new();
            if let Some(n) = &r.notify {
                own = own.notify(n.parse()?);
            }
            if let Some(a) = &r.orcpt {
                let t = r.orcpt_type.as_deref().unwrap_or("rfc822");
                own = own.orcpt(OriginalRecipient::new(t, a)?);
            }
            envelope = envelope.with_recipient_dsn(i, own)?;
        }
        Ok(envelope.with_require_tls(self.require_tls))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smtp_core::Address;
    use smtp_core::dsn::{Notify, Ret};

    #[test]
    fn round_trips_every_setting() {
        let env = Envelope::new(
            Some(Address::new("a@b.example").unwrap()),
            vec![
                Address::new("c@d.example").unwrap(),
                Address::new("e@f.example").unwrap(),
            ],
        )
        .unwrap();
        let full = env
            .clone()
            .with_dsn(
                Dsn::new()
                    .ret(Ret::Headers)
                    .envid("id 1+2")
                    .unwrap()
                    .notify(Notify::SUCCESS | Notify::DELAY)
                    .orcpt(true)
                    .if_unsupported(IfUnsupported::Drop),
            )
            .with_recipient_dsn(
                1,
                RecipientDsn::new()
                    .notify(Notify::NEVER)
                    .orcpt(OriginalRecipient::new("rfc822", "old@f.example").unwrap()),
            )
            .unwrap()
            .with_require_tls(true);
        let p = EnvelopeParams::of(&full);
        let json = serde_json::to_string(&p).unwrap();
        let back: EnvelopeParams = serde_json::from_str(&json).unwrap();
        assert_eq!(back.apply(env.clone()).unwrap(), full);
        assert!(EnvelopeParams::of(&env).is_empty());
    }

    #[test]
    fn metadata_written_before_params_still_loads() {
        let old = br#"{"id":"x1","from":"a@b.example","to":["c@d.example"],"message_id":null,
            "size":10,"created":1,"state":"queued","attempts":0,"next_attempt":1,
            "last_attempt":null,"last_error":null}"#;
        let e = crate::entry::Entry::parse(old, std::path::Path::new("x1.json")).unwrap();
        assert!(e.params.is_empty());
        let env = e.envelope().unwrap();
        assert!(env.dsn().is_none() && !env.requires_tls());
        // And without params, none is written: old readers see what they knew.
        assert!(!serde_json::to_string(&e).unwrap().contains("params"));
    }
}
