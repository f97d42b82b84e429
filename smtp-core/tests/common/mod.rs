//! Shared helpers for smtp-core's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use smtp_core::{
    Address, BoxError, BoxStream, Connector, Envelope, MemoryTranscript, Security, SmtpTransport,
    SmtpTransportBuilder, Target, TcpConnector, Timeouts,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub fn port(key: &str) -> u16 {
    smtp_testkit::peers()
        .get(key)
        .unwrap_or_else(|| panic!("{key} missing from the peers env file"))
        .parse()
        .unwrap()
}

pub fn peer_path(key: &str) -> PathBuf {
    PathBuf::from(
        smtp_testkit::peers()
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing")),
    )
}

pub fn unique(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{tag}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn envelope(from: &str, to: &[&str]) -> Envelope {
    Envelope::new(
        Some(Address::new(from).unwrap()),
        to.iter().map(|t| Address::new(t).unwrap()).collect(),
    )
    .unwrap()
}

/// A plaintext transport to a loopback peer port, with a transcript.
pub fn plain(port: u16) -> (SmtpTransportBuilder, Arc<MemoryTranscript>) {
    let transcript = Arc::new(MemoryTranscript::new());
    let builder = SmtpTransport::builder("127.0.0.1")
        .port(port)
        .security(Security::None)
        .ehlo_name("client.example.test")
        .timeouts(Timeouts::uniform(Duration::from_secs(20)))
        .transcript(transcript.clone());
    (builder, transcript)
}

/// Waits for a message containing `needle` in the Postfix Maildir.
pub async fn postfix_mail(needle: &str) -> Vec<u8> {
    let dir = peer_path("PEERS_POSTFIX_MAILDIR");
    let needle = needle.to_string();
    let mut found = tokio::task::spawn_blocking(move || {
        smtp_testkit::wait_for_mail(&dir, &needle, Duration::from_secs(20))
    })
    .await
    .unwrap();
    found.remove(0)
}

/// A connector that records every write and counts connections, to check
/// what goes out in one flight.
#[derive(Debug, Default)]
pub struct Recorder {
    pub writes: Arc<Mutex<Vec<Vec<u8>>>>,
    pub connections: AtomicUsize,
}

impl Recorder {
    pub fn writes(&self) -> Vec<Vec<u8>> {
        self.writes.lock().unwrap().clone()
    }
    pub fn write_containing(&self, needle: &str) -> Vec<u8> {
        self.writes()
            .into_iter()
            .find(|w| String::from_utf8_lossy(w).contains(needle))
            .unwrap_or_else(|| panic!("no write contains {needle:?}"))
    }
}

#[async_trait]
impl Connector for Recorder {
    async fn connect(&self, target: &Target) -> Result<BoxStream, BoxError> {
        self.connections.fetch_add(1, Ordering::SeqCst);
        let inner = TcpConnector::new().connect(target).await?;
        Ok(Box::new(RecordingStream {
            inner,
            writes: self.writes.clone(),
        }))
    }
}

struct RecordingStream {
    inner: BoxStream,
    writes: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl AsyncRead for RecordingStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for RecordingStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.writes.lock().unwrap().push(buf[..*n].to_vec());
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
