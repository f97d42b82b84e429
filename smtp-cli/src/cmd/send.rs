//! `smtp send`: one composed message, existing messages (`--raw`), or one
//! message per recipient of a list (`--to-file`). Composition, parsing
//! and sending are the libraries' (smtp-message, smtp-core's bulk
//! sender); this maps flags onto them.

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use smtp_core::bulk::{InvalidJob, Job};
use smtp_core::{Address, Envelope, Error};
use smtp_message::{Attachment, Composer, RawMessage, RawOptions};

use crate::cli::{GlobalArgs, MessageArgs, SendArgs};
use crate::cmd::deliver::{Options, deliver};
use crate::record::Recorder;
use crate::setup::{self, Dest, Setup};

type Jobs = Box<dyn Iterator<Item = Result<Job, InvalidJob>> + Send>;

pub async fn run(global: &GlobalArgs, args: SendArgs) -> Result<()> {
    let mut settings = args.envelope.settings();
    if args.retry_unknown_outcome {
        settings.push(("retry.unknown_outcome", "true".into()));
    }
    let extra: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let loaded = setup::load_with(global, &args.conn, &extra)?;
    // Without a transcript file, only notices about slow waits (stderr).
    let recorder = Arc::new(
        match setup::transcript_path(&loaded, args.transcript.as_deref()) {
            Some(path) => Recorder::file_only(&path)?,
            None => Recorder::notices_only(),
        },
    );
    let concurrency = args.concurrency.max(1);
    let setup = setup::build(&loaded, Some(recorder.clone()), Some(concurrency))?;
    if let Dest::Smtp(t) = &setup.dest {
        recorder.expect_greeting(t.security(), t.target().port);
    }
    let params = setup.envelope_params.clone();
    let jobs: Jobs = Box::new(jobs(&args, &setup).await?.map(move |job| {
        job.map(|mut job| {
            job.envelope = params.apply(job.envelope);
            job
        })
    }));
    let opts = Options {
        concurrency,
        json: args.json,
        journal: args.journal.as_deref(),
        quiet_success: false,
        queue: args.queue,
    };
    let result = deliver(&setup, jobs, &opts).await;
    if let Dest::Outbox(outbox) = &setup.dest {
        eprintln!(
            "no server configured: queued in the local outbox {} (set host, SMTP_HOST or --host, then `smtp queue flush` delivers it)",
            outbox.queue().dir().display()
        );
    }
    result
}

async fn jobs(args: &SendArgs, setup: &Setup) -> Result<Jobs> {
    if !args.raw.is_empty() {
        return raw_jobs(args, setup).await;
    }
    let stdin_body = if args.message.body.is_none() && args.message.body_file.is_none() {
        piped_body().await?
    } else {
        None
    };
    let template = composer(&args.message, setup, stdin_body)?;
    if let Some(list) = &args.to_file {
        return list_jobs(list, template);
    }
    let m = &args.message;
    let mut composer = template;
    for a in &m.to {
        composer = composer.to(a.as_str());
    }
    for a in &m.cc {
        composer = composer.cc(a.as_str());
    }
    for a in &m.bcc {
        composer = composer.bcc(a.as_str());
    }
    if composer.recipients() == 0 {
        bail!("no recipients: give --to (or --cc/--bcc)");
    }
    let composed = composer.build()?;
    let envelope = composed.envelope().clone();
    let key = composed.message_id().to_string();
    Ok(Box::new(std::iter::once(Ok(Job::new(
        key, envelope, composed,
    )))))
}

/// The sender: `--from`, else `message.from`.
fn sender(m: &MessageArgs, setup: &Setup) -> Option<String> {
    m.from.clone().or_else(|| setup.message.from.clone())
}

/// A body piped on stdin, when stdin is not a terminal and is not empty.
async fn piped_body() -> Result<Option<String>> {
    use std::io::IsTerminal;
    use tokio::io::AsyncReadExt;
    if std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    tokio::io::stdin()
        .read_to_end(&mut bytes)
        .await
        .context("cannot read the body from stdin")?;
    if bytes.is_empty() {
        return Ok(None);
    }
    String::from_utf8(bytes)
        .map(Some)
        .context("the body on stdin is not UTF-8")
}

/// Everything of the message but its recipients; `stdin_body` is the text
/// body when neither `--body` nor `--body-file` gives one.
fn composer(m: &MessageArgs, setup: &Setup, stdin_body: Option<String>) -> Result<Composer> {
    let from = sender(m, setup).context(
        "no sender: give --from, or set message.from in the config (or SMTP_MESSAGE__FROM)",
    )?;
    let prefix = m
        .subject_prefix
        .clone()
        .or_else(|| setup.message.subject_prefix.clone())
        .unwrap_or_default();
    let mut c = Composer::new(from).subject(format!("{prefix}{}", m.subject));
    if let Some(name) = m
        .from_name
        .clone()
        .or_else(|| setup.message.from_name.clone())
    {
        c = c.from_name(name);
    }
    if let Some(r) = &m.reply_to {
        c = c.reply_to(r.as_str());
    }
    match (&m.body, &m.body_file) {
        (Some(b), _) => c = c.text_body(b.as_str()),
        (None, Some(p)) => c = c.text_body(read_text(p, "body file")?),
        (None, None) => {
            if let Some(b) = stdin_body {
                c = c.text_body(b);
            }
        }
    }
    if let Some(p) = &m.html_file {
        c = c.html_body(read_text(p, "html file")?);
    }
    for path in &m.attach {
        // Checked now, read while sending: a missing file costs no connection.
        std::fs::File::open(path)
            .with_context(|| format!("cannot read attachment {}", path.display()))?;
        c = c.attach(Attachment::file(path));
    }
    for h in &m.header {
        let (name, value) = h
            .split_once(':')
            .with_context(|| format!("invalid --header {h:?}: expected \"Name: value\""))?;
        // Only the blank after the colon goes; the rest is checked and
        // written exactly as given.
        let value = value.trim_start_matches([' ', '\t']);
        smtp_message::check_header_name(name)
            .and_then(|()| smtp_message::check_header_value(&format!("header {name}"), value))
            .with_context(|| format!("invalid --header {h:?}"))?;
        c = c.header(name, value);
    }
    Ok(c)
}

