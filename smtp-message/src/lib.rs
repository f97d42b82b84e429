#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod compose;
mod core_message;
#[cfg(feature = "dkim")]
pub mod dkim;
mod error;
mod raw;
mod validate;
mod wire;

pub use compose::{Attachment, Composed, Composer, Recipient};
pub use error::Error;
pub use raw::{RawMessage, RawOptions};
pub use validate::{MAX_HEADER_LINE, check_header_name, check_header_value};
