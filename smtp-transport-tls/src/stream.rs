//! Stream wrappers around the handshake.
//!
//! [`FirstBytes`] keeps a copy of the first bytes the server sends, so a
//! failed handshake can say "the server answered `220 ...` in plaintext".
//! It copies what passes through and never reads ahead, so the handshake
//! consumes no byte it would not have consumed anyway.
//!
//! [`Upgraded`] is what the session gets: a TLS stream whose errors after
//! the handshake (a TLS 1.3 server refusing our client certificate only
//! says so then) carry this crate's [`Error`](crate::Error).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use smtp_core::BoxStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::client::TlsStream;

use crate::diagnose::{Attempt, rustls_error};

/// Enough for an SMTP greeting's code and the start of its text.
const KEEP: usize = 80;

pub(crate) struct FirstBytes {
    inner: BoxStream,
    seen: Vec<u8>,
}

impl FirstBytes {
    pub(crate) fn new(inner: BoxStream) -> FirstBytes {
        FirstBytes {
            inner,
            seen: Vec::new(),
        }
    }

    pub(crate) fn seen(&self) -> &[u8] {
        &self.seen
    }
}

impl AsyncRead for FirstBytes {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if self.seen.len() < KEEP {
            let new = &buf.filled()[before..];
            let take = new.len().min(KEEP - self.seen.len());
            self.seen.extend_from_slice(&new[..take]);
        }
        result
    }
}

impl AsyncWrite for FirstBytes {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

pub(crate) struct Upgraded {
    pub(crate) tls: TlsStream<FirstBytes>,
    pub(crate) allowed: String,
}

impl Upgraded {
    fn explain(&self, err: io::Error) -> io::Error {
        match err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        {
            Some(tls) => {
                let attempt = Attempt {
                    allowed: &self.allowed,
                    first_bytes: b"",
                };
                io::Error::new(err.kind(), rustls_error(tls.clone(), &attempt))
            }
            None => err,
        }
    }
}

impl AsyncRead for Upgraded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.tls).poll_read(cx, buf) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.explain(e))),
            other => other,
        }
    }
}

impl AsyncWrite for Upgraded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.tls).poll_write(cx, buf) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.explain(e))),
            other => other,
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.tls).poll_write_vectored(cx, bufs) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.explain(e))),
            other => other,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.tls.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.tls).poll_flush(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.explain(e))),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn keeps_only_the_first_bytes_and_reads_no_further() {
        let (client, mut server) = tokio::io::duplex(1024);
        let mut recorder = FirstBytes::new(Box::new(client));
        let long = vec![b'x'; 200];
        server.write_all(b"220 hello\r\n").await.unwrap();
        let mut buf = [0u8; 5];
        recorder.read_exact(&mut buf).await.unwrap();
        assert_eq!(recorder.seen(), b"220 h");
        server.write_all(&long).await.unwrap();
        let mut rest = vec![0u8; 6 + 200];
        recorder.read_exact(&mut rest).await.unwrap();
        assert_eq!(recorder.seen().len(), KEEP);
        assert!(recorder.seen().starts_with(b"220 hello\r\nxxx"));
    }

    #[tokio::test]
    async fn writes_pass_through() {
        let (client, mut server) = tokio::io::duplex(1024);
        let mut recorder = FirstBytes::new(Box::new(client));
        recorder.write_all(b"EHLO x\r\n").await.unwrap();
        recorder.flush().await.unwrap();
        let mut buf = [0u8; 8];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"EHLO x\r\n");
        assert!(recorder.seen().is_empty());
    }
}
