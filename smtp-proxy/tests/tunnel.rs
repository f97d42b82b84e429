//! Tunnels through the rig's real proxies (dante, microsocks, OpenSSH's
//! `ssh -D`, tinyproxy, squid) to Postfix, at the connector level: the SMTP greeting must come
//! through, and refusals must be clear errors.

mod common;

use std::sync::Arc;

use common::{every_proxy, greeting, peers, proxy_error, url, url_wrong_password};
use smtp_core::{Connector, Target, TcpConnector};
use smtp_proxy::ProxyUrlExt;
use smtp_proxy::{Dns, Error, HttpConnect, ProxyPhase, Socks4, Socks5};
use smtp_testkit::engine::RecordingConnector;

fn postfix() -> Target {
    Target::new(peers().host.clone(), peers().postfix_plain_port)
}

#[tokio::test]
async fn every_proxy_carries_the_greeting() {
    for (what, url) in every_proxy() {
        for host in [peers().host.as_str(), "localhost"] {
            if what == "dante socks4a" && host == "localhost" {
                // dante has no SOCKS4a: it takes the 4a marker 0.0.0.1 as the
                // address and its loopback-only rule refuses it.
                let e = url
                    .connector(TcpConnector::new())
                    .connect(&Target::new(host, 2525))
                    .await
                    .err();
                assert!(matches!(
                    proxy_error(e.unwrap().as_ref()),
                    Error::Socks4Refused { .. }
                ));
                continue;
            }
            let target = Target::new(host, peers().postfix_plain_port);
            let stream = url.connector(TcpConnector::new()).connect(&target).await;
            let stream = stream.unwrap_or_else(|e| panic!("{what} to {target}: {e}"));
            let line = greeting(stream).await;
            assert!(line.starts_with("220 "), "{what} to {target}: {line:?}");
        }
    }
}

#[tokio::test]
async fn wrong_password_is_a_proxy_auth_error() {
    let p = peers();
    for (what, url) in [
        (
            "microsocks",
            url_wrong_password("socks5h", p.socks5_auth_port),
        ),
        (
            "tinyproxy",
            url_wrong_password("http", p.http_proxy_auth_port),
        ),
        ("squid", url_wrong_password("http", p.squid_auth_port)),
    ] {
        let e = url
            .connector(TcpConnector::new())
            .connect(&postfix())
            .await
            .err();
        let e = e.unwrap_or_else(|| panic!("{what}: a wrong password must not open a tunnel"));
        let e = proxy_error(e.as_ref());
        assert_eq!(e.phase(), ProxyPhase::Auth, "{what}: {e}");
        assert_eq!(e.coded_hint().code, "proxy-auth-rejected", "{what}: {e}");
        assert!(
            e.coded_hint().text.contains("{ProxyUrl}"),
            "{what}: {}",
            e.coded_hint()
        );
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("Wrong-Pass-9"), "{what}: {shown}");
    }
}

#[tokio::test]
async fn missing_credentials_say_the_proxy_wants_them() {
    let p = peers();
    let e = url("socks5h", p.socks5_auth_port, false)
        .connector(TcpConnector::new())
        .connect(&postfix())
        .await;
    let e = e
        .err()
        .expect("microsocks with auth must refuse an anonymous client");
    let e = proxy_error(e.as_ref());
    assert!(matches!(e, Error::NoAcceptableAuthMethod { .. }), "{e:?}");
    assert!(e.hint().unwrap().contains("user:password@"), "{e}");
    for port in [p.http_proxy_auth_port, p.squid_auth_port] {
        let e = url("http", port, false)
            .connector(TcpConnector::new())
            .connect(&postfix())
            .await;
        let e = e.err().expect("407 expected");
        let e = proxy_error(e.as_ref());
        assert!(
            matches!(e, Error::HttpRefused { status: 407, .. }),
            "{port}: {e:?}"
        );
        assert_eq!(e.phase(), ProxyPhase::Auth);
    }
}

#[tokio::test]
async fn proxies_refusing_the_destination_say_so() {
    // 0.0.0.0 is outside every proxy's loopback-only rule (dante refuses it
    // as an unbound address, tinyproxy's filter and squid's acl do not match).
    let p = peers();
    let nowhere = Target::new("0.0.0.0", p.postfix_plain_port);
    let e = url("socks5h", p.socks5_port, false)
        .connector(TcpConnector::new())
        .connect(&nowhere)
        .await;
    let e = e.err().expect("dante must refuse 0.0.0.0");
    let e = proxy_error(e.as_ref());
    let Error::Socks5Refused { reply, .. } = e else {
        panic!("{e:?}")
    };
    assert_ne!(reply.code(), 0);
    assert_eq!(e.phase(), ProxyPhase::Tunnel);
    assert!(
        e.to_string()
            .contains("tunnel to 0.0.0.0:2525 via socks5h://127.0.0.1:1080 refused"),
        "{e}"
    );

    let e = url("socks4", p.socks5_port, false)
        .connector(TcpConnector::new())
        .connect(&nowhere)
        .await;
    let e = e.err().expect("dante must refuse 0.0.0.0 over socks4");
    assert!(
        matches!(proxy_error(e.as_ref()), Error::Socks4Refused { .. }),
        "{e:?}"
    );

    for port in [p.http_proxy_port, p.squid_port] {
        let e = url("http", port, false)
            .connector(TcpConnector::new())
            .connect(&nowhere)
            .await;
        let e = e.err().expect("http proxies must refuse 0.0.0.0");
        let e = proxy_error(e.as_ref());
        assert!(
            matches!(e, Error::HttpRefused { status: 403, .. }),
            "{port}: {e:?}"
        );
        assert!(
            e.hint()
                .unwrap()
                .contains("the proxy refuses this destination"),
            "{e}"
        );
    }
}

