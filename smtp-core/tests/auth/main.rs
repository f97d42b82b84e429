//! The engine's AUTH exchange (RFC 4954): mechanism steps, edge cases a
//! hostile server produces, and secrets kept out of transcripts. The real
//! mechanisms are tested in smtp-auth.

mod engine;
mod exchange;
