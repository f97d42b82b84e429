//! Helpers shared by smtp-message's integration tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

use smtp_core::MessageSource;

/// Deterministic pseudo-random bytes (xorshift), so reordering or
/// corruption shows.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut x = seed | 1;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Writes `len` bytes of [`noise`] to `path` in 1 MiB chunks (never whole
/// in memory).
pub fn write_noise_file(path: &Path, len: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut written = 0;
    let mut seed = 7;
    while written < len {
        let n = (len - written).min(1 << 20);
        f.write_all(&noise(seed, n)).unwrap();
        written += n;
        seed += 1;
    }
    f.flush().unwrap();
}

/// Reads a source through in 64 KiB reads; returns (bytes read, FNV-1a hash).
pub async fn drain(mut source: MessageSource) -> (u64, u64) {
    let mut buf = vec![0u8; 64 * 1024];
    let (mut total, mut hash) = (0u64, 0xcbf29ce484222325u64);
    loop {
        let n = source.read(&mut buf).await.unwrap();
        if n == 0 {
            return (total, hash);
        }
        total += n as u64;
        for &b in &buf[..n] {
            hash = (hash ^ b as u64).wrapping_mul(0x100000001b3);
        }
    }
}

/// Peak resident memory of this process (VmHWM), in bytes.
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}
