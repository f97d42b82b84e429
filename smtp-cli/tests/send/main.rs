//! Sending with the real `smtp` binary against the rig's real peers: the
//! commands (`cli`), bulk runs and their journal, DKIM, DSN and REQUIRETLS,
//! what reaches the wire, NTLM, proxies, retries and the local queue. One
//! test binary, a module a subject (see docs/testing.md).

#[path = "../common/mod.rs"]
mod common;

mod bulk;
mod cli;
mod dkim;
mod dsn;
mod interrupt;
mod messages;
mod ntlm;
mod proxy_kinds;
mod queue;
mod retry;
