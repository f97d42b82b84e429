//! [`Recipient`]: a `To`, `Cc` or `Bcc` address as a [`Composer`] takes it.
//!
//! [`Composer`]: super::Composer

use std::fmt;

use crate::{Error, validate};

/// A `To`, `Cc` or `Bcc` address given to a [`Composer`](super::Composer):
/// text, checked by [`Composer::build`](super::Composer::build), or an
/// [`smtp_core::Address`] already checked (a bulk run that validated its
/// list is not charged twice). Made from anything that converts into a
/// `String`, and from an `Address` (owned or borrowed).
#[derive(Clone)]
pub struct Recipient(Inner);

#[derive(Clone)]
enum Inner {
    Text(String),
    Checked(smtp_core::Address),
}

impl Recipient {
    /// The address as written.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Inner::Text(s) => s,
            Inner::Checked(a) => a.as_str(),
        }
    }

    /// The address, validated for `field` unless it already was.
    pub(crate) fn check(&self, field: &str) -> Result<smtp_core::Address, Error> {
        match &self.0 {
            Inner::Text(s) => validate::address(field, s),
            Inner::Checked(a) => Ok(a.clone()),
        }
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for Recipient {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Equal when written the same (checked or not).
impl PartialEq for Recipient {
    fn eq(&self, other: &Recipient) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Recipient {}

/// Text, checked at build: every type `Composer::to` took as
/// `impl Into<String>` before it took a `Recipient`.
macro_rules! from_text {
    ($($t:ty),*) => {$(
        impl From<$t> for Recipient {
            fn from(s: $t) -> Recipient {
                Recipient(Inner::Text(s.into()))
            }
        }
    )*};
}

from_text!(
    String,
    &str,
    &String,
    &mut str,
    Box<str>,
    std::borrow::Cow<'_, str>,
    char
);

impl From<smtp_core::Address> for Recipient {
    fn from(a: smtp_core::Address) -> Recipient {
        Recipient(Inner::Checked(a))
    }
}

impl From<&smtp_core::Address> for Recipient {
    fn from(a: &smtp_core::Address) -> Recipient {
        Recipient(Inner::Checked(a.clone()))
    }
}
