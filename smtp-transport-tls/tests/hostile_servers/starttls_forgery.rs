//! STARTTLS state handling with real TLS: what a server (or someone in the
//! middle) says in clear before STARTTLS must not influence anything after
//! it (RFC 3207 §4.2). The server part is scripted over rustls' own server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{peers, rig_tls};
use async_trait::async_trait;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use smtp_core::sasl::{AuthContext, Authenticator, Mechanism};
use smtp_core::{BoxError, Security, SmtpTransport, Timeouts};
use smtp_testkit::ScriptedServer;

/// Records what the engine offers it and stays anonymous.
#[derive(Debug, Default)]
struct Recording {
    seen: Mutex<Vec<(Vec<String>, bool)>>,
}

#[async_trait]
impl Authenticator for Recording {
    async fn mechanism(
        &self,
        ctx: &AuthContext<'_>,
    ) -> Result<Option<Box<dyn Mechanism>>, BoxError> {
        self.seen
            .lock()
            .unwrap()
            .push((ctx.offered.to_vec(), ctx.tls));
        Ok(None)
    }
}

fn acceptor() -> tokio_rustls::TlsAcceptor {
    let p = peers();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain: Vec<_> = CertificateDer::pem_file_iter(&p.server_chain)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(&p.server_key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A server that advertises a forged AUTH list (and extensions) in clear,
/// then, after a real TLS handshake, a different one.
fn forging_server(after_tls: &'static str) -> ScriptedServer {
    ScriptedServer::start(move |mut conn| async move {
        conn.send("220 forger ESMTP\r\n").await;
        conn.expect("EHLO").await;
        conn.send("250-forger\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n").await;
        conn.expect("STARTTLS").await;
        conn.send("220 go ahead\r\n").await;
        let acceptor = acceptor();
        let mut conn = conn
            .upgrade(|tcp| async move { acceptor.accept(tcp).await.expect("tls accept") })
            .await;
        conn.expect("EHLO").await;
        conn.send(after_tls).await;
        let _ = conn.read_line().await;
    })
}

fn transport(port: u16, auth: Arc<Recording>) -> SmtpTransport {
    SmtpTransport::builder("localhost")
        .port(port)
        .security(Security::StartTlsRequired)
        .tls(Arc::new(rig_tls().build().unwrap()))
        .authenticator(auth)
        .ehlo_name("client.example.test")
        .timeouts(Timeouts::uniform(Duration::from_secs(10)))
        .build()
        .unwrap()
}

#[tokio::test]
async fn pre_tls_auth_list_is_forgotten_after_starttls() {
    let server = forging_server("250-forger\r\n250 AUTH SCRAM-SHA-256\r\n");
    let auth = Arc::new(Recording::default());
    let session = transport(server.port(), auth.clone())
        .connect()
        .await
        .unwrap();
    let caps = session.capabilities();
    assert_eq!(caps.auth, vec!["SCRAM-SHA-256"]);
    assert!(
        !caps.pipelining && !caps.chunking,
        "pre-TLS extensions must be forgotten: {caps:?}"
    );
    assert_eq!(session.tls_info().unwrap().server_name, "localhost");
    let seen = auth.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![(vec!["SCRAM-SHA-256".to_string()], true)],
        "the authenticator saw only the post-TLS list"
    );
    session.quit().await;
}

#[tokio::test]
async fn no_auth_after_tls_means_none_offered_even_if_forged_before() {
    let server = forging_server("250 forger\r\n");
    let auth = Arc::new(Recording::default());
    let session = transport(server.port(), auth.clone())
        .connect()
        .await
        .unwrap();
    assert!(session.capabilities().auth.is_empty());
    assert_eq!(
        auth.seen.lock().unwrap().clone(),
        vec![(Vec::<String>::new(), true)]
    );
    session.quit().await;
}