#[tokio::test]
async fn socks5h_sends_the_name_and_socks5_an_address() {
    let p = peers();
    let target = Target::new("localhost", p.postfix_plain_port);
    for (dns, atyp, addr) in [
        (Dns::Remote, 0x03, &b"\x09localhost"[..]),
        (Dns::Local, 0x01, b"\x7f\x00\x00\x01"),
    ] {
        let recording = RecordingConnector::default();
        let socks = Socks5::new(
            recording.clone(),
            Target::new(p.host.clone(), p.socks5_port),
        )
        .dns(dns);
        let stream = socks
            .connect(&target)
            .await
            .unwrap_or_else(|e| panic!("{dns:?}: {e}"));
        assert!(greeting(stream).await.starts_with("220 "));
        let sent = recording.written();
        // [05 01 00] method selection, then VER CMD RSV ATYP DST.ADDR DST.PORT
        assert_eq!(&sent[..3], b"\x05\x01\x00");
        assert_eq!(&sent[3..7], &[0x05, 0x01, 0x00, atyp], "{dns:?}: {sent:x?}");
        assert_eq!(&sent[7..7 + addr.len()], addr, "{dns:?}: {sent:x?}");
        assert_eq!(&sent[7 + addr.len()..], &p.postfix_plain_port.to_be_bytes());
    }
}

/// SOCKS4a against a real server: OpenSSH's `ssh -D` takes the name
/// (`0.0.0.1` marker + name after the user id) and sshd resolves it;
/// SOCKS4 with local DNS sends 127.0.0.1 instead.
#[tokio::test]
async fn socks4a_sends_the_name_and_ssh_resolves_it() {
    let p = peers();
    let target = Target::new("localhost", p.postfix_plain_port);
    for (dns, addr, name) in [
        (Dns::Remote, [0, 0, 0, 1], &b"localhost\0"[..]),
        (Dns::Local, [127, 0, 0, 1], b""),
    ] {
        let recording = RecordingConnector::default();
        let socks = Socks4::new(
            recording.clone(),
            Target::new(p.host.clone(), p.socks4a_port),
        )
        .dns(dns);
        let stream = socks
            .connect(&target)
            .await
            .unwrap_or_else(|e| panic!("{dns:?}: {e}"));
        assert!(greeting(stream).await.starts_with("220 "), "{dns:?}");
        let sent = recording.written();
        // VN=4 CD=1 DSTPORT DSTIP USERID NUL [name NUL]
        assert_eq!(&sent[..2], [4, 1], "{dns:?}: {sent:x?}");
        assert_eq!(&sent[2..4], p.postfix_plain_port.to_be_bytes(), "{dns:?}");
        assert_eq!(&sent[4..8], addr, "{dns:?}: {sent:x?}");
        assert_eq!(
            &sent[8..],
            [&[0u8][..], name].concat(),
            "{dns:?}: {sent:x?}"
        );
    }
}

/// A name the SOCKS4a server may not reach: sshd refuses the forward and
/// `ssh -D` closes the connection without a SOCKS reply.
#[tokio::test]
async fn socks4a_destination_refused_by_sshd_is_a_clear_error() {
    let p = peers();
    let socks = Socks4::new(
        TcpConnector::new(),
        Target::new(p.host.clone(), p.socks4a_port),
    )
    .dns(Dns::Remote);
    let e = socks
        .connect(&Target::new("mail.example.test", 25))
        .await
        .err()
        .expect("sshd forwards to loopback only");
    let e = proxy_error(e.as_ref());
    assert_eq!(e.phase(), ProxyPhase::Tunnel, "{e}");
    assert!(
        e.to_string()
            .ends_with("failed: the proxy closed the connection"),
        "{e}"
    );
    assert_eq!(e.coded_hint().code, "proxy-closed-on-tunnel");
}

#[tokio::test]
async fn chain_socks5_then_http_connect() {
    let p = peers();
    for http_port in [p.http_proxy_port, p.squid_port] {
        let first = Socks5::new(
            TcpConnector::new(),
            Target::new(p.host.clone(), p.socks5_port),
        );
        let chain = HttpConnect::new(first, Target::new(p.host.clone(), http_port));
        let stream = chain
            .connect(&postfix())
            .await
            .unwrap_or_else(|e| panic!("chain via {http_port}: {e}"));
        assert!(greeting(stream).await.starts_with("220 "));
    }
    // and a chain built from urls
    let inner = url("socks5h", p.socks5_microsocks_port, false).connector(TcpConnector::new());
    let chain = url("http", p.squid_auth_port, true).connector(inner);
    assert!(
        greeting(chain.connect(&postfix()).await.unwrap())
            .await
            .starts_with("220 ")
    );
}

#[tokio::test]
async fn an_unreachable_proxy_is_a_connect_error() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let connector: Arc<dyn Connector> = url("socks5h", port, false).connector(TcpConnector::new());
    let e = connector
        .connect(&postfix())
        .await
        .err()
        .expect("nothing listens");
    let e = proxy_error(e.as_ref());
    assert!(matches!(e, Error::ConnectToProxy { .. }), "{e:?}");
    assert_eq!(e.phase(), ProxyPhase::Connect);
    assert!(
        e.to_string().starts_with(&format!(
            "connect to proxy socks5h://127.0.0.1:{port} failed"
        )),
        "{e}"
    );
}
