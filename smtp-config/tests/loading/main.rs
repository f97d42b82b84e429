//! Loading a configuration, no server contacted: layer order (`layers`),
//! checks (`validation`), provenance and secrets (`provenance`), the JSON
//! Schema (`schema`), arbitrary files (`properties`) and which transport
//! `Loaded::build` makes (`build`). One test binary, a module a subject
//! (see docs/testing.md).

#[path = "../common/mod.rs"]
mod common;

mod build;
mod layers;
mod properties;
mod provenance;
mod schema;
mod validation;
