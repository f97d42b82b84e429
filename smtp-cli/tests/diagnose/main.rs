//! What `smtp` says when something is wrong: each misconfiguration that
//! can be produced on loopback explained with one hint (`hints`), and what
//! an operator meets first (`operator`). One test binary, a module a
//! subject (see docs/testing.md).

#[path = "../common/mod.rs"]
mod common;

mod hints;
mod operator;
