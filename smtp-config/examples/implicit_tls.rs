//! Send one message over implicit TLS (port 465): TLS from the first byte,
//! nothing for an attacker to strip (RFC 8314 recommends it).
//!
//! ```sh
//! MAIL_USER=me@example.com MAIL_PASSWORD=app-password \
//!   cargo run -p smtp-config --example implicit_tls -- smtp.example.com 465 me@example.com you@example.org
//! ```

mod common;

use smtp_core::{Security, SmtpTransport, Transport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = common::args("implicit_tls HOST PORT FROM TO");
    let mut builder = SmtpTransport::builder(&a.host)
        .port(a.port)
        .security(Security::ImplicitTls)
        .tls(common::tls()?);
    if let Some(auth) = common::password_auth()? {
        builder = builder.authenticator(auth);
    }
    let transport = builder.build()?;
    let envelope = common::envelope(&a.from, &a.to)?;
    let sent = transport
        .send(
            &envelope,
            common::message(&a.from, &a.to, "hello over implicit TLS"),
        )
        .await;
    common::report(sent);
    transport.close().await;
    Ok(())
}
