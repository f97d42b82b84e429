//! Compose a message with an attachment (streamed from disk, never whole
//! in memory) and send one copy per recipient with the library's bulk
//! sender: pipelined batches over a few pooled connections, retries with
//! backoff, a journal so a rerun after Ctrl-C sends only the rest, and
//! each outcome printed the moment it is known.
//!
//! ```sh
//! MAIL_USER=me@example.com MAIL_PASSWORD=app-password \
//!   cargo run -p smtp-config --example compose_bulk -- smtp.example.com 587 me@example.com you@example.org 100 [ATTACHMENT]
//! ```

mod common;

use std::sync::Arc;

use smtp_core::bulk::{BulkSender, InvalidJob, Job, Journal, RetryPolicy};
use smtp_core::{Security, SmtpTransport};
use smtp_message::{Attachment, Composer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = common::args("compose_bulk HOST PORT FROM TO [COUNT=20] [ATTACHMENT]");
    let count: usize = a.rest.first().and_then(|c| c.parse().ok()).unwrap_or(20);
    let builder = SmtpTransport::builder(&a.host)
        .port(a.port)
        .security(Security::StartTlsRequired)
        .tls(common::tls()?);
    let transport = Arc::new(common::with_password_auth(builder)?.build()?);

    // The template: everything but the recipient. Checked once up front.
    let mut template = Composer::new(a.from.as_str())
        .from_name("Example Reports")
        .subject("Your weekly report")
        .text_body("Hello,\n\nthe report is attached.\n");
    if let Some(path) = a.rest.get(1) {
        template = template.attach(Attachment::file(path));
    }
    // One job per recipient, built as the senders ask for them: a list of
    // a million costs no more memory than one of ten. (Here the TO
    // argument with +N tags, so every copy lands in one test mailbox.)
    let (local, domain) = a.to.split_once('@').ok_or("TO must be an address")?;
    let (local, domain) = (local.to_string(), domain.to_string());
    let recipients = (1..=count).map(move |n| format!("{local}+{n}@{domain}"));
    let jobs = recipients.map(move |rcpt| match template.clone().to(&rcpt).build() {
        Ok(message) => Ok(Job::new(&rcpt, message.envelope().clone(), message)),
        Err(e) => Err(InvalidJob {
            key: rcpt.clone(),
            error: smtp_core::Error::InvalidInput {
                what: "recipient",
                value: format!("{rcpt}: {e}"),
                reason: "cannot compose the message",
            },
        }),
    });

    let journal = std::env::temp_dir().join("compose_bulk.journal");
    let mut run = BulkSender::new(transport)
        .concurrency(2)
        .retry(RetryPolicy::default().attempts(3))
        .journal(Journal::open(&journal)?)
        .start(jobs);
    let stop = run.stop_handle();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.stop(); // messages in flight finish; the journal has the rest
        }
    });
    while let Some(outcome) = run.next().await {
        match &outcome.result {
            Ok(d) => println!(
                "sent {} ({} attempt(s)): {}",
                outcome.key, outcome.attempts, d.reply
            ),
            Err(e) => common::print_error(e),
        }
    }
    let summary = run.finish().await;
    println!(
        "{} sent, {} failed, {} unknown, {} skipped (journal {})",
        summary.sent,
        summary.failed,
        summary.unknown,
        summary.skipped,
        journal.display()
    );
    std::fs::remove_file(&journal).ok();
    if summary.failed + summary.unknown > 0 || summary.stopped {
        std::process::exit(75);
    }
    Ok(())
}
