//! HTTP/1.1 `CONNECT` (RFC 9110 §9.3.6) with optional Basic auth.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::ExposeSecret;
use secrecy::zeroize::Zeroizing;
use smtp_core::{BoxError, BoxStream, Connector, Target};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::DEFAULT_HANDSHAKE_TIMEOUT;
use crate::error::{Error, ProxyPhase};
use crate::handshake::Handshake;
use crate::http_head::{HeadReader, MAX_HEAD, ResponseHead};
use smtp_core::ProxyCredentials;

/// Connects through an HTTP proxy with `CONNECT host:port`, reaching the
/// proxy through `inner`. The proxy resolves the host name.
///
/// With credentials, sends `Proxy-Authorization: Basic ...` (never logged).
/// Defaults: no credentials, a 30 s handshake timeout.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// use secrecy::SecretString;
/// use smtp_core::{Connector, Target, TcpConnector};
/// use smtp_core::ProxyCredentials;
/// use smtp_proxy::HttpConnect;
///
/// let http = HttpConnect::new(TcpConnector::new(), Target::new("127.0.0.1", 3129))
///     .credentials(ProxyCredentials::new("proxyuser", SecretString::from("Proxy-Pass-1")));
/// let stream = http.connect(&Target::new("localhost", 2525)).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct HttpConnect<C> {
    inner: C,
    proxy: Target,
    scheme: &'static str,
    credentials: Option<ProxyCredentials>,
    timeout: Duration,
}

