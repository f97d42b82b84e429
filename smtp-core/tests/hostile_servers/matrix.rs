//! The hostile-server matrix: every phase of a session x every fault a
//! real server never commits on purpose (stall, drop, garbage, `421`).
//!
//! Each case asserts: the error variant and phase; the time taken (within
//! the configured limit plus slack; stalls take at least the limit); that
//! an outcome after the final dot / `BDAT LAST` is unknown, never sent;
//! that the transport does not reuse the connection (the next send goes
//! out on the server's connection index 1 and succeeds). The cases of one
//! fault run concurrently; the failures are reported together.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::SecretSlice;
use smtp_core::sasl::{AuthContext, Authenticator, Mechanism, SecretBytes};
use smtp_core::{
    BoxError, BoxStream, Error, MessageSource, Phase, Security, SmtpTransport, Timeouts, TlsInfo,
    TlsUpgrade, Transport,
};
use smtp_testkit::engine::envelope;
use smtp_testkit::{ScriptedServer, Step};

/// Every phase's limit: short, so that stalls are quick to prove.
const LIMIT: Duration = Duration::from_millis(400);
/// Room for a loaded 2-core CI machine; timing is never what is tested.
const SLACK: Duration = Duration::from_millis(2500);
/// Larger than loopback socket buffers, so a server that stops reading
/// blocks the client's writes mid-body.
const BIG_BODY: usize = 24 * 1024 * 1024;

const DATA_CAPS: &str = "250-hostile\r\n250 AUTH PLAIN\r\n";
const PIPELINING_CAPS: &str = "250-hostile\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n";
const CHUNKING_CAPS: &str = "250-hostile\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 AUTH PLAIN\r\n";
const STARTTLS_CAPS: &str = "250-hostile\r\n250 STARTTLS\r\n";

/// Where in the session the fault strikes: the server has just read the
/// command(s) named, and the client waits for (or writes) what follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// TCP accepted; instead of the greeting.
    Greeting,
    Ehlo,
    StartTls,
    Auth,
    Mail,
    Rcpt,
    /// `DATA` sent, `354` awaited.
    DataStart,
    /// `354` given; the server read part of a large body.
    MidBody,
    /// The final dot was read; its reply is due.
    FinalDot,
    /// The final reply was sent; the fault comes before the next send.
    AfterFinalReply,
    /// PIPELINING: MAIL/RCPT/DATA in one flight, only MAIL answered.
    PipelinedFlight,
    /// CHUNKING: MAIL/RCPT/BDAT LAST in one flight, nothing answered.
    BdatLast,
    /// CHUNKING: every reply of the flight sent; fault before next send.
    AfterBdatReplies,
}

const STAGES: &[Stage] = &[
    Stage::Greeting,
    Stage::Ehlo,
    Stage::StartTls,
    Stage::Auth,
    Stage::Mail,
    Stage::Rcpt,
    Stage::DataStart,
    Stage::MidBody,
    Stage::FinalDot,
    Stage::AfterFinalReply,
    Stage::PipelinedFlight,
    Stage::BdatLast,
    Stage::AfterBdatReplies,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Silence, connection open.
    Stall,
    /// The server closes the connection.
    Drop,
    /// Bytes that are not SMTP (control characters, NUL, escape).
    Garbage,
    /// `421` (service closing) in place of the expected reply.
    Closing,
}

/// What the first send must end in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Timeout(Phase),
    Closed(Phase),
    Protocol(Phase),
    Rejected421(Phase),
    Unknown,
    /// Sent; the fault only shows when the pool looks at the connection.
    Sent,
}

