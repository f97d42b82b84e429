//! Real mail through the rig's servers: Postfix (read back from its
//! Maildir), smtp-sink and aiosmtpd (pipelining, DATA, HELO fallback).

mod postfix;
mod sink;
