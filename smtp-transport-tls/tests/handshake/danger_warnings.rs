//! Every connection made under a danger switch logs a warning; safe ones
//! do not.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::common::*;
use smtp_transport_tls::RustlsUpgrade;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Warnings logged while connecting `times` times with `upgrade`.
async fn warnings(upgrade: RustlsUpgrade, times: usize) -> Vec<String> {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    // A current-thread runtime polls on this thread, so the thread-local
    // default subscriber sees the upgrade's events.
    let _guard = tracing::subscriber::set_default(subscriber);
    for _ in 0..times {
        handshake(&upgrade, peers().postfix_smtps_port, "localhost")
            .await
            .expect("handshake");
    }
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    text.lines()
        .filter(|l| l.contains("WARN"))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn each_dangerous_connection_warns() {
    let lines = warnings(
        rig_tls()
            .danger()
            .accept_invalid_certs(true)
            .build()
            .unwrap(),
        3,
    )
    .await;
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains("dangerous_accept_invalid_certs")),
        "{lines:#?}"
    );

    let lines = warnings(
        rig_tls()
            .danger()
            .accept_invalid_hostnames(true)
            .build()
            .unwrap(),
        2,
    )
    .await;
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains("dangerous_accept_invalid_hostnames")),
        "{lines:#?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn safe_connections_do_not_warn() {
    let lines = warnings(rig_tls().build().unwrap(), 2).await;
    assert!(lines.is_empty(), "{lines:#?}");
}
