//! Shared by the integration tests: the rig's peers, proxy URLs for them,
//! reading the SMTP greeting through a tunnel, and a connector that
//! records what it writes.

#![allow(dead_code)] // each test binary uses a different part

use std::time::Duration;

use secrecy::ExposeSecret;
use smtp_core::{BoxStream, ProxyUrl};
use smtp_testkit::Peers;
use tokio::io::AsyncReadExt;

/// The running rig; fails the test with how to start it when it is down.
pub fn peers() -> &'static Peers {
    smtp_testkit::peers()
}

/// `scheme://127.0.0.1:port`, with the rig's proxy credentials when `auth`.
pub fn url(scheme: &str, port: u16, auth: bool) -> ProxyUrl {
    let p = peers();
    let userinfo = if auth {
        format!("{}:{}@", p.proxy_user, p.proxy_pass.expose_secret())
    } else {
        String::new()
    };
    ProxyUrl::parse(&format!("{scheme}://{userinfo}{}:{port}", p.host)).expect("proxy url")
}

/// Like [`url`] with a wrong password.
pub fn url_wrong_password(scheme: &str, port: u16) -> ProxyUrl {
    let p = peers();
    ProxyUrl::parse(&format!(
        "{scheme}://{}:Wrong-Pass-9@{}:{port}",
        p.proxy_user, p.host
    ))
    .expect("proxy url")
}

/// Every proxy of the rig that reaches Postfix without credentials being
/// wrong: (what, url).
pub fn every_proxy() -> Vec<(&'static str, ProxyUrl)> {
    let p = peers();
    vec![
        ("dante socks5h", url("socks5h", p.socks5_port, false)),
        ("dante socks5", url("socks5", p.socks5_port, false)),
        ("dante socks4a", url("socks4a", p.socks5_port, false)),
        ("dante socks4", url("socks4", p.socks5_port, false)),
        ("ssh -D socks4a", url("socks4a", p.socks4a_port, false)),
        ("ssh -D socks4", url("socks4", p.socks4a_port, false)),
        (
            "microsocks socks5h",
            url("socks5h", p.socks5_microsocks_port, false),
        ),
        (
            "microsocks auth socks5h",
            url("socks5h", p.socks5_auth_port, true),
        ),
        ("tinyproxy http", url("http", p.http_proxy_port, false)),
        (
            "tinyproxy auth http",
            url("http", p.http_proxy_auth_port, true),
        ),
        ("squid http", url("http", p.squid_port, false)),
        ("squid auth http", url("http", p.squid_auth_port, true)),
    ]
}

/// Reads the server's first reply line through an open tunnel.
pub async fn greeting(mut stream: BoxStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    let read = async {
        while !line.ends_with(b"\r\n") {
            if stream.read(&mut byte).await.expect("read greeting") == 0 {
                break;
            }
            line.push(byte[0]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("greeting within 10 s");
    String::from_utf8_lossy(&line).into_owned()
}

/// The proxy error carried by a connector error or an engine error.
pub fn proxy_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> &'a smtp_proxy::Error {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(found) = err.downcast_ref::<smtp_proxy::Error>() {
            return found;
        }
        cur = err.source();
    }
    panic!("no smtp_proxy::Error in {e:?}")
}
