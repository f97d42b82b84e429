//! Test support (unpublished).
