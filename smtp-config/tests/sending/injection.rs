//! Input injection through the library APIs an integrator calls directly
//! (no config, no CLI): CR, LF, CRLF, NUL and over-long values are refused
//! before anything connects. The CLI/TOML/env rows are in
//! smtp-cli/tests/security/injection.rs; the table with the limits is in
//! docs/security.md.

use std::sync::Arc;

use secrecy::SecretString;
use smtp_core::{Address, Connector, Security, SmtpTransport, Target, TcpConnector};
use smtp_testkit::ConnectionTrap;

/// `good` with CR, LF, CRLF and NUL spliced in, plus the over-long ones.
fn bad(good: &str, long: &[String]) -> Vec<(String, String)> {
    let inject = "RCPT TO:<evil@example.test>";
    let mut out: Vec<(String, String)> =
        [("CR", "\r"), ("LF", "\n"), ("CRLF", "\r\n"), ("NUL", "\0")]
            .iter()
            .map(|(k, sep)| (k.to_string(), format!("{good}{sep}{inject}")))
            .collect();
    out.extend(
        long.iter()
            .map(|l| (format!("{} bytes", l.len()), l.clone())),
    );
    out
}

fn name_256() -> String {
    format!("{}.example.test", vec!["h".repeat(60); 4].join("."))
}

/// Runs `check` for every bad value; collects what was not refused with
/// an error containing `says`.
fn table<E: std::fmt::Display>(
    input: &str,
    values: Vec<(String, String)>,
    says: &str,
    check: impl Fn(&str) -> Result<(), E>,
    failures: &mut Vec<String>,
) -> usize {
    let n = values.len();
    for (kind, v) in values {
        match check(&v) {
            Ok(()) => failures.push(format!("{input} {kind}: accepted")),
            Err(e) if !e.to_string().to_lowercase().contains(says) => {
                failures.push(format!("{input} {kind}: error does not say {says:?}: {e}"))
            }
            Err(_) => {}
        }
    }
    n
}

