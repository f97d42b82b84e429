//! `smtp`: send mail, test a server, inspect configuration.
#![forbid(unsafe_code)]

/// `println!` that ends the process quietly when stdout is closed
/// (`smtp presets | head`), as a default SIGPIPE would.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

mod cli;
mod cmd;
mod codes;
mod exit;
mod record;
mod setup;
mod wording;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    exit::init_logging(cli.global.verbose);
    // One connection's work needs one thread: a current-thread runtime
    // spares the hand-offs between workers, about a third of the CPU per
    // message (docs/benchmarks.md). Sends over several connections get a
    // worker per core.
    let parallel = matches!(&cli.command, cli::Command::Send(a) if a.concurrency > 1);
    let runtime = if parallel {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let outcome = match runtime {
        Ok(rt) => rt.block_on(cmd::run(cli)),
        Err(e) => Err(anyhow::Error::from(e)),
    };
    exit::finish(outcome)
}
