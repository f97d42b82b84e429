//! TLS handshakes with the rig's Postfix ports and how each setting shapes
//! them: certificate verification and pins, client certificates, version
//! limits, implicit TLS on the wrong port, and the danger switches' warnings.

#[path = "../common/mod.rs"]
mod common;

mod certificates;
mod client_auth;
mod danger_warnings;
mod versions;
mod wrong_port;
