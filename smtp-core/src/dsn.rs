//! Delivery status notification requests (RFC 3461): `NOTIFY` and
//! `ORCPT` per recipient, `RET` and `ENVID` per message.
//!
//! A request rides on the [`Envelope`](crate::Envelope) (see
//! [`Envelope::with_dsn`](crate::Envelope::with_dsn)); the session adds
//! the parameters to `MAIL FROM` / `RCPT TO` only when the server offers
//! `DSN`, and otherwise refuses the message or sends it without them, as
//! [`Dsn::if_unsupported`] says.
//!
//! ```
//! use smtp_core::dsn::{Dsn, Notify, Ret};
//! use smtp_core::{Address, Envelope};
//!
//! let dsn = Dsn::new()
//!     .notify("success,failure".parse::<Notify>()?)
//!     .ret(Ret::Headers)
//!     .envid("order-1234")?
//!     .orcpt(true);
//! let envelope = Envelope::new(
//!     Some(Address::new("shop@example.com")?),
//!     vec![Address::new("buyer@example.net")?],
//! )?
//! .with_dsn(dsn);
//! assert_eq!(envelope.dsn().unwrap().envid_value(), Some("order-1234"));
//! # Ok::<(), smtp_core::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use crate::address::Address;
use crate::error::Error;

/// Longest `ENVID` (RFC 3461 §4.4), counted before xtext encoding.
pub const MAX_ENVID_LEN: usize = 100;
/// Longest `ORCPT` value (RFC 3461 §4.2), `addr-type;xtext` as sent.
pub const MAX_ORCPT_LEN: usize = 500;

fn invalid(what: &'static str, value: &str, reason: &'static str) -> Error {
    Error::InvalidInput {
        what,
        value: value.to_string(),
        reason,
    }
}

/// When the recipient's server should report (RFC 3461 §4.1): `NEVER`,
/// or any of `SUCCESS`, `FAILURE`, `DELAY`.
///
/// ```
/// use smtp_core::dsn::Notify;
/// let n = Notify::SUCCESS | Notify::FAILURE;
/// assert_eq!(n.to_string(), "SUCCESS,FAILURE");
/// assert_eq!("failure, success".parse::<Notify>().unwrap(), n);
/// assert!("never,success".parse::<Notify>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Notify(u8);

impl Notify {
    /// No notification at all, not even of a failure.
    pub const NEVER: Notify = Notify(0);
    /// Report successful delivery.
    pub const SUCCESS: Notify = Notify(1);
    /// Report failure (what servers do by default).
    pub const FAILURE: Notify = Notify(2);
    /// Report a delay.
    pub const DELAY: Notify = Notify(4);

    /// True for [`Notify::NEVER`].
    pub fn is_never(self) -> bool {
        self.0 == 0
    }

    /// True when every condition of `other` is in `self`.
    pub fn contains(self, other: Notify) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Notify {
    type Output = Notify;
    fn bitor(self, rhs: Notify) -> Notify {
        Notify(self.0 | rhs.0)
    }
}

impl fmt::Display for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_never() {
            return f.write_str("NEVER");
        }
        let words: Vec<&str> = [
            (Notify::SUCCESS, "SUCCESS"),
            (Notify::FAILURE, "FAILURE"),
            (Notify::DELAY, "DELAY"),
        ]
        .iter()
        .filter(|(n, _)| self.contains(*n))
        .map(|(_, w)| *w)
        .collect();
        f.write_str(&words.join(","))
    }
}

impl FromStr for Notify {
    type Err = Error;
    /// A comma-separated list, any case, blanks around words ignored:
    /// `never`, or any of `success`, `failure`, `delay`.
    fn from_str(s: &str) -> Result<Notify, Error> {
        let bad = |reason| invalid("DSN NOTIFY", s, reason);
        let mut out = Notify::NEVER;
        let mut never = false;
        let mut words = 0;
        for word in s.split(',').map(str::trim) {
            words += 1;
            match word.to_ascii_lowercase().as_str() {
                "never" => never = true,
                "success" => out = out | Notify::SUCCESS,
                "failure" => out = out | Notify::FAILURE,
                "delay" => out = out | Notify::DELAY,
                "" => {
                    return Err(bad(
                        "empty: expected never, or any of success, failure, delay",
                    ));
                }
                _ => return Err(bad("expected never, or any of success, failure, delay")),
            }
        }
        if never && words > 1 {
            return Err(bad(
                "never cannot be combined with other conditions (RFC 3461 §4.1)",
            ));
        }
        Ok(out)
    }
}

/// How much of the message a failure report returns (RFC 3461 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ret {
    /// The whole message (`RET=FULL`).
    Full,
    /// Only its headers (`RET=HDRS`).
    Headers,
}

impl Ret {
    /// `FULL` or `HDRS`, as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Ret::Full => "FULL",
            Ret::Headers => "HDRS",
        }
    }
}

impl fmt::Display for Ret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Ret {
    type Err = Error;
    /// `full`, or `hdrs` (also `headers`), any case.
    fn from_str(s: &str) -> Result<Ret, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(Ret::Full),
            "hdrs" | "headers" => Ok(Ret::Headers),
            _ => Err(invalid("DSN RET", s, "expected full or hdrs")),
        }
    }
}

