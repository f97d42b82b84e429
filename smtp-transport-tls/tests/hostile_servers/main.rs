//! A hostile server (or someone in the middle) around real TLS, played by
//! the testkit's scripted server over rustls' own server: injection after
//! the STARTTLS `220`, stripping, forged capabilities, broken handshakes.

#[path = "../common/mod.rs"]
mod common;

mod around_tls;
mod starttls_forgery;
