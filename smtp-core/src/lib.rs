#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
pub mod bulk;
pub mod capabilities;
pub mod classify;
mod config;
pub mod connector;
pub mod delivery;
pub mod dsn;
pub mod encoder;
pub mod error;
mod hint;
pub mod message;
pub mod proxy_url;
mod quick_ack;
pub mod reply;
pub mod sasl;
pub mod session;
mod setting;
pub mod timeouts;
pub mod tls;
mod tls_version;
pub mod transcript;
pub mod transport;

pub use address::{Address, Envelope};
pub use capabilities::Capabilities;
pub use classify::{Classify, PluginError, Retry};
pub use connector::{AsyncStream, BoxStream, Connector, Target, TcpConnector};
pub use delivery::{Delivery, RecipientOutcome};
pub use error::{BoxError, Error, Phase, RequireTlsProblem};
pub use hint::{Hint, hints, is_rate_limited};
pub use message::{Message, MessageSource};
pub use proxy_url::{ProxyCredentials, ProxyScheme, ProxyUrl};
pub use reply::{EnhancedCode, Reply};
pub use sasl::{AuthContext, Authenticator, Mechanism, SecretBytes};
pub use session::Session;
pub use setting::Setting;
pub use timeouts::{Timeouts, WAITING_NOTICE_AFTER};
pub use tls::{CertificateInfo, Security, TlsInfo, TlsUpgrade};
pub use tls_version::{TlsVersion, TlsVersionError};
pub use transcript::{Direction, MemoryTranscript, SessionEvent, Transcript};
pub use transport::{
    FileTransport, MemoryTransport, PoolConfig, SentMessage, SmtpTransport, SmtpTransportBuilder,
    Transport,
};
