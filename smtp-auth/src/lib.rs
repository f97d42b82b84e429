#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod authenticator;
mod classify;
mod command;
mod credentials;
mod error;
mod hint;
pub mod mechanism;
mod token;

pub use authenticator::{SaslAuthenticator, SaslAuthenticatorBuilder};
pub use classify::{AuthFailure, classify};
pub use command::DEFAULT_COMMAND_TIMEOUT;
pub use credentials::{Credentials, PasswordSource, Secret};
pub use error::{Error, NoMechanismReason};
pub use hint::hints;
pub use mechanism::MechanismKind;
#[cfg(feature = "refresh-token")]
pub use token::{RefreshTokenFlow, RefreshTokenFlowBuilder};
pub use token::{StaticToken, TokenCommand, TokenSource};