/// What happens to a DSN request when the server does not offer `DSN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum IfUnsupported {
    /// Refuse the message before `MAIL FROM` ([`Error::DsnNotSupported`]).
    #[default]
    Fail,
    /// Send it without the DSN parameters, with a warning (a
    /// [`SessionEvent::DsnDropped`](crate::SessionEvent::DsnDropped)).
    Drop,
}

impl IfUnsupported {
    /// `fail` or `drop`.
    pub fn as_str(self) -> &'static str {
        match self {
            IfUnsupported::Fail => "fail",
            IfUnsupported::Drop => "drop",
        }
    }
}

impl FromStr for IfUnsupported {
    type Err = Error;
    /// `fail` or `drop`, any case.
    fn from_str(s: &str) -> Result<IfUnsupported, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fail" => Ok(IfUnsupported::Fail),
            "drop" => Ok(IfUnsupported::Drop),
            _ => Err(invalid("DSN if-unsupported", s, "expected fail or drop")),
        }
    }
}

/// An original recipient (RFC 3461 §4.2): the address the message was
/// first sent to, reported back in the DSN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OriginalRecipient {
    addr_type: String,
    address: String,
}

impl OriginalRecipient {
    /// `rfc822;address`, the usual form. Addresses with non-ASCII
    /// characters are refused: they need RFC 6533's `utf-8` type, which
    /// this library does not write.
    pub fn rfc822(address: &Address) -> Result<OriginalRecipient, Error> {
        OriginalRecipient::new("rfc822", address.as_str())
    }

    /// Any address type (an atom such as `rfc822` or `x400`) with an
    /// address of printable ASCII, spaces allowed; xtext-encoded when sent.
    pub fn new(addr_type: &str, address: &str) -> Result<OriginalRecipient, Error> {
        let atom = |c: char| c.is_ascii_graphic() && !"()<>@,;:\\\".[]".contains(c);
        if addr_type.is_empty() || !addr_type.chars().all(atom) {
            return Err(invalid(
                "ORCPT address type",
                addr_type,
                "expected an atom such as rfc822",
            ));
        }
        if address.is_empty() {
            return Err(invalid("ORCPT address", address, "empty"));
        }
        if !address.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
            return Err(invalid(
                "ORCPT address",
                address,
                "has characters other than printable ASCII (RFC 6533 utf-8 addresses are not supported)",
            ));
        }
        let o = OriginalRecipient {
            addr_type: addr_type.to_string(),
            address: address.to_string(),
        };
        if o.encoded().len() > MAX_ORCPT_LEN {
            return Err(invalid(
                "ORCPT address",
                address,
                "longer than 500 characters once encoded (RFC 3461 §4.2)",
            ));
        }
        Ok(o)
    }

    /// The address type, e.g. `rfc822`.
    pub fn addr_type(&self) -> &str {
        &self.addr_type
    }

    /// The address, not encoded.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// `addr-type;xtext`, the value of `ORCPT=`.
    pub fn encoded(&self) -> String {
        format!("{};{}", self.addr_type, xtext(&self.address))
    }
}

/// A DSN request for the whole message: `RET` and `ENVID`, and the
/// `NOTIFY` and `ORCPT` every recipient gets unless
/// [`Envelope::with_recipient_dsn`](crate::Envelope::with_recipient_dsn)
/// gives it its own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dsn {
    ret: Option<Ret>,
    envid: Option<String>,
    notify: Option<Notify>,
    orcpt: bool,
    if_unsupported: IfUnsupported,
}

impl Dsn {
    /// An empty request: no parameter, [`IfUnsupported::Fail`].
    pub fn new() -> Dsn {
        Dsn::default()
    }

    /// `RET=FULL|HDRS` on `MAIL FROM`.
    pub fn ret(mut self, ret: Ret) -> Dsn {
        self.ret = Some(ret);
        self
    }

    /// `ENVID=` on `MAIL FROM`: an identifier of this message that the
    /// report carries back (`Original-Envelope-Id`). 1 to 100 characters
    /// of printable ASCII (spaces allowed); sent xtext-encoded.
    pub fn envid(mut self, envid: &str) -> Result<Dsn, Error> {
        check_envid(envid)?;
        self.envid = Some(envid.to_string());
        Ok(self)
    }

    /// `NOTIFY=` on every recipient without its own.
    pub fn notify(mut self, notify: Notify) -> Dsn {
        self.notify = Some(notify);
        self
    }

    /// `ORCPT=rfc822;<recipient>` on every recipient without its own
    /// (skipped for a recipient with non-ASCII characters, which needs
    /// RFC 6533's `utf-8` type).
    pub fn orcpt(mut self, on: bool) -> Dsn {
        self.orcpt = on;
        self
    }

    /// What to do when the server does not offer `DSN`.
    pub fn if_unsupported(mut self, then: IfUnsupported) -> Dsn {
        self.if_unsupported = then;
        self
    }

    /// The `RET` value.
    pub fn ret_value(&self) -> Option<Ret> {
        self.ret
    }

