//! Send one message over implicit TLS (port 465): TLS from the first byte,
//! nothing for an attacker to strip (RFC 8314 recommends it).
//!
//! ```sh
//! MAIL_USER=me@example.com MAIL_PASSWORD=app-password \
//!   cargo run -p smtp-config --example implicit_tls -- smtp.example.com 465 me@example.com you@example.org
//! ```

mod common;

use smtp_core::{Security, SmtpTransport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = common::args("implicit_tls HOST PORT FROM TO");
    let builder = SmtpTransport::builder(&a.host)
        .port(a.port)
        .security(Security::ImplicitTls)
        .tls(common::tls()?);
    let transport = common::with_password_auth(builder)?.build()?;
    common::send_one(transport, &a, "hello over implicit TLS").await?;
    Ok(())
}
