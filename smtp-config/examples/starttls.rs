//! Send one message on the submission port with STARTTLS required: the
//! session fails closed if the server does not offer STARTTLS.
//!
//! ```sh
//! MAIL_USER=me@example.com MAIL_PASSWORD=app-password \
//!   cargo run -p smtp-config --example starttls -- smtp.example.com 587 me@example.com you@example.org
//! ```

mod common;

use smtp_core::{Security, SmtpTransport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = common::args("starttls HOST PORT FROM TO");
    let builder = SmtpTransport::builder(&a.host)
        .port(a.port)
        .security(Security::StartTlsRequired)
        .tls(common::tls()?);
    let transport = common::with_password_auth(builder)?.build()?;
    common::send_one(transport, &a, "hello over STARTTLS").await?;
    Ok(())
}
