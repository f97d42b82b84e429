//! Command-line options of the bench client.

use std::sync::Arc;
use std::time::Duration;

use smtp_auth::{Credentials, MechanismKind, SaslAuthenticator};
use smtp_core::{Address, Envelope, PoolConfig, Security, SmtpTransport, Timeouts};
use smtp_transport_tls::RustlsUpgrade;

pub const USAGE: &str = "usage: smtp-bench <probe|session|pool|send|newconn|starttls|idle|file> \
[--host H] [--port P] [--messages N] [--size BYTES] [--sessions S] [--batch B] [--file PATH] \
[--runtime multi|current] [--from ADDR] [--to ADDR] [--tag SUBJECT] [--ca-file PEM] \
[--tls-name NAME] [--security none|starttls] [--auth none|plain] [--resume yes|no] \
[--max-per-connection N] [--max-connections N]
--auth plain reads BENCH_SMTP_USER and BENCH_SMTP_PASS from the environment.";

pub const MODES: [&str; 8] = [
    "probe", "session", "pool", "send", "newconn", "starttls", "idle", "file",
];

/// Everything a run can be told.
#[derive(Debug, Clone)]
pub struct Args {
    pub mode: String,
    pub host: String,
    pub port: u16,
    /// Messages to send (probe: NOOP round trips; starttls: connections).
    pub messages: usize,
    pub size: usize,
    pub sessions: usize,
    /// Messages per `send_batch` call (session mode: 0 = all in one call).
    pub batch: usize,
    pub file: Option<String>,
    pub runtime: String,
    pub from: String,
    pub to: String,
    /// The Subject of every message: lets a run find its own mail.
    pub tag: String,
    pub ca_file: Option<String>,
    pub tls_name: String,
    /// STARTTLS (required, with `--ca-file`) instead of plain SMTP.
    pub starttls: bool,
    /// AUTH PLAIN with the credentials of the environment.
    pub auth: bool,
    /// TLS session resumption (rustls's cache, shared by the pool).
    pub resume: bool,
    /// The pool's `max_messages_per_connection` (default: no limit).
    pub max_per_connection: usize,
    /// The pool's `max_connections` (default: `sessions`), so that one
    /// worker's pool has room to open a successor ahead.
    pub max_connections: Option<usize>,
}

pub fn parse_args() -> Result<Args, String> {
    let mut argv = std::env::args().skip(1);
    let mode = argv.next().ok_or("missing mode")?;
    if !MODES.contains(&mode.as_str()) {
        return Err(format!("unknown mode {mode:?}"));
    }
    let mut a = Args {
        mode,
        host: "127.0.0.1".into(),
        port: 2526,
        messages: 10_000,
        size: 1024,
        sessions: 1,
        batch: 100,
        file: None,
        runtime: "multi".into(),
        from: "s@example.net".into(),
        to: "r@example.org".into(),
        tag: "throughput bench".into(),
        ca_file: None,
        tls_name: "localhost".into(),
        starttls: false,
        auth: false,
        resume: true,
        max_per_connection: usize::MAX,
        max_connections: None,
    };
    while let Some(key) = argv.next() {
        let value = argv.next().ok_or(format!("{key} needs a value"))?;
        let num = |v: &str| v.parse::<usize>().map_err(|e| format!("{key} {v:?}: {e}"));
        match key.as_str() {
            "--host" => a.host = value,
            "--port" => a.port = value.parse().map_err(|e| format!("--port: {e}"))?,
            "--messages" => a.messages = num(&value)?,
            "--size" => a.size = num(&value)?,
            "--sessions" => a.sessions = num(&value)?.max(1),
            "--batch" => a.batch = num(&value)?,
            "--file" => a.file = Some(value),
            "--runtime" if value == "multi" || value == "current" => a.runtime = value,
            "--from" => a.from = value,
            "--to" => a.to = value,
            "--tag" => a.tag = value,
            "--ca-file" => a.ca_file = Some(value),
            "--tls-name" => a.tls_name = value,
            "--security" if value == "none" || value == "starttls" => {
                a.starttls = value == "starttls"
            }
            "--auth" if value == "none" || value == "plain" => a.auth = value == "plain",
            "--resume" if value == "yes" || value == "no" => a.resume = value == "yes",
            "--max-per-connection" => a.max_per_connection = num(&value)?.max(1),
            "--max-connections" => a.max_connections = Some(num(&value)?.max(1)),
            _ => return Err(format!("unknown option {key} {value}")),
        }
    }
    Ok(a)
}

