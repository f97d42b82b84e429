//! SOCKS4 and SOCKS4a, by hand: the protocol is one request and an
//! eight-byte reply.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use smtp_core::{BoxError, BoxStream, Connector, Target};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::{Error, ProxyPhase};
use crate::handshake::Handshake;
use crate::reply::Socks4Reply;
use crate::{DEFAULT_HANDSHAKE_TIMEOUT, Dns};

/// Connects through a SOCKS4a ([`Dns::Remote`], the default) or SOCKS4
/// ([`Dns::Local`], IPv4 only) proxy, reaching the proxy through `inner`.
///
/// SOCKS4 has no password; the optional user id is sent in clear.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// use smtp_core::{Connector, Target, TcpConnector};
/// use smtp_proxy::{Dns, Socks4};
///
/// let socks4 = Socks4::new(TcpConnector::new(), Target::new("127.0.0.1", 1080)).dns(Dns::Local);
/// let stream = socks4.connect(&Target::new("127.0.0.1", 2525)).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Socks4<C> {
    inner: C,
    proxy: Target,
    user_id: String,
    dns: Dns,
    timeout: Duration,
}

impl<C> Socks4<C> {
    /// A SOCKS4a connector for the proxy at `proxy`, reached through `inner`.
    pub fn new(inner: C, proxy: Target) -> Socks4<C> {
        Socks4 {
            inner,
            proxy,
            user_id: String::new(),
            dns: Dns::Remote,
            timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// The USERID field (empty by default).
    pub fn user_id(mut self, user_id: impl Into<String>) -> Socks4<C> {
        self.user_id = user_id.into();
        self
    }

    /// [`Dns::Remote`]: SOCKS4a, the proxy resolves names (default).
    /// [`Dns::Local`]: SOCKS4, resolved here to an IPv4 address.
    pub fn dns(mut self, dns: Dns) -> Socks4<C> {
        self.dns = dns;
        self
    }

    /// Time allowed to reach the proxy and open the tunnel.
    pub fn handshake_timeout(mut self, limit: Duration) -> Socks4<C> {
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
            Dns::Remote => "socks4a",
            Dns::Local => "socks4",
        };
        format!("{scheme}://{}", self.proxy)
    }
}

#[async_trait]
impl<C: Connector> Connector for Socks4<C> {
    async fn connect(&self, target: &Target) -> Result<BoxStream, BoxError> {
        // Classified here, so the engine knows a refused login is
        // permanent and a dead proxy transient.
        let tunnel: Result<BoxStream, Error> = async {
            let hs = Handshake::new(self.label(), self.timeout);
            let request = request(&hs, &self.user_id, self.dns, target).await?;
            let mut stream = hs.connect_inner(&self.inner, &self.proxy).await?;
            handshake(&mut stream, &hs, &request, target).await?;
            tracing::debug!(proxy = %hs.proxy, %target, "socks4 tunnel open");
            Ok(stream)
        }
        .await;
        tunnel.map_err(smtp_core::PluginError::boxed)
    }
}

/// `VN=4 CD=1 DSTPORT DSTIP USERID NUL [HOST NUL]`; SOCKS4a marks a name
/// with the invalid address 0.0.0.1 and appends it.
pub(crate) async fn request(
    hs: &Handshake,
    user_id: &str,
    dns: Dns,
    target: &Target,
) -> Result<Vec<u8>, Error> {
    if user_id.contains('\0') || user_id.len() > 255 {
        return Err(Error::InvalidCredentials {
            proxy: hs.proxy.clone(),
            reason: "a SOCKS4 user id must be at most 255 bytes, without NUL",
        });
    }
    let mut ip = None;
    let mut name = None;
    match target.host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => ip = Some(v4),
        Ok(IpAddr::V6(_)) if dns == Dns::Local => {
            return Err(hs.unsupported(target, "SOCKS4 carries only IPv4 addresses"));
        }
        _ if dns == Dns::Local => match hs.resolve(target, true).await? {
            IpAddr::V4(v4) => ip = Some(v4),
            IpAddr::V6(_) => {
                return Err(hs.unsupported(target, "SOCKS4 carries only IPv4 addresses"));
            }
        },
        _ => {
            if target.host.is_empty() || target.host.len() > 255 || target.host.contains('\0') {
                return Err(hs.unsupported(
                    target,
                    "a SOCKS4a host name must be 1 to 255 bytes, without NUL",
                ));
            }
            name = Some(target.host.as_str());
        }
    }
    let mut msg = vec![0x04, 0x01];
    msg.extend_from_slice(&target.port.to_be_bytes());
    msg.extend_from_slice(&ip.map_or([0, 0, 0, 1], |v4| v4.octets()));
    msg.extend_from_slice(user_id.as_bytes());
    msg.push(0);
    if let Some(name) = name {
        msg.extend_from_slice(name.as_bytes());
        msg.push(0);
    }
    Ok(msg)
}

