//! `smtp test`: connect, report each stage with timing, explain failures.
//!
//! The JSON report (`--json`) is documented in docs/troubleshooting.md;
//! its `schema` field changes when a field is renamed or removed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;
use smtp_core::{Address, Envelope, SessionEvent};

use crate::cli::{GlobalArgs, TestArgs};
use crate::codes::cli_hints;
use crate::exit::{self, CliError, Exit};
use crate::record::Recorder;
use crate::setup::{self, Dest};

/// Bumped when a field changes meaning or disappears.
const SCHEMA: &str = "smtp-test/1";

#[derive(Debug, Serialize)]
struct Report {
    schema: &'static str,
    ok: bool,
    target: String,
    security: String,
    proxy: Option<String>,
    stages: Vec<Stage>,
    failure: Option<Failure>,
}

#[derive(Debug, Serialize)]
struct Stage {
    name: &'static str,
    ok: bool,
    elapsed_ms: Option<u64>,
    detail: serde_json::Value,
}

#[derive(Debug, Serialize)]
struct Failure {
    stage: String,
    error: String,
    reply: Option<String>,
    hint: Option<String>,
    /// The hint's stable code: the anchor of its docs/troubleshooting.md entry.
    hint_code: Option<&'static str>,
    exit_code: u8,
}

fn ms(d: Duration) -> Option<u64> {
    Some(d.as_millis().min(u128::from(u64::MAX)) as u64)
}

pub async fn run(global: &GlobalArgs, args: TestArgs) -> Result<()> {
    let settings = args.envelope.settings();
    let extra: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let loaded = setup::load_with(global, &args.conn, &extra)?;
    // A key that does not load is reported as a stage of its own, before
    // any connection (building the transport would stop at it too).
    #[cfg(feature = "dkim")]
    if let Err(e) = loaded.dkim_signer() {
        return finish(dkim_failure(&loaded, &e), args.json);
    }
    let path = setup::transcript_path(&loaded, args.transcript.as_deref());
    let recorder = Arc::new(Recorder::new(path.as_deref())?);
    let setup = setup::build_with_timeouts(
        &loaded,
        Some(recorder.clone()),
        None,
        test_timeouts(loaded.config()),
    )?;
    let Dest::Smtp(transport) = &setup.dest else {
        return Err(CliError {
            message: "no server configured".into(),
            hint: cli_hints::NO_SERVER,
        }
        .into());
    };
    // Checked before connecting: a bad address costs no connection.
    if let Some(to) = args.send_to.as_deref().filter(|s| !s.is_empty()) {
        Address::new(to)?;
    }
    if let Some(from) = &args.from {
        Address::new(from)?;
    }
    let target = transport.target().clone();
    recorder.expect_greeting(transport.security(), target.port);
    let mut report = Report {
        schema: SCHEMA,
        ok: false,
        target: target.to_string(),
        security: transport.security().to_string(),
        proxy: setup.proxy_redacted.clone(),
        stages: Vec::new(),
        failure: None,
    };

    #[cfg(feature = "dkim")]
    if let Some(signer) = &setup.dkim {
        report.stages.push(dkim_stage(signer));
    }

    if setup.proxy_redacted.is_none() {
        let started = Instant::now();
        match tokio::net::lookup_host((target.host.as_str(), target.port)).await {
            Ok(addrs) => {
                let addrs: Vec<String> = addrs.map(|a| a.ip().to_string()).collect();
                report.stages.push(Stage {
                    name: "dns",
                    ok: true,
                    elapsed_ms: ms(started.elapsed()),
                    detail: serde_json::json!({ "addresses": addrs }),
                });
            }
            Err(e) => {
                let short =
                    !target.host.contains('.') && target.host.parse::<std::net::IpAddr>().is_err();
                let hint = if short {
                    cli_hints::DNS_SHORT_NAME
                } else {
                    cli_hints::DNS_FAILED
                };
                report.stages.push(Stage {
                    name: "dns",
                    ok: false,
                    elapsed_ms: ms(started.elapsed()),
                    detail: serde_json::json!({ "error": e.to_string() }),
                });
                report.failure = Some(Failure {
                    stage: "dns".into(),
                    error: format!("{} does not resolve: {e}", target.host),
                    reply: None,
                    hint: Some(crate::wording::hint_text(&hint)),
                    hint_code: Some(hint.code),
                    exit_code: exit::TEMPFAIL,
                });
                return finish(report, args.json);
            }
        }
    }

    let session = transport.connect().await;
    stages_from_events(&recorder.events(), &mut report.stages);
    let mut session = match session {
        Ok(s) => s,
        Err(e) => {
            report.failure = Some(failure(&e));
            return finish(report, args.json);
        }
    };
    let caps = session.capabilities().clone();
    if let Some(stage) = report.stages.iter_mut().find(|s| s.name == "auth") {
        stage.detail["offered"] = serde_json::json!(caps.auth);
    } else {
        report.stages.push(Stage {
            name: "auth",
            ok: true,
            elapsed_ms: None,
            detail: serde_json::json!({ "offered": caps.auth, "chosen": null, "note": "no credentials configured: anonymous" }),
        });
    }

    if let Some(send_to) = &args.send_to {
        let from = args.from.clone().or_else(|| setup.message.from.clone());
        let to = default_recipient(send_to, &setup.message.test_recipient, &from);
        let (Some(to), Some(from)) = (to, from) else {
            session.quit().await;
            return Err(CliError {
                message: "the test mail needs a sender and a recipient".into(),
                hint: cli_hints::TEST_MAIL_ADDRESSES,
            }
            .into());
        };
        let started = Instant::now();
        let message = test_message(&from, &to, &report.target)?;
        let source = message.open().await?;
        // The test mail asks what every real message would (dsn.*,
        // tls.requiretls), so a server refusing those fails here too.
        let envelope = setup.envelope_params.apply(message.envelope().clone());
        let asked = envelope_asks(&envelope);
        // The last use of this connection: QUIT rides with the end of data
        // (its 221 read with the final reply), so the timing barely moves.
        match session.send_and_quit(&envelope, source).await {
            Ok(d) => report.stages.push(Stage {
                name: "send",
                ok: true,
                elapsed_ms: ms(started.elapsed()),
                detail: serde_json::json!({ "to": to, "reply": d.reply.to_string(), "envelope": asked }),
            }),
            Err(e) => {
                report.stages.push(Stage {
                    name: "send",
                    ok: false,
                    elapsed_ms: ms(started.elapsed()),
                    detail: serde_json::json!({ "to": to, "envelope": asked }),
                });
                report.failure = Some(failure(&e));
            }
        }
    } else {
        let from = args.from.clone().or_else(|| setup.message.from.clone());
        let to = default_recipient("", &setup.message.test_recipient, &from);
        if let (Some(from), Some(to)) = (from, to) {
            let started = Instant::now();
            let envelope = Envelope::new(Some(Address::new(&from)?), vec![Address::new(&to)?])?;
            let envelope = setup.envelope_params.apply(envelope);
            let checked = session.check_envelope(&envelope).await;
            let detail =
                serde_json::json!({ "from": from, "to": to, "envelope": envelope_asks(&envelope) });
            report.stages.push(Stage {
                name: "relay",
                ok: checked.is_ok(),
                elapsed_ms: ms(started.elapsed()),
                detail,
            });
            if let Err(e) = checked {
                let mut f = failure(&e);
                f.stage = "relay".into();
                report.failure = Some(f);
            }
        }
        session.quit().await;
    }
    let _ = transport; // the pool holds nothing: `connect` is unpooled
    report.ok = report.failure.is_none();
    finish(report, args.json)
}