#[test]
fn builder_and_credentials_refuse_bad_values() {
    let mut failures = Vec::new();
    let mut cases = 0;
    let long_addr = [
        format!("{}@example.test", "l".repeat(65)),
        format!("a@{}.test", vec!["d".repeat(60); 5].join(".")),
    ];
    cases += table(
        "Address::new",
        bad("a@example.test", &long_addr),
        "invalid address",
        |v| Address::new(v).map(drop),
        &mut failures,
    );
    let builder = || SmtpTransport::builder("127.0.0.1").security(Security::None);
    cases += table(
        "SmtpTransportBuilder host",
        bad("mail.example.test", &[name_256()]),
        "host",
        |v| {
            SmtpTransport::builder(v)
                .security(Security::None)
                .build()
                .map(drop)
        },
        &mut failures,
    );
    cases += table(
        "SmtpTransportBuilder::ehlo_name",
        bad("client.example.test", &[name_256()]),
        "ehlo name",
        |v| builder().ehlo_name(v).build().map(drop),
        &mut failures,
    );
    cases += table(
        "SmtpTransportBuilder::tls_server_name",
        bad("mail.example.test", &[name_256()]),
        "tls server name",
        |v| builder().tls_server_name(v).build().map(drop),
        &mut failures,
    );
    let sasl = |c: smtp_auth::Credentials| {
        smtp_auth::SaslAuthenticator::builder()
            .credentials(c)
            .build()
            .map(drop)
    };
    cases += table(
        "smtp_auth::Credentials username",
        bad("tester@example.test", &["u".repeat(256)]),
        "username",
        |v| sasl(smtp_auth::Credentials::password(v, "Good-Pass-1")),
        &mut failures,
    );
    // CR and LF are legal in a SASL password (it travels in base64);
    // NUL would split a PLAIN message, and length is bounded.
    let pw = bad("Good-Pass-1", &["p".repeat(8193)]);
    cases += table(
        "smtp_auth::Credentials password",
        pw.into_iter()
            .filter(|(k, _)| !k.starts_with("CR") && k != "LF")
            .collect(),
        "password",
        |v| sasl(smtp_auth::Credentials::password("tester@example.test", v)),
        &mut failures,
    );
    cases += table(
        "ProxyUrl::parse password",
        bad("pw", &["p".repeat(256)])
            .into_iter()
            .map(|(k, v)| (k, format!("socks5h://user:{v}@127.0.0.1:1080")))
            .collect(),
        "password",
        |v| smtp_core::ProxyUrl::parse(v).map(drop),
        &mut failures,
    );
    cases += table(
        "ProxyUrl::parse user",
        bad("user", &["u".repeat(256)])
            .into_iter()
            .map(|(k, v)| (k, format!("http://{v}:pw@127.0.0.1:3128")))
            .collect(),
        "proxy url",
        |v| smtp_core::ProxyUrl::parse(v).map(drop),
        &mut failures,
    );
    cases += table(
        "ProxyUrl::parse host",
        bad("127.0.0.1", &[name_256()])
            .into_iter()
            .map(|(k, v)| (k, format!("socks5h://{v}:1080")))
            .collect(),
        "proxy url",
        |v| smtp_core::ProxyUrl::parse(v).map(drop),
        &mut failures,
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases not refused:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Proxy connectors built in code (no URL): bad credentials and targets
/// are refused before the proxy is dialled.
#[tokio::test]
async fn proxy_connectors_refuse_before_dialling() {
    let trap = ConnectionTrap::new();
    let proxy = Target::new("127.0.0.1", trap.port());
    let target = Target::new("mail.example.test", 25);
    let mut failures = Vec::new();
    let creds =
        |user: &str, pass: &str| smtp_core::ProxyCredentials::new(user, SecretString::from(pass));
    let mut cases: Vec<(String, smtp_core::ProxyCredentials)> = Vec::new();
    for (kind, v) in bad("proxyuser", &["u".repeat(256)]) {
        cases.push((format!("user {kind}"), creds(&v, "Proxy-Pass-1")));
    }
    for (kind, v) in bad("Proxy-Pass-1", &["p".repeat(256)]) {
        cases.push((format!("password {kind}"), creds("proxyuser", &v)));
    }
    for (label, c) in cases {
        let socks: Arc<dyn Connector> = Arc::new(
            smtp_proxy::Socks5::new(TcpConnector::new(), proxy.clone()).credentials(c.clone()),
        );
        let http: Arc<dyn Connector> = Arc::new(
            smtp_proxy::HttpConnect::new(TcpConnector::new(), proxy.clone()).credentials(c),
        );
        for (scheme, connector) in [("socks5", socks), ("http", http)] {
            let result = connector.connect(&target).await;
            let dialled = trap.connections();
            match result {
                Ok(_) => failures.push(format!("{scheme} {label}: connected")),
                Err(e) if dialled > 0 => {
                    failures.push(format!("{scheme} {label}: dialled the proxy first: {e}"))
                }
                Err(e) if !e.to_string().contains("credentials") => failures.push(format!(
                    "{scheme} {label}: error does not name the credentials: {e}"
                )),
                Err(_) => {}
            }
        }
    }
    // The target host is the SMTP host: CR/LF/NUL/over-long never reach
    // the CONNECT line or the SOCKS request.
    for (kind, host) in bad("mail.example.test", &["h".repeat(256)]) {
        let target = Target::new(host, 25);
        for (scheme, connector) in [
            (
                "socks5",
                Arc::new(smtp_proxy::Socks5::new(TcpConnector::new(), proxy.clone()))
                    as Arc<dyn Connector>,
            ),
            (
                "http",
                Arc::new(smtp_proxy::HttpConnect::new(
                    TcpConnector::new(),
                    proxy.clone(),
                )),
            ),
        ] {
            let result = connector.connect(&target).await;
            let dialled = trap.connections();
            if result.is_ok() || dialled > 0 {
                failures.push(format!(
                    "{scheme} target host {kind}: not refused before dialling"
                ));
            }
        }
    }
    // The trap does see a connector with good values dial it.
    let good = creds("proxyuser", "Proxy-Pass-1");
    let socks = smtp_proxy::Socks5::new(TcpConnector::new(), proxy.clone()).credentials(good);
    assert!(socks.connect(&target).await.is_err());
    assert_eq!(trap.connections(), 1, "the trap missed a connection");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