pub(crate) async fn handshake<S>(
    stream: &mut S,
    hs: &Handshake,
    request: &[u8],
    target: &Target,
) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + ?Sized,
{
    hs.send(ProxyPhase::Tunnel, stream, request).await?;
    let mut reply = [0u8; 8];
    hs.read_exact(ProxyPhase::Tunnel, stream, &mut reply)
        .await?;
    // VN is 0 by the spec; some servers echo 4. Anything else is not SOCKS4.
    if reply[0] != 0x00 && reply[0] != 0x04 {
        let detail = if reply[0] == 0x05 {
            "the proxy answered in SOCKS5, not SOCKS4".to_string()
        } else {
            format!("expected a SOCKS4 reply (version 0), got {:#04x}", reply[0])
        };
        return Err(hs.protocol(ProxyPhase::Tunnel, detail));
    }
    match Socks4Reply::from_code(reply[1]) {
        None => Ok(()),
        Some(reply) => Err(Error::Socks4Refused {
            proxy: hs.proxy.clone(),
            target: target.to_string(),
            reply,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs() -> Handshake {
        Handshake::new("socks4a://127.0.0.1:1080".into(), Duration::from_secs(5))
    }

    #[tokio::test]
    async fn socks4a_sends_the_name_and_socks4_the_address() {
        let m = request(&hs(), "bob", Dns::Remote, &Target::new("localhost", 2525))
            .await
            .unwrap();
        assert_eq!(m, b"\x04\x01\x09\xdd\x00\x00\x00\x01bob\x00localhost\x00");
        let m = request(&hs(), "", Dns::Local, &Target::new("127.0.0.1", 25))
            .await
            .unwrap();
        assert_eq!(m, b"\x04\x01\x00\x19\x7f\x00\x00\x01\x00");
        let m = request(&hs(), "", Dns::Local, &Target::new("localhost", 25))
            .await
            .unwrap();
        assert_eq!(m, b"\x04\x01\x00\x19\x7f\x00\x00\x01\x00");
        let m = request(&hs(), "", Dns::Remote, &Target::new("10.1.2.3", 25))
            .await
            .unwrap();
        assert_eq!(
            m, b"\x04\x01\x00\x19\x0a\x01\x02\x03\x00",
            "an IPv4 literal needs no 4a"
        );
        let e = request(&hs(), "", Dns::Local, &Target::new("::1", 25))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("only IPv4"), "{e}");
        let e = request(&hs(), "a\0b", Dns::Local, &Target::new("127.0.0.1", 25))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("NUL"), "{e}");
    }

    async fn reply_to(bytes: &'static [u8]) -> Result<Vec<u8>, Error> {
        let (mut client, mut proxy) = tokio::io::duplex(256);
        let server = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut req = [0u8; 9];
            proxy.read_exact(&mut req).await.unwrap();
            proxy.write_all(bytes).await.unwrap();
            proxy.write_all(b"220 after").await.unwrap();
        });
        let target = Target::new("127.0.0.1", 25);
        let req = request(&hs(), "", Dns::Local, &target).await.unwrap();
        let result = handshake(&mut client, &hs(), &req, &target).await;
        server.await.unwrap();
        let mut rest = Vec::new();
        if result.is_ok() {
            use tokio::io::AsyncReadExt;
            client.read_to_end(&mut rest).await.unwrap();
        }
        result.map(|_| rest)
    }

    #[tokio::test]
    async fn reply_codes_become_errors_and_nothing_is_over_read() {
        let rest = reply_to(b"\x00\x5a\x00\x19\x7f\x00\x00\x01").await.unwrap();
        assert_eq!(rest, b"220 after");
        for (bytes, code) in [
            (&b"\x00\x5b\x00\x00\x00\x00\x00\x00"[..], 0x5b),
            (b"\x00\x5c\x00\x00\x00\x00\x00\x00", 0x5c),
            (b"\x00\x5d\x00\x00\x00\x00\x00\x00", 0x5d),
        ] {
            match reply_to(bytes).await.unwrap_err() {
                Error::Socks4Refused { reply, .. } => assert_eq!(reply.code(), code),
                other => panic!("{other}"),
            }
        }
        let e = reply_to(b"\x05\x00\x00\x00\x00\x00\x00\x00")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("answered in SOCKS5"), "{e}");
        assert_eq!(e.coded_hint().code, "proxy-wrong-protocol");
    }
}
