//! Turning what rustls and the socket report into an [`Error`] a person can
//! act on.

use std::io;

use rustls::{AlertDescription, CertificateError, InvalidMessage, PeerIncompatible};

use crate::error::Error;
use crate::info::rfc3339;
use crate::verify::PinMismatch;

/// What the classifier needs to know about the attempt.
pub(crate) struct Attempt<'a> {
    /// The allowed versions, e.g. "TLSv1.3 only".
    pub(crate) allowed: &'a str,
    /// The first bytes the server sent, if any.
    pub(crate) first_bytes: &'a [u8],
}

/// Classifies an I/O error from the handshake.
pub(crate) fn handshake_error(err: io::Error, attempt: &Attempt<'_>) -> Error {
    // Before anything rustls says: a plaintext greeting explains every
    // symptom it causes (corrupt message, bad version, EOF).
    if let Some(line) = smtp_greeting(attempt.first_bytes) {
        // A greeting (220, or 421/554 refusing service) means the port
        // speaks plain SMTP first. Any other reply cannot open a session:
        // it answers a command, so it was sent where the handshake should
        // start (after STARTTLS's 220): a broken server or an injection.
        return if is_greeting_code(&line) {
            Error::PlaintextReply { greeting: line }
        } else {
            Error::PlaintextBeforeHandshake { reply: line }
        };
    }
    if err.kind() == io::ErrorKind::UnexpectedEof {
        return Error::HandshakeEof;
    }
    match err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(tls) => rustls_error(tls.clone(), attempt),
        None => Error::Io(err),
    }
}

/// Classifies an error rustls reported.
pub(crate) fn rustls_error(err: rustls::Error, attempt: &Attempt<'_>) -> Error {
    use rustls::Error as R;
    match err {
        R::InvalidCertificate(cert) => certificate_error(cert),
        R::AlertReceived(AlertDescription::ProtocolVersion)
        | R::PeerIncompatible(
            PeerIncompatible::ServerDoesNotSupportTls12Or13
            | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
            | PeerIncompatible::SupportedVersionsExtensionRequired
            | PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled,
        ) => Error::VersionMismatch {
            allowed: attempt.allowed.to_string(),
            detail: version_detail(&err),
        },
        // Only `certificate_required` unambiguously means "send a client
        // certificate"; other alerts keep their name, with advice.
        R::AlertReceived(alert @ AlertDescription::CertificateRequired) => {
            Error::ClientCertificateRequired {
                alert: format!("{alert:?}"),
            }
        }
        R::AlertReceived(alert) => Error::Alert {
            alert: format!("{alert:?}"),
        },
        R::InvalidMessage(
            InvalidMessage::InvalidContentType
            | InvalidMessage::UnknownProtocolVersion
            | InvalidMessage::MessageTooLarge,
        ) => Error::NotTls {
            detail: err.to_string(),
        },
        other => Error::Handshake(other),
    }
}

fn version_detail(err: &rustls::Error) -> String {
    match err {
        rustls::Error::AlertReceived(AlertDescription::ProtocolVersion) => {
            "the server sent a protocol version alert".to_string()
        }
        other => other.to_string(),
    }
}

fn certificate_error(err: CertificateError) -> Error {
    match err {
        CertificateError::UnknownIssuer => Error::UnknownIssuer,
        CertificateError::ExpiredContext { time, not_after } => Error::CertificateExpired {
            not_after: rfc3339(secs(not_after)),
            now: rfc3339(secs(time)),
        },
        CertificateError::NotValidYetContext { time, not_before } => {
            Error::CertificateNotYetValid {
                not_before: rfc3339(secs(not_before)),
                now: rfc3339(secs(time)),
            }
        }
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => Error::NameMismatch {
            expected: expected.to_str().into_owned(),
            presented: presented
                .iter()
                .filter_map(|name| presented_name(name))
                .collect(),
        },
        CertificateError::Other(ref other) => match other.0.downcast_ref::<PinMismatch>() {
            Some(pin) => Error::PinMismatch {
                expected: pin.expected.iter().map(ToString::to_string).collect(),
                actual: pin
                    .actual
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "unknown (unparsable certificate)".to_string()),
            },
            None => Error::BadCertificate(err.into()),
        },
        other => Error::BadCertificate(other.into()),
    }
}

