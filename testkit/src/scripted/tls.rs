//! The server side of TLS for scripted connections: rustls with the rig's
//! certificate (`PEERS_SERVER_CHAIN` / `PEERS_SERVER_KEY`, signed by
//! `PEERS_CA_CERT` for the name `PEERS_TLS_NAME`).

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::TlsAccept;
use super::conn::Duplex;

/// A [`TlsAccept`] for [`super::Step::Tls`] and STARTTLS on well-behaved
/// connections: a rustls server (ring provider, TLS 1.2 and 1.3) with the
/// rig's certificate, so clients that trust the rig's CA verify it.
///
/// # Panics
///
/// When the rig is not running (see [`crate::peers`]) or its certificate
/// files cannot be read.
pub fn rig_tls_accept() -> TlsAccept {
    let p = crate::peers();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&p.server_chain)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .unwrap_or_else(|e| panic!("rig certificate {}: {e}", p.server_chain.display()));
    let key = PrivateKeyDer::from_pem_file(&p.server_key)
        .unwrap_or_else(|e| panic!("rig key {}: {e}", p.server_key.display()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .unwrap_or_else(|e| panic!("rig TLS server config: {e}"));
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    Arc::new(move |tcp| {
        let acceptor = acceptor.clone();
        Box::pin(async move {
            match acceptor.accept(tcp).await {
                Ok(tls) => Some(Box::new(tls) as Box<dyn Duplex>),
                Err(e) => {
                    tracing::debug!(error = %e, "scripted server: tls handshake failed");
                    None
                }
            }
        })
    })
}
