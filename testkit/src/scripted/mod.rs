//! A scripted SMTP server for what real servers never do: injected bytes,
//! garbage, stalls, drops.

mod conn;
mod script;
#[cfg(feature = "tls")]
mod tls;

use std::any::Any;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

pub use conn::Duplex;
pub use conn::ScriptConn;
pub use script::{Step, TlsAccept};
#[cfg(feature = "tls")]
pub use tls::rig_tls_accept;

/// State shared by the server and its connections.
#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) log: Mutex<Vec<String>>,
    accepted: AtomicUsize,
    finished: AtomicUsize,
    panics: Mutex<Vec<String>>,
    notify: Notify,
}

impl Shared {
    pub(crate) fn record(&self, entry: String) {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry);
    }
}

/// A listener on `127.0.0.1:<ephemeral>` that runs `handler` once per
/// accepted connection.
///
/// Everything the handlers read is logged ([`ScriptedServer::log`]). The
/// server stops when dropped: the listener closes and running handlers are
/// cancelled. If a handler panicked (a failed [`ScriptConn::expect`], say),
/// dropping the server panics too, so the test fails even when the client
/// side looked fine.
///
/// ```no_run
/// # async fn demo() {
/// use smtp_testkit::ScriptedServer;
/// let server = ScriptedServer::start(|mut c| async move {
///     c.send("220 scripted ESMTP\r\n").await;
///     c.expect("EHLO").await;
///     c.send("250-scripted\r\n250 STARTTLS\r\n").await;
///     c.expect("STARTTLS").await;
///     // the injection: a reply smuggled in before the TLS handshake
///     c.send("220 go ahead\r\n250 injected\r\n").await;
/// });
/// // ... point the client at server.port() and assert that it refuses ...
/// # }
/// ```
pub struct ScriptedServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl ScriptedServer {
    /// Binds `127.0.0.1:0` and starts accepting.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, or if binding fails.
    pub fn start<F, Fut>(handler: F) -> ScriptedServer
    where
        F: Fn(ScriptConn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        std_listener.set_nonblocking(true).expect("set_nonblocking");
        let addr = std_listener.local_addr().expect("local_addr");
        let listener = TcpListener::from_std(std_listener)
            .expect("ScriptedServer::start must be called inside a tokio runtime");
        let shared = Arc::new(Shared::default());
        let accept = tokio::spawn(accept_loop(listener, handler, Arc::clone(&shared)));
        tracing::debug!(%addr, "scripted server listening");
        ScriptedServer {
            addr,
            shared,
            accept,
        }
    }

    /// The port to connect to (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every line (or chunk) the handlers read so far, across connections,
    /// in the order they were read; lines without their CRLF.
    pub fn log(&self) -> Vec<String> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Panic messages of handlers that panicked so far.
    pub fn handler_panics(&self) -> Vec<String> {
        self.shared
            .panics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until `n` handler calls have returned (or panicked), so that
    /// [`ScriptedServer::log`] holds everything they read.
    ///
    /// # Panics
    ///
    /// If that does not happen within `timeout`.
    pub async fn wait_handled(&self, n: usize, timeout: Duration) {
        let wait = async {
            loop {
                let notified = self.shared.notify.notified();
                if self.shared.finished.load(Ordering::SeqCst) >= n {
                    return;
                }
                notified.await;
            }
        };
        if tokio::time::timeout(timeout, wait).await.is_err() {
            panic!(
                "scripted server: {} of {n} handlers finished within {timeout:?} ({} connections accepted)",
                self.shared.finished.load(Ordering::SeqCst),
                self.connections()
            );
        }
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.accept.abort();
        let panics = self.handler_panics();
        if !panics.is_empty() && !std::thread::panicking() {
            panic!("scripted server handler panicked: {}", panics.join("; "));
        }
    }
}

async fn accept_loop<F, Fut>(listener: TcpListener, handler: F, shared: Arc<Shared>)
where
    F: Fn(ScriptConn) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    // Handlers live in this JoinSet so that aborting this task (on drop)
    // cancels them too.
    let mut handlers = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let index = shared.accepted.fetch_add(1, Ordering::SeqCst);
                tracing::debug!(%peer, index, "scripted server accepted");
                let fut = handler(ScriptConn::new(stream, index, Arc::clone(&shared)));
                let shared = Arc::clone(&shared);
                handlers.spawn(async move {
                    // Recorded here, not from the JoinSet, so the panic is
                    // visible before wait_handled returns.
                    if let Err(payload) = (CatchUnwind(Box::pin(fut))).await {
                        let msg = panic_message(&*payload);
                        shared.panics.lock().unwrap_or_else(PoisonError::into_inner).push(msg);
                    }
                    shared.finished.fetch_add(1, Ordering::SeqCst);
                    shared.notify.notify_waiters();
                });
            }
            Some(_) = handlers.join_next(), if !handlers.is_empty() => {}
        }
    }
}

/// Polls a future inside `catch_unwind`, so a handler's panic becomes a
/// value (`futures::FutureExt::catch_unwind`, without the dependency).
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic".to_owned()
    }
}

#[cfg(test)]
mod tests;
