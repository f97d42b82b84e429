//! Send many messages through a connection pool: several sessions at once,
//! each reused for many messages (no TCP/TLS/AUTH per message) and fed a
//! batch at a time, so that with PIPELINING each message rides behind the
//! previous one and with CHUNKING several are in flight; per-message
//! results.
//!
//! ```sh
//! MAIL_USER=me@example.com MAIL_PASSWORD=app-password \
//!   cargo run -p smtp-config --example bulk_pool -- smtp.example.com 587 me@example.com you@example.org 100
//! ```

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use smtp_core::{PoolConfig, Security, SmtpTransport};

const CONNECTIONS: usize = 4;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = common::args("bulk_pool HOST PORT FROM TO [COUNT=20]");
    let count: usize = a.rest.first().and_then(|c| c.parse().ok()).unwrap_or(20);
    let builder = SmtpTransport::builder(&a.host)
        .port(a.port)
        .security(Security::StartTlsRequired)
        .tls(common::tls()?)
        .pool(PoolConfig {
            max_connections: CONNECTIONS,
            idle_timeout: Duration::from_secs(30),
            max_messages_per_connection: 100,
        });
    let transport = Arc::new(common::with_password_auth(builder)?.build()?);
    let started = Instant::now();
    let envelope = common::envelope(&a.from, &a.to)?;
    // One batch per connection: the pool hands each task a session of its
    // own (a batch longer than max_messages_per_connection goes on over a
    // new one). Retry what fails with `Error::is_transient` in real code.
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let items: Vec<_> = (c..count)
                .step_by(CONNECTIONS)
                .map(|i| {
                    let subject = format!("bulk message {}", i + 1);
                    let message = common::message(&a.from, &a.to, &subject);
                    (envelope.clone(), message)
                })
                .collect();
            let transport = transport.clone();
            tokio::spawn(async move { transport.send_batch(items).await })
        })
        .collect();
    let mut failed = 0;
    for task in tasks {
        for result in task.await? {
            if let Err(e) = result {
                failed += 1;
                common::print_error(&e);
            }
        }
    }
    transport.close().await;
    let elapsed = started.elapsed();
    println!(
        "sent {} of {count} in {:.2?} over at most {CONNECTIONS} connections",
        count - failed,
        elapsed
    );
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