/// A transport whose pool keeps `sessions` connections for the whole run,
/// as `smtp-source -d` keeps its (unless `--max-per-connection`); plain
/// SMTP, or STARTTLS (+ AUTH PLAIN) as asked.
pub fn transport(args: &Args) -> Result<SmtpTransport, String> {
    let mut builder = SmtpTransport::builder(&args.host)
        .port(args.port)
        .security(Security::None)
        .ehlo_name("bench.example")
        .timeouts(Timeouts::uniform(Duration::from_secs(60)))
        .pool(PoolConfig {
            max_connections: args.max_connections.unwrap_or(args.sessions),
            idle_timeout: Duration::from_secs(600),
            max_messages_per_connection: args.max_per_connection,
        });
    if args.starttls {
        builder = builder
            .security(Security::StartTlsRequired)
            .tls(Arc::new(tls(args)?))
            .tls_server_name(&args.tls_name);
    }
    if args.auth {
        builder = builder.authenticator(Arc::new(authenticator()?));
    }
    builder.build().map_err(|e| e.to_string())
}

/// rustls trusting only `--ca-file` (the rig's CA), TLS 1.2 and 1.3.
pub fn tls(args: &Args) -> Result<RustlsUpgrade, String> {
    let ca = args.ca_file.as_deref().ok_or("STARTTLS needs --ca-file")?;
    RustlsUpgrade::builder()
        .webpki_roots(false)
        .add_ca_file(ca)
        .resumption(args.resume)
        .build()
        .map_err(|e| e.to_string())
}

/// AUTH PLAIN, as lettre and smtplib use it (the strongest mechanism
/// would be SCRAM: thousands of hash rounds per connection).
fn authenticator() -> Result<SaslAuthenticator, String> {
    let var = |k: &str| std::env::var(k).map_err(|_| format!("--auth plain needs {k}"));
    SaslAuthenticator::builder()
        .credentials(Credentials::password(
            var("BENCH_SMTP_USER")?,
            var("BENCH_SMTP_PASS")?,
        ))
        .mechanisms([MechanismKind::Plain])
        .build()
        .map_err(|e| e.to_string())
}

pub fn envelope(args: &Args) -> Result<Envelope, String> {
    let from = Address::new(&args.from).map_err(|e| e.to_string())?;
    let to = Address::new(&args.to).map_err(|e| e.to_string())?;
    Envelope::new(Some(from), vec![to]).map_err(|e| e.to_string())
}

/// Headers like smtp-source's, then `size` bytes of payload in 78-byte
/// lines (the payload length excludes headers, as with `smtp-source -l`).
pub fn message_bytes(args: &Args) -> Vec<u8> {
    let mut m = format!(
        "From: <{}>\r\nTo: <{}>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         Message-Id: <bench@example.net>\r\nSubject: {}\r\n\r\n",
        args.from, args.to, args.tag
    )
    .into_bytes();
    let line = [b'x'; 76];
    let mut left = args.size;
    while left >= 2 {
        let n = left.min(78);
        m.extend_from_slice(&line[..n - 2]);
        m.extend_from_slice(b"\r\n");
        left -= n;
    }
    // An odd byte out: the engine ends the body with CRLF itself.
    m.extend(std::iter::repeat_n(b'x', left));
    m
}
