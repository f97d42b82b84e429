//! Exit codes, error printing and logging set-up.

use std::process::ExitCode;

/// The message was sent (or every message was).
pub const OK: u8 = 0;
/// A permanent failure: retrying will not help.
pub const PERMANENT: u8 = 1;
/// Usage or configuration error.
pub const USAGE: u8 = 2;
/// A transient failure (sysexits EX_TEMPFAIL): retry later.
pub const TEMPFAIL: u8 = 75;

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
    } else if smtp_config::is_transient(e) || e.is_unknown_outcome() {
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
        if let Some(h) = e.hint() {
            eprintln!("hint: {h}");
        }
        return ExitCode::from(code_for(e));
    }
    if let Some(e) = err.downcast_ref::<smtp_config::Error>() {
        eprintln!("error: {e}");
        return ExitCode::from(USAGE);
    }
    eprintln!("error: {err:#}");
    ExitCode::from(USAGE)
}

/// `-v` levels; `RUST_LOG` wins when set. Logs go to stderr.
pub fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let ansi = std::env::var_os("NO_COLOR").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}
