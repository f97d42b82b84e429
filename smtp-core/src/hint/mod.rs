//! Hints: the likely cause of an error and what to try, each with a
//! stable code (see [`Hint`]).

use std::io::ErrorKind;

use crate::error::{Error, Phase, RequireTlsProblem};
use crate::reply::Reply;

mod table;

pub use table::Hint;

crate::hint_table! {
    /// The hints smtp-core gives; [`Error::coded_hint`](crate::Error::coded_hint)
    /// returns one of these.
    pub mod hints {
        INVALID_INPUT = "invalid-input": "fix the value; nothing was sent";
        INVALID_PROXY_URL = "proxy-invalid-url":
            "write {ProxyUrl} as scheme://user:password@host:port (user, password and port optional) with scheme socks5h, socks5, socks4a, socks4 or http; percent-encode @ : / % in the user name and password";
        CONNECT_REFUSED = "connect-refused":
            "connection refused: nothing listens on that port (wrong port?) or a firewall rejects it";
        CONNECT_TIMED_OUT = "connect-timed-out":
            "no answer at all: a firewall is probably dropping packets to this port, or the host is down; many networks block outgoing port 25, try 587 or 465";
        CONNECT_DNS = "connect-dns":
            "the host name does not resolve: check the spelling, and use a fully qualified name (smtp.example.com, not smtp)";
        CONNECT_FAILED = "connect-failed": "check the host name, port, proxy and network";
        GREETING_TIMEOUT = "greeting-timeout":
            "no greeting: if this port expects implicit TLS (usually 465) use {Security=implicit}; otherwise a firewall or proxy may be swallowing the connection";
        AUTH_TIMEOUT = "auth-timeout":
            "authentication did not finish in time: the server, a password command or the OAuth2 token endpoint did not answer";
        SERVER_TIMEOUT = "server-timeout":
            "the server stopped answering; try again, or raise {Timeouts}";
        GREETING_NOT_SMTP = "greeting-not-smtp":
            "the server did not greet in SMTP: if this is an implicit TLS port (465) use {Security=implicit}; check host and port";
        CONNECTION_BROKEN = "connection-broken": "the connection broke; try again (a transient failure)";
        NOT_STARTED = "not-started":
            "the server accepted nothing of this message: send it again (smtp send does so by itself); the failure that stopped it is reported for an earlier message";
        PROTOCOL_VIOLATION = "protocol-violation": "the server does not speak SMTP correctly; check host and port";
        REPLY_RATE_LIMITED = "reply-rate-limited":
            "the server is rate limiting you: slow down (see {RateLimit}) and retry later";
        REPLY_TLS_REQUIRED = "reply-tls-required":
            "the server wants TLS before this command: use {Security=starttls}, or {Security=implicit} on 465";
        REPLY_AUTH_FAILED = "reply-auth-failed":
            "wrong username or password; providers with 2-step verification (Gmail, iCloud, Yahoo, Outlook.com) need an app password or OAuth2";
        REPLY_AUTH_TOO_WEAK = "reply-auth-too-weak":
            "the server wants a stronger mechanism or TLS, or an app-specific password";
        REPLY_RELAY_DENIED = "reply-relay-denied":
            "relay denied: authenticate (set {AuthUsername}) or send from an allowed network or sender";
        REPLY_RECIPIENT_REFUSED = "reply-recipient-refused":
            "the recipient address is unknown or refused by the server; check it";
        REPLY_SENDER_REFUSED = "reply-sender-refused":
            "the server refuses this sender: set {MessageFrom} to an address your account may send as";
        REPLY_QUOTA_EXCEEDED = "reply-quota-exceeded":
            "the account has used up its sending quota (Gmail: a daily limit): wait until it resets, or send through another account";
        REPLY_TOO_BIG = "reply-too-big": "the message is too big for the server";
        REPLY_EHLO_REFUSED = "reply-ehlo-refused":
            "the server refused our EHLO name: set {EhloName} to a fully qualified name";
        REPLY_CLIENT_CERTIFICATE = "reply-client-certificate":
            "the server wants a TLS client certificate it trusts: set {TlsClientCert} and {TlsClientKey}";
        REPLY_TEMPORARY = "reply-temporary": "a temporary failure: try again later";
        UNKNOWN_OUTCOME = "unknown-outcome":
            "check the recipient's mailbox before resending, or accept a possible duplicate";
        STARTTLS_NOT_OFFERED = "starttls-not-offered":
            "the server (or something between you and it) does not offer STARTTLS: if the port is 465 use {Security=implicit}; never fall back to cleartext with a password";
        STARTTLS_INJECTION = "starttls-injection":
            "someone may be tampering with the connection (STARTTLS command injection); do not disable this check";
        TLS_NOT_CONFIGURED = "tls-not-configured": "enable the `tls` feature or configure a TLS implementation";
        TLS_EXPECTS_STARTTLS = "tls-expects-starttls":
            "if the server expects STARTTLS on this port (usually 587 or 25) use {Security=starttls}";
        SASL_FAILED = "sasl-failed": "check the authentication settings (mechanisms, credentials)";
        CLEARTEXT_AUTH_REFUSED = "cleartext-auth-refused":
            "use {Security=starttls} or {Security=implicit}; only on a trusted network set {AuthAllowCleartext=true}";
        MESSAGE_TOO_BIG = "message-too-big": "the server refuses messages this big; shrink the attachments";
        MESSAGE_UNREADABLE = "message-unreadable": "check that the message file exists and is readable";
        EIGHT_BIT_NOT_SUPPORTED = "eight-bit-not-supported":
            "the server only takes 7-bit messages: encode the body as quoted-printable or base64 (messages composed by this toolkit always are)";
        OUTBOX_UNWRITABLE = "outbox-unwritable": "check that the outbox directory is writable";
        TLS_UNSUPPORTED_VERSION = "tls-unsupported-version":
            "set {TlsMinVersion} and {TlsMaxVersion} to 1.2 or 1.3";
        TLS_UNKNOWN_VERSION = "tls-unknown-version":
            "write {TlsMinVersion} and {TlsMaxVersion} as 1.2 or 1.3";
        TLS_VERSION_RANGE = "tls-version-range":
            "make {TlsMinVersion} lower than or equal to {TlsMaxVersion}";
        DSN_NOT_SUPPORTED = "dsn-not-supported":
            "the server cannot report delivery: let such messages go without the request with {DsnIfUnsupported=drop}, or send through a server that offers DSN";
        REQUIRETLS_NO_TLS = "requiretls-no-tls":
            "REQUIRETLS needs TLS: use {Security=starttls}, or implicit TLS on 465";
        REQUIRETLS_UNVERIFIED = "requiretls-unverified":
            "REQUIRETLS needs a verified certificate: stop accepting invalid certificates and trust the server's CA with {TlsCaFile}";
        REQUIRETLS_NOT_OFFERED = "requiretls-not-offered":
            "this server cannot promise TLS on the onward hops: send through one that offers REQUIRETLS, or without {RequireTls}";
    }
}

