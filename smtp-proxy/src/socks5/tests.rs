//! The SOCKS5 client against a scripted peer on an in-memory pipe, for
//! what the rig's real proxies cannot be made to do (every reply code,
//! bad versions, stalls); the real proxies are in tests/.

use std::time::Duration;

use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;

/// One scripted step of the fake proxy: read this many bytes, then send.
type Step = (usize, &'static [u8]);
/// As an answer: send nothing and keep the connection open.
const STALL: &[u8] = b"<stall>";
/// As an answer: close the connection.
const HANG_UP: &[u8] = b"<hang up>";

struct Outcome {
    result: Result<(), Error>,
    /// Everything the client wrote, in order.
    sent: Vec<u8>,
    /// What the client can still read after the handshake.
    rest: Vec<u8>,
}

async fn run(
    steps: &'static [Step],
    creds: Option<ProxyCredentials>,
    dns: Dns,
    host: &str,
) -> Outcome {
    run_with(steps, creds, dns, host, Duration::from_secs(5)).await
}

async fn run_with(
    steps: &'static [Step],
    creds: Option<ProxyCredentials>,
    dns: Dns,
    host: &str,
    limit: Duration,
) -> Outcome {
    let (mut client, proxy) = tokio::io::duplex(1024);
    let fake = tokio::spawn(fake_proxy(proxy, steps));
    let hs = Handshake::new("socks5h://127.0.0.1:1080".into(), limit);
    let target = Target::new(host, 2525);
    let result = match prepare(&hs, creds.as_ref(), dns, &target).await {
        Ok(address) => handshake(&mut client, &hs, creds.as_ref(), address, &target).await,
        Err(e) => Err(e),
    };
    let mut rest = Vec::new();
    if result.is_ok() {
        client.read_to_end(&mut rest).await.unwrap();
    }
    drop(client);
    Outcome {
        result,
        sent: fake.await.unwrap(),
        rest,
    }
}

async fn fake_proxy(mut proxy: DuplexStream, steps: &'static [Step]) -> Vec<u8> {
    let mut seen = Vec::new();
    for (read, answer) in steps {
        let mut buf = vec![0u8; *read];
        if proxy.read_exact(&mut buf).await.is_err() {
            return seen;
        }
        seen.extend_from_slice(&buf);
        match *answer {
            HANG_UP => return seen,
            STALL => {
                let _ = proxy.read_to_end(&mut seen).await;
                return seen;
            }
            _ => {
                if proxy.write_all(answer).await.is_err() {
                    return seen;
                }
            }
        }
    }
    let _ = proxy.shutdown().await;
    let _ = proxy.read_to_end(&mut seen).await;
    seen
}

fn creds() -> ProxyCredentials {
    ProxyCredentials::new("proxyuser", SecretString::from("Proxy-Pass-1"))
}

const OK_V4: &[u8] = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38";

#[tokio::test]
async fn no_auth_remote_dns_sends_the_name_and_leaves_server_bytes() {
    const STEPS: &[Step] = &[
        (3, b"\x05\x00"),
        (16, b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38220 greeting"),
    ];
    let out = run(STEPS, None, Dns::Remote, "localhost").await;
    out.result.unwrap();
    assert_eq!(&out.sent[..3], b"\x05\x01\x00", "offers only no-auth");
    assert_eq!(
        &out.sent[3..],
        b"\x05\x01\x00\x03\x09localhost\x09\xdd",
        "ATYP 3, DOMAINNAME"
    );
    assert_eq!(out.rest, b"220 greeting");
}

#[tokio::test]
async fn local_dns_and_ip_literals_send_addresses() {
    const V4: &[Step] = &[(3, b"\x05\x00"), (10, OK_V4)];
    let out = run(V4, None, Dns::Local, "localhost").await;
    out.result.unwrap();
    assert_eq!(
        &out.sent[3..],
        b"\x05\x01\x00\x01\x7f\x00\x00\x01\x09\xdd",
        "ATYP 1"
    );
    let out = run(V4, None, Dns::Remote, "127.0.0.1").await;
    assert_eq!(
        &out.sent[3..],
        b"\x05\x01\x00\x01\x7f\x00\x00\x01\x09\xdd",
        "literal stays an address"
    );
    const V6: &[Step] = &[(3, b"\x05\x00"), (22, OK_V4)];
    let out = run(V6, None, Dns::Remote, "::1").await;
    out.result.unwrap();
    assert_eq!(&out.sent[3..7], b"\x05\x01\x00\x04", "ATYP 4");
}

#[tokio::test]
async fn username_password_auth() {
    const STEPS: &[Step] = &[(4, b"\x05\x02"), (24, b"\x01\x00"), (16, OK_V4)];
    let out = run(STEPS, Some(creds()), Dns::Remote, "localhost").await;
    out.result.unwrap();
    assert_eq!(
        &out.sent[..4],
        b"\x05\x02\x00\x02",
        "offers no-auth and username/password"
    );
    assert_eq!(&out.sent[4..28], b"\x01\x09proxyuser\x0cProxy-Pass-1");
}

#[tokio::test]
async fn rejected_or_hung_up_credentials_are_auth_errors() {
    const REJECT: &[Step] = &[(4, b"\x05\x02"), (24, b"\x01\x01")];
    const HANGUP: &[Step] = &[(4, b"\x05\x02"), (24, HANG_UP)];
    for steps in [REJECT, HANGUP] {
        let e = run(steps, Some(creds()), Dns::Remote, "localhost")
            .await
            .result
            .unwrap_err();
        assert!(matches!(e, Error::AuthRejected { .. }), "{e:?}");
        assert_eq!(e.phase(), ProxyPhase::Auth);
        assert_eq!(e.coded_hint().code, "proxy-auth-rejected");
        assert!(
            e.to_string()
                .starts_with("proxy auth via socks5h://127.0.0.1:1080 failed"),
            "{e}"
        );
        assert!(!format!("{e} {e:?}").contains("Proxy-Pass-1"));
    }
}

#[tokio::test]
async fn no_acceptable_methods() {
    const STEPS: &[Step] = &[(3, b"\x05\xff")];
    let e = run(STEPS, None, Dns::Remote, "localhost")
        .await
        .result
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::NoAcceptableAuthMethod {
                had_credentials: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.phase(), ProxyPhase::Auth);
    assert!(e.hint().unwrap().contains("user:password@"));
    const WITH: &[Step] = &[(4, b"\x05\xff")];
    let e = run(WITH, Some(creds()), Dns::Remote, "localhost")
        .await
        .result
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("no authentication, username/password"),
        "{e}"
    );
}

#[tokio::test]
async fn every_reply_code_is_a_named_refusal() {
    const CODES: [&[u8]; 9] = [
        b"\x05\x01\x00\x01\0\0\0\0\0\0",
        b"\x05\x02\x00\x01\0\0\0\0\0\0",
        b"\x05\x03\x00\x01\0\0\0\0\0\0",
        b"\x05\x04\x00\x01\0\0\0\0\0\0",
        b"\x05\x05\x00\x01\0\0\0\0\0\0",
        b"\x05\x06\x00\x01\0\0\0\0\0\0",
        b"\x05\x07\x00\x01\0\0\0\0\0\0",
        b"\x05\x08\x00\x01\0\0\0\0\0\0",
        b"\x05\x2a\x00\x01\0\0\0\0\0\0",
    ];
    let words = [
        "general failure",
        "connection not allowed by ruleset",
        "network unreachable",
        "host unreachable",
        "connection refused",
        "ttl expired",
        "command not supported",
        "address type not supported",
        "unassigned reply code",
    ];
    for (answer, words) in CODES.iter().zip(words) {
        let steps: &'static [Step] = Box::leak(Box::new([(3, &b"\x05\x00"[..]), (16, *answer)]));
        let e = run(steps, None, Dns::Remote, "localhost")
            .await
            .result
            .unwrap_err();
        let Error::Socks5Refused { reply, target, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(reply.code(), answer[1]);
        assert_eq!(target, "localhost:2525");
        assert_eq!(e.phase(), ProxyPhase::Tunnel);
        let shown = e.to_string();
        assert!(shown.ends_with(words), "{shown}");
        assert!(
            shown.contains(&format!("SOCKS5 reply {:#04x}", answer[1])),
            "{shown}"
        );
    }
}

#[tokio::test]
async fn not_a_socks5_proxy() {
    const HTTP: &[Step] = &[(3, b"HTTP/1.1 400 Bad Request\r\n\r\n")];
    let e = run(HTTP, None, Dns::Remote, "localhost")
        .await
        .result
        .unwrap_err();
    assert!(matches!(e, Error::Protocol { .. }), "{e:?}");
    assert!(
        e.to_string()
            .ends_with("the proxy answered in HTTP, not SOCKS5"),
        "{e}"
    );
    assert_eq!(e.coded_hint().code, "proxy-wrong-protocol");
    const V4: &[Step] = &[(3, b"\x04\x5b")];
    let e = run(V4, None, Dns::Remote, "localhost")
        .await
        .result
        .unwrap_err();
    assert!(
        e.to_string().contains("expected SOCKS version 5, got 0x04"),
        "{e}"
    );
    const UNOFFERED: &[Step] = &[(3, b"\x05\x02")];
    let e = run(UNOFFERED, None, Dns::Remote, "localhost")
        .await
        .result
        .unwrap_err();
    assert!(e.to_string().contains("not offered"), "{e}");
}

#[tokio::test]
async fn a_silent_proxy_times_out_naming_the_phase() {
    const AUTH_STALL: &[Step] = &[(3, STALL)];
    let started = std::time::Instant::now();
    let e = run_with(
        AUTH_STALL,
        None,
        Dns::Remote,
        "localhost",
        Duration::from_millis(200),
    )
    .await;
    let e = e.result.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        matches!(
            e,
            Error::Timeout {
                phase: ProxyPhase::Auth,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "proxy auth via socks5h://127.0.0.1:1080 timed out after 200ms"
    );
    const TUNNEL_STALL: &[Step] = &[(3, b"\x05\x00"), (16, STALL)];
    let e = run_with(
        TUNNEL_STALL,
        None,
        Dns::Remote,
        "localhost",
        Duration::from_millis(200),
    )
    .await;
    assert!(matches!(
        e.result,
        Err(Error::Timeout {
            phase: ProxyPhase::Tunnel,
            ..
        })
    ));
}

#[tokio::test]
async fn oversized_names_are_refused_before_sending() {
    let long = "a".repeat(256);
    let e = run(&[], None, Dns::Remote, &long).await;
    assert!(e.sent.is_empty());
    assert!(matches!(e.result, Err(Error::UnsupportedTarget { .. })));
    let long_user = ProxyCredentials::new("u".repeat(256), SecretString::from("p"));
    let e = run(&[], Some(long_user), Dns::Remote, "localhost").await;
    assert!(matches!(e.result, Err(Error::InvalidCredentials { .. })));
}

#[tokio::test]
async fn any_bound_address_is_skipped_exactly() {
    // Found by the socks_reply fuzz target: a BND.ADDR domain that is not
    // UTF-8 failed the tunnel although the address is never used.
    const DOMAIN: &[Step] = &[
        (3, b"\x05\x00"),
        (16, b"\x05\x00\x00\x03\x03\xff\xfe\x80\x04\x38220 hi"),
    ];
    const V6: &[Step] = &[
        (3, b"\x05\x00"),
        (
            16,
            b"\x05\x00\x00\x04\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x04\x38220 hi",
        ),
    ];
    for steps in [DOMAIN, V6] {
        let out = run(steps, None, Dns::Remote, "localhost").await;
        out.result.unwrap();
        assert_eq!(out.rest, b"220 hi");
    }
    const UNKNOWN: &[Step] = &[(3, b"\x05\x00"), (16, b"\x05\x00\x00\x07\x01\x02")];
    let out = run(UNKNOWN, None, Dns::Remote, "localhost").await;
    let e = out.result.unwrap_err();
    assert!(matches!(e, Error::Protocol { .. }), "{e:?}");
    assert!(e.to_string().contains("unknown address type 0x07"), "{e}");
}
