//! Exit codes, error printing and logging set-up.

use std::process::ExitCode;

pub use crate::codes::{OK, PERMANENT, TEMPFAIL, USAGE};

/// An outcome a command reports with a specific exit code, after printing.
#[derive(Debug)]
pub struct Exit(pub u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}
impl std::error::Error for Exit {}

/// The exit code for a library error.
pub fn code_for(e: &smtp_core::Error) -> u8 {
    if matches!(
        e,
        smtp_core::Error::InvalidInput { .. } | smtp_core::Error::TlsNotConfigured
    ) {
        USAGE
    } else if !e.is_permanent() {
        TEMPFAIL
    } else {
        PERMANENT
    }
}

/// Prints an error with its hint and picks the exit code.
pub fn finish(outcome: anyhow::Result<()>) -> ExitCode {
    let err = match outcome {
        Ok(()) => return ExitCode::from(OK),
        Err(e) => e,
    };
    if let Some(Exit(code)) = err.downcast_ref::<Exit>() {
        return ExitCode::from(*code);
    }
    if let Some(e) = err.downcast_ref::<smtp_core::Error>() {
        eprintln!("error: {e}");
        print_hint(smtp_config::coded_hint(e));
        return ExitCode::from(code_for(e));
    }
    if let Some(e) = err.downcast_ref::<smtp_config::Error>() {
        eprintln!("error: {e}");
        print_hint(e.coded_hint());
        return ExitCode::from(USAGE);
    }
    if let Some(h) = err.downcast_ref::<CliError>().map(|e| e.hint) {
        eprintln!("error: {err:#}");
        print_hint(Some(h));
        return ExitCode::from(USAGE);
    }
    eprintln!("error: {err:#}");
    ExitCode::from(USAGE)
}

/// A failure the CLI detects itself, with one of its own hints.
#[derive(Debug)]
pub struct CliError {
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: smtp_core::Hint,
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for CliError {}

fn print_hint(h: Option<smtp_core::Hint>) {
    if let Some(h) = h {
        eprintln!("hint: {}", crate::wording::hint_line(&h));
    }
}

/// `-v` levels; `RUST_LOG` wins when set. Logs go to stderr.
pub fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // ureq (the OAuth2 token request) dumps raw HTTP at DEBUG/TRACE: the
    // refresh token, client secret and access token. Capped even when
    // RUST_LOG asks for more, since secrets must never reach the logs.
    for quiet in ["ureq=info", "ureq_proto=info"] {
        if let Ok(d) = quiet.parse() {
            filter = filter.add_directive(d);
        }
    }
    let ansi = std::env::var_os("NO_COLOR").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let plain = verbose == 0 && std::env::var_os("RUST_LOG").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    // At the default verbosity only warnings and errors show, and they
    // read like the rest of the output ("warning: ..."), not like a log.
    let _ = if plain {
        builder.event_format(Plain).try_init()
    } else {
        builder.try_init()
    };
}

/// `warning: message field=value`: a log event as one plain line.
struct Plain;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for Plain
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warning",
            _ => "note",
        };
        write!(writer, "{level}: ")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
