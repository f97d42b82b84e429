//! The codes the CLI itself prints: its own hints and its exit codes.
//!
//! Kept free of other modules so the documentation check
//! (tests/docs/troubleshooting_codes.rs) can include this file as it is.

smtp_core::hint_table! {
    /// Hints for failures the CLI detects itself (before the library runs).
    pub mod cli_hints {
        NO_SERVER = "cli-no-server":
            "set host (--host, SMTP_HOST, or host = \"...\" in the config file), or pick a provider with --preset";
        DNS_SHORT_NAME = "cli-dns-short-name":
            "the host is a short name: use the fully qualified host name (e.g. smtp.example.com)";
        DNS_FAILED = "cli-dns-failed": "check the spelling of the host name and your DNS";
        TEST_MAIL_ADDRESSES = "cli-test-mail-addresses":
            "the test mail needs a sender and a recipient: --from / message.from and --send-to / message.test_recipient";
    }
}

/// The message was sent (or every message was).
pub const OK: u8 = 0;
/// A permanent failure: retrying will not help.
pub const PERMANENT: u8 = 1;
/// Usage or configuration error.
pub const USAGE: u8 = 2;
/// A transient failure (sysexits EX_TEMPFAIL): retry later.
pub const TEMPFAIL: u8 = 75;

/// Every exit code, for the documentation check.
#[allow(dead_code)] // read only by tests/docs/troubleshooting_codes.rs
pub const EXIT_CODES: [u8; 4] = [OK, PERMANENT, USAGE, TEMPFAIL];
