//! Throughput bench of the session engine against a discarding server
//! (Postfix's `smtp-sink`). Driven by `scripts/bench.sh`, which runs
//! Postfix's own load generator `smtp-source` in the same run and prints
//! ratios; see `docs/performance.md`. Prints one `RESULT key=value ...`
//! line on stdout; exits 1 if any message failed, 2 on bad arguments.
//!
//! ```text
//! throughput <batch|send|file> [--host H] [--port P] [--messages N] [--size BYTES]
//!            [--sessions S] [--batch B] [--file PATH] [--runtime multi|current]
//! ```
//!
//! - `batch`: S tasks, each `SmtpTransport::send_batch` of B messages at a
//!   time over a pool of S connections (one session reused per task).
//! - `send`: S tasks, each sequential `Transport::send` over the same pool.
//! - `file`: one message streamed from PATH; reports MB/s and peak RSS.

use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use smtp_core::{
    Address, Envelope, MessageSource, PoolConfig, Security, SmtpTransport, Timeouts, Transport,
};

const USAGE: &str = "usage: throughput <batch|send|file> [--host H] [--port P] [--messages N] \
[--size BYTES] [--sessions S] [--batch B] [--file PATH] [--runtime multi|current]";

#[derive(Debug, Clone)]
struct Args {
    mode: String,
    host: String,
    port: u16,
    messages: usize,
    size: usize,
    sessions: usize,
    batch: usize,
    file: Option<String>,
    runtime: String,
}

fn parse_args() -> Result<Args, String> {
    let mut argv = std::env::args().skip(1);
    let mode = argv.next().ok_or("missing mode")?;
    if !["batch", "send", "file"].contains(&mode.as_str()) {
        return Err(format!("unknown mode {mode:?}"));
    }
    let mut a = Args {
        mode,
        host: "127.0.0.1".into(),
        port: 2526,
        messages: 10_000,
        size: 1024,
        sessions: 1,
        batch: 100,
        file: None,
        runtime: "multi".into(),
    };
    while let Some(key) = argv.next() {
        let value = argv.next().ok_or(format!("{key} needs a value"))?;
        let num = |v: &str| v.parse::<usize>().map_err(|e| format!("{key} {v:?}: {e}"));
        match key.as_str() {
            "--host" => a.host = value,
            "--port" => a.port = value.parse().map_err(|e| format!("--port: {e}"))?,
            "--messages" => a.messages = num(&value)?,
            "--size" => a.size = num(&value)?,
            "--sessions" => a.sessions = num(&value)?.max(1),
            "--batch" => a.batch = num(&value)?.max(1),
            "--file" => a.file = Some(value),
            "--runtime" if value == "multi" || value == "current" => a.runtime = value,
            _ => return Err(format!("unknown option {key} {value}")),
        }
    }
    Ok(a)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("throughput: {e}\n{USAGE}");
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
    let outcome = runtime.block_on(run(args));
    if let Err(e) = outcome {
        eprintln!("throughput: {e}");
        std::process::exit(1);
    }
}

fn transport(args: &Args) -> Result<SmtpTransport, String> {
    SmtpTransport::builder(&args.host)
        .port(args.port)
        // smtp-sink offers no TLS; this measures the engine, not rustls.
        .security(Security::None)
        .ehlo_name("bench.example")
        .timeouts(Timeouts::uniform(Duration::from_secs(30)))
        .pool(PoolConfig {
            max_connections: args.sessions,
            idle_timeout: Duration::from_secs(600),
            // One connection for the whole run, as `smtp-source -d` does.
            max_messages_per_connection: usize::MAX,
        })
        .build()
        .map_err(|e| e.to_string())
}

/// Fails with a message that says how to start the rig when nothing listens.
fn check_listening(args: &Args) -> Result<(), String> {
    let target = format!("{}:{}", args.host, args.port);
    let addr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or(format!("cannot resolve {target}"))?;
    std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map(drop)
        .map_err(|e| {
            format!(
                "nothing answers on {target} ({e}): start the test peers with \
                 `sudo scripts/peers/start.sh` (smtp-sink listens on 2526 and 2527)"
            )
        })
}

fn envelope() -> Envelope {
    let from = Address::new("s@example.net").expect("valid sender");
    let to = Address::new("r@example.org").expect("valid recipient");
    Envelope::new(Some(from), vec![to]).expect("valid envelope")
}

