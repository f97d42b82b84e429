//! `smtp sendmail`: stands in for /usr/sbin/sendmail in cron and scripts.
//! Reads the message on stdin (headers parsed by smtp-message, the body
//! streamed); `-t` adds the recipients of To/Cc/Bcc; Bcc never stays in
//! the content; `-f` sets the envelope sender; `-F` the sender's full
//! name (for a From header without one, or a From header made from the
//! sender when the message has none). Quiet on success.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use smtp_core::bulk::Job;
use smtp_core::{Address, Envelope};
use smtp_message::RawOptions;

use crate::cli::{ConnectionArgs, GlobalArgs, SendmailArgs};
use crate::cmd::deliver::{Options, deliver};
use crate::record::Recorder;
use crate::setup;

pub async fn run(global: &GlobalArgs, args: SendmailArgs) -> Result<()> {
    let settings: Vec<(&str, &str)> = [
        ("dsn.notify", &args.dsn_notify),
        ("dsn.ret", &args.dsn_ret),
        ("dsn.envid", &args.dsn_envid),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
    .collect();
    let loaded = setup::load_with(global, &ConnectionArgs::default(), &settings)?;
    let setup = setup::build(&loaded, None::<Arc<Recorder>>, None)?;
    let mut rcpts: Vec<Address> = args
        .recipients
        .iter()
        .map(Address::new)
        .collect::<Result<_, _>>()?;
    let mut raw = setup::stdin_message(&setup, &RawOptions::default())
        .await
        .context("reading the message from stdin")?;
    if args.read_recipients {
        rcpts.extend(raw.recipients().iter().cloned());
    }
    if rcpts.is_empty() {
        bail!("no recipients: name them as arguments or use -t to read To/Cc/Bcc");
    }
    let from = match args.from.or_else(|| setup.message.from.clone()) {
        Some(f) => Address::new(&f)?,
        None => raw.from().cloned().context(
            "no sender: give -f ADDR, set message.from in the config, or put From in the message",
        )?,
    };
    if let Some(name) = &args.full_name {
        raw.set_sender_name(name, &from)
            .context("the full name given with -F")?;
    }
    let envelope = Envelope::new(Some(from), rcpts)?;
    let job = Job::new("stdin", setup.envelope_params.apply(envelope), raw);
    let opts = Options {
        concurrency: 1,
        json: false,
        journal: None,
        quiet_success: true,
        queue: false,
    };
    deliver(&setup, std::iter::once(Ok(job)), &opts).await
}
