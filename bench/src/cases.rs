//! The sending cases. Times are taken inside the process: setup
//! (connect+greeting+EHLO[+TLS]) apart from sending, so the script can
//! report round trips per message without the connection's cost.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use smtp_core::{Envelope, MessageSource, Security, SmtpTransport, Transport};
use smtp_transport_tls::{RustlsUpgrade, TlsVersion};

use crate::args::{Args, envelope, message_bytes, transport};

/// What a run achieved.
#[derive(Debug, Default)]
struct Tally {
    ok: usize,
    failed: usize,
    first_error: Option<String>,
    /// Message bytes the server accepted.
    bytes: u64,
}

impl Tally {
    fn add<T>(&mut self, result: Result<T, smtp_core::Error>, bytes: u64) {
        match result {
            Ok(_) => {
                self.ok += 1;
                self.bytes += bytes;
            }
            Err(e) => {
                self.failed += 1;
                self.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        self.ok += other.ok;
        self.failed += other.failed;
        self.bytes += other.bytes;
        self.first_error = self.first_error.take().or(other.first_error);
    }

    /// The counts as RESULT fields, or the first error when any failed.
    fn finish(self, fields: String) -> Result<String, String> {
        match self.first_error {
            Some(e) => Err(format!(
                "{} of {} message(s) failed; first: {e}",
                self.failed,
                self.ok + self.failed
            )),
            None => Ok(format!("ok={} failed=0 {fields}", self.ok)),
        }
    }
}

fn batch_of(envelope: &Envelope, body: &[u8], n: usize) -> Vec<(Envelope, MessageSource)> {
    (0..n)
        .map(|_| (envelope.clone(), MessageSource::from_bytes(body.to_vec())))
        .collect()
}

/// One connection: `send_batch` calls of `--batch` messages (0: one call),
/// the last one `send_batch_and_quit`.
pub async fn session(args: &Args) -> Result<String, String> {
    let transport = transport(args)?;
    let envelope = envelope(args)?;
    let body = message_bytes(args);
    let t0 = Instant::now();
    let mut session = transport.connect().await.map_err(|e| e.to_string())?;
    let setup = t0.elapsed();
    let step = if args.batch == 0 {
        args.messages
    } else {
        args.batch
    };
    let mut tally = Tally::default();
    let t1 = Instant::now();
    let mut left = args.messages;
    // The last batch closes the session: QUIT rides with its end of data.
    while left > step {
        left -= step;
        for r in session.send_batch(batch_of(&envelope, &body, step)).await {
            tally.add(r, body.len() as u64);
        }
    }
    for r in session
        .send_batch_and_quit(batch_of(&envelope, &body, left))
        .await
    {
        tally.add(r, body.len() as u64);
    }
    let send = t1.elapsed();
    tally.finish(format!(
        "setup_secs={:.6} send_secs={:.6} secs={:.6} msgs_per_s={:.1}",
        setup.as_secs_f64(),
        send.as_secs_f64(),
        t0.elapsed().as_secs_f64(),
        args.messages as f64 / t0.elapsed().as_secs_f64(),
    ))
}

/// `--sessions` tasks sharing one pooled transport and a work counter, as
/// `smtp-source -s S -m N` shares N messages over S sessions.
pub async fn pool(args: &Args) -> Result<String, String> {
    let transport = transport(args)?;
    let body: Arc<[u8]> = message_bytes(args).into();
    let envelope = envelope(args)?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.sessions {
        let (t, body, next, args) = (transport.clone(), body.clone(), next.clone(), args.clone());
        let envelope = envelope.clone();
        tasks.spawn(async move { worker(&t, &envelope, &body, &next, &args).await });
    }
    let mut total = Tally::default();
    while let Some(joined) = tasks.join_next().await {
        total.merge(joined.map_err(|e| format!("a worker panicked: {e}"))?);
    }
    let secs = started.elapsed().as_secs_f64();
    transport.close().await;
    let rate = total.ok as f64 / secs;
    total.finish(format!(
        "sessions={} batch={} secs={secs:.6} msgs_per_s={rate:.1}",
        args.sessions, args.batch
    ))
}

async fn worker(
    t: &SmtpTransport,
    envelope: &Envelope,
    body: &[u8],
    next: &AtomicUsize,
    args: &Args,
) -> Tally {
    let mut tally = Tally::default();
    let step = if args.mode == "pool" {
        args.batch.max(1)
    } else {
        1
    };
    loop {
        let start = next.fetch_add(step, Ordering::Relaxed);
        if start >= args.messages {
            return tally;
        }
        let n = step.min(args.messages - start);
        if args.mode == "pool" {
            for r in t.send_batch(batch_of(envelope, body, n)).await {
                tally.add(r, body.len() as u64);
            }
        } else {
            let r = t
                .send(envelope, MessageSource::from_bytes(body.to_vec()))
                .await;
            tally.add(r, body.len() as u64);
        }
    }
}

/// A new connection per message: connect, greeting, EHLO, one message,
/// QUIT riding with the end of data (`send_and_quit`). Reports the median
/// and mean time per message.
pub async fn new_connection_each(args: &Args) -> Result<String, String> {
    let transport = transport(args)?;
    let envelope = envelope(args)?;
    let body = message_bytes(args);
    let mut tally = Tally::default();
    let mut samples = Vec::with_capacity(args.messages);
    let mut resumed = 0;
    let started = Instant::now();
    for _ in 0..args.messages {
        let t = Instant::now();
        let session = match transport.connect().await {
            Ok(s) => s,
            Err(e) => {
                tally.add(Err::<(), _>(e), 0);
                continue;
            }
        };
        resumed += usize::from(session.tls_info().is_some_and(|i| i.resumed));
        let r = session
            .send_and_quit(&envelope, MessageSource::from_bytes(body.clone()))
            .await;
        tally.add(r, body.len() as u64);
        samples.push(t.elapsed());
    }
    let secs = started.elapsed().as_secs_f64();
    samples.sort();
    let median = samples.get(samples.len() / 2).copied().unwrap_or_default();
    tally.finish(format!(
        "secs={secs:.6} msg_median_secs={:.6} msg_mean_secs={:.6} msgs_per_s={:.1} \
         tls_resumed={resumed}",
        median.as_secs_f64(),
        secs / args.messages.max(1) as f64,
        args.messages as f64 / secs,
    ))
}

/// `--messages` connections with STARTTLS (TLS 1.3 only), each timed from
/// connect to the reply to the post-TLS EHLO; QUIT is not counted.
pub async fn starttls(args: &Args) -> Result<String, String> {
    let ca = args.ca_file.as_deref().ok_or("starttls needs --ca-file")?;
    let tls: RustlsUpgrade = RustlsUpgrade::builder()
        .webpki_roots(false)
        .add_ca_file(ca)
        .min_version(TlsVersion::Tls1_3)
        .resumption(args.resume)
        .build()
        .map_err(|e| e.to_string())?;
    let transport = SmtpTransport::builder(&args.host)
        .port(args.port)
        .security(Security::StartTlsRequired)
        .tls(Arc::new(tls))
        .tls_server_name(&args.tls_name)
        .ehlo_name("bench.example")
        .timeouts(smtp_core::Timeouts::uniform(Duration::from_secs(30)))
        .build()
        .map_err(|e| e.to_string())?;
    let mut samples = Vec::with_capacity(args.messages);
    let mut version = String::new();
    let mut resumed = 0;
    for _ in 0..args.messages.max(1) {
        let t = Instant::now();
        let session = transport.connect().await.map_err(|e| e.to_string())?;
        samples.push(t.elapsed());
        let info = session.tls_info().ok_or("STARTTLS did not happen")?;
        version = info.version.clone();
        resumed += usize::from(info.resumed);
        session.quit().await;
    }
    let in_order: Vec<String> = samples
        .iter()
        .map(|d| format!("{:.1}", d.as_secs_f64() * 1e3))
        .collect();
    samples.sort();
    Ok(format!(
        "ok={} failed=0 tls={version} resumed={resumed} setup_median_secs={:.6} \
         setup_min_secs={:.6} setup_ms={}",
        samples.len(),
        samples[samples.len() / 2].as_secs_f64(),
        samples[0].as_secs_f64(),
        in_order.join(","),
    ))
}

/// One message streamed from a file; MB/s of the send and peak RSS.
pub async fn file(args: &Args) -> Result<String, String> {
    let path = args.file.as_deref().ok_or("file mode needs --file PATH")?;
    let transport = transport(args)?;
    let before = vm_hwm_kib();
    let started = Instant::now();
    let message = MessageSource::from_file(path)
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    let scan = started.elapsed();
    let size = message.size().unwrap_or(0);
    let mut tally = Tally::default();
    let sent = Instant::now();
    tally.add(transport.send(&envelope(args)?, message).await, size);
    let send = sent.elapsed().as_secs_f64();
    transport.close().await;
    tally.finish(format!(
        "bytes={size} scan_secs={:.6} send_secs={send:.6} mb_per_s={:.2} \
         hwm_before_kib={before} hwm_kib={}",
        scan.as_secs_f64(),
        size as f64 / send / 1e6,
        vm_hwm_kib(),
    ))
}

/// Memory per idle connection: `--sessions` sessions opened (with the
/// transport's security and AUTH), each having sent one message, then
/// held open and idle, as the pool holds them. Resident memory before and
/// after, less a first session opened, used and closed before (so the
/// runtime, the TLS configuration and the allocator's first arenas are
/// not counted).
pub async fn idle(args: &Args) -> Result<String, String> {
    let transport = transport(args)?;
    let envelope = envelope(args)?;
    let body = message_bytes(args);
    let mut tally = Tally::default();
    let mut first = transport.connect().await.map_err(|e| e.to_string())?;
    let r = first
        .send(&envelope, MessageSource::from_bytes(body.clone()))
        .await;
    tally.add(r, body.len() as u64);
    first.quit().await;
    let before = status_kib("VmRSS:");
    let mut held = Vec::with_capacity(args.sessions);
    let mut resumed = 0;
    for _ in 0..args.sessions {
        let mut session = transport.connect().await.map_err(|e| e.to_string())?;
        resumed += usize::from(session.tls_info().is_some_and(|i| i.resumed));
        let r = session
            .send(&envelope, MessageSource::from_bytes(body.clone()))
            .await;
        tally.add(r, body.len() as u64);
        held.push(session);
    }
    // Let the servers' last bytes (TLS 1.3 tickets, replies) arrive.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = status_kib("VmRSS:");
    let per = (after.saturating_sub(before)) as f64 / args.sessions.max(1) as f64;
    for session in held {
        session.quit().await;
    }
    tally.finish(format!(
        "sessions={} tls={} tls_resumed={resumed} rss_before_kib={before} rss_after_kib={after} \
         rss_per_session_kib={per:.1}",
        args.sessions, args.starttls
    ))
}

/// Peak resident set size of this process so far (`VmHWM`), in KiB.
fn vm_hwm_kib() -> u64 {
    status_kib("VmHWM:")
}

/// A `kB` line of `/proc/self/status`, 0 if missing.
fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
