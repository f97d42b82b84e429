//! Shared by the integration tests: the rig, a PLAIN mechanism (plugin
//! crates do not depend on each other, so not smtp-auth's), transports,
//! raw handshakes and error digging.

#![allow(dead_code)] // each test file uses a different part

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use smtp_core::sasl::{AuthContext, Authenticator, Mechanism, SecretBytes};
use smtp_core::{
    Address, BoxError, BoxStream, Envelope, MessageSource, Security, SmtpTransport, Timeouts,
    TlsInfo,
};
use smtp_testkit::Peers;
use smtp_transport_tls::{Error, RustlsUpgrade, RustlsUpgradeBuilder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const LIMIT: Duration = Duration::from_secs(10);

/// The running rig; panics with how to start it when it is down.
pub fn peers() -> &'static Peers {
    smtp_testkit::peers()
}

/// TLS that trusts the rig's test CA only.
pub fn rig_tls() -> RustlsUpgradeBuilder {
    RustlsUpgrade::builder()
        .webpki_roots(false)
        .add_ca_file(&peers().ca_cert)
}

/// A plain TCP connection to a rig port.
pub async fn tcp(port: u16) -> TcpStream {
    let stream = TcpStream::connect(peers().addr(port))
        .await
        .unwrap_or_else(|e| {
            panic!("connect to rig port {port}: {e} (is scripts/peers/start.sh running?)")
        });
    stream.set_nodelay(true).unwrap();
    stream
}

/// Implicit TLS by hand: TCP, then this crate's handshake, nothing else.
pub async fn handshake(
    upgrade: &RustlsUpgrade,
    port: u16,
    name: &str,
) -> Result<(BoxStream, TlsInfo), Error> {
    let stream: BoxStream = Box::new(tcp(port).await);
    tokio::time::timeout(LIMIT, upgrade.handshake(stream, name))
        .await
        .expect("the handshake finished in time")
}

/// The error of a handshake that must fail.
pub async fn handshake_err(upgrade: &RustlsUpgrade, port: u16, name: &str) -> Error {
    match handshake(upgrade, port, name).await {
        Ok((_, info)) => panic!("handshake with port {port} succeeded: {info:?}"),
        Err(e) => e,
    }
}

/// Reads one CRLF-terminated line, byte by byte so nothing past it is consumed.
pub async fn read_line(stream: &mut BoxStream) -> String {
    let mut line = Vec::new();
    loop {
        let mut byte = [0u8; 1];
        let n = tokio::time::timeout(LIMIT, stream.read(&mut byte))
            .await
            .expect("the server answered in time")
            .expect("read");
        assert!(
            n == 1,
            "connection closed after {:?}",
            String::from_utf8_lossy(&line)
        );
        line.push(byte[0]);
        if line.ends_with(b"\r\n") {
            return String::from_utf8_lossy(&line).into_owned();
        }
    }
}

/// Reads an SMTP reply (all its lines) and returns its last line.
pub async fn read_reply(stream: &mut BoxStream) -> String {
    loop {
        let line = read_line(stream).await;
        if line.as_bytes().get(3) != Some(&b'-') {
            return line;
        }
    }
}

pub async fn write(stream: &mut BoxStream, line: &str) {
    stream.write_all(line.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
}

/// A transport to a rig port through the engine, verifying `localhost`.
pub fn transport(port: u16, security: Security, upgrade: RustlsUpgrade) -> SmtpTransport {
    builder(port, security, upgrade)
        .build()
        .expect("valid transport settings")
}

/// Same, authenticated as the rig's SMTP user.
pub fn authed_transport(port: u16, security: Security, upgrade: RustlsUpgrade) -> SmtpTransport {
    builder(port, security, upgrade)
        .authenticator(Arc::new(Plain::rig_user()))
        .build()
        .expect("valid transport settings")
}

fn builder(
    port: u16,
    security: Security,
    upgrade: RustlsUpgrade,
) -> smtp_core::SmtpTransportBuilder {
    SmtpTransport::builder(peers().tls_name.clone())
        .port(port)
        .security(security)
        .tls(Arc::new(upgrade))
        .ehlo_name("client.example.test")
        .timeouts(Timeouts::uniform(LIMIT))
}

/// A message with `tag` in its Subject, to find it in the Maildir.
pub fn message(tag: &str) -> (Envelope, MessageSource) {
    let from = Address::new("sender@example.net").unwrap();
    let to = Address::new("rcpt@example.org").unwrap();
    let envelope = Envelope::new(Some(from), vec![to]).unwrap();
    let body = format!(
        "From: sender@example.net\r\nTo: rcpt@example.org\r\nSubject: {tag}\r\n\r\nsent by smtp-transport-tls tests\r\n"
    );
    (envelope, MessageSource::from_bytes(body))
}

/// This crate's error inside an engine error, wherever it sits in the
/// `source()` chain (`Error::Tls`, or an I/O error after the handshake).
pub fn tls_error(err: &smtp_core::Error) -> &Error {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(ours) = e.downcast_ref::<Error>() {
            return ours;
        }
        cur = e.source();
    }
    panic!("no smtp_transport_tls::Error in the chain of: {err} ({err:?})");
}

/// SASL PLAIN (RFC 4616), enough to reach the rig's AUTH-required ports.
#[derive(Debug)]
pub struct Plain {
    user: String,
    pass: SecretString,
}

impl Plain {
    pub fn rig_user() -> Plain {
        Plain {
            user: peers().smtp_user.clone(),
            pass: peers().smtp_pass.clone(),
        }
    }
}

struct PlainExchange(Option<SecretBytes>);

impl Mechanism for PlainExchange {
    fn name(&self) -> &'static str {
        "PLAIN"
    }
    fn initial_response(&mut self) -> Option<SecretBytes> {
        self.0.take()
    }
    fn respond(&mut self, _challenge: &[u8]) -> Result<SecretBytes, BoxError> {
        Err("PLAIN has no second step".into())
    }
    fn sends_secret_in_clear(&self) -> bool {
        true
    }
}

#[async_trait]
impl Authenticator for Plain {
    async fn mechanism(
        &self,
        ctx: &AuthContext<'_>,
    ) -> Result<Option<Box<dyn Mechanism>>, BoxError> {
        if !ctx.offered.iter().any(|m| m == "PLAIN") {
            return Err(format!("PLAIN not offered (offered: {:?})", ctx.offered).into());
        }
        let ir = format!("\0{}\0{}", self.user, self.pass.expose_secret());
        Ok(Some(Box::new(PlainExchange(Some(ir.into_bytes().into())))))
    }
}