/// How long `smtp test` waits for the greeting unless a timeout is set
/// (`timeout`, `timeouts.greeting`, `--timeout`): a diagnosis should not
/// sit out the 5 minutes RFC 5321 gives a sending server.
const TEST_GREETING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The configured timeouts with the greeting wait cut to
/// [`TEST_GREETING_TIMEOUT`], when no layer set one; `None` to keep them.
fn test_timeouts(config: &smtp_config::Config) -> Option<smtp_core::Timeouts> {
    if config.timeout.is_some() || config.timeouts.greeting.is_some() {
        return None;
    }
    let mut t = config.effective_timeouts();
    t.greeting = t.greeting.min(TEST_GREETING_TIMEOUT);
    Some(t)
}

/// The test mail's recipient: the address given to `--send-to`, else
/// `message.test_recipient`, else the sender, whichever layer set it
/// (`--from`, `message.from` from a file or the environment).
/// What the envelope asks of the server beyond MAIL and RCPT (DSN,
/// REQUIRETLS), for the report.
fn envelope_asks(envelope: &Envelope) -> serde_json::Value {
    let dsn = envelope.dsn().map(|d| {
        serde_json::json!({
            "ret": d.ret_value().map(|r| r.to_string()),
            "notify": d.notify_value().map(|n| n.to_string()),
        })
    });
    serde_json::json!({ "dsn": dsn, "requiretls": envelope.requires_tls() })
}

fn default_recipient(
    send_to: &str,
    test_recipient: &Option<String>,
    from: &Option<String>,
) -> Option<String> {
    Some(send_to.to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| test_recipient.clone())
        .or_else(|| from.clone())
}

