//! Hints and retry classification that know every plugin's error type.
//!
//! smtp-core carries plugin errors as boxed sources and can only give
//! generic advice; this crate knows the concrete types, so it can ask the
//! plugin itself.

use std::error::Error as StdError;

/// The most specific hint for a send error: the proxy's own hint, none
/// where the TLS or auth error already states its advice, else smtp-core's.
pub fn hint(error: &smtp_core::Error) -> Option<String> {
    for source in chain(error) {
        #[cfg(feature = "proxy")]
        if let Some(e) = source.downcast_ref::<smtp_proxy::Error>() {
            return e.hint();
        }
        #[cfg(feature = "tls")]
        if source.is::<smtp_transport_tls::Error>() {
            // Its messages end with their own advice ("use security=starttls",
            // "the certificate is for ...").
            return None;
        }
        #[cfg(feature = "auth")]
        if source.is::<smtp_auth::Error>() {
            return None;
        }
        let _ = source;
    }
    error.hint()
}

/// Whether retrying later may help, with the plugin's own judgement: a
/// refused proxy login is permanent although it fails while connecting.
pub fn is_transient(error: &smtp_core::Error) -> bool {
    for source in chain(error) {
        #[cfg(feature = "proxy")]
        if let Some(e) = source.downcast_ref::<smtp_proxy::Error>() {
            return e.is_transient();
        }
        #[cfg(feature = "auth")]
        if let Some(e) = source.downcast_ref::<smtp_auth::Error>() {
            return e.is_transient();
        }
        let _ = source;
    }
    error.is_transient()
}

fn chain(error: &smtp_core::Error) -> impl Iterator<Item = &(dyn StdError + 'static)> {
    std::iter::successors(error.source(), |e: &&(dyn StdError + 'static)| {
        (*e).source()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_fall_back_to_the_core_hint() {
        let core = smtp_core::Error::Connect {
            target: "x:25".into(),
            source: Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        };
        assert!(hint(&core).unwrap().contains("refused"));
        assert!(is_transient(&core));
    }
}