impl<C> HttpConnect<C> {
    /// An HTTP CONNECT connector for the proxy at `proxy`, reached through `inner`.
    pub fn new(inner: C, proxy: Target) -> HttpConnect<C> {
        HttpConnect {
            inner,
            proxy,
            scheme: "http",
            credentials: None,
            timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// An HTTPS proxy (`https://`, as curl has them): TLS to the proxy,
    /// its certificate checked by `tls` against the proxy's host name, then
    /// `CONNECT` inside. The mail session's own TLS runs inside the tunnel.
    pub fn https(
        inner: C,
        proxy: Target,
        tls: std::sync::Arc<dyn smtp_core::TlsUpgrade>,
    ) -> HttpConnect<crate::ProxyTls<C>> {
        HttpConnect {
            scheme: "https",
            ..HttpConnect::new(crate::ProxyTls::new(inner, Some(tls)), proxy)
        }
    }

    /// Sends these credentials with Basic authentication.
    pub fn credentials(mut self, credentials: ProxyCredentials) -> HttpConnect<C> {
        self.credentials = Some(credentials);
        self
    }

    /// Time allowed to reach the proxy and get its answer to `CONNECT`.
    pub fn handshake_timeout(mut self, limit: Duration) -> HttpConnect<C> {
        self.timeout = limit;
        self
    }

    /// The connector used to reach the proxy.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// The proxy's address.
    pub fn proxy(&self) -> &Target {
        &self.proxy
    }
}

#[async_trait]
impl<C: Connector> Connector for HttpConnect<C> {
    async fn connect(&self, target: &Target) -> Result<BoxStream, BoxError> {
        // Classified here, so the engine knows a refused login is
        // permanent and a dead proxy transient.
        let tunnel: Result<BoxStream, Error> = async {
            let hs = Handshake::new(format!("{}://{}", self.scheme, self.proxy), self.timeout);
            let request = request(&hs, self.credentials.as_ref(), target)?;
            let mut stream = hs.connect_inner(&self.inner, &self.proxy).await?;
            handshake(
                &mut stream,
                &hs,
                &request,
                target,
                self.credentials.is_some(),
            )
            .await?;
            tracing::debug!(proxy = %hs.proxy, %target, "http connect tunnel open");
            Ok(stream)
        }
        .await;
        tunnel.map_err(smtp_core::PluginError::boxed)
    }
}

/// The request; zeroized on drop since it may carry the password (in
/// base64, which is no protection).
pub(crate) fn request(
    hs: &Handshake,
    credentials: Option<&ProxyCredentials>,
    target: &Target,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    // Target's Display brackets IPv6 literals, as the authority form needs.
    if target.host.is_empty()
        || target
            .host
            .bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || b == b'/')
    {
        return Err(hs.unsupported(
            target,
            "the host contains a space, '/' or a control character",
        ));
    }
    if target.host.len() > 255 {
        return Err(hs.unsupported(target, "the host is longer than 255 bytes"));
    }
    let authority = target.to_string();
    let mut msg = Zeroizing::new(Vec::with_capacity(256));
    msg.extend_from_slice(
        format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").as_bytes(),
    );
    if let Some(c) = credentials {
        let user = c.username();
        let pass = c.password().expose_secret();
        if user.contains(':') {
            return Err(Error::InvalidCredentials {
                proxy: hs.proxy.clone(),
                reason: "a user name for HTTP Basic authentication cannot contain ':'",
            });
        }
        if user.contains(['\r', '\n', '\0']) || pass.contains(['\r', '\n', '\0']) {
            return Err(Error::InvalidCredentials {
                proxy: hs.proxy.clone(),
                reason: "the user name or password contains CR, LF or NUL",
            });
        }
        // The rule of every scheme (SOCKS5's limit, RFC 1929).
        if user.len() > 255 || pass.len() > 255 {
            return Err(Error::InvalidCredentials {
                proxy: hs.proxy.clone(),
                reason: "the user name and password must be at most 255 bytes each",
            });
        }
        let mut pair = Zeroizing::new(String::with_capacity(user.len() + 1 + pass.len()));
        pair.push_str(user);
        pair.push(':');
        pair.push_str(pass);
        let encoded = Zeroizing::new(STANDARD.encode(pair.as_bytes()));
        msg.extend_from_slice(b"Proxy-Authorization: Basic ");
        msg.extend_from_slice(encoded.as_bytes());
        msg.extend_from_slice(b"\r\n");
    }
    msg.extend_from_slice(b"\r\n");
    Ok(msg)
}

pub(crate) async fn handshake<S>(
    stream: &mut S,
    hs: &Handshake,
    request: &[u8],
    target: &Target,
    sent_credentials: bool,
) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + ?Sized,
{
    tracing::trace!(proxy = %hs.proxy, %target, with_auth = sent_credentials, "sending CONNECT");
    hs.send(ProxyPhase::Tunnel, stream, request).await?;
    let mut used = 0;
    let head = loop {
        let head = read_head(stream, hs, MAX_HEAD - used).await?;
        used += head.1;
        // 1xx are interim answers; the real one follows.
        if !(100..200).contains(&head.0.status) {
            break head.0;
        }
    };
    if (200..300).contains(&head.status) {
        return Ok(());
    }
    Err(Error::HttpRefused {
        proxy: hs.proxy.clone(),
        target: target.to_string(),
        status: head.status,
        reason: head.reason,
        authenticate: head.authenticate,
        sent_credentials,
    })
}

/// Reads one head, at most two bytes per read so that nothing past its
/// end leaves the stream. A handful of tiny reads, once per connection.
async fn read_head<S>(
    stream: &mut S,
    hs: &Handshake,
    budget: usize,
) -> Result<(ResponseHead, usize), Error>
where
    S: AsyncRead + Unpin + Send + ?Sized,
{
    let mut reader = HeadReader::new();
    let mut buf = [0u8; 2];
    loop {
        let want = reader.max_read();
        let n = hs
            .io(ProxyPhase::Tunnel, stream.read(&mut buf[..want]))
            .await?;
        if n == 0 {
            return Err(Error::Closed {
                proxy: hs.proxy.clone(),
                phase: ProxyPhase::Tunnel,
            });
        }
        let done = reader
            .push(&buf[..n], budget)
            .map_err(|e| hs.protocol(ProxyPhase::Tunnel, e.describe()))?;
        if done.is_some() {
            let head = reader
                .finish()
                .map_err(|e| hs.protocol(ProxyPhase::Tunnel, e.describe()))?;
            return Ok((head, reader.len()));
        }
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
