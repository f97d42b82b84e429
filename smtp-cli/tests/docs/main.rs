//! The documentation cannot drift from the code: links resolve
//! (`docs_links`), every hint and exit code has a troubleshooting entry
//! (`troubleshooting_codes`). One test binary, a module a subject (see
//! docs/testing.md).

// The CLI's own hint table and exit codes, compiled in from its source.
#[allow(dead_code)]
#[path = "../../src/codes.rs"]
mod codes;

mod docs_links;
mod troubleshooting_codes;