pub(crate) fn hint_for(error: &Error) -> Option<Hint> {
    let h = match error {
        Error::InvalidInput { .. } => hints::INVALID_INPUT,
        Error::InvalidProxyUrl { .. } => hints::INVALID_PROXY_URL,
        Error::Connect { source, .. } => connect_hint(source.as_ref()),
        Error::Timeout {
            phase: Phase::Greeting,
            ..
        } => hints::GREETING_TIMEOUT,
        Error::Timeout {
            phase: Phase::Connect,
            ..
        } => hints::CONNECT_TIMED_OUT,
        Error::Timeout {
            phase: Phase::Auth, ..
        } => hints::AUTH_TIMEOUT,
        Error::Timeout { .. } => hints::SERVER_TIMEOUT,
        Error::ConnectionClosed {
            phase: Phase::Greeting,
        }
        | Error::Protocol {
            phase: Phase::Greeting,
            ..
        } => hints::GREETING_NOT_SMTP,
        Error::ConnectionClosed { .. } | Error::Io { .. } => hints::CONNECTION_BROKEN,
        Error::NotStarted { .. } => hints::NOT_STARTED,
        Error::Protocol { .. } => hints::PROTOCOL_VIOLATION,
        Error::Rejected { phase, reply } => return reply_hint(*phase, reply),
        Error::NoRecipientsAccepted { rejected } => {
            return rejected
                .first()
                .and_then(|r| reply_hint(Phase::Rcpt, &r.reply));
        }
        Error::UnknownOutcome { .. } => hints::UNKNOWN_OUTCOME,
        Error::StartTlsNotOffered => hints::STARTTLS_NOT_OFFERED,
        Error::StartTlsInjection { .. } => hints::STARTTLS_INJECTION,
        Error::TlsNotConfigured => hints::TLS_NOT_CONFIGURED,
        // The TLS plugin classifies its own errors (PluginError); an
        // unclassified TLS failure gets no guess.
        Error::Tls { .. } => return None,
        Error::Sasl { .. } => hints::SASL_FAILED,
        Error::CleartextAuthRefused { .. } => hints::CLEARTEXT_AUTH_REFUSED,
        Error::MessageTooBig { .. } => hints::MESSAGE_TOO_BIG,
        Error::Message(_) => hints::MESSAGE_UNREADABLE,
        Error::EightBitNotSupported => hints::EIGHT_BIT_NOT_SUPPORTED,
        Error::Outbox { .. } => hints::OUTBOX_UNWRITABLE,
        Error::DsnNotSupported => hints::DSN_NOT_SUPPORTED,
        Error::RequireTls { problem } => match problem {
            RequireTlsProblem::NoTls => hints::REQUIRETLS_NO_TLS,
            RequireTlsProblem::UnverifiedCertificate => hints::REQUIRETLS_UNVERIFIED,
            RequireTlsProblem::NotOffered => hints::REQUIRETLS_NOT_OFFERED,
        },
    };
    Some(h)
}

