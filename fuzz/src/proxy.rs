//! Runs the real proxy connectors (`Socks5`, `Socks4`, `HttpConnect`, as
//! built from a `ProxyUrl`) against a scripted proxy: an in-memory pipe
//! that answers with the fuzz bytes and then closes its sending side.

use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use smtp_core::ProxyUrl;
use smtp_core::{BoxError, BoxStream, Connector, Target};
use smtp_proxy::ProxyUrlExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::runtime::Runtime;

/// The password of every proxy URL with credentials; must never show in
/// an error's `Display` or `Debug`.
pub const PASSWORD: &str = "Fz-Pw-7c1e9b";
/// The user name that goes with [`PASSWORD`].
pub const USER: &str = "fuzz-user";
/// Where the connectors are asked to go (a name, so SOCKS5h and SOCKS4a
/// send it to the proxy instead of resolving it here).
pub const TARGET_HOST: &str = "mail.example.test";

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime")
});

/// Hands out the client end of the pipe, once.
struct ScriptedProxy(Mutex<Option<DuplexStream>>);

impl fmt::Debug for ScriptedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ScriptedProxy")
    }
}

#[async_trait]
impl Connector for ScriptedProxy {
    async fn connect(&self, _proxy: &Target) -> Result<BoxStream, BoxError> {
        let stream = self.0.lock().expect("lock").take();
        stream
            .map(|s| Box::new(s) as BoxStream)
            .ok_or_else(|| "the scripted proxy was connected twice".into())
    }
}

/// What a connector did with the scripted answer.
#[derive(Debug)]
pub struct Outcome {
    /// `Ok(bytes the caller can still read through the tunnel)`, or the
    /// connector's error.
    pub result: Result<Vec<u8>, BoxError>,
    /// Every byte the connector sent to the proxy.
    pub sent: Vec<u8>,
}

/// Connects through `url` (its host and port are ignored: the scripted
/// proxy answers) to [`TARGET_HOST`]:25, the proxy answering `answer`.
pub fn run(url: &ProxyUrl, answer: &[u8]) -> Outcome {
    RUNTIME.block_on(async {
        let (client, mut proxy) = tokio::io::duplex(answer.len() + 4096);
        proxy.write_all(answer).await.expect("pipe has room");
        proxy.shutdown().await.expect("shutdown");
        let inner = ScriptedProxy(Mutex::new(Some(client)));
        let connector: Arc<dyn Connector> =
            url.connector_with_timeout(inner, Duration::from_secs(5));
        let result = match connector.connect(&Target::new(TARGET_HOST, 25)).await {
            Ok(mut tunnel) => {
                let mut rest = Vec::new();
                tunnel
                    .read_to_end(&mut rest)
                    .await
                    .map(|_| rest)
                    .map_err(Into::into)
            }
            Err(e) => Err(e),
        };
        // Drops the client end, if the connector never took it, so the
        // read below ends.
        drop(connector);
        let mut sent = Vec::new();
        proxy
            .read_to_end(&mut sent)
            .await
            .expect("read what was sent");
        Outcome { result, sent }
    })
}

/// Checks a connector error: an `smtp_proxy::Error`, one printable line,
/// with neither the password nor `user:password` in base64 in its
/// `Display`, `Debug` or hint.
pub fn check_error(error: &BoxError) {
    let proxy_error = smtp_core::PluginError::find(error.as_ref())
        .and_then(|p| p.downcast_ref::<smtp_proxy::Error>())
        .unwrap_or_else(|| panic!("not an smtp_proxy::Error: {error:?}"));
    let shown = error.to_string();
    assert!(crate::oracles::is_one_printable_line(&shown), "{shown:?}");
    let all = format!("{shown}\n{error:?}\n{:?}", proxy_error.hint());
    assert!(!all.contains(PASSWORD), "password leaked: {all}");
    for secret in basic_credentials() {
        assert!(!all.contains(&secret), "credentials leaked: {all}");
    }
}

/// `user:password` in base64 as HTTP Basic sends it, and a shorter piece
/// of it that would survive truncation.
pub fn basic_credentials() -> [String; 2] {
    // "fuzz-user:Fz-Pw-7c1e9b" in standard base64; the HTTP CONNECT
    // target checks that the request really carries it.
    let full = "ZnV6ei11c2VyOkZ6LVB3LTdjMWU5Yg==".to_string();
    let piece = full[8..24].to_string();
    [full, piece]
}
