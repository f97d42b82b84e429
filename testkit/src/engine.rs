//! Helpers for tests that drive the smtp-core engine (feature `engine`):
//! a plaintext transport to a rig port, envelopes, mail read back from
//! Postfix, and a connector that records what goes on the wire.

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

/// The port the peers env file gives for `key` (panics naming the key when
/// it is missing: the rig is not the one these tests expect).
pub fn port(key: &str) -> u16 {
    let value = crate::peers()
        .get(key)
        .unwrap_or_else(|| panic!("{key} missing from the peers env file"));
    value
        .parse()
        .unwrap_or_else(|_| panic!("{key}={value:?} in the peers env file is not a port"))
}

/// The path the peers env file gives for `key`.
pub fn peer_path(key: &str) -> PathBuf {
    PathBuf::from(
        crate::peers()
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing from the peers env file")),
    )
}

/// An envelope from literal addresses (panics on an invalid one: a typo in
/// the test, not a case under test).
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

/// Waits (20 s at most) for a message containing `needle` in the rig
/// Postfix's Maildir and returns it.
pub async fn postfix_mail(needle: &str) -> Vec<u8> {
    let dir = peer_path("PEERS_POSTFIX_MAILDIR");
    let needle = needle.to_string();
    let mut found = tokio::task::spawn_blocking(move || {
        crate::wait_for_mail(&dir, &needle, Duration::from_secs(20))
    })
    .await
    .expect("the Maildir poll panicked");
    found.remove(0)
}

/// A TCP connector that keeps a copy of every write and counts
/// connections: to check what goes out in one flight, or the exact bytes a
/// real proxy received. Clones share the record.
#[derive(Debug, Clone, Default)]
pub struct RecordingConnector {
    writes: Arc<Mutex<Vec<Vec<u8>>>>,
    connections: Arc<AtomicUsize>,
}

impl RecordingConnector {
    /// Every write, in order, one entry per `poll_write` that wrote bytes.
    pub fn writes(&self) -> Vec<Vec<u8>> {
        self.writes.lock().unwrap().clone()
    }

    /// Every byte written, concatenated.
    pub fn written(&self) -> Vec<u8> {
        self.writes().concat()
    }

    /// The first write containing `needle` (panics when none does).
    pub fn write_containing(&self, needle: &str) -> Vec<u8> {
        self.writes()
            .into_iter()
            .find(|w| String::from_utf8_lossy(w).contains(needle))
            .unwrap_or_else(|| panic!("no write contains {needle:?}"))
    }

    /// How many connections were opened.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Connector for RecordingConnector {
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
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &polled {
            self.writes.lock().unwrap().push(buf[..*n].to_vec());
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
