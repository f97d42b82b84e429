//! The rig itself, against the running peers: every port answers, mail
//! sent by hand lands where `peers.env` says, the token endpoint mints
//! tokens. Fails (with how to start the peers) when they are not running.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use secrecy::ExposeSecret;
use smtp_testkit::{peers, unique_tag, wait_for_mail};

const T: Duration = Duration::from_secs(10);

#[test]
fn every_listed_port_accepts_connections() {
    let p = peers();
    let ports = [
        p.postfix_plain_port,
        p.postfix_submission_port,
        p.postfix_smtps_port,
        p.postfix_starttls_optional_port,
        p.postfix_tls12_starttls_port,
        p.postfix_tls13_starttls_port,
        p.postfix_tls12_smtps_port,
        p.postfix_tls13_smtps_port,
        p.postfix_badcert_host_port,
        p.postfix_badcert_expired_port,
        p.postfix_badcert_selfsigned_port,
        p.postfix_mtls_port,
        p.postfix_small_size_port,
        p.smtp_sink_port,
        p.smtp_sink_nopipe_port,
        p.smtp_sink_noesmtp_port,
        p.smtp_sink_rcpt5xx_port,
        p.smtp_sink_mail4xx_port,
        p.smtp_sink_data421_port,
        p.smtp_sink_dotdrop_port,
        p.aiosmtpd_plain_port,
        p.aiosmtpd_starttls_port,
        p.aiosmtpd_smtps_port,
        p.token_endpoint_port,
        p.socks5_port,
        p.socks5_microsocks_port,
        p.socks5_auth_port,
        p.http_proxy_port,
        p.http_proxy_auth_port,
        p.squid_port,
        p.squid_auth_port,
    ];
    assert!(p.skipped.is_empty(), "peers were skipped: {:?}", p.skipped);
    let down: Vec<u16> = ports
        .iter()
        .copied()
        .filter(|&port| TcpStream::connect_timeout(&p.addr(port), T).is_err())
        .collect();
    assert!(down.is_empty(), "not listening: {down:?}");
    for f in [
        &p.ca_cert,
        &p.server_chain,
        &p.server_key,
        &p.client_cert,
        &p.client_key,
    ] {
        assert!(f.is_file(), "{} is missing", f.display());
    }
}

/// A plain SMTP exchange by hand; returns the reply to the final dot.
fn send_plain(port: u16, subject: &str) -> String {
    let stream = TcpStream::connect(peers().addr(port)).unwrap();
    stream.set_read_timeout(Some(T)).unwrap();
    let mut w = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    // the last line of a (possibly multi-line) reply
    let mut reply = || {
        loop {
            let mut line = String::new();
            assert!(r.read_line(&mut line).unwrap() > 0, "server closed");
            if line.as_bytes().get(3) != Some(&b'-') {
                return line;
            }
        }
    };
    assert!(reply().starts_with("220"));
    for cmd in [
        "EHLO client.example",
        "MAIL FROM:<sender@example.net>",
        "RCPT TO:<rcpt@example.org>",
    ] {
        write!(w, "{cmd}\r\n").unwrap();
        let r = reply();
        assert!(r.starts_with("250"), "{cmd}: {r}");
    }
    write!(w, "DATA\r\n").unwrap();
    assert!(reply().starts_with("354"));
    write!(w, "Subject: {subject}\r\n\r\nhello\r\n.\r\n").unwrap();
    let end = reply();
    write!(w, "QUIT\r\n").unwrap();
    end
}

#[test]
fn postfix_delivers_to_its_maildir() {
    let p = peers();
    let tag = unique_tag("rig-postfix");
    let end = send_plain(p.postfix_plain_port, &tag);
    assert!(end.starts_with("250"), "{end}");
    let found = wait_for_mail(&p.postfix_maildir, &tag, T);
    assert_eq!(found.len(), 1);
    let text = String::from_utf8_lossy(&found[0]);
    assert!(text.contains("Received: from client.example"), "{text}");
}

#[test]
fn aiosmtpd_delivers_to_its_maildir() {
    let p = peers();
    let tag = unique_tag("rig-aiosmtpd");
    let end = send_plain(p.aiosmtpd_plain_port, &tag);
    assert!(end.starts_with("250"), "{end}");
    let found = wait_for_mail(&p.aiosmtpd_maildir, &tag, T);
    let text = String::from_utf8_lossy(&found[0]);
    assert!(
        text.contains(&format!("X-Peer-Port: {}", p.aiosmtpd_plain_port)),
        "{text}"
    );
    assert!(text.contains("X-Envelope-To: <rcpt@example.org>"), "{text}");
}

/// POST /token by hand; returns (status line, body).
fn token_request(form: &str) -> (String, String) {
    let p = peers();
    let mut s = TcpStream::connect(p.addr(p.token_endpoint_port)).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    write!(
        s,
        "POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

fn count() -> u64 {
    let p = peers();
    let mut s = TcpStream::connect(p.addr(p.token_endpoint_port)).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    write!(
        s,
        "GET /count HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.split_once("\r\n\r\n")
        .unwrap()
        .1
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn token_endpoint_mints_for_the_right_refresh_token_only() {
    let p = peers();
    assert_eq!(
        p.token_endpoint,
        format!("http://127.0.0.1:{}/token", p.token_endpoint_port)
    );
    let before = count();
    let good = format!(
        "grant_type=refresh_token&refresh_token={}&client_id={}&client_secret={}",
        p.oauth_refresh_token.expose_secret(),
        p.oauth_client_id,
        p.oauth_client_secret.expose_secret()
    );
    let (status, body) = token_request(&good);
    assert!(status.contains(" 200 "), "{status} {body}");
    assert!(body.contains("\"access_token\": \"eyJ"), "{body}");
    assert!(body.contains("\"token_type\": \"Bearer\""), "{body}");
    assert!(body.contains("\"expires_in\": 3600"), "{body}");
    let bad = good.replace(p.oauth_refresh_token.expose_secret(), "wrong");
    let (status, body) = token_request(&bad);
    assert!(status.contains(" 400 "), "{status}");
    assert_eq!(body, "{\"error\": \"invalid_grant\"}");
    assert!(count() >= before + 2);
}
