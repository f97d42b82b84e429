//! A discarding SMTP server with CHUNKING (see `smtp_testkit::chunk_sink`).
//!
//! ```text
//! smtp-chunk-sink [--listen 127.0.0.1:0]
//! ```
//!
//! Prints `listening <addr>` once ready, then `sessions=N msgs=M` after
//! every session (like `smtp-sink -c`), and runs until killed.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use smtp_testkit::chunk_sink::{ChunkSink, SessionEndHook, SinkCounters};

fn main() {
    if let Err(e) = run() {
        eprintln!("smtp-chunk-sink: {e}\nusage: smtp-chunk-sink [--listen ADDR]");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let mut listen: SocketAddr = "127.0.0.1:0".parse().expect("a valid address");
    let mut args = std::env::args().skip(1);
    while let Some(key) = args.next() {
        match (key.as_str(), args.next()) {
            ("--listen", Some(v)) => {
                listen = v.parse().map_err(|e| format!("--listen {v:?}: {e}"))?
            }
            _ => return Err(format!("unknown option or missing value: {key}")),
        }
    }
    // One thread, like smtp-sink's single event loop.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let report: SessionEndHook = Arc::new(|c: &SinkCounters| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "sessions={} msgs={}", c.sessions(), c.messages());
            let _ = out.flush();
        });
        let sink = ChunkSink::start(listen, Some(report))
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        println!("listening {}", sink.local_addr());
        std::future::pending::<()>().await;
        Ok(())
    })
}
