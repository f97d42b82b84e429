#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod build;
mod diagnose;
mod error;
pub mod keys;
mod layers;
mod load;
mod loaded;
mod model;
mod options;
mod origin;
pub mod presets;
mod provenance;
mod schema;
mod suggest;
mod validate;
mod value;
mod wording;

#[cfg(test)]
mod doc_check;

pub use build::{Built, BuiltTransport};
pub use diagnose::{all_hints, coded_hint, hint, hints};
pub use error::Error;
pub use load::SYSTEM_CONFIG_FILE;
pub use loaded::{Loaded, Warning};
pub use model::{
    AuthConfig, Config, DkimConfig, DsnConfig, EnvelopeDefaults, LogConfig, MessageConfig,
    OAuth2Config, OnFailure, PoolSettings, ProxyConfig, QueueConfig, RateLimitConfig, RetryConfig,
    TimeoutsConfig, TlsConfig, TranscriptConfig,
};
pub use options::{CliOverrides, LoadOptions};
pub use origin::Origin;
pub use presets::{Preset, presets};
pub use provenance::{Provenance, ProvenanceEntry};
pub use schema::json_schema;
pub use wording::{hint_text, key_of, setting_words};
