//! Sends N messages of SIZE bytes with lettre, the way a Rust service
//! using it would, through its connection pool:
//!
//! `lettre-client HOST PORT N SIZE [--connections K] [--starttls CA_PEM NAME] [--subject S]`
//!
//! Plain SMTP by default. `--starttls`: STARTTLS required (rustls, TLS 1.3
//! and 1.2, trusting only CA_PEM, the certificate checked against NAME)
//! and AUTH PLAIN with `BENCH_SMTP_USER` / `BENCH_SMTP_PASS` from the
//! environment (never the command line). `--connections K`: K tasks share
//! the N messages over a pool of at most K connections.

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn body(size: usize) -> String {
    // The payload smtp-bench and the smtplib client send: 78-byte lines.
    let mut body = String::with_capacity(size);
    let mut left = size;
    while left >= 2 {
        let k = left.min(78);
        body.push_str(&"x".repeat(k - 2));
        body.push_str("\r\n");
        left -= k;
    }
    body.push_str(&"x".repeat(left));
    body
}

fn usage() -> ! {
    eprintln!(
        "usage: lettre-client HOST PORT N SIZE [--connections K] [--starttls CA_PEM NAME] [--subject S]"
    );
    std::process::exit(2);
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, host, port, n, size, options @ ..] = args.as_slice() else {
        usage();
    };
    let port: u16 = port.parse().expect("PORT");
    let n: usize = n.parse().expect("N");
    let size: usize = size.parse().expect("SIZE");
    let (mut connections, mut starttls, mut subject) = (1usize, None, "bench".to_string());
    let mut options = options.iter();
    while let Some(key) = options.next() {
        match key.as_str() {
            "--connections" => {
                connections = options.next().unwrap_or_else(|| usage()).parse().expect("K")
            }
            "--starttls" => {
                let ca = options.next().unwrap_or_else(|| usage());
                let name = options.next().unwrap_or_else(|| usage());
                starttls = Some((ca.clone(), name.clone()));
            }
            "--subject" => subject = options.next().unwrap_or_else(|| usage()).clone(),
            _ => usage(),
        }
    }
    let builder = match starttls {
        None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str()),
        Some((ca, name)) => {
            let pem = std::fs::read(&ca).expect("CA_PEM");
            let tls = TlsParameters::builder(name)
                .add_root_certificate(Certificate::from_pem(&pem).expect("a PEM certificate"))
                .build_rustls()
                .expect("TLS parameters");
            let user = std::env::var("BENCH_SMTP_USER").expect("BENCH_SMTP_USER");
            let pass = std::env::var("BENCH_SMTP_PASS").expect("BENCH_SMTP_PASS");
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
                .tls(Tls::Required(tls))
                .credentials(Credentials::new(user, pass))
        }
    };
    let transport = builder
        .port(port)
        .pool_config(PoolConfig::new().max_size(connections as u32))
        .build();
    let (from, to) = if starttls_used(&args) {
        ("sender@example.test", "bench@example.test")
    } else {
        ("s@example.net", "r@example.org")
    };
    let body = Arc::new(body(size));
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections.max(1) {
        let (transport, body, next, subject) =
            (transport.clone(), body.clone(), next.clone(), subject.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return;
                }
                let message = Message::builder()
                    .from(from.parse().unwrap())
                    .to(to.parse().unwrap())
                    .subject(subject.as_str())
                    .header(ContentType::TEXT_PLAIN)
                    .body(body.as_str().to_owned())
                    .unwrap();
                if let Err(e) = transport.send(message).await {
                    eprintln!("lettre-client: message {i}: {e}");
                    std::process::exit(1);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

fn starttls_used(args: &[String]) -> bool {
    args.iter().any(|a| a == "--starttls")
}