    /// The `ENVID`, not encoded.
    pub fn envid_value(&self) -> Option<&str> {
        self.envid.as_deref()
    }

    /// The `NOTIFY` for recipients without their own.
    pub fn notify_value(&self) -> Option<Notify> {
        self.notify
    }

    /// True when recipients without their own `ORCPT` get one.
    pub fn orcpt_value(&self) -> bool {
        self.orcpt
    }

    /// What happens when the server does not offer `DSN`.
    pub fn if_unsupported_value(&self) -> IfUnsupported {
        self.if_unsupported
    }

    /// True when the request adds no parameter at all.
    pub fn is_empty(&self) -> bool {
        self.ret.is_none() && self.envid.is_none() && self.notify.is_none() && !self.orcpt
    }
}

fn check_envid(envid: &str) -> Result<(), Error> {
    let bad = |reason| invalid("DSN ENVID", envid, reason);
    if envid.is_empty() {
        return Err(bad("empty"));
    }
    if !envid.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
        return Err(bad(
            "has characters other than printable ASCII (RFC 3461 §4.4)",
        ));
    }
    if envid.len() > MAX_ENVID_LEN {
        return Err(bad("longer than 100 characters (RFC 3461 §4.4)"));
    }
    Ok(())
}

/// One recipient's own DSN request, in place of the message's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecipientDsn {
    notify: Option<Notify>,
    orcpt: Option<OriginalRecipient>,
}

impl RecipientDsn {
    /// No parameter of its own: the message's defaults apply.
    pub fn new() -> RecipientDsn {
        RecipientDsn::default()
    }

    /// `NOTIFY=` for this recipient.
    pub fn notify(mut self, notify: Notify) -> RecipientDsn {
        self.notify = Some(notify);
        self
    }

    /// `ORCPT=` for this recipient.
    pub fn orcpt(mut self, orcpt: OriginalRecipient) -> RecipientDsn {
        self.orcpt = Some(orcpt);
        self
    }

    /// Its `NOTIFY`.
    pub fn notify_value(&self) -> Option<Notify> {
        self.notify
    }

    /// Its `ORCPT`.
    pub fn orcpt_value(&self) -> Option<&OriginalRecipient> {
        self.orcpt.as_ref()
    }
}

/// xtext (RFC 3461 §4): `!` to `~` as they are, except `+` and `=`;
/// everything else as `+XX` (upper-case hex of the byte).
///
/// ```
/// assert_eq!(smtp_core::dsn::xtext("a+b=c d"), "a+2Bb+3Dc+20d");
/// ```
pub fn xtext(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'+' && b != b'=' {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xtext_encodes_plus_equals_space_and_controls() {
        assert_eq!(xtext("user+tag@example.com"), "user+2Btag@example.com");
        assert_eq!(xtext("k=v"), "k+3Dv");
        assert_eq!(xtext("a b\t"), "a+20b+09");
        assert_eq!(xtext("ü"), "+C3+BC");
        assert_eq!(xtext("!~"), "!~");
    }

    #[test]
    fn notify_parsing() {
        assert_eq!("NEVER".parse::<Notify>().unwrap(), Notify::NEVER);
        assert_eq!(
            " delay ,Success".parse::<Notify>().unwrap().to_string(),
            "SUCCESS,DELAY"
        );
        for bad in ["", "never,failure", "success,", "sucess"] {
            let e = bad.parse::<Notify>().unwrap_err();
            assert!(e.to_string().contains("DSN NOTIFY"), "{e}");
        }
    }

    #[test]
    fn ret_and_policy_parsing() {
        assert_eq!("HDRS".parse::<Ret>().unwrap(), Ret::Headers);
        assert_eq!("full".parse::<Ret>().unwrap().as_str(), "FULL");
        assert!("body".parse::<Ret>().is_err());
        assert_eq!(
            "Drop".parse::<IfUnsupported>().unwrap(),
            IfUnsupported::Drop
        );
        assert!("ignore".parse::<IfUnsupported>().is_err());
    }

    #[test]
    fn envid_limits() {
        assert!(Dsn::new().envid(&"x".repeat(100)).is_ok());
        assert!(Dsn::new().envid(&"x".repeat(101)).is_err());
        assert!(Dsn::new().envid("").is_err());
        assert!(Dsn::new().envid("a\r\nRCPT TO:<x@y>").is_err());
        assert!(Dsn::new().envid("ünï").is_err());
        assert!(Dsn::new().envid("with space+plus").is_ok());
    }

    #[test]
    fn orcpt_checks() {
        let a = Address::new("a+b@example.com").unwrap();
        assert_eq!(
            OriginalRecipient::rfc822(&a).unwrap().encoded(),
            "rfc822;a+2Bb@example.com"
        );
        assert!(OriginalRecipient::rfc822(&Address::new("ü@example.com").unwrap()).is_err());
        assert!(OriginalRecipient::new("rfc;822", "a@b").is_err());
        assert!(OriginalRecipient::new("rfc822", "a\n@b").is_err());
        assert!(OriginalRecipient::new("rfc822", &"a".repeat(500)).is_err());
    }
}
