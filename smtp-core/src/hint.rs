//! Hints: the likely cause of an error and what to try.

use std::io::ErrorKind;

use crate::error::{Error, Phase};
use crate::reply::Reply;

pub(crate) fn hint_for(error: &Error) -> Option<String> {
    let h = match error {
        Error::InvalidInput { .. } => "fix the value; nothing was sent",
        Error::Connect { source, .. } => return connect_hint(source.as_ref()),
        Error::Timeout {
            phase: Phase::Greeting,
            ..
        } => {
            "no greeting: if this port expects implicit TLS (usually 465) use security = \"implicit\"; \
             otherwise a firewall or proxy may be swallowing the connection"
        }
        Error::Timeout {
            phase: Phase::Connect,
            ..
        } => {
            "no answer at all: a firewall is probably dropping packets to this port, or the host is down; \
             many networks block outgoing port 25, try 587 or 465"
        }
        Error::Timeout {
            phase: Phase::Auth, ..
        } => {
            "authentication did not finish in time: the server, a password command or the OAuth2 token \
             endpoint did not answer"
        }
        Error::Timeout { .. } => "the server stopped answering; try again, or raise the timeout",
        Error::ConnectionClosed {
            phase: Phase::Greeting,
        }
        | Error::Protocol {
            phase: Phase::Greeting,
            ..
        } => {
            "the server did not greet in SMTP: if this is an implicit TLS port (465) use security = \"implicit\"; \
             check host and port"
        }
        Error::ConnectionClosed { .. } | Error::Io { .. } => {
            "the connection broke; try again (a transient failure)"
        }
        Error::Protocol { .. } => "the server does not speak SMTP correctly; check host and port",
        Error::Rejected { phase, reply } => return reply_hint(*phase, reply),
        Error::NoRecipientsAccepted { rejected } => {
            return rejected
                .first()
                .and_then(|r| reply_hint(Phase::Rcpt, &r.reply));
        }
        Error::UnknownOutcome { .. } => {
            "check the recipient's mailbox before resending, or accept a possible duplicate"
        }
        Error::StartTlsNotOffered => {
            "the server (or something between you and it) does not offer STARTTLS: if the port is 465 use \
             security = \"implicit\"; never fall back to cleartext with a password"
        }
        Error::StartTlsInjection { .. } => {
            "someone may be tampering with the connection (STARTTLS command injection); do not disable this check"
        }
        Error::TlsNotConfigured => "enable the `tls` feature or configure a TLS implementation",
        Error::Tls { source, .. } => {
            let text = source.to_string().to_ascii_lowercase();
            if [
                "plaintext",
                "wrong version",
                "corrupt",
                "invalidcontenttype",
                "starttls",
            ]
            .iter()
            .any(|w| text.contains(w))
            {
                "if the server expects STARTTLS on this port (usually 587 or 25) use security = \"starttls\""
            } else {
                return None;
            }
        }
        Error::Sasl { .. } => "check the authentication settings (mechanisms, credentials)",
        Error::CleartextAuthRefused { .. } => {
            "use security = \"starttls\" or \"implicit\"; only on a trusted network set auth.allow_cleartext = true"
        }
        Error::MessageTooBig { .. } => {
            "the server refuses messages this big; shrink the attachments"
        }
        Error::Message(_) => "check that the message file exists and is readable",
        Error::Outbox { .. } => "check that the outbox directory is writable",
    };
    Some(h.to_string())
}

fn connect_hint(source: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(source);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            let h = match io.kind() {
                ErrorKind::ConnectionRefused => {
                    "connection refused: nothing listens on that port (wrong port?) or a firewall rejects it"
                }
                ErrorKind::TimedOut => {
                    "timed out: a firewall is probably dropping packets, or the host is down; many networks \
                     block outgoing port 25, try 587 or 465"
                }
                ErrorKind::NotFound => {
                    "the host name does not resolve: check the spelling, and use a fully qualified name \
                     (smtp.example.com, not smtp)"
                }
                _ if io.to_string().contains("failed to lookup address") => {
                    "the host name does not resolve: check the spelling, and use a fully qualified name \
                     (smtp.example.com, not smtp)"
                }
                _ => "check the host name, port and network",
            };
            return Some(h.to_string());
        }
        cur = e.source();
    }
    Some("check the host name, port, proxy and network".to_string())
}

fn reply_hint(phase: Phase, reply: &Reply) -> Option<String> {
    let text = reply.text().to_ascii_lowercase();
    let enhanced = reply.enhanced.map(|e| (e.subject, e.detail));
    let h = if is_rate_limited(reply) {
        "the server is rate limiting you: slow down (see rate_limit.*) and retry later"
    } else if reply.code == 530 || text.contains("starttls") {
        "the server wants TLS before this command: use security = \"starttls\" (or \"implicit\" on 465)"
    } else if phase == Phase::Auth && (reply.code == 535 || enhanced == Some((7, 8))) {
        "wrong username or password; providers with 2-step verification (Gmail, iCloud, Yahoo, Outlook.com) \
         need an app password or OAuth2"
    } else if phase == Phase::Auth && (reply.code == 534 || reply.code == 538) {
        "the server wants a stronger mechanism or TLS, or an app-specific password"
    } else if reply.code == 554 && enhanced == Some((7, 1)) || text.contains("relay") {
        "relay denied: authenticate (auth.username) or send from an allowed network or sender"
    } else if phase == Phase::Rcpt && enhanced.is_some_and(|(s, _)| s == 1) {
        "the recipient address is unknown or refused by the server; check it"
    } else if phase == Phase::Mail {
        "the server refuses this sender: use an address your account may send as (message.from)"
    } else if reply.code == 552 || enhanced == Some((3, 4)) {
        "the message is too big for the server"
    } else if phase == Phase::Ehlo {
        "the server refused our EHLO name: set ehlo_name to a fully qualified name"
    } else if reply.is_transient() {
        "a temporary failure: try again later"
    } else {
        return None;
    };
    Some(h.to_string())
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
            .contains("starttls")
        );
        assert!(
            h(Phase::Mail, 421, "4.7.0 Too many messages, slow down").contains("rate limiting")
        );
        assert!(h(Phase::Mail, 553, "5.7.1 Sender address rejected").contains("sender"));
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
    }
}
