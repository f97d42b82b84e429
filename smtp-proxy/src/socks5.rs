//! SOCKS5 (RFC 1928) with no-auth and username/password (RFC 1929).

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret;
use secrecy::zeroize::Zeroizing;
use smtp_core::{BoxError, BoxStream, Connector, Target};
use socks5_impl::protocol::{AuthMethod, Command, Request, handshake};
use socks5_impl::{Address, StreamOperation};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::{Error, ProxyPhase};
use crate::handshake::Handshake;
use crate::reply::Socks5Reply;
use crate::{DEFAULT_HANDSHAKE_TIMEOUT, Dns};
use smtp_core::ProxyCredentials;

/// Connects through a SOCKS5 proxy, reaching the proxy through `inner`.
///
/// Defaults: the proxy resolves host names (`socks5h`, [`Dns::Remote`]),
/// no credentials, a 30 s handshake timeout.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// use smtp_core::{Connector, Target, TcpConnector};
/// use smtp_proxy::Socks5;
///
/// let socks = Socks5::new(TcpConnector::new(), Target::new("127.0.0.1", 1080));
/// let stream = socks.connect(&Target::new("localhost", 2525)).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Socks5<C> {
    inner: C,
    proxy: Target,
    credentials: Option<ProxyCredentials>,
    dns: Dns,
    timeout: Duration,
}