// webpki reports presented names in its `Debug` form: `DnsName("a.b")`,
// `IpAddress(127.0.0.1)`; a person wants `a.b` and `127.0.0.1`.
fn presented_name(name: &str) -> Option<String> {
    let unwrap = |prefix: &str, suffix: &str| {
        name.strip_prefix(prefix)
            .and_then(|n| n.strip_suffix(suffix))
            .map(str::to_string)
    };
    match name {
        "DirectoryName" => None,
        _ if name.starts_with("Unsupported(") => None,
        _ => unwrap("DnsName(\"", "\")")
            .or_else(|| unwrap("IpAddress(", ")"))
            .or_else(|| Some(name.to_string())),
    }
}

fn secs(t: rustls_pki_types::UnixTime) -> i64 {
    i64::try_from(t.as_secs()).unwrap_or(i64::MAX)
}

/// Codes a server may open a session with (RFC 5321 §4.2, §3.1).
fn is_greeting_code(line: &str) -> bool {
    matches!(line.get(..3), Some("220" | "421" | "554"))
}

/// The greeting line, when the server's first bytes look like an SMTP
/// reply (`220 ...`) rather than a TLS record.
pub(crate) fn smtp_greeting(first: &[u8]) -> Option<String> {
    let code = first.get(..3)?;
    let sep = *first.get(3)?;
    let is_reply = code.iter().all(u8::is_ascii_digit) && (sep == b' ' || sep == b'-');
    if !is_reply {
        return None;
    }
    let line_end = first
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(first.len());
    Some(String::from_utf8_lossy(&first[..line_end]).into_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rustls::OtherError;
    use rustls_pki_types::{ServerName, UnixTime};

    use super::*;
    use crate::pin::SpkiPin;

    const ATTEMPT: Attempt<'static> = Attempt {
        allowed: "TLSv1.3 only",
        first_bytes: b"",
    };

    fn io_of(e: rustls::Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn greeting_detection() {
        assert_eq!(
            smtp_greeting(b"220 mail.example.test ESMTP Postfix\r\n").as_deref(),
            Some("220 mail.example.test ESMTP Postfix")
        );
        assert_eq!(smtp_greeting(b"220-multi").as_deref(), Some("220-multi"));
        assert_eq!(smtp_greeting(b"\x16\x03\x03\x00\x7a"), None);
        assert_eq!(smtp_greeting(b"22"), None);
    }

    #[test]
    fn plaintext_wins_over_whatever_rustls_said() {
        let attempt = Attempt {
            allowed: "x",
            first_bytes: b"220 localhost ESMTP\r\n",
        };
        let err = handshake_error(io_of(InvalidMessage::InvalidContentType.into()), &attempt);
        assert!(matches!(err, Error::PlaintextReply { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("answered in plaintext"), "{text}");
        assert_eq!(err.coded_hint().code, "tls-plaintext-reply");
        assert!(err.coded_hint().text.contains("{Security=starttls}"));
        assert!(text.contains("\"220 localhost ESMTP\""), "{text}");
    }

    #[test]
    fn a_reply_where_the_handshake_should_start_does_not_advise_starttls() {
        let attempt = Attempt {
            allowed: "x",
            first_bytes: b"250 injected reply\r\n",
        };
        let err = handshake_error(io_of(InvalidMessage::InvalidContentType.into()), &attempt);
        assert!(
            matches!(err, Error::PlaintextBeforeHandshake { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("\"250 injected reply\""), "{err}");
        assert_eq!(err.coded_hint().code, "tls-reply-before-handshake");
        assert!(
            !err.coded_hint()
                .settings()
                .unwrap()
                .contains(&smtp_core::Setting::Security)
        );
    }

    #[test]
    fn eof_and_plain_io() {
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof");
        assert!(matches!(
            handshake_error(eof, &ATTEMPT),
            Error::HandshakeEof
        ));
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert!(matches!(handshake_error(reset, &ATTEMPT), Error::Io(_)));
    }

    #[test]
    fn version_alert_names_our_versions() {
        let err = handshake_error(
            io_of(rustls::Error::AlertReceived(
                AlertDescription::ProtocolVersion,
            )),
            &ATTEMPT,
        );
        assert!(matches!(err, Error::VersionMismatch { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("we allowed TLSv1.3 only"), "{text}");
        assert!(text.contains("protocol version"), "{text}");

        let err = rustls_error(
            PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig.into(),
            &ATTEMPT,
        );
        assert!(matches!(err, Error::VersionMismatch { .. }), "{err:?}");
    }

    #[test]
    fn certificate_errors_carry_their_details() {
        let err = rustls_error(CertificateError::UnknownIssuer.into(), &ATTEMPT);
        assert!(matches!(err, Error::UnknownIssuer));
        assert_eq!(
            err.to_string(),
            "the server's certificate is not signed by a trusted certificate authority"
        );
        assert!(
            err.coded_hint()
                .to_string()
                .contains("`RustlsUpgradeBuilder::add_ca_file`")
        );

        let expired = CertificateError::ExpiredContext {
            time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_700_000_000)),
            not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_577_923_200)),
        };
        let err = rustls_error(expired.into(), &ATTEMPT);
        assert!(
            err.to_string()
                .contains("expired at 2020-01-02T00:00:00Z (now 2023-11-14T22:13:20Z)"),
            "{err}"
        );

        let wrong_name = CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("localhost").unwrap(),
            presented: vec![
                "DnsName(\"wrong.example.test\")".to_string(),
                "IpAddress(::1)".to_string(),
                "DirectoryName".to_string(),
            ],
        };
        let err = rustls_error(wrong_name.into(), &ATTEMPT);
        match &err {
            Error::NameMismatch {
                expected,
                presented,
            } => {
                assert_eq!(expected, "localhost");
                assert_eq!(presented, &["wrong.example.test", "::1"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().starts_with(
            "the server's certificate is for wrong.example.test, ::1 but we asked for localhost"
        ));
    }

    #[test]
    fn pin_mismatch_names_both_pins() {
        let expected = SpkiPin::of_spki(b"expected").unwrap();
        let actual = SpkiPin::of_spki(b"actual").unwrap();
        let inner = PinMismatch {
            expected: vec![expected],
            actual: Some(actual),
        };
        let err = rustls_error(
            CertificateError::Other(OtherError(Arc::new(inner))).into(),
            &ATTEMPT,
        );
        let text = err.to_string();
        assert!(matches!(err, Error::PinMismatch { .. }), "{err:?}");
        assert!(
            text.contains(&format!("pin is {actual} but we expected {expected}")),
            "{text}"
        );
    }

    #[test]
    fn client_certificate_alerts() {
        let err = rustls_error(
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired),
            &ATTEMPT,
        );
        assert!(
            matches!(err, Error::ClientCertificateRequired { .. }),
            "{err:?}"
        );
        let err = rustls_error(
            rustls::Error::AlertReceived(AlertDescription::HandshakeFailure),
            &ATTEMPT,
        );
        assert_eq!(
            err.to_string(),
            "the server aborted the TLS handshake with a HandshakeFailure alert"
        );
        assert_eq!(err.coded_hint().code, "tls-alert");
        assert!(err.coded_hint().text.contains("client certificate"));
        let err = rustls_error(
            rustls::Error::AlertReceived(AlertDescription::UnknownCA),
            &ATTEMPT,
        );
        assert_eq!(err.coded_hint().code, "tls-client-certificate-refused");
    }

    #[test]
    fn garbage_is_not_tls() {
        let err = rustls_error(InvalidMessage::InvalidContentType.into(), &ATTEMPT);
        assert!(matches!(err, Error::NotTls { .. }), "{err:?}");
        assert!(err.to_string().contains("did not answer with TLS"), "{err}");
        assert!(err.coded_hint().text.contains("{Security=starttls}"));
    }
}
