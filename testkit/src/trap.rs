//! A listener that must never be reached: for checking that bad input is
//! refused before anything connects.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A loopback server (or proxy) that counts connections and closes each at
/// once, so a client that does get through fails fast instead of hanging.
#[derive(Debug)]
pub struct ConnectionTrap {
    port: u16,
    count: Arc<AtomicUsize>,
}

impl ConnectionTrap {
    /// Binds 127.0.0.1 on a free port and starts counting in a thread.
    pub fn new() -> ConnectionTrap {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the trap");
        let port = listener.local_addr().expect("the trap's address").port();
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                seen.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
        });
        ConnectionTrap { port, count }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connections accepted since the last call.
    pub fn connections(&self) -> usize {
        // A client that connected and exited may still sit in the backlog.
        std::thread::sleep(Duration::from_millis(10));
        self.count.swap(0, Ordering::SeqCst)
    }
}

impl Default for ConnectionTrap {
    fn default() -> Self {
        Self::new()
    }
}
