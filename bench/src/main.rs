//! The bench client of the smtp workspace, driven by `scripts/bench.sh`
//! (which starts the sinks and the delay relay, runs Postfix's
//! `smtp-source` and Python's `smtplib` in the same run, and prints the
//! table of ratios; method and figures: `docs/benchmarks.md`).
//!
//! Each run prints one `RESULT key=value ...` line on stdout; exits 1 if
//! any message failed, 2 on bad arguments.
//!
//! - `probe`: raw TCP: connect+greeting, EHLO, then `--messages` NOOPs one
//!   at a time; reports the median NOOP time (the measured round trip).
//! - `session`: one `Session`, `send_batch` of `--batch` messages at a time
//!   (0: all in one call), the last via `send_batch_and_quit`; setup and
//!   sending timed apart.
//! - `pool`: `--sessions` tasks, each `SmtpTransport::send_batch` of
//!   `--batch` messages over a pool of that many connections.
//! - `send`: the same tasks with sequential `Transport::send`.
//! - `newconn`: a new connection per message: connect, EHLO, one message
//!   with QUIT riding behind its end of data (`Session::send_and_quit`).
//! - `starttls`: `--messages` connections with STARTTLS (TLS 1.3 only,
//!   `--ca-file`), each timed from connect to the post-TLS EHLO reply.
//! - `idle`: `--sessions` sessions opened and used once, then held idle;
//!   resident memory per session.
//! - `file`: one message streamed from `--file`; MB/s and peak RSS.
//!
//! `--security starttls --ca-file PEM [--auth plain]` puts STARTTLS (and
//! AUTH PLAIN) under `pool`, `send`, `newconn`, `session` and `idle`;
//! `--resume no` turns TLS session resumption off; `--max-per-connection`
//! sets the pool's `max_messages_per_connection`.

mod args;
mod cases;
mod probe;

use args::{Args, USAGE, parse_args};

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("smtp-bench: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = if args.runtime == "current" {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    let runtime = runtime.expect("a tokio runtime");
    match runtime.block_on(run(&args)) {
        Ok(fields) => println!("RESULT mode={} port={} {fields}", args.mode, args.port),
        Err(e) => {
            eprintln!("smtp-bench {}: {e}", args.mode);
            std::process::exit(1);
        }
    }
}

/// Runs the mode; returns the `key=value` fields of the RESULT line.
async fn run(args: &Args) -> Result<String, String> {
    probe::check_listening(args)?;
    match args.mode.as_str() {
        "probe" => probe::probe(args).await,
        "session" => cases::session(args).await,
        "pool" | "send" => cases::pool(args).await,
        "newconn" => cases::new_connection_each(args).await,
        "starttls" => cases::starttls(args).await,
        "idle" => cases::idle(args).await,
        _ => cases::file(args).await,
    }
}
