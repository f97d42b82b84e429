//! Hostile input and secrets through the `smtp` binary: injected control
//! characters refused before connecting (`injection`), and no secret in any
//! output (`secrets`). One test binary, a module a subject (see
//! docs/testing.md).

#[path = "../common/mod.rs"]
mod common;

mod injection;
mod secrets;
