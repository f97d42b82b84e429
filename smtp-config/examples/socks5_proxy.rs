//! Send one message through a SOCKS5 proxy, with STARTTLS end to end (the
//! proxy sees only encrypted bytes). With `socks5h://` the proxy resolves
//! the server's name, so nothing leaks to the local DNS.
//!
//! ```sh
//! MAIL_PROXY='socks5h://user:pass@proxy.example:1080' MAIL_USER=me@example.com MAIL_PASSWORD=app-password \
//!   cargo run -p smtp-config --example socks5_proxy -- smtp.example.com 587 me@example.com you@example.org
//! ```
//!
//! `MAIL_PROXY` may also be `socks4a://`, `socks4://`, `socks5://` or
//! `http://` (HTTP CONNECT).

mod common;

use smtp_core::ProxyUrl;
use smtp_core::{Security, SmtpTransport, TcpConnector};
use smtp_proxy::ProxyUrlExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = common::args("socks5_proxy HOST PORT FROM TO  (proxy URL in MAIL_PROXY)");
    let Ok(proxy) = std::env::var("MAIL_PROXY") else {
        eprintln!("set MAIL_PROXY, e.g. socks5h://user:pass@127.0.0.1:1080");
        std::process::exit(2);
    };
    let proxy = ProxyUrl::parse(&proxy)?;
    println!("via {proxy}"); // the password shows as <redacted>
    let builder = SmtpTransport::builder(&a.host)
        .port(a.port)
        .security(Security::StartTlsRequired)
        .tls(common::tls()?)
        .connector(proxy.connector(TcpConnector::new()));
    let transport = common::with_password_auth(builder)?.build()?;
    common::send_one(transport, &a, "hello through a proxy").await?;
    Ok(())
}