fn read_text(path: &Path, what: &str) -> Result<String> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    String::from_utf8(bytes).with_context(|| format!("{what} {} is not UTF-8", path.display()))
}

/// `--raw FILE|-`: recipients from `--to/--cc/--bcc`, else from the
/// message's To/Cc/Bcc; Bcc never left in the content.
async fn raw_jobs(args: &SendArgs, setup: &Setup) -> Result<Jobs> {
    let m = &args.message;
    let given: Vec<Address> =
        m.to.iter()
            .chain(&m.cc)
            .chain(&m.bcc)
            .map(Address::new)
            .collect::<Result<_, _>>()?;
    let options = RawOptions::default();
    let mut jobs = Vec::new();
    for path in &args.raw {
        let raw = if path.as_os_str() == "-" {
            setup::stdin_message(setup, &options).await
        } else {
            RawMessage::from_file(path, &options)
                .await
                .map_err(anyhow::Error::from)
        }
        .with_context(|| format!("cannot read message {}", path.display()))?;
        let rcpts = if given.is_empty() {
            raw.recipients().to_vec()
        } else {
            given.clone()
        };
        if rcpts.is_empty() {
            bail!(
                "{}: no recipients: give --to, or put To/Cc/Bcc in the message",
                path.display()
            );
        }
        let from = match sender(m, setup) {
            Some(f) => Address::new(&f)?,
            None => raw.from().cloned().with_context(|| {
                format!(
                    "{}: no sender: give --from, set message.from, or put From in the message",
                    path.display()
                )
            })?,
        };
        let envelope = Envelope::new(Some(from), rcpts)?;
        jobs.push(Ok(Job::new(path.display().to_string(), envelope, raw)));
    }
    Ok(Box::new(jobs.into_iter()))
}

/// `--to-file`: one message per address, read from the list as the
/// senders need them, so a list of a million costs no more memory than
/// one of ten. A bad line (an address that is not valid, CR/LF/NUL in
/// it) never reaches the server: it is reported as a failed message named
/// by its line number, and the others go.
fn list_jobs(list: &Path, template: Composer) -> Result<Jobs> {
    // Fails before connecting when the message itself is wrong.
    template
        .clone()
        .to("check@example.com")
        .build()
        .context("the message cannot be composed")?;
    let file =
        std::fs::File::open(list).with_context(|| format!("cannot read {}", list.display()))?;
    let name = list.display().to_string();
    let mut lines = std::io::BufReader::new(file)
        .lines()
        .enumerate()
        .filter_map(move |(n, line)| list_job(&name, n + 1, line, &template))
        .peekable();
    if lines.peek().is_none() {
        bail!("{}: no recipients", list.display());
    }
    Ok(Box::new(lines))
}

/// The address on a list line: blanks around it (and the CR of a CRLF
/// file) go, nothing else (a vertical tab is not a blank but an error);
/// `None` for empty and `#` comment lines.
fn list_entry(line: &str) -> Option<&str> {
    let rcpt = line.trim_matches([' ', '\t', '\r']);
    (!rcpt.is_empty() && !rcpt.starts_with('#')).then_some(rcpt)
}

fn list_job(
    list: &str,
    line_no: usize,
    line: std::io::Result<String>,
    template: &Composer,
) -> Option<Result<Job, InvalidJob>> {
    let invalid = |key: String, error| Some(Err(InvalidJob { key, error }));
    let line = match line {
        Ok(l) => l,
        Err(e) => return invalid(format!("{list}:{line_no}"), Error::Message(e)),
    };
    let rcpt = list_entry(&line)?;
    let key = rcpt.to_string();
    let address = match Address::new(rcpt) {
        Ok(a) => a,
        Err(e) => return invalid(format!("{list}:{line_no}: {key}"), e),
    };
    match template.clone().to(address).build() {
        Ok(composed) => {
            let envelope = composed.envelope().clone();
            Some(Ok(Job::new(key, envelope, composed)))
        }
        Err(e) => {
            tracing::debug!(error = %e, "composing for {rcpt}");
            invalid(
                format!("{list}:{line_no}: {key}"),
                Error::InvalidInput {
                    what: "recipient",
                    value: key,
                    reason: "the message cannot be composed for it",
                },
            )
        }
    }
}