impl Stage {
    fn caps(self) -> &'static str {
        match self {
            Stage::StartTls => STARTTLS_CAPS,
            Stage::PipelinedFlight => PIPELINING_CAPS,
            Stage::BdatLast | Stage::AfterBdatReplies => CHUNKING_CAPS,
            _ => DATA_CAPS,
        }
    }

    /// The well-behaved conversation up to the fault.
    fn lead_in(self) -> Vec<Step> {
        use Step::*;
        if self == Stage::Greeting {
            return vec![];
        }
        let mut s = vec![Step::send("220 hostile ESMTP\r\n"), Expect("EHLO")];
        if self == Stage::Ehlo {
            return s;
        }
        s.push(Step::send(self.caps()));
        if self == Stage::StartTls {
            s.push(Expect("STARTTLS"));
            return s;
        }
        s.push(Expect("AUTH PLAIN"));
        if self == Stage::Auth {
            return s;
        }
        s.push(Step::send("235 2.7.0 ok\r\n"));
        s.push(Expect("MAIL"));
        match self {
            Stage::PipelinedFlight => {
                s.extend([Expect("RCPT"), Expect("DATA"), Step::send("250 ok\r\n")]);
                return s;
            }
            Stage::BdatLast | Stage::AfterBdatReplies => {
                s.extend([Expect("RCPT"), ReadBdat]);
                if self == Stage::AfterBdatReplies {
                    s.push(Step::send("250 ok\r\n250 ok\r\n250 2.0.0 queued\r\n"));
                }
                return s;
            }
            Stage::Mail => return s,
            _ => {}
        }
        s.extend([Step::send("250 ok\r\n"), Expect("RCPT")]);
        if self == Stage::Rcpt {
            return s;
        }
        s.extend([Step::send("250 ok\r\n"), Expect("DATA")]);
        if self == Stage::DataStart {
            return s;
        }
        s.push(Step::send("354 go ahead\r\n"));
        if self == Stage::MidBody {
            s.push(ReadBytes(64 * 1024));
            return s;
        }
        s.push(ReadData);
        if self == Stage::AfterFinalReply {
            s.push(Step::send("250 2.0.0 queued\r\n"));
        }
        s
    }

    /// The phase whose reply (or write) the fault hits.
    fn phase(self) -> Phase {
        match self {
            Stage::Greeting => Phase::Greeting,
            Stage::Ehlo => Phase::Ehlo,
            Stage::StartTls => Phase::StartTls,
            Stage::Auth => Phase::Auth,
            Stage::Mail | Stage::BdatLast => Phase::Mail,
            Stage::Rcpt | Stage::PipelinedFlight => Phase::Rcpt,
            _ => Phase::Data,
        }
    }

    fn after_final(self) -> bool {
        matches!(self, Stage::FinalDot | Stage::BdatLast)
    }

    fn after_reply(self) -> bool {
        matches!(self, Stage::AfterFinalReply | Stage::AfterBdatReplies)
    }

    fn body(self) -> MessageSource {
        if self == Stage::MidBody {
            let line =
                b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345\r\n";
            let body: Vec<u8> = line.iter().copied().cycle().take(BIG_BODY).collect();
            MessageSource::from_bytes(body)
        } else {
            MessageSource::from_bytes("Subject: hostile\r\n\r\nbody\r\n")
        }
    }
}

/// The expected end of the first send; `None` where the case does not
/// exist (a stall after the final reply is a stall at the next MAIL).
fn expected(stage: Stage, fault: Fault) -> Option<Expect> {
    let phase = stage.phase();
    Some(match fault {
        _ if stage.after_reply() => {
            if fault == Fault::Stall {
                return None;
            }
            Expect::Sent
        }
        // The server holds the whole message: it may have queued it.
        Fault::Stall | Fault::Drop | Fault::Garbage if stage.after_final() => Expect::Unknown,
        // While the client writes the body it reads nothing.
        Fault::Garbage | Fault::Closing if stage == Stage::MidBody => return None,
        Fault::Stall => Expect::Timeout(phase),
        Fault::Drop => Expect::Closed(phase),
        Fault::Garbage => Expect::Protocol(phase),
        Fault::Closing => Expect::Rejected421(phase),
    })
}

