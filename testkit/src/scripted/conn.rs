//! One accepted connection of a [`super::ScriptedServer`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Shared;

const CHUNK: usize = 4096;

/// A stream a handler switched to with [`ScriptConn::upgrade`] (TLS, say).
pub trait Duplex: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Duplex for T {}

enum Io {
    /// Read with `peek` first, so nothing past the current line is consumed
    /// and [`ScriptConn::into_stream`] hands over every unread byte (a TLS
    /// ClientHello that came right behind `STARTTLS`, for one).
    Tcp(TcpStream),
    /// After an upgrade there is no `peek`: read-ahead goes to `pending`.
    Upgraded(Box<dyn Duplex>),
    /// A TLS handshake failed: reads see EOF, writes fail.
    Closed,
}

/// The server side of one connection: write exact bytes, read lines.
///
/// Reads never panic on EOF unless the method says so; writes to a client
/// that went away are logged and otherwise ignored (a hostile-server test
/// usually expects the client to give up early).
pub struct ScriptConn {
    io: Io,
    pending: Vec<u8>,
    index: usize,
    peer: Option<SocketAddr>,
    received: Vec<String>,
    shared: Arc<Shared>,
}

impl ScriptConn {
    pub(super) fn new(stream: TcpStream, index: usize, shared: Arc<Shared>) -> ScriptConn {
        let peer = stream.peer_addr().ok();
        ScriptConn {
            io: Io::Tcp(stream),
            pending: Vec::new(),
            index,
            peer,
            received: Vec::new(),
            shared,
        }
    }

    /// 0 for the server's first connection, 1 for the second, ...
    pub fn index(&self) -> usize {
        self.index
    }

    /// The client's address.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// Writes exactly `text` (include the `\r\n` yourself).
    pub async fn send(&mut self, text: &str) {
        self.send_bytes(text.as_bytes()).await;
    }