/// Headers like smtp-source's, then `size` bytes of payload in 78-byte
/// lines (the payload length excludes headers, as with `smtp-source -l`).
fn message_bytes(size: usize) -> Vec<u8> {
    let mut m = b"From: <s@example.net>\r\nTo: <r@example.org>\r\n\
Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-Id: <bench@example.net>\r\n\
Subject: throughput bench\r\n\r\n"
        .to_vec();
    let line = [b'x'; 76];
    let mut left = size;
    while left >= 2 {
        let n = left.min(78);
        m.extend_from_slice(&line[..n - 2]);
        m.extend_from_slice(b"\r\n");
        left -= n;
    }
    // An odd byte out: the engine ends the body with CRLF itself.
    m.extend(std::iter::repeat_n(b'x', left));
    m
}

async fn run(args: Args) -> Result<(), String> {
    check_listening(&args)?;
    let before = vm_hwm_kib();
    let started = Instant::now();
    let result = if args.mode == "file" {
        run_file(&args).await?
    } else {
        run_many(&args).await?
    };
    let secs = started.elapsed().as_secs_f64();
    // The file scan (size, 8-bit) is not sending: `send_secs` leaves it out.
    let send_secs = secs - result.prep.as_secs_f64();
    println!(
        "RESULT mode={} port={} runtime={} sessions={} batch={} messages={} ok={} \
         failed={} secs={secs:.4} send_secs={send_secs:.4} msgs_per_s={:.1} \
         mb_per_s={:.2} hwm_before_kib={before} hwm_kib={}",
        args.mode,
        args.port,
        args.runtime,
        args.sessions,
        args.batch,
        result.ok + result.failed,
        result.ok,
        result.failed,
        result.ok as f64 / secs,
        result.bytes as f64 / send_secs / 1e6,
        vm_hwm_kib(),
    );
    match result.first_error {
        Some(e) => Err(format!("{} message(s) failed; first: {e}", result.failed)),
        None => Ok(()),
    }
}

/// What a run achieved.
#[derive(Debug, Default)]
struct Tally {
    ok: usize,
    failed: usize,
    first_error: Option<String>,
    /// Message bytes the server accepted.
    bytes: u64,
    /// Time spent before sending (scanning the file), inside the total.
    prep: Duration,
}

impl Tally {
    fn add(&mut self, result: Result<u64, smtp_core::Error>) {
        match result {
            Ok(bytes) => {
                self.ok += 1;
                self.bytes += bytes;
            }
            Err(e) => {
                self.failed += 1;
                self.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

async fn run_many(args: &Args) -> Result<Tally, String> {
    let transport = transport(args)?;
    let body: Arc<[u8]> = message_bytes(args.size).into();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.sessions {
        let (t, body, next, args) = (transport.clone(), body.clone(), next.clone(), args.clone());
        tasks.spawn(async move { worker(&t, &body, &next, &args).await });
    }
    let mut total = Tally::default();
    while let Some(joined) = tasks.join_next().await {
        let t = joined.map_err(|e| format!("a worker panicked: {e}"))?;
        total.ok += t.ok;
        total.failed += t.failed;
        total.first_error = total.first_error.or(t.first_error);
        total.bytes += t.bytes;
    }
    transport.close().await;
    Ok(total)
}

/// Takes work from the shared counter until `messages` have been claimed,
/// so S sessions share N messages as `smtp-source -s S -m N` does.
async fn worker(t: &SmtpTransport, body: &[u8], next: &AtomicUsize, args: &Args) -> Tally {
    let envelope = envelope();
    let mut tally = Tally::default();
    let step = if args.mode == "batch" { args.batch } else { 1 };
    loop {
        let start = next.fetch_add(step, Ordering::Relaxed);
        if start >= args.messages {
            return tally;
        }
        let n = step.min(args.messages - start);
        let results = if args.mode == "batch" {
            let items = (0..n)
                .map(|_| (envelope.clone(), MessageSource::from_bytes(body.to_vec())))
                .collect();
            t.send_batch(items).await
        } else {
            vec![
                t.send(&envelope, MessageSource::from_bytes(body.to_vec()))
                    .await,
            ]
        };
        for r in results {
            tally.add(r.map(|_| body.len() as u64));
        }
    }
}

async fn run_file(args: &Args) -> Result<Tally, String> {
    let path = args.file.as_deref().ok_or("file mode needs --file PATH")?;
    let transport = transport(args)?;
    let scan = Instant::now();
    let message = MessageSource::from_file(path)
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    let mut tally = Tally {
        prep: scan.elapsed(),
        ..Tally::default()
    };
    let size = message.size().unwrap_or(0);
    tally.add(transport.send(&envelope(), message).await.map(|_| size));
    transport.close().await;
    Ok(tally)
}

/// Peak resident set size of this process so far (`VmHWM`), in KiB.
fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
