//! The round-trip probe: what one request/reply costs on this path, with
//! no client engine in the way.

use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::args::Args;

/// Fails with how to start the rig when nothing listens.
pub fn check_listening(args: &Args) -> Result<(), String> {
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
                "nothing answers on {target} ({e}): scripts/bench.sh starts the sinks and \
                 relays; Postfix ports need `sudo scripts/peers/start.sh`"
            )
        })
}

/// Connect+greeting, EHLO, then `messages` NOOPs, one at a time.
pub async fn probe(args: &Args) -> Result<String, String> {
    let io = |e: std::io::Error| e.to_string();
    let t0 = Instant::now();
    let mut s = TcpStream::connect((args.host.as_str(), args.port))
        .await
        .map_err(io)?;
    s.set_nodelay(true).map_err(io)?;
    let mut buf = Vec::new();
    read_reply(&mut s, &mut buf).await?;
    let greeting = t0.elapsed();
    let t1 = Instant::now();
    s.write_all(b"EHLO bench.example\r\n").await.map_err(io)?;
    read_reply(&mut s, &mut buf).await?;
    let ehlo = t1.elapsed();
    let mut samples = Vec::with_capacity(args.messages);
    for _ in 0..args.messages.max(1) {
        let t = Instant::now();
        s.write_all(b"NOOP\r\n").await.map_err(io)?;
        let reply = read_reply(&mut s, &mut buf).await?;
        if !reply.starts_with("250") {
            return Err(format!("NOOP got {reply:?}"));
        }
        samples.push(t.elapsed());
    }
    s.write_all(b"QUIT\r\n").await.map_err(io)?;
    // The median is the round trip figures are divided by (robust to the
    // late wake-ups of a busy machine); the mean shows how busy it was.
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    Ok(format!(
        "rtt_ms={:.3} rtt_mean_ms={:.3} rtt_min_ms={:.3} rtt_max_ms={:.3} \
         connect_greeting_ms={:.3} ehlo_ms={:.3}",
        ms(samples[samples.len() / 2]),
        ms(mean),
        ms(samples[0]),
        ms(samples[samples.len() - 1]),
        ms(greeting),
        ms(ehlo),
    ))
}

/// Reads one whole (possibly multi-line) reply; returns its last line.
async fn read_reply(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<String, String> {
    loop {
        if let Some(end) = final_line_end(buf) {
            let reply: Vec<u8> = buf.drain(..end).collect();
            let text = String::from_utf8_lossy(&reply);
            let last = text.trim_end().rsplit("\r\n").next().unwrap_or("");
            return Ok(last.to_string());
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The end of the first complete reply in `buf` (after its last line).
fn final_line_end(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') {
        let line = &buf[start..start + nl + 1];
        start += nl + 1;
        if line.len() < 4 || line[3] != b'-' {
            return Some(start);
        }
    }
    None
}