fn fault_steps(fault: Fault) -> Vec<Step> {
    match fault {
        Fault::Stall => vec![Step::Stall],
        Fault::Drop => vec![Step::Drop],
        Fault::Garbage => vec![
            Step::send(b"\x00\x1b[2J<html>\x07 not smtp\r\n"),
            Step::Drain,
        ],
        Fault::Closing => vec![
            Step::send("421 4.3.2 service shutting down\r\n"),
            Step::Drain,
        ],
    }
}

/// PLAIN with a fixed secret when the server offers it, else anonymous.
#[derive(Debug)]
struct PlainIfOffered;

struct Plain;

impl Mechanism for Plain {
    fn name(&self) -> &'static str {
        "PLAIN"
    }
    fn initial_response(&mut self) -> Option<SecretBytes> {
        Some(SecretSlice::from(b"\0user\0matrix-secret".to_vec()))
    }
    fn respond(&mut self, _: &[u8]) -> Result<SecretBytes, BoxError> {
        Err("PLAIN takes no challenge".into())
    }
    fn sends_secret_in_clear(&self) -> bool {
        true
    }
}

#[async_trait]
impl Authenticator for PlainIfOffered {
    async fn mechanism(
        &self,
        ctx: &AuthContext<'_>,
    ) -> Result<Option<Box<dyn Mechanism>>, BoxError> {
        Ok(ctx
            .offered
            .iter()
            .any(|m| m == "PLAIN")
            .then(|| Box::new(Plain) as Box<dyn Mechanism>))
    }
    fn allow_cleartext(&self) -> bool {
        true
    }
}

/// STARTTLS rows fail before any handshake; reaching one is a bug.
#[derive(Debug)]
struct NoHandshake;

#[async_trait]
impl TlsUpgrade for NoHandshake {
    async fn upgrade(&self, _: BoxStream, _: &str) -> Result<(BoxStream, TlsInfo), BoxError> {
        Err("the tls handshake must not be reached".into())
    }
}

fn transport(port: u16, stage: Stage) -> SmtpTransport {
    let timeouts = Timeouts {
        connect: LIMIT,
        tls: LIMIT,
        greeting: LIMIT,
        command: LIMIT,
        data_start: LIMIT,
        data_block: LIMIT,
        data_end: LIMIT,
        total: None,
    };
    let security = if stage == Stage::StartTls {
        Security::StartTlsRequired
    } else {
        Security::None
    };
    SmtpTransport::builder("127.0.0.1")
        .port(port)
        .security(security)
        .tls(Arc::new(NoHandshake))
        .authenticator(Arc::new(PlainIfOffered))
        .ehlo_name("client.example.test")
        .timeouts(timeouts)
        .build()
        .unwrap()
}

fn matches(err: &Error, expect: Expect) -> bool {
    match expect {
        Expect::Timeout(p) => matches!(err, Error::Timeout { phase, .. } if *phase == p),
        Expect::Closed(p) => matches!(err, Error::ConnectionClosed { phase } if *phase == p),
        Expect::Protocol(p) => matches!(err, Error::Protocol { phase, .. } if *phase == p),
        Expect::Rejected421(p) => {
            matches!(err, Error::Rejected { phase, reply } if *phase == p && reply.code == 421)
        }
        Expect::Unknown => err.is_unknown_outcome(),
        Expect::Sent => false,
    }
}