/// The test mail, composed by smtp-message like any other (Date and a
/// Message-ID in the sender's domain set there).
fn test_message(from: &str, to: &str, target: &str) -> Result<smtp_message::Composed> {
    Ok(smtp_message::Composer::new(from)
        .to(to)
        .subject("smtp test message")
        .text_body(format!(
            "This is a test message sent by `smtp test` through {target}.\n"
        ))
        .build()?)
}

fn stages_from_events(events: &[SessionEvent], stages: &mut Vec<Stage>) {
    for e in events {
        let stage = match e {
            SessionEvent::Connected { target, elapsed } => Stage {
                name: "connect",
                ok: true,
                elapsed_ms: ms(*elapsed),
                detail: serde_json::json!({ "target": target }),
            },
            SessionEvent::Greeting { text, elapsed } => Stage {
                name: "greeting",
                ok: true,
                elapsed_ms: ms(*elapsed),
                detail: serde_json::json!({ "text": text }),
            },
            SessionEvent::Capabilities {
                capabilities,
                elapsed,
            } => Stage {
                name: "ehlo",
                ok: true,
                elapsed_ms: ms(*elapsed),
                detail: serde_json::json!({
                    "server": capabilities.server_name,
                    "esmtp": capabilities.esmtp,
                    "extensions": capabilities.raw,
                    "starttls": capabilities.starttls,
                    "auth": capabilities.auth,
                    "size": capabilities.size,
                }),
            },
            SessionEvent::TlsEstablished { info, elapsed } => {
                let leaf = info.peer_certificates.first();
                Stage {
                    name: "tls",
                    ok: true,
                    elapsed_ms: ms(*elapsed),
                    detail: serde_json::json!({
                        "version": info.version,
                        "cipher": info.cipher_suite,
                        "verified": info.verified,
                        "server_name": info.server_name,
                        "subject": leaf.map(|c| c.subject.clone()),
                        "issuer": leaf.map(|c| c.issuer.clone()),
                        "subject_alt_names": leaf.map(|c| c.subject_alt_names.clone()),
                        "not_before": leaf.map(|c| c.not_before.clone()),
                        "not_after": leaf.map(|c| c.not_after.clone()),
                        "spki_sha256": leaf.map(|c| c.spki_sha256.clone()),
                    }),
                }
            }
            SessionEvent::StartTlsSkipped { reason } => Stage {
                name: "tls",
                ok: false,
                elapsed_ms: None,
                detail: serde_json::json!({ "skipped": reason }),
            },
            SessionEvent::Authenticated { mechanism, elapsed } => Stage {
                name: "auth",
                ok: true,
                elapsed_ms: ms(*elapsed),
                detail: serde_json::json!({ "chosen": mechanism }),
            },
            _ => continue,
        };
        stages.push(stage);
    }
}

fn failure(e: &smtp_core::Error) -> Failure {
    let stage = match e.phase() {
        smtp_core::Phase::StartTls => "tls".to_string(),
        smtp_core::Phase::Mail | smtp_core::Phase::Rcpt | smtp_core::Phase::Data => {
            "send".to_string()
        }
        p => p.to_string(),
    };
    Failure {
        stage,
        error: setup::describe(e),
        reply: e.reply().map(|r| r.to_string()),
        hint: setup::coded_hint(e).map(|h| crate::wording::hint_text(&h)),
        hint_code: setup::coded_hint(e).map(|h| h.code),
        exit_code: exit::code_for(e),
    }
}

fn finish(report: Report, json: bool) -> Result<()> {
    if json {
        out!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_human(&report);
    }
    match &report.failure {
        None => Ok(()),
        Some(f) => Err(Exit(f.exit_code).into()),
    }
}

fn print_human(r: &Report) {
    out!(
        "testing {} (security: {}{})",
        r.target,
        r.security,
        r.proxy
            .as_ref()
            .map(|p| format!(", proxy {p}"))
            .unwrap_or_default()
    );
    let failed_at = r.failure.as_ref().map(|f| f.stage.as_str());
    for s in &r.stages {
        // The failure line below says it, with the error: once is enough.
        if !s.ok && failed_at == Some(s.name) {
            continue;
        }
        let mark = match s.name {
            // Opportunistic STARTTLS that was not there is not a failure.
            "tls" if s.detail.get("skipped").is_some() => "--  ",
            _ if s.ok => "ok  ",
            _ => "FAIL",
        };
        let time = s
            .elapsed_ms
            .map(|m| format!("{m:>5} ms"))
            .unwrap_or_else(|| "        ".into());
        out!("  [{mark}] {:<9} {time}  {}", s.name, summarize(s));
    }
    match &r.failure {
        None => out!("result: ok"),
        Some(f) => {
            out!("  [FAIL] {:<9}           {}", f.stage, f.error);
            // Once: most errors already quote the reply.
            if let Some(reply) = f.reply.as_ref().filter(|r| !f.error.contains(r.as_str())) {
                out!("         server said: {reply}");
            }
            if let Some(h) = &f.hint {
                match f.hint_code {
                    Some(code) => out!("hint: {h} [{code}]"),
                    None => out!("hint: {h}"),
                }
            }
            out!("result: failed at {}", f.stage);
        }
    }
}

