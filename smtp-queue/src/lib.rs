#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod activity;
mod entry;
mod error;
mod flush;
mod params;
mod send_now;
mod spool;
mod transport;

pub use activity::{ActivityLog, Attempt};
pub use entry::{Entry, State, now_unix, rfc3339};
pub use error::Error;
pub use flush::{Event, FlushOptions, FlushReport};
pub use params::{EnvelopeParams, RecipientParams};
pub use spool::{Claim, Listing, Queue};
pub use transport::QueueTransport;
