#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// One public path per item: the common types flat at the root (below);
// public modules only for cohesive groups a program uses together (`bulk`,
// `dsn`, `sasl`, and `hints`, the hint table).
mod address;
pub mod bulk;
mod capabilities;
mod classify;
mod config;
mod connector;
mod delivery;
pub mod dsn;
mod encoder;
mod error;
mod hint;
mod message;
mod proxy_url;
mod quick_ack;
mod reply;
pub mod sasl;
mod session;
mod setting;
mod timeouts;
mod tls;
mod tls_version;
mod transcript;
mod transport;

pub use address::{Address, Envelope, MAX_NAME_LEN};
pub use capabilities::Capabilities;
pub use classify::{Classify, PluginError, Retry};
pub use connector::{AsyncStream, BoxStream, Connector, Target, TcpConnector};
pub use delivery::{Delivery, RecipientOutcome};
pub use encoder::BodyEncoder;
pub use error::{BoxError, Error, Phase, RequireTlsProblem};
pub use hint::{Hint, hints, is_rate_limited};
pub use message::{Message, MessageSource, WireSize};
pub use proxy_url::{ProxyCredentials, ProxyScheme, ProxyUrl};
pub use reply::{EnhancedCode, Reply, ReplyParseError, ReplyParser};
pub use session::Session;
pub use setting::Setting;
pub use timeouts::{Timeouts, WAITING_NOTICE_AFTER};
pub use tls::{CertificateInfo, Security, TlsInfo, TlsUpgrade};
pub use tls_version::{TlsVersion, TlsVersionError};
pub use transcript::{Direction, MemoryTranscript, SessionEvent, TracingTranscript, Transcript};
pub use transport::{
    FileTransport, MemoryTransport, PoolConfig, SentMessage, SmtpTransport, SmtpTransportBuilder,
    Transport,
};
