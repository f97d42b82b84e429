//! Send one message on the submission port with STARTTLS required: the
//! session fails closed if the server does not offer STARTTLS.
//!
//! ```sh
//! MAIL_USER=me@example.com MAIL_PASSWORD=app-password \
//!   cargo run -p smtp-config --example starttls -- smtp.example.com 587 me@example.com you@example.org
//! ```

mod common;

use smtp_core::{Security, SmtpTransport, Transport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = common::args("starttls HOST PORT FROM TO");
    let mut builder = SmtpTransport::builder(&a.host)
        .port(a.port)
        .security(Security::StartTlsRequired)
        .tls(common::tls()?);
    if let Some(auth) = common::password_auth()? {
        builder = builder.authenticator(auth);
    }
    let transport = builder.build()?;
    let envelope = common::envelope(&a.from, &a.to)?;
    let sent = transport
        .send(
            &envelope,
            common::message(&a.from, &a.to, "hello over STARTTLS"),
        )
        .await;
    common::report(sent);
    transport.close().await;
    Ok(())
}
