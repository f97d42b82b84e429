//! A TCP relay that adds a fixed latency: every byte is held for half the
//! round trip in each direction, so a client talking to a loopback server
//! through it sees a WAN-like round trip (netem needs privileges and a
//! kernel module; this needs neither).
//!
//! What counts as a round trip: a request written by the client reaches
//! the server `rtt / 2` later, and the reply the server writes at once
//! reaches the client another `rtt / 2` later. Byte order is preserved in
//! each direction (one FIFO per direction; bytes read together are written
//! together). With [`RelayConfig::connect_rtts`] the relay also charges the
//! TCP handshake: it connects upstream only after that many round trips,
//! so the server's greeting arrives `connect_rtts + 0.5` round trips after
//! the client's `connect` (1.5 models SYN, SYN-ACK, ACK: the greeting then
//! arrives 2 round trips after the client started, as over a real link).
//!
//! Accuracy: the delay of each direction is kept by a dedicated OS thread
//! that sleeps with the kernel's high-resolution timer (tokio's timer has
//! a 1 ms granularity and rounds up), so each chunk is delivered within
//! ~0.1 ms of its due time on an idle machine.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How a [`DelayRelay`] delays traffic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelayConfig {
    /// Where each accepted connection is forwarded.
    pub upstream: SocketAddr,
    /// The round trip to add: each direction is delayed by half of it.
    pub rtt: Duration,
    /// Round trips to wait after accepting before connecting upstream
    /// (0: connect at once; 1.5: charge a TCP handshake, see the module
    /// docs).
    pub connect_rtts: f64,
}

impl RelayConfig {
    /// A relay to `upstream` adding `rtt`, connecting upstream at once.
    pub fn new(upstream: SocketAddr, rtt: Duration) -> RelayConfig {
        RelayConfig {
            upstream,
            rtt,
            connect_rtts: 0.0,
        }
    }

    /// Charges `rtts` round trips for opening a connection.
    pub fn connect_rtts(mut self, rtts: f64) -> RelayConfig {
        self.connect_rtts = rtts.max(0.0);
        self
    }
}

/// A running delay relay; stops accepting when dropped (connections
/// already relayed run to their end).
#[derive(Debug)]
pub struct DelayRelay {
    local: SocketAddr,
    connections: Arc<AtomicU64>,
    accept: JoinHandle<()>,
}

impl DelayRelay {
    /// Listens on `listen` (port 0: any free port) and relays every
    /// connection to `config.upstream`. Needs a tokio runtime.
    pub async fn start(listen: SocketAddr, config: RelayConfig) -> io::Result<DelayRelay> {
        let listener = TcpListener::bind(listen).await?;
        let local = listener.local_addr()?;
        let connections = Arc::new(AtomicU64::new(0));
        let counter = connections.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                counter.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    if let Err(e) = relay_one(client, config).await {
                        tracing::debug!(error = %e, "relay connection ended");
                    }
                });
            }
        });
        Ok(DelayRelay {
            local,
            connections,
            accept,
        })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

