//! SOCKS reply codes, each with a plain-words meaning (hints: `crate::hint`).

use std::fmt;

use socks5_impl::protocol::Reply;

/// A SOCKS5 failure reply (RFC 1928 §6), `REP` other than `0x00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Socks5Reply {
    /// `0x01` general SOCKS server failure.
    GeneralFailure,
    /// `0x02` connection not allowed by ruleset.
    NotAllowed,
    /// `0x03` network unreachable.
    NetworkUnreachable,
    /// `0x04` host unreachable.
    HostUnreachable,
    /// `0x05` connection refused.
    ConnectionRefused,
    /// `0x06` TTL expired.
    TtlExpired,
    /// `0x07` command not supported.
    CommandNotSupported,
    /// `0x08` address type not supported.
    AddressTypeNotSupported,
    /// A code RFC 1928 does not define.
    Unassigned(u8),
}

impl Socks5Reply {
    /// Maps a `REP` byte; `None` for `0x00` (succeeded).
    pub fn from_code(code: u8) -> Option<Socks5Reply> {
        // socks5-impl names the codes RFC 1928 defines; anything else it
        // rejects, and we keep the number for the message.
        let reply = match Reply::try_from(code) {
            Ok(Reply::Succeeded) => return None,
            Ok(Reply::GeneralFailure) => Socks5Reply::GeneralFailure,
            Ok(Reply::ConnectionNotAllowed) => Socks5Reply::NotAllowed,
            Ok(Reply::NetworkUnreachable) => Socks5Reply::NetworkUnreachable,
            Ok(Reply::HostUnreachable) => Socks5Reply::HostUnreachable,
            Ok(Reply::ConnectionRefused) => Socks5Reply::ConnectionRefused,
            Ok(Reply::TtlExpired) => Socks5Reply::TtlExpired,
            Ok(Reply::CommandNotSupported) => Socks5Reply::CommandNotSupported,
            Ok(Reply::AddressTypeNotSupported) => Socks5Reply::AddressTypeNotSupported,
            Err(_) => Socks5Reply::Unassigned(code),
        };
        Some(reply)
    }

    /// The `REP` byte.
    pub fn code(self) -> u8 {
        match self {
            Socks5Reply::GeneralFailure => 0x01,
            Socks5Reply::NotAllowed => 0x02,
            Socks5Reply::NetworkUnreachable => 0x03,
            Socks5Reply::HostUnreachable => 0x04,
            Socks5Reply::ConnectionRefused => 0x05,
            Socks5Reply::TtlExpired => 0x06,
            Socks5Reply::CommandNotSupported => 0x07,
            Socks5Reply::AddressTypeNotSupported => 0x08,
            Socks5Reply::Unassigned(code) => code,
        }
    }

    /// True when retrying later may help (the proxy could not reach the
    /// server this time).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Socks5Reply::GeneralFailure
                | Socks5Reply::NetworkUnreachable
                | Socks5Reply::HostUnreachable
                | Socks5Reply::ConnectionRefused
                | Socks5Reply::TtlExpired
        )
    }
}

impl fmt::Display for Socks5Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Socks5Reply::GeneralFailure => "general failure",
            Socks5Reply::NotAllowed => "connection not allowed by ruleset",
            Socks5Reply::NetworkUnreachable => "network unreachable",
            Socks5Reply::HostUnreachable => "host unreachable",
            Socks5Reply::ConnectionRefused => "connection refused",
            Socks5Reply::TtlExpired => "ttl expired",
            Socks5Reply::CommandNotSupported => "command not supported",
            Socks5Reply::AddressTypeNotSupported => "address type not supported",
            Socks5Reply::Unassigned(_) => "unassigned reply code",
        })
    }
}

/// A SOCKS4 failure reply, `CD` other than `0x5A` (granted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Socks4Reply {
    /// `0x5B` request rejected or failed.
    RejectedOrFailed,
    /// `0x5C` rejected: the proxy cannot reach identd on the client.
    IdentdUnreachable,
    /// `0x5D` rejected: identd reports a different user id.
    IdentdMismatch,
    /// A code the protocol does not define.
    Unassigned(u8),
}

impl Socks4Reply {
    /// Maps a `CD` byte; `None` for `0x5A` (granted).
    pub fn from_code(code: u8) -> Option<Socks4Reply> {
        match code {
            0x5A => None,
            0x5B => Some(Socks4Reply::RejectedOrFailed),
            0x5C => Some(Socks4Reply::IdentdUnreachable),
            0x5D => Some(Socks4Reply::IdentdMismatch),
            other => Some(Socks4Reply::Unassigned(other)),
        }
    }

    /// The `CD` byte.
    pub fn code(self) -> u8 {
        match self {
            Socks4Reply::RejectedOrFailed => 0x5B,
            Socks4Reply::IdentdUnreachable => 0x5C,
            Socks4Reply::IdentdMismatch => 0x5D,
            Socks4Reply::Unassigned(code) => code,
        }
    }
}

impl fmt::Display for Socks4Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Socks4Reply::RejectedOrFailed => "request rejected or failed",
            Socks4Reply::IdentdUnreachable => {
                "rejected: the proxy cannot reach identd on the client"
            }
            Socks4Reply::IdentdMismatch => "rejected: identd reports a different user id",
            Socks4Reply::Unassigned(_) => "unassigned reply code",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_socks5_code_maps_to_words_and_back() {
        let expected = [
            (0x01, "general failure"),
            (0x02, "connection not allowed by ruleset"),
            (0x03, "network unreachable"),
            (0x04, "host unreachable"),
            (0x05, "connection refused"),
            (0x06, "ttl expired"),
            (0x07, "command not supported"),
            (0x08, "address type not supported"),
            (0x09, "unassigned reply code"),
            (0xff, "unassigned reply code"),
        ];
        assert_eq!(Socks5Reply::from_code(0x00), None);
        for (code, words) in expected {
            let reply = Socks5Reply::from_code(code).unwrap();
            assert_eq!(reply.to_string(), words, "code {code:#04x}");
            assert_eq!(reply.code(), code);
            assert!(!crate::hint::socks5_hint(reply).text.is_empty());
        }
        assert!(Socks5Reply::ConnectionRefused.is_transient());
        assert!(!Socks5Reply::NotAllowed.is_transient());
    }

    #[test]
    fn every_socks4_code_maps_to_words_and_back() {
        assert_eq!(Socks4Reply::from_code(0x5A), None);
        for (code, reply) in [
            (0x5B, Socks4Reply::RejectedOrFailed),
            (0x5C, Socks4Reply::IdentdUnreachable),
            (0x5D, Socks4Reply::IdentdMismatch),
            (0x00, Socks4Reply::Unassigned(0)),
        ] {
            assert_eq!(Socks4Reply::from_code(code), Some(reply));
            assert_eq!(reply.code(), code);
        }
        assert!(Socks4Reply::IdentdMismatch.to_string().contains("identd"));
    }
}
