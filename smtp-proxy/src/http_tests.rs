//! The CONNECT client against a scripted peer on an in-memory pipe: exact
//! bytes on the wire, no over-read, answers real proxies do not give on
//! demand. The real proxies are in tests/.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

fn hs() -> Handshake {
    Handshake::new("http://127.0.0.1:3128".into(), Duration::from_secs(5))
}

fn creds() -> ProxyCredentials {
    ProxyCredentials::new("proxyuser", SecretString::from("Proxy-Pass-1"))
}

struct Outcome {
    result: Result<(), Error>,
    request: Vec<u8>,
    rest: Vec<u8>,
}

/// The fake proxy reads the request head, then sends `answer` in one write.
async fn exchange(
    answer: &'static [u8],
    credentials: Option<ProxyCredentials>,
    target: Target,
) -> Outcome {
    let (mut client, mut proxy) = tokio::io::duplex(64 * 1024);
    let fake = tokio::spawn(async move {
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") && proxy.read_exact(&mut byte).await.is_ok() {
            request.push(byte[0]);
        }
        let _ = proxy.write_all(answer).await;
        let _ = proxy.shutdown().await;
        let _ = proxy.read_to_end(&mut Vec::new()).await;
        request
    });
    let hs = hs();
    let req = request(&hs, credentials.as_ref(), &target).unwrap();
    let result = handshake(&mut client, &hs, &req, &target, credentials.is_some()).await;
    let mut rest = Vec::new();
    if result.is_ok() {
        client.read_to_end(&mut rest).await.unwrap();
    }
    drop(client);
    Outcome {
        result,
        request: fake.await.unwrap(),
        rest,
    }
}

#[test]
fn request_bytes() {
    let r = request(&hs(), None, &Target::new("localhost", 2525)).unwrap();
    assert_eq!(
        &r[..],
        b"CONNECT localhost:2525 HTTP/1.1\r\nHost: localhost:2525\r\n\r\n"
    );
    let r = request(&hs(), None, &Target::new("::1", 2525)).unwrap();
    assert_eq!(
        &r[..],
        b"CONNECT [::1]:2525 HTTP/1.1\r\nHost: [::1]:2525\r\n\r\n"
    );
    let r = request(&hs(), Some(&creds()), &Target::new("127.0.0.1", 25)).unwrap();
    // base64("proxyuser:Proxy-Pass-1")
    assert_eq!(
        &r[..],
        &b"CONNECT 127.0.0.1:25 HTTP/1.1\r\nHost: 127.0.0.1:25\r\n\
           Proxy-Authorization: Basic cHJveHl1c2VyOlByb3h5LVBhc3MtMQ==\r\n\r\n"[..]
    );
    let domain_user = ProxyCredentials::new("CORP\\alice", SecretString::from("pw"));
    let r = request(&hs(), Some(&domain_user), &Target::new("127.0.0.1", 25)).unwrap();
    assert!(
        r.windows(16).any(|w| w == b"Q09SUFxhbGljZTpw"),
        "DOMAIN\\user sent as is"
    );
}

#[test]
fn request_refuses_what_would_break_the_header() {
    for host in ["a b", "evil\r\nX-Injected: 1", "a/b", ""] {
        let e = request(&hs(), None, &Target::new(host, 25)).unwrap_err();
        assert!(
            matches!(e, Error::UnsupportedTarget { .. }),
            "{host:?}: {e:?}"
        );
    }
    let colon = ProxyCredentials::new("a:b", SecretString::from("pw"));
    assert!(matches!(
        request(&hs(), Some(&colon), &Target::new("h", 1)),
        Err(Error::InvalidCredentials { .. })
    ));
    let crlf = ProxyCredentials::new("a", SecretString::from("pw\r\nX: y"));
    let e = request(&hs(), Some(&crlf), &Target::new("h", 1)).unwrap_err();
    assert!(!format!("{e} {e:?}").contains("pw"), "{e:?}");
}