fn connect_hint(source: &(dyn std::error::Error + 'static)) -> Hint {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(source);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                ErrorKind::ConnectionRefused => hints::CONNECT_REFUSED,
                ErrorKind::TimedOut => hints::CONNECT_TIMED_OUT,
                ErrorKind::NotFound => hints::CONNECT_DNS,
                _ => hints::CONNECT_FAILED,
            };
        }
        cur = e.source();
    }
    hints::CONNECT_FAILED
}

/// The hint for a refusal, chosen from the reply's class and enhanced
/// status code (RFC 3463): a transient (4xx) reply never gets advice for a
/// permanent cause, and the phase alone never decides the cause.
fn reply_hint(phase: Phase, reply: &Reply) -> Option<Hint> {
    let text = reply.text().to_ascii_lowercase();
    let enhanced = reply.enhanced.map(|e| (e.subject, e.detail));
    let h = if is_rate_limited(reply) {
        hints::REPLY_RATE_LIMITED
    } else if text.contains("client certificate") {
        // Postfix with smtpd_tls_req_ccert answers "421 4.7.1 ... No client
        // certificate presented": temporary by code, fixed only by config.
        hints::REPLY_CLIENT_CERTIFICATE
    } else if reply.is_transient() {
        hints::REPLY_TEMPORARY
    } else if reply.code == 530 || text.contains("starttls") {
        hints::REPLY_TLS_REQUIRED
    } else if phase == Phase::Auth && (reply.code == 535 || enhanced == Some((7, 8))) {
        hints::REPLY_AUTH_FAILED
    } else if phase == Phase::Auth && (reply.code == 534 || reply.code == 538) {
        hints::REPLY_AUTH_TOO_WEAK
    } else if enhanced == Some((4, 5)) || enhanced == Some((2, 2)) && phase == Phase::Mail {
        // 5.4.5: Gmail's "daily user sending limit exceeded"; 5.2.2 at MAIL:
        // the sending mailbox is over its quota.
        hints::REPLY_QUOTA_EXCEEDED
    } else if reply.code == 554 && enhanced == Some((7, 1)) || text.contains("relay") {
        hints::REPLY_RELAY_DENIED
    } else if phase == Phase::Rcpt && enhanced.is_some_and(|(s, _)| s == 1) {
        hints::REPLY_RECIPIENT_REFUSED
    } else if reply.code == 552 || enhanced == Some((3, 4)) {
        hints::REPLY_TOO_BIG
    } else if phase == Phase::Mail && is_sender_refusal(reply) {
        hints::REPLY_SENDER_REFUSED
    } else if phase == Phase::Ehlo {
        hints::REPLY_EHLO_REFUSED
    } else {
        return None;
    };
    Some(h)
}

/// A permanent refusal at `MAIL FROM` that is about the sender: an address
/// status (X.1.x: bad, unknown or unverified sender), a policy refusal
/// (X.7.x: not allowed to send as it, SES unverified identity, Microsoft
/// 365 5.7.60), or a bare 550/553 with no enhanced code to say otherwise.
fn is_sender_refusal(reply: &Reply) -> bool {
    match reply.enhanced {
        Some(e) => e.subject == 1 || e.subject == 7,
        None => matches!(reply.code, 550 | 553),
    }
}

