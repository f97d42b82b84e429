//! Shared by the fuzz targets: reference oracles, a reply-parser driver
//! and a scripted proxy connector. See docs/fuzzing.md.

pub mod grants;
pub mod oracles;
pub mod proxy;
pub mod replies;