    /// Writes exactly `bytes`.
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        let res = match &mut self.io {
            Io::Tcp(s) => write_flush(s, bytes).await,
            Io::Upgraded(s) => write_flush(s, bytes).await,
            Io::Closed => Err(std::io::ErrorKind::NotConnected.into()),
        };
        if let Err(e) = res {
            tracing::debug!(index = self.index, error = %e, "scripted server: write failed");
        }
    }

    /// Reads one line and returns it without its line ending (`\r\n` or a
    /// bare `\n`). At EOF returns the unterminated rest, or `None` if there
    /// is none.
    pub async fn read_line(&mut self) -> Option<String> {
        let raw = self.read_raw_line().await?;
        let text = String::from_utf8_lossy(strip_eol(&raw)).into_owned();
        self.note(text.clone());
        Some(text)
    }

    /// Reads a line and checks that it starts with `prefix` (ASCII case
    /// ignored); returns the line.
    ///
    /// # Panics
    ///
    /// On EOF or another line.
    pub async fn expect(&mut self, prefix: &str) -> String {
        match self.read_line().await {
            Some(line)
                if line.len() >= prefix.len()
                    && line.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes()) =>
            {
                line
            }
            Some(line) => panic!("scripted server: expected {prefix:?}, client sent {line:?}"),
            None => panic!("scripted server: expected {prefix:?}, client closed the connection"),
        }
    }

    /// Reads a DATA body up to the `.` line that ends it and returns the raw
    /// bytes before that line (still dot-stuffed, ending with the body's last
    /// CRLF; empty for an empty body). Only `.\r\n` ends the body.
    ///
    /// # Panics
    ///
    /// If the client closes before the end of the body.
    pub async fn read_until_dot(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let Some(raw) = self.read_raw_line().await else {
                panic!(
                    "scripted server: client closed after {} bytes of DATA",
                    body.len()
                );
            };
            let text = String::from_utf8_lossy(strip_eol(&raw)).into_owned();
            self.note(text);
            if raw == b".\r\n" {
                return body;
            }
            if !raw.ends_with(b"\n") {
                panic!(
                    "scripted server: client closed after {} bytes of DATA",
                    body.len() + raw.len()
                );
            }
            body.extend_from_slice(&raw);
        }
    }

    /// Reads exactly `n` bytes (a `BDAT` chunk, say); logs them as one entry.
    ///
    /// # Panics
    ///
    /// If the client closes first.
    pub async fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let take = self.pending.len().min(n);
        let mut out: Vec<u8> = self.pending.drain(..take).collect();
        let mut rest = vec![0; n - take];
        let res = match &mut self.io {
            Io::Tcp(s) => s.read_exact(&mut rest).await,
            Io::Upgraded(s) => s.read_exact(&mut rest).await,
            Io::Closed => Err(std::io::ErrorKind::NotConnected.into()),
        };
        if let Err(e) = res {
            panic!("scripted server: wanted {n} bytes, the client closed first: {e}");
        }
        out.extend_from_slice(&rest);
        self.note(String::from_utf8_lossy(&out).into_owned());
        out
    }

    /// Reads and drops up to `n` bytes (less if the client closes first);
    /// logs one `<n bytes>` entry, not the bytes.
    pub async fn discard(&mut self, n: usize) {
        let mut left = n;
        let take = self.pending.len().min(left);
        self.pending.drain(..take);
        left -= take;
        let mut buf = vec![0u8; CHUNK.min(left.max(1))];
        while left > 0 {
            let want = buf.len().min(left);
            let read = match &mut self.io {
                Io::Tcp(s) => s.read(&mut buf[..want]).await,
                Io::Upgraded(s) => s.read(&mut buf[..want]).await,
                Io::Closed => Ok(0),
            };
            match read {
                Ok(0) | Err(_) => break,
                Ok(k) => left -= k,
            }
        }
        self.note(format!("<{} bytes>", n - left));
    }

    /// Lines and chunks this connection read so far.
    pub fn received(&self) -> &[String] {
        &self.received
    }

    /// The TCP stream, with every byte not read yet still in it (to run a TLS
    /// acceptor by hand).
    ///
    /// # Panics
    ///
    /// After [`ScriptConn::upgrade`]: the TCP stream is inside the new one.
    pub fn into_stream(self) -> TcpStream {
        match self.io {
            Io::Tcp(s) => s,
            Io::Upgraded(_) | Io::Closed => {
                panic!("scripted server: into_stream after upgrade")
            }
        }
    }

    /// Hands the TCP stream to `wrap` (a TLS acceptor, say) and goes on
    /// scripting over the stream it returns, with the same logs.
    ///
    /// # Panics
    ///
    /// If called twice.
    pub async fn upgrade<S, Fut>(self, wrap: impl FnOnce(TcpStream) -> Fut) -> ScriptConn
    where
        Fut: Future<Output = S>,
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let ScriptConn {
            io,
            pending,
            index,
            peer,
            received,
            shared,
        } = self;
        let tcp = match io {
            Io::Tcp(s) => s,
            Io::Upgraded(_) | Io::Closed => panic!("scripted server: upgrade called twice"),
        };
        debug_assert!(pending.is_empty(), "the TCP path never reads ahead");
        let upgraded = wrap(tcp).await;
        ScriptConn {
            io: Io::Upgraded(Box::new(upgraded)),
            pending,
            index,
            peer,
            received,
            shared,
        }
    }

    /// Runs `accept` (a TLS handshake) on the TCP stream and goes on over
    /// the stream it returns; returns false when it returned `None` (the
    /// connection is then closed).
    ///
    /// # Panics
    ///
    /// After an earlier upgrade.
    pub async fn upgrade_in_place(&mut self, accept: &super::TlsAccept) -> bool {
        let tcp = match std::mem::replace(&mut self.io, Io::Closed) {
            Io::Tcp(s) => s,
            Io::Upgraded(_) | Io::Closed => panic!("scripted server: upgrade called twice"),
        };
        match accept(tcp).await {
            Some(stream) => {
                self.io = Io::Upgraded(stream);
                self.note("<tls established>".into());
                true
            }
            None => {
                self.note("<tls handshake failed>".into());
                false
            }
        }
    }

    fn note(&mut self, entry: String) {
        self.shared.record(entry.clone());
        self.received.push(entry);
    }

    /// One line including its `\n`, or the unterminated rest at EOF.
    async fn read_raw_line(&mut self) -> Option<Vec<u8>> {
        let mut line = Vec::new();
        let mut buf = [0u8; CHUNK];
        loop {
            match &mut self.io {
                Io::Tcp(s) => {
                    let n = s.peek(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return (!line.is_empty()).then_some(line);
                    }
                    let take = buf[..n]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(n, |i| i + 1);
                    // peek said these bytes are there, so this cannot block
                    if s.read_exact(&mut buf[..take]).await.is_err() {
                        return (!line.is_empty()).then_some(line);
                    }
                    line.extend_from_slice(&buf[..take]);
                    if line.ends_with(b"\n") {
                        return Some(line);
                    }
                }
                Io::Closed => {
                    line.append(&mut self.pending);
                    return (!line.is_empty()).then_some(line);
                }
                Io::Upgraded(s) => {
                    if let Some(i) = self.pending.iter().position(|&b| b == b'\n') {
                        line.extend(self.pending.drain(..=i));
                        return Some(line);
                    }
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        line.append(&mut self.pending);
                        return (!line.is_empty()).then_some(line);
                    }
                    self.pending.extend_from_slice(&buf[..n]);
                }
            }
        }
    }
}

async fn write_flush<W: AsyncWrite + Unpin + ?Sized>(
    w: &mut W,
    bytes: &[u8],
) -> std::io::Result<()> {
    w.write_all(bytes).await?;
    w.flush().await
}

fn strip_eol(raw: &[u8]) -> &[u8] {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    raw.strip_suffix(b"\r").unwrap_or(raw)
}