#[tokio::test]
async fn success_keeps_every_byte_after_the_head() {
    for answer in [
        &b"HTTP/1.1 200 Connection established\r\n\r\n220 mail.example ESMTP\r\n"[..],
        b"HTTP/1.0 200 OK\r\nProxy-Agent: x\r\nContent-Length: 5\r\n\r\n220 mail.example ESMTP\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n220 mail.example ESMTP\r\n",
        b"HTTP/1.1 200 OK\n\n220 mail.example ESMTP\r\n",
    ] {
        let out = exchange(answer, None, Target::new("localhost", 2525)).await;
        out.result.unwrap();
        assert_eq!(
            out.rest,
            b"220 mail.example ESMTP\r\n",
            "{:?}",
            String::from_utf8_lossy(answer)
        );
        assert!(
            out.request
                .starts_with(b"CONNECT localhost:2525 HTTP/1.1\r\n")
        );
    }
}

#[tokio::test]
async fn refusals_carry_status_reason_and_hint() {
    let cases: [(&'static [u8], u16, ProxyPhase, &str); 5] = [
        (
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\n\r\nbody",
            407,
            ProxyPhase::Auth,
            "check the proxy user name and password in `smtp_core::ProxyUrl::parse`",
        ),
        (b"HTTP/1.1 403 Filtered\r\n\r\n", 403, ProxyPhase::Tunnel, "the proxy refuses this destination"),
        (b"HTTP/1.1 502 Bad Gateway\r\n\r\n", 502, ProxyPhase::Tunnel, "the proxy could not reach the server"),
        (b"HTTP/1.1 503 Unavailable\r\n\r\n", 503, ProxyPhase::Tunnel, "the proxy could not reach the server"),
        (b"HTTP/1.1 504 Timeout\r\n\r\n", 504, ProxyPhase::Tunnel, "the proxy could not reach the server"),
    ];
    for (answer, status, phase, hint) in cases {
        let e = exchange(answer, Some(creds()), Target::new("127.0.0.1", 25))
            .await
            .result
            .unwrap_err();
        let Error::HttpRefused { status: got, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(*got, status);
        assert_eq!(e.phase(), phase);
        assert!(e.hint().unwrap().contains(hint), "{:?}", e.hint());
        let line = match status {
            407 => format!("proxy auth via http://127.0.0.1:3128 failed: HTTP {status} "),
            _ => {
                format!("tunnel to 127.0.0.1:25 via http://127.0.0.1:3128 refused: HTTP {status} ")
            }
        };
        assert!(e.to_string().starts_with(&line), "{e}");
    }
    let e = exchange(
        b"HTTP/1.1 407 Auth\r\nProxy-Authenticate: NTLM\r\n\r\n",
        None,
        Target::new("h", 1),
    )
    .await;
    assert!(e.result.unwrap_err().to_string().contains("asks for NTLM"));
}

#[tokio::test]
async fn garbage_oversize_and_hangup() {
    let e = exchange(b"SSH-2.0-OpenSSH_9.2\r\n\r\n", None, Target::new("h", 1))
        .await
        .result
        .unwrap_err();
    assert!(e.to_string().contains("does not start with HTTP/"), "{e}");
    let huge: &'static [u8] = Box::leak(
        [
            &b"HTTP/1.1 200 OK\r\n"[..],
            &b"X: y\r\n".repeat(4000),
            b"\r\n",
        ]
        .concat()
        .into_boxed_slice(),
    );
    let e = exchange(huge, None, Target::new("h", 1))
        .await
        .result
        .unwrap_err();
    assert!(e.to_string().contains("exceeds 16 KiB"), "{e}");
    let e = exchange(b"HTTP/1.1 200 OK\r\n", None, Target::new("h", 1))
        .await
        .result
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Closed {
                phase: ProxyPhase::Tunnel,
                ..
            }
        ),
        "{e:?}"
    );
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn trace_logs_never_show_the_authorization() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let out = rt.block_on(exchange(
            b"HTTP/1.1 200 OK\r\n\r\n",
            Some(creds()),
            Target::new("localhost", 2525),
        ));
        out.result.unwrap();
        assert!(
            out.request
                .windows(20)
                .any(|w| w == b"Proxy-Authorization:")
        );
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("sending CONNECT"),
        "the trace line must be there to be checked: {logs}"
    );
    for secret in [
        "Proxy-Pass-1",
        "cHJveHl1c2VyOlByb3h5LVBhc3MtMQ",
        "Proxy-Authorization",
    ] {
        assert!(!logs.contains(secret), "{secret} in logs: {logs}");
    }
}