impl Drop for DelayRelay {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn relay_one(client: TcpStream, config: RelayConfig) -> io::Result<()> {
    client.set_nodelay(true)?;
    let accepted = Instant::now();
    let charge = config.rtt.mul_f64(config.connect_rtts);
    if !charge.is_zero() {
        let due = accepted + charge;
        tokio::task::spawn_blocking(move || sleep_until(due))
            .await
            .map_err(io::Error::other)?;
    }
    let server = TcpStream::connect(config.upstream).await?;
    server.set_nodelay(true)?;
    let one_way = config.rtt / 2;
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = tokio::spawn(pump(client_read, server_write, one_way));
    let down = tokio::spawn(pump(server_read, client_write, one_way));
    let (up, down) = (up.await, down.await);
    up.map_err(io::Error::other)??;
    down.map_err(io::Error::other)?
}

/// Copies one direction: a task reads and stamps each chunk with its due
/// time; a thread writes it when due. EOF is passed on (as a shutdown of
/// the write side) after the data before it.
async fn pump(mut from: OwnedReadHalf, to: OwnedWriteHalf, one_way: Duration) -> io::Result<()> {
    let (tx, rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let handle = Handle::current();
    let writer = std::thread::Builder::new()
        .name("delay-relay-writer".into())
        .spawn(move || deliver(rx, to, handle))?;
    let mut buf = vec![0u8; 64 * 1024];
    let read_result = loop {
        match from.read(&mut buf).await {
            Ok(0) => break Ok(()),
            Ok(n) => {
                quick_ack(&from);
                let due = Instant::now() + one_way;
                if tx.send((due, buf[..n].to_vec())).is_err() {
                    break Ok(()); // the writer stopped: the peer is gone
                }
            }
            Err(e) => break Err(e),
        }
    };
    drop(tx);
    let written = tokio::task::spawn_blocking(move || writer.join())
        .await
        .map_err(io::Error::other)?
        .map_err(|_| io::Error::other("relay writer panicked"))?;
    read_result.and(written)
}

/// Acknowledges at once what was read. The relay holds data for half a
/// round trip, so it has nothing to send back for a while, and the kernel
/// would delay its ACK by up to 40 ms: a sender that waits for that ACK
/// before its next small write (Nagle: Postfix's TLS records) would stall
/// 40 ms, an artefact of the relay rather than of the path it models.
fn quick_ack(socket: &OwnedReadHalf) {
    // Best effort: a failure only brings the delayed ACK back.
    let _ = socket2::SockRef::from(socket.as_ref()).set_tcp_quickack(true);
}

/// The writer thread of one direction.
fn deliver(
    mut rx: mpsc::UnboundedReceiver<(Instant, Vec<u8>)>,
    mut to: OwnedWriteHalf,
    handle: Handle,
) -> io::Result<()> {
    while let Some((due, data)) = rx.blocking_recv() {
        sleep_until(due);
        handle.block_on(to.write_all(&data))?;
    }
    // Best effort: the peer may already have closed.
    let _ = handle.block_on(to.shutdown());
    Ok(())
}

/// Sleeps the current thread until `due` (high-resolution kernel timer).
fn sleep_until(due: Instant) {
    let now = Instant::now();
    if due > now {
        std::thread::sleep(due - now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server on loopback: the round trip through the relay is the
    /// relay's delay plus microseconds.
    async fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn round_trip_is_the_configured_delay_and_order_is_kept() {
        let upstream = echo_server().await;
        // Long enough that a busy machine's scheduling delays stay well
        // under the slack allowed below.
        let rtt = Duration::from_millis(60);
        let relay = DelayRelay::start(
            "127.0.0.1:0".parse().unwrap(),
            RelayConfig::new(upstream, rtt),
        )
        .await
        .unwrap();
        let mut c = TcpStream::connect(relay.local_addr()).await.unwrap();
        c.set_nodelay(true).unwrap();
        let mut samples = Vec::new();
        for i in 0u8..10 {
            let msg = [i; 100];
            let t0 = Instant::now();
            c.write_all(&msg).await.unwrap();
            let mut got = [0u8; 100];
            c.read_exact(&mut got).await.unwrap();
            samples.push(t0.elapsed());
            assert_eq!(got, msg, "bytes come back in order, unchanged");
        }
        samples.sort();
        let median = samples[samples.len() / 2];
        // The upper bound is loose (half a round trip): CI machines are
        // busy. The bench itself reports the round trip it measured.
        assert!(
            median >= rtt && median < rtt + rtt / 2,
            "median round trip {median:?} should be {rtt:?} (at most half of it more)"
        );
        assert_eq!(relay.connections(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connect_charge_delays_the_first_reply() {
        // A server that greets at once, as an SMTP server does.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let _ = s.write_all(b"220 hi\r\n").await;
            }
        });
        let rtt = Duration::from_millis(60);
        let relay = DelayRelay::start(
            "127.0.0.1:0".parse().unwrap(),
            RelayConfig::new(upstream, rtt).connect_rtts(1.5),
        )
        .await
        .unwrap();
        let t0 = Instant::now();
        let mut c = TcpStream::connect(relay.local_addr()).await.unwrap();
        let mut got = [0u8; 8];
        c.read_exact(&mut got).await.unwrap();
        let took = t0.elapsed();
        assert_eq!(&got, b"220 hi\r\n");
        assert!(
            // Half a round trip of slack tells 2 round trips from 3 on a
            // busy machine.
            took >= rtt * 2 && took < rtt * 2 + rtt / 2,
            "greeting after {took:?}, expected 2 round trips ({:?})",
            rtt * 2
        );
    }
}
