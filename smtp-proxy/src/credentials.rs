//! Proxy credentials: a user name and a password that never shows.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A proxy user name and password (SOCKS5 RFC 1929, HTTP Basic).
///
/// The password is a [`SecretString`]: zeroized on drop and shown as
/// `<redacted>` by `Debug`. A Windows-style `DOMAIN\user` name is passed
/// to the proxy unchanged, as the user name.
#[derive(Clone)]
pub struct Credentials {
    username: String,
    password: SecretString,
}

impl Credentials {
    /// A user name and password.
    pub fn new(username: impl Into<String>, password: SecretString) -> Credentials {
        Credentials {
            username: username.into(),
            password,
        }
    }

    /// The user name, as sent to the proxy.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password.
    pub fn password(&self) -> &SecretString {
        &self.password
    }

    pub(crate) fn has_password(&self) -> bool {
        !self.password.expose_secret().is_empty()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &format_args!("<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let c = Credentials::new("CORP\\alice", SecretString::from("hunter2-Secret"));
        let shown = format!("{c:?} {c:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"));
        assert!(shown.contains("CORP\\\\alice"));
        assert_eq!(c.password().expose_secret(), "hunter2-Secret");
    }
}
