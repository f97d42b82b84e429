//! A configuration's transport against the rig's real peers: sends through
//! TLS, SASL and proxies (`send_peers`, `ntlm_peers`), a hostile server
//! around STARTTLS (`hostile_servers`), the examples run (`examples`), and
//! injection through the library APIs (`injection`). One test binary, a
//! module a subject (see docs/testing.md).

#[path = "../common/mod.rs"]
mod common;

mod examples;
mod hostile_servers;
mod injection;
mod ntlm_peers;
mod send_peers;
