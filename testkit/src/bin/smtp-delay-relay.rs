//! Adds a round trip between a client and a server on loopback; see
//! `smtp_testkit::relay` for what is delayed and how accurately.
//!
//! ```text
//! smtp-delay-relay --upstream HOST:PORT [--listen 127.0.0.1:0] [--rtt-ms 20] [--connect-rtts 0]
//! ```
//!
//! Prints `listening <addr>` on stdout once ready, then runs until killed.

use std::net::SocketAddr;
use std::time::Duration;

use smtp_testkit::relay::{DelayRelay, RelayConfig};

const USAGE: &str = "usage: smtp-delay-relay --upstream HOST:PORT [--listen ADDR] \
[--rtt-ms MS] [--connect-rtts N]";

fn main() {
    if let Err(e) = run() {
        eprintln!("smtp-delay-relay: {e}\n{USAGE}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let mut listen: SocketAddr = "127.0.0.1:0".parse().expect("a valid address");
    let mut upstream: Option<SocketAddr> = None;
    let mut rtt_ms = 20.0f64;
    let mut connect_rtts = 0.0f64;
    let mut args = std::env::args().skip(1);
    while let Some(key) = args.next() {
        let value = args.next().ok_or(format!("{key} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{key} {value:?}: {e}");
        match key.as_str() {
            "--listen" => listen = value.parse().map_err(|e| bad(&e))?,
            "--upstream" => upstream = Some(value.parse().map_err(|e| bad(&e))?),
            "--rtt-ms" => rtt_ms = value.parse().map_err(|e| bad(&e))?,
            "--connect-rtts" => connect_rtts = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown option {key}")),
        }
    }
    let upstream = upstream.ok_or("--upstream is required")?;
    if !(rtt_ms.is_finite() && rtt_ms >= 0.0) {
        return Err(format!("--rtt-ms {rtt_ms} is not a duration"));
    }
    let config = RelayConfig::new(upstream, Duration::from_secs_f64(rtt_ms / 1000.0))
        .connect_rtts(connect_rtts);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let relay = DelayRelay::start(listen, config)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        println!("listening {}", relay.local_addr());
        std::future::pending::<()>().await;
        Ok(())
    })
}
