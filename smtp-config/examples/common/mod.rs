//! What every example shares: arguments, credentials from the environment,
//! the TLS settings, a small message, and printing the outcome with its hint.
//!
//! Environment (never SMTP_*: those are configuration keys for the `smtp`
//! CLI, which would reject unknown ones):
//! - `MAIL_USER`, `MAIL_PASSWORD`: log in with a password (optional);
//! - `MAIL_CA_FILE`: trust this PEM CA as well (a private or test CA).

#![allow(dead_code)] // each example uses its own subset

use std::sync::Arc;

use smtp_core::{
    Address, Delivery, Envelope, Error, MessageSource, SmtpTransport, SmtpTransportBuilder,
    TlsUpgrade, Transport,
};

/// HOST PORT FROM TO, after any leading arguments the example takes itself.
pub struct Args {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub to: String,
    /// Arguments after TO (e.g. a message count).
    pub rest: Vec<String>,
}

/// Reads HOST PORT FROM TO; prints `usage` and exits 2 when they are missing.
pub fn args(usage: &str) -> Args {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.len() < 4 || argv.iter().any(|a| a == "-h" || a == "--help") {
        eprintln!("usage: {usage}");
        eprintln!(
            "environment: MAIL_USER and MAIL_PASSWORD to log in, MAIL_CA_FILE to trust a private CA"
        );
        std::process::exit(2);
    }
    let port = argv[1].parse().unwrap_or_else(|_| {
        eprintln!("PORT must be a number, not {:?}\nusage: {usage}", argv[1]);
        std::process::exit(2);
    });
    Args {
        host: argv[0].clone(),
        port,
        from: argv[2].clone(),
        to: argv[3].clone(),
        rest: argv[4..].to_vec(),
    }
}

/// rustls with the built-in roots, plus `MAIL_CA_FILE` when set.
pub fn tls() -> Result<Arc<dyn TlsUpgrade>, smtp_transport_tls::Error> {
    let mut builder = smtp_transport_tls::RustlsUpgrade::builder();
    if let Some(ca) = std::env::var_os("MAIL_CA_FILE") {
        builder = builder.add_ca_file(ca);
    }
    Ok(Arc::new(builder.build()?))
}

/// A password authenticator from `MAIL_USER` / `MAIL_PASSWORD`, if set.
#[cfg(feature = "auth")]
pub fn password_auth() -> Result<Option<Arc<smtp_auth::SaslAuthenticator>>, smtp_auth::Error> {
    let (Ok(user), Ok(password)) = (std::env::var("MAIL_USER"), std::env::var("MAIL_PASSWORD"))
    else {
        return Ok(None);
    };
    let auth = smtp_auth::SaslAuthenticator::builder()
        .credentials(smtp_auth::Credentials::password(user, password))
        .build()?;
    Ok(Some(Arc::new(auth)))
}

/// `builder` with the password authenticator when `MAIL_USER` and
/// `MAIL_PASSWORD` are set; unchanged otherwise.
#[cfg(feature = "auth")]
pub fn with_password_auth(
    builder: SmtpTransportBuilder,
) -> Result<SmtpTransportBuilder, smtp_auth::Error> {
    Ok(match password_auth()? {
        Some(auth) => builder.authenticator(auth),
        None => builder,
    })
}

/// Sends one message with `subject` from FROM to TO, prints the outcome
/// (exiting on failure, see [`report`]) and closes the transport.
pub async fn send_one(transport: SmtpTransport, a: &Args, subject: &str) -> Result<(), Error> {
    let envelope = envelope(&a.from, &a.to)?;
    let sent = transport
        .send(&envelope, message(&a.from, &a.to, subject))
        .await;
    report(sent);
    transport.close().await;
    Ok(())
}

pub fn envelope(from: &str, to: &str) -> Result<Envelope, Error> {
    Envelope::new(Some(Address::new(from)?), vec![Address::new(to)?])
}

pub fn message(from: &str, to: &str, subject: &str) -> MessageSource {
    MessageSource::from_bytes(format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n\r\nSent by an smtp-config example.\r\n"
    ))
}

/// Prints the outcome; on failure also the hint and its code (an entry in
/// docs/troubleshooting.md), and exits 1 (or 75 when a retry may help).
pub fn report(result: Result<Delivery, Error>) {
    match result {
        Ok(d) => {
            for r in &d.accepted {
                println!("accepted: {}", r.recipient);
            }
            for r in &d.rejected {
                println!("rejected: {} ({})", r.recipient, r.reply);
            }
            println!("server: {}", d.reply);
        }
        Err(e) => fail(&e),
    }
}

/// Prints the error, then its hint and code when there is one.
pub fn print_error(e: &Error) {
    eprintln!("error: {e}");
    if let Some(h) = smtp_config::coded_hint(e) {
        eprintln!("hint: {} [{}]", h.text, h.code);
    }
}

/// Prints the error and its hint, then exits 1 (or 75 when a retry may help).
pub fn fail(e: &Error) -> ! {
    print_error(e);
    std::process::exit(if e.is_transient() { 75 } else { 1 });
}