/// True when a reply says "slow down": 421/450/451/452 with rate words, or
/// enhanced 4.7.x rate codes.
pub fn is_rate_limited(reply: &Reply) -> bool {
    if !reply.is_transient() {
        return false;
    }
    let text = reply.text().to_ascii_lowercase();
    [
        "rate limit",
        "ratelimit",
        "too many",
        "throttl",
        "slow down",
        "try again later",
    ]
    .iter()
    .any(|w| text.contains(w))
        || reply
            .enhanced
            .is_some_and(|e| e.subject == 7 && e.detail == 28)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_hints() {
        let h = |phase, code, text| {
            Error::Rejected {
                phase,
                reply: Reply::new(code, text),
            }
            .hint()
            .unwrap_or_default()
        };
        assert!(h(Phase::Rcpt, 554, "5.7.1 <x@y>: Relay access denied").contains("relay denied"));
        assert!(h(Phase::Auth, 535, "5.7.8 Error: authentication failed").contains("app password"));
        assert!(
            h(
                Phase::Mail,
                530,
                "5.7.0 Must issue a STARTTLS command first"
            )
            .contains("Security::StartTlsRequired")
        );
        assert!(
            h(Phase::Mail, 421, "4.7.0 Too many messages, slow down").contains("rate limiting")
        );
        assert!(h(Phase::Mail, 553, "5.7.1 Sender address rejected").contains("sender"));
        assert!(
            h(
                Phase::Greeting,
                421,
                "4.7.1 mail.example.test Error: No client certificate presented"
            )
            .contains("RustlsUpgradeBuilder::client_auth")
        );
    }

    fn code_of(phase: Phase, code: u16, text: &str) -> Option<&'static str> {
        Error::Rejected {
            phase,
            reply: Reply::new(code, text),
        }
        .coded_hint()
        .map(|h| h.code)
    }

    #[test]
    fn a_sending_quota_at_mail_is_not_a_sender_refusal() {
        let gmail = "5.4.5 Daily user sending limit exceeded. For more information on Gmail \
                     sending limits go to https://support.google.com/a/answer/166852";
        assert_eq!(
            code_of(Phase::Mail, 550, gmail),
            Some("reply-quota-exceeded")
        );
        assert_eq!(
            code_of(Phase::Mail, 552, "5.2.2 Mailbox over quota"),
            Some("reply-quota-exceeded")
        );
    }

    #[test]
    fn a_transient_reply_never_gets_a_permanent_cause_hint() {
        for (phase, code, text) in [
            (Phase::Mail, 450, "4.3.0 Error: queue file write error"),
            (
                Phase::Mail,
                451,
                "4.1.8 Sender address rejected: Domain not found",
            ),
            (
                Phase::Rcpt,
                450,
                "4.1.1 <x@y>: Recipient address rejected: unverified",
            ),
            (Phase::Rcpt, 454, "4.7.1 <x@y>: Relay access denied"),
            (Phase::Ehlo, 421, "4.3.2 Service shutting down"),
            (Phase::Mail, 452, "4.3.1 Insufficient system storage"),
            (
                Phase::StartTls,
                454,
                "4.7.0 TLS not available due to local problem",
            ),
        ] {
            assert_eq!(
                code_of(phase, code, text),
                Some("reply-temporary"),
                "{code} {text}"
            );
        }
    }

    #[test]
    fn sender_refusals_follow_the_enhanced_code() {
        for (code, text) in [
            (
                553,
                "5.7.1 <a@b>: Sender address rejected: not owned by user",
            ),
            (550, "5.1.7 Invalid sender address"),
            (
                550,
                "5.7.60 SMTP; Client does not have permissions to send as this sender",
            ),
            (553, "Sender address rejected"),
        ] {
            assert_eq!(
                code_of(Phase::Mail, code, text),
                Some("reply-sender-refused"),
                "{code} {text}"
            );
        }
        // A 5.3.x system problem at MAIL is not about the sender.
        assert_eq!(code_of(Phase::Mail, 554, "5.3.0 Internal error"), None);
    }

    #[test]
    fn connect_hints() {
        let e = Error::Connect {
            target: "x:25".into(),
            source: Box::new(std::io::Error::from(ErrorKind::ConnectionRefused)),
        };
        assert!(e.hint().unwrap().contains("refused"));
        let e = Error::Connect {
            target: "x:25".into(),
            source: Box::new(std::io::Error::from(ErrorKind::TimedOut)),
        };
        assert!(e.hint().unwrap().contains("firewall"));
        assert_eq!(e.coded_hint(), Some(hints::CONNECT_TIMED_OUT));
    }

    #[test]
    fn every_hint_names_settings_by_setting_never_by_key_or_flag() {
        for h in hints::ALL {
            h.settings().unwrap();
            assert!(!h.text.contains("--"), "{}: {}", h.code, h.text);
            assert!(!h.text.contains("tls."), "{}: {}", h.code, h.text);
        }
        let h = hints::CLEARTEXT_AUTH_REFUSED;
        assert_eq!(
            h.settings().unwrap(),
            [
                crate::Setting::Security,
                crate::Setting::Security,
                crate::Setting::AuthAllowCleartext
            ]
        );
        assert_eq!(
            h.to_string(),
            "use `SmtpTransportBuilder::security(Security::StartTlsRequired)` or \
             `SmtpTransportBuilder::security(Security::ImplicitTls)`; only on a trusted network \
             set `SaslAuthenticatorBuilder::allow_cleartext(true)`"
        );
    }

    #[test]
    fn codes_are_unique_lowercase_and_dashed() {
        let mut seen = std::collections::HashSet::new();
        for h in hints::ALL {
            assert!(seen.insert(h.code), "duplicate {}", h.code);
            assert!(
                h.code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                h.code
            );
        }
    }
}