/// Runs one case; returns what went wrong, if anything.
async fn run_case(stage: Stage, fault: Fault, expect: Expect) -> Result<(), String> {
    let mut steps = stage.lead_in();
    steps.extend(fault_steps(fault));
    let later_caps = if stage == Stage::StartTls {
        STARTTLS_CAPS
    } else {
        stage.caps()
    };
    let server = ScriptedServer::scripted(steps, later_caps);
    let t = transport(server.port(), stage);
    let env = envelope("a@b.example", &["c@d.example"]);
    // Built before the clock starts: 24 MiB in a debug build is slow to
    // make, and only the engine's limits are timed here.
    let body = stage.body();
    let started = Instant::now();
    let first = t.send(&env, body).await;
    let elapsed = started.elapsed();
    let case = format!("{stage:?} x {fault:?}");
    match (&first, expect) {
        (Ok(_), Expect::Sent) => {}
        (Ok(d), _) => return Err(format!("{case}: sent ({}), expected {expect:?}", d.reply)),
        (Err(e), _) if !matches(e, expect) => {
            return Err(format!("{case}: got {e:?}, expected {expect:?}"));
        }
        (Err(e), Expect::Unknown) if e.is_transient() || e.is_permanent() => {
            return Err(format!(
                "{case}: unknown outcome classified as retryable or final"
            ));
        }
        // Garbage stays garbage on a retry: a protocol error is permanent.
        (Err(e), Expect::Protocol(_)) if !e.is_permanent() => {
            return Err(format!("{case}: {e:?} is not permanent"));
        }
        (Err(e), Expect::Timeout(_) | Expect::Closed(_) | Expect::Rejected421(_))
            if !e.is_transient() =>
        {
            return Err(format!("{case}: {e:?} is not transient"));
        }
        _ => {}
    }
    if elapsed > LIMIT + SLACK {
        return Err(format!("{case}: took {elapsed:?}, limit {LIMIT:?}"));
    }
    let stalled =
        matches!(expect, Expect::Timeout(_)) || (fault == Fault::Stall && stage.after_final());
    if stalled && elapsed < LIMIT {
        return Err(format!(
            "{case}: gave up after {elapsed:?}, before the {LIMIT:?} limit"
        ));
    }
    if stage.after_reply() {
        // Let the fault (a close, stray bytes) reach the client first: a
        // server that closes at the very moment a pooled connection is
        // reused is a race no client can win.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The next send must not go over the faulty connection.
    let second = t
        .send(
            &env,
            MessageSource::from_bytes("Subject: next\r\n\r\nx\r\n"),
        )
        .await;
    if server.connections() != 2 {
        return Err(format!(
            "{case}: next send used connection count {} (expected a new connection): {second:?}",
            server.connections()
        ));
    }
    if stage != Stage::StartTls && second.is_err() {
        return Err(format!(
            "{case}: next send on a fresh connection failed: {second:?}"
        ));
    }
    let panics = server.handler_panics();
    if !panics.is_empty() {
        return Err(format!(
            "{case}: the client strayed from the script: {panics:?}"
        ));
    }
    Ok(())
}

async fn run_fault(fault: Fault) {
    let mut set = tokio::task::JoinSet::new();
    let mut count = 0;
    for &stage in STAGES {
        if let Some(expect) = expected(stage, fault) {
            count += 1;
            set.spawn(run_case(stage, fault, expect));
        }
    }
    let mut failures = Vec::new();
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(f)) => failures.push(f),
            Err(panic) => failures.push(format!("a case panicked: {panic}")),
        }
    }
    assert!(count >= 10, "the matrix shrank to {count} cases");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_at_every_phase() {
    run_fault(Fault::Stall).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_at_every_phase() {
    run_fault(Fault::Drop).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_at_every_phase() {
    run_fault(Fault::Garbage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_421_at_every_phase() {
    run_fault(Fault::Closing).await;
}

/// A refused TCP connection: the connect phase itself.
#[tokio::test]
async fn refused_connection_is_a_transient_connect_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let started = Instant::now();
    let err = transport(port, Stage::Mail)
        .send(
            &envelope("a@b.example", &["c@d.example"]),
            Stage::Mail.body(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert_eq!(err.phase(), Phase::Connect);
    assert!(err.is_transient());
    assert!(started.elapsed() < LIMIT + SLACK);
}
