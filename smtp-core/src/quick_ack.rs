//! Immediate ACKs while a connection is being set up.
//!
//! After a TLS 1.3 handshake, servers built on OpenSSL (Postfix among them)
//! write their session tickets in separate small writes without
//! `TCP_NODELAY`. Nagle's algorithm then holds the second ticket, and the
//! server's next reply behind it, until we ACK the first; and Linux delays
//! that ACK by up to 40 ms, since we have nothing to send while we wait
//! for the reply. Measured against Postfix on loopback: 42-46 ms for a full
//! STARTTLS set-up instead of 1.5-2 ms, in most set-ups on a loaded
//! machine (docs/benchmarks.md). `TCP_QUICKACK` before each of the first
//! reads makes the kernel ACK at once. It is not sticky (the kernel drops
//! back to delayed ACKs by itself), and after the set-up it is left alone,
//! so a pipelined session pays no system call per message for it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Polls covered: greeting, EHLO, STARTTLS, the handshake's flights, the
/// tickets and the EHLO after TLS, each read taking one or two polls, with
/// room for AUTH; a pooled session pays nothing for it afterwards.
const SET_UP_READS: u8 = 32;

/// A TCP stream that asks for immediate ACKs during its first reads.
#[derive(Debug)]
pub(crate) struct QuickAckStream {
    inner: TcpStream,
    reads_left: u8,
}

impl QuickAckStream {
    pub(crate) fn new(inner: TcpStream) -> QuickAckStream {
        QuickAckStream {
            inner,
            reads_left: SET_UP_READS,
        }
    }

    fn quick_ack(&mut self) {
        if self.reads_left == 0 {
            return;
        }
        self.reads_left -= 1;
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            // Best effort: a failure only costs the delay this avoids.
            let _ = socket2::SockRef::from(&self.inner).set_tcp_quickack(true);
        }
    }
}

impl AsyncRead for QuickAckStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.quick_ack();
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for QuickAckStream {
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

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn asks_for_quick_acks_during_the_set_up_reads_only() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let mut stream = QuickAckStream::new(client);
        let mut byte = [0u8; 1];
        // Each read (one or two polls) asks again, until the set-up polls
        // are used up.
        for _ in 0..SET_UP_READS {
            if stream.reads_left == 0 {
                break;
            }
            server.write_all(b"x").await.unwrap();
            stream.read_exact(&mut byte).await.unwrap();
            let sock = socket2::SockRef::from(&stream.inner);
            assert!(sock.tcp_quickack().unwrap(), "asked for before the read");
            // Cleared here to see whether the next read asks again.
            sock.set_tcp_quickack(false).unwrap();
        }
        assert_eq!(stream.reads_left, 0);
        server.write_all(b"y").await.unwrap();
        stream.read_exact(&mut byte).await.unwrap();
        let sock = socket2::SockRef::from(&stream.inner);
        assert!(!sock.tcp_quickack().unwrap(), "left alone after the set-up");
    }
}