/// The `dkim` stage: what will be signed, and with what (never the key).
#[cfg(feature = "dkim")]
fn dkim_stage(signer: &smtp_message::dkim::DkimSigner) -> Stage {
    Stage {
        name: "dkim",
        ok: true,
        elapsed_ms: None,
        detail: serde_json::json!({
            "domain": signer.domain(),
            "selector": signer.selector(),
            "algorithm": signer.algorithm().name(),
            "canonicalization": signer.canonicalization_name(),
            "headers": signer.signed_headers(),
            "key_file": signer.key_file().map(|p| p.display().to_string()),
        }),
    }
}

/// The report when the DKIM key or settings are unusable: nothing is
/// connected; the exit code is the one of a configuration error.
#[cfg(feature = "dkim")]
fn dkim_failure(loaded: &smtp_config::Loaded, e: &smtp_config::Error) -> Report {
    let c = loaded.config();
    let hint = e.coded_hint();
    Report {
        schema: SCHEMA,
        ok: false,
        target: format!(
            "{}:{}",
            c.host.as_deref().unwrap_or("(no host)"),
            c.effective_port()
        ),
        security: c.security.to_string(),
        proxy: c.proxy.url_redacted(),
        stages: vec![Stage {
            name: "dkim",
            ok: false,
            elapsed_ms: None,
            detail: serde_json::json!({ "error": e.to_string() }),
        }],
        failure: Some(Failure {
            stage: "dkim".into(),
            error: e.to_string(),
            reply: None,
            hint: hint.map(|h| h.text.to_string()),
            hint_code: hint.map(|h| h.code),
            exit_code: exit::USAGE,
        }),
    }
}

fn summarize(s: &Stage) -> String {
    let d = &s.detail;
    let str_of = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    match s.name {
        "dns" => join(&d["addresses"], ", "),
        "connect" => str_of("target"),
        "greeting" => str_of("text"),
        "ehlo" => join(&d["extensions"], ", "),
        "tls" if d.get("skipped").is_some() => {
            format!("not available, continued in clear ({})", str_of("skipped"))
        }
        "tls" => format!(
            "{} {}, certificate {} (SAN {}), valid until {}, {}",
            str_of("version"),
            str_of("cipher"),
            str_of("subject"),
            join(&d["subject_alt_names"], " "),
            str_of("not_after"),
            if d["verified"].as_bool() == Some(true) {
                "verified"
            } else {
                "NOT VERIFIED"
            }
        ),
        "auth" => {
            let offered = join(&d["offered"], " ");
            match d["chosen"].as_str() {
                Some(m) => format!("authenticated with {m} (offered: {offered})"),
                None => format!("anonymous (offered: {offered})"),
            }
        }
        "send" => format!(
            "{} {}{}",
            str_of("to"),
            str_of("reply"),
            asks(&d["envelope"])
        ),
        "dkim" => format!(
            "signing as d={} s={} ({}, {}), key {} loads",
            str_of("domain"),
            str_of("selector"),
            str_of("algorithm"),
            str_of("canonicalization"),
            str_of("key_file")
        ),
        "relay" if s.ok => format!(
            "{} may send to {}{} (MAIL FROM, RCPT TO, RSET: nothing sent)",
            str_of("from"),
            str_of("to"),
            asks(&d["envelope"])
        ),
        "relay" => format!(
            "{} to {}{}",
            str_of("from"),
            str_of("to"),
            asks(&d["envelope"])
        ),
        _ => d.to_string(),
    }
}

/// ", asking DSN RET=.. NOTIFY=.., REQUIRETLS" when the envelope asks
/// either; empty otherwise.
fn asks(envelope: &serde_json::Value) -> String {
    let mut parts = Vec::new();
    if let Some(dsn) = envelope.get("dsn").filter(|d| !d.is_null()) {
        let mut words = vec!["DSN".to_string()];
        for key in ["ret", "notify"] {
            if let Some(v) = dsn[key].as_str() {
                words.push(format!("{}={v}", key.to_uppercase()));
            }
        }
        parts.push(words.join(" "));
    }
    if envelope["requiretls"].as_bool() == Some(true) {
        parts.push("REQUIRETLS".to_string());
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(", asking {}", parts.join(", "))
    }
}

/// The strings of a JSON array, joined.
fn join(v: &serde_json::Value, sep: &str) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(sep)
        })
        .unwrap_or_default()
}