impl<C> Socks5<C> {
    /// A SOCKS5 connector for the proxy at `proxy`, reached through `inner`.
    pub fn new(inner: C, proxy: Target) -> Socks5<C> {
        Socks5 {
            inner,
            proxy,
            credentials: None,
            dns: Dns::Remote,
            timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// Offers username/password authentication (RFC 1929) with these credentials.
    pub fn credentials(mut self, credentials: ProxyCredentials) -> Socks5<C> {
        self.credentials = Some(credentials);
        self
    }

    /// Who resolves the target host name: the proxy (default) or this machine.
    pub fn dns(mut self, dns: Dns) -> Socks5<C> {
        self.dns = dns;
        self
    }

    /// Time allowed to reach the proxy, authenticate and open the tunnel.
    pub fn handshake_timeout(mut self, limit: Duration) -> Socks5<C> {
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

    fn label(&self) -> String {
        let scheme = match self.dns {
            Dns::Remote => "socks5h",
            Dns::Local => "socks5",
        };
        format!("{scheme}://{}", self.proxy)
    }
}

#[async_trait]
impl<C: Connector> Connector for Socks5<C> {
    async fn connect(&self, target: &Target) -> Result<BoxStream, BoxError> {
        // Classified here, so the engine knows a refused login is
        // permanent and a dead proxy transient.
        let tunnel: Result<BoxStream, Error> = async {
            let hs = Handshake::new(self.label(), self.timeout);
            let credentials = self.credentials.as_ref();
            let address = prepare(&hs, credentials, self.dns, target).await?;
            let mut stream = hs.connect_inner(&self.inner, &self.proxy).await?;
            handshake(&mut stream, &hs, credentials, address, target).await?;
            tracing::debug!(proxy = %hs.proxy, %target, "socks5 tunnel open");
            Ok(stream)
        }
        .await;
        tunnel.map_err(smtp_core::PluginError::boxed)
    }
}

/// Everything that can fail before a byte is sent: the destination
/// address (local resolution with `socks5://`) and the credential lengths
/// RFC 1929 allows. Done before connecting, so such errors cost nothing.
pub(crate) async fn prepare(
    hs: &Handshake,
    credentials: Option<&ProxyCredentials>,
    dns: Dns,
    target: &Target,
) -> Result<Address, Error> {
    let address = destination(hs, dns, target).await?;
    if let Some(c) = credentials {
        if c.username().is_empty() || c.username().len() > 255 {
            return Err(bad_credentials(
                hs,
                "the user name must be 1 to 255 bytes for SOCKS5",
            ));
        }
        if c.password().expose_secret().len() > 255 {
            return Err(bad_credentials(
                hs,
                "the password must be at most 255 bytes for SOCKS5",
            ));
        }
        // Harmless in SOCKS5's length-prefixed fields, but never a real
        // credential: one rule for every scheme.
        if c.username().contains(['\r', '\n', '\0'])
            || c.password().expose_secret().contains(['\r', '\n', '\0'])
        {
            return Err(bad_credentials(
                hs,
                "the user name or password contains CR, LF or NUL",
            ));
        }
    }
    Ok(address)
}

/// Runs the client side of SOCKS5 on a stream already connected to the
/// proxy. Reads exactly the proxy's replies, so bytes the server sends
/// through the fresh tunnel stay in the stream.
pub(crate) async fn handshake<S>(
    stream: &mut S,
    hs: &Handshake,
    credentials: Option<&ProxyCredentials>,
    address: Address,
    target: &Target,
) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + ?Sized,
{
    let mut methods = vec![AuthMethod::NoAuth];
    if credentials.is_some() {
        methods.push(AuthMethod::UserPass);
    }
    let mut greeting = Vec::new();
    handshake::Request::new(methods)
        .write_to_stream(&mut greeting)
        .map_err(|e| hs.io_error(ProxyPhase::Auth, e))?;
    hs.send(ProxyPhase::Auth, stream, &greeting).await?;

    let mut choice = [0u8; 2];
    hs.read_exact(ProxyPhase::Auth, stream, &mut choice).await?;
    if choice[0] != 0x05 {
        return Err(not_socks5(hs, ProxyPhase::Auth, choice[0]));
    }
    match (AuthMethod::from(choice[1]), credentials) {
        (AuthMethod::NoAuth, _) => {}
        (AuthMethod::UserPass, Some(c)) => authenticate(stream, hs, c).await?,
        (AuthMethod::NoAcceptableMethods, c) => {
            return Err(Error::NoAcceptableAuthMethod {
                proxy: hs.proxy.clone(),
                offered: if c.is_some() {
                    "no authentication, username/password"
                } else {
                    "no authentication"
                },
                had_credentials: c.is_some(),
            });
        }
        (other, _) => {
            return Err(hs.protocol(
                ProxyPhase::Auth,
                format!("the proxy chose method {other}, which was not offered"),
            ));
        }
    }

    let mut request = Vec::new();
    Request::new(Command::Connect, address)
        .write_to_stream(&mut request)
        .map_err(|e| hs.io_error(ProxyPhase::Tunnel, e))?;
    hs.send(ProxyPhase::Tunnel, stream, &request).await?;

    let mut head = [0u8; 3];
    hs.read_exact(ProxyPhase::Tunnel, stream, &mut head).await?;
    if head[0] != 0x05 {
        return Err(not_socks5(hs, ProxyPhase::Tunnel, head[0]));
    }
    if let Some(reply) = Socks5Reply::from_code(head[1]) {
        return Err(Error::Socks5Refused {
            proxy: hs.proxy.clone(),
            target: target.to_string(),
            reply,
        });
    }
    skip_bound_address(stream, hs).await
}

/// Reads BND.ADDR and BND.PORT only to keep the stream aligned: they are
/// never used, so they are taken as raw octets (a domain name there need
/// not be UTF-8, which socks5-impl's `Address` insists on; found by the
/// `socks_reply` fuzz target).
async fn skip_bound_address<S>(stream: &mut S, hs: &Handshake) -> Result<(), Error>
where
    S: AsyncRead + Unpin + Send + ?Sized,
{
    let mut atyp = [0u8; 1];
    hs.read_exact(ProxyPhase::Tunnel, stream, &mut atyp).await?;
    let len = match atyp[0] {
        0x01 => 4,
        0x04 => 16,
        0x03 => {
            let mut n = [0u8; 1];
            hs.read_exact(ProxyPhase::Tunnel, stream, &mut n).await?;
            usize::from(n[0])
        }
        other => {
            return Err(hs.protocol(
                ProxyPhase::Tunnel,
                format!("unknown address type {other:#04x} in the reply"),
            ));
        }
    };
    let mut bound = [0u8; 255 + 2];
    hs.read_exact(ProxyPhase::Tunnel, stream, &mut bound[..len + 2])
        .await?;
    tracing::trace!(proxy = %hs.proxy, atyp = atyp[0], "socks5 bound address skipped");
    Ok(())
}

/// The DST.ADDR to send: the name itself with remote DNS (ATYP 3), or an
/// IP address (ATYP 1 or 4) for IP literals and local resolution.
async fn destination(hs: &Handshake, dns: Dns, target: &Target) -> Result<Address, Error> {
    if let Ok(ip) = target.host.parse() {
        return Ok(Address::SocketAddress(SocketAddr::new(ip, target.port)));
    }
    match dns {
        Dns::Remote => {
            if target.host.is_empty() || target.host.len() > 255 {
                return Err(hs.unsupported(target, "a SOCKS5 host name must be 1 to 255 bytes"));
            }
            if target.host.contains(['\r', '\n', '\0']) {
                return Err(hs.unsupported(target, "the host contains CR, LF or NUL"));
            }
            Ok(Address::DomainAddress(
                target.host.as_str().into(),
                target.port,
            ))
        }
        Dns::Local => {
            let ip = hs.resolve(target, false).await?;
            Ok(Address::SocketAddress(SocketAddr::new(ip, target.port)))
        }
    }
}

/// RFC 1929. Encoded here rather than with socks5-impl's `UserKey`, whose
/// `Debug` prints the password and which is never zeroized.
async fn authenticate<S>(stream: &mut S, hs: &Handshake, c: &ProxyCredentials) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + ?Sized,
{
    let user = c.username().as_bytes();
    let pass = c.password().expose_secret().as_bytes();
    let mut msg = Zeroizing::new(Vec::with_capacity(3 + user.len() + pass.len()));
    msg.push(0x01);
    msg.push(user.len() as u8);
    msg.extend_from_slice(user);
    msg.push(pass.len() as u8);
    msg.extend_from_slice(pass);
    hs.send(ProxyPhase::Auth, stream, &msg).await?;

    let mut status = [0u8; 2];
    match hs.read_exact(ProxyPhase::Auth, stream, &mut status).await {
        Ok(()) if status[1] == 0x00 => Ok(()),
        Ok(()) => Err(Error::AuthRejected {
            proxy: hs.proxy.clone(),
            detail: format!(
                "the proxy rejected the user name or password (status {:#04x})",
                status[1]
            ),
        }),
        // Some proxies (microsocks) hang up instead of answering a bad password.
        Err(Error::Closed { .. }) => Err(Error::AuthRejected {
            proxy: hs.proxy.clone(),
            detail: "the proxy closed the connection after the user name and password were sent"
                .into(),
        }),
        Err(e) => Err(e),
    }
}

fn bad_credentials(hs: &Handshake, reason: &'static str) -> Error {
    Error::InvalidCredentials {
        proxy: hs.proxy.clone(),
        reason,
    }
}

fn not_socks5(hs: &Handshake, phase: ProxyPhase, version: u8) -> Error {
    let detail = if version == b'H' {
        "the proxy answered in HTTP, not SOCKS5".to_string()
    } else {
        format!("expected SOCKS version 5, got {version:#04x}")
    };
    hs.protocol(phase, detail)
}

#[cfg(test)]
mod tests;
