//! Replies a real server never sends: replies to commands never sent, one
//! reply too many in a pipelined flight, multi-line replies that change
//! code, NUL and escape bytes, over-long lines, codes that answer no
//! command. Each must end in a typed error naming the phase, never in a
//! reply attributed to the wrong command; the connection is not reused.

use std::time::Duration;

use smtp_core::{
    Error, MessageSource, Phase, Security, SmtpTransport, SmtpTransportBuilder, Timeouts, Transport,
};
use smtp_testkit::engine::envelope;
use smtp_testkit::{ScriptedServer, Step};

const CAPS: &str = "250-hostile\r\n250 8BITMIME\r\n";
const PIPELINING: &str = "250-hostile\r\n250 PIPELINING\r\n";

fn builder(port: u16) -> SmtpTransportBuilder {
    SmtpTransport::builder("127.0.0.1")
        .port(port)
        .security(Security::None)
        .ehlo_name("client.example.test")
        .timeouts(Timeouts::uniform(Duration::from_secs(5)))
}

fn transport(port: u16) -> SmtpTransport {
    builder(port).build().unwrap()
}

fn message() -> MessageSource {
    MessageSource::from_bytes("Subject: hostile\r\n\r\nbody\r\n")
}

/// Greeting and EHLO with `caps`, then `rest`; later connections behave.
fn server(caps: &str, rest: Vec<Step>) -> ScriptedServer {
    let mut steps = vec![
        Step::send("220 hostile ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::send(caps),
    ];
    steps.extend(rest);
    ScriptedServer::scripted(steps, CAPS)
}

/// The first send's error; then checks that a second send goes out on a
/// new connection and succeeds.
async fn first_error(server: &ScriptedServer) -> Error {
    let t = transport(server.port());
    let env = envelope("a@b.example", &["c@d.example"]);
    let err = t.send(&env, message()).await.unwrap_err();
    t.send(&env, message())
        .await
        .unwrap_or_else(|e| panic!("the next send failed: {e:?} (after {err:?})"));
    assert_eq!(server.connections(), 2, "the bad connection was reused");
    err
}

fn protocol(err: &Error, phase: Phase, words: &str) {
    match err {
        Error::Protocol { phase: p, detail } if *p == phase && detail.contains(words) => {}
        other => panic!("expected a {phase} protocol error with {words:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_reply_sent_with_the_greeting_answers_no_command() {
    let server = ScriptedServer::scripted(
        vec![
            Step::send("220 hostile ESMTP\r\n250 a reply for a command never sent\r\n"),
            Step::Drain,
        ],
        CAPS,
    );
    let err = first_error(&server).await;
    protocol(&err, Phase::Ehlo, "never sent");
}

#[tokio::test]
async fn a_forged_235_before_auth_is_refused_and_no_secret_is_sent() {
    let server = ScriptedServer::scripted(
        vec![
            Step::send("220 hostile ESMTP\r\n"),
            Step::Expect("EHLO"),
            // The 235 would pass for a login the client never made.
            Step::send("250-hostile\r\n250 AUTH PLAIN\r\n235 2.7.0 welcome\r\n"),
            Step::Drain,
        ],
        CAPS,
    );
    let t = builder(server.port())
        .authenticator(std::sync::Arc::new(PlainIfOffered))
        .build()
        .unwrap();
    let err = t.connect().await.unwrap_err();
    protocol(&err, Phase::Auth, "never sent");
    server.wait_handled(1, Duration::from_secs(5)).await;
    assert!(
        !server.log().iter().any(|l| l.starts_with("AUTH")),
        "{:?}",
        server.log()
    );
}

#[tokio::test]
async fn a_surplus_reply_after_the_final_reply_drops_the_pooled_connection() {
    let server = server(
        CAPS,
        [
            Step::through_data("MAIL"),
            vec![
                Step::send("250 2.0.0 queued\r\n250 2.0.0 and a bonus\r\n"),
                Step::Drain,
            ],
        ]
        .concat(),
    );
    let t = transport(server.port());
    let env = envelope("a@b.example", &["c@d.example"]);
    let first = t.send(&env, message()).await.unwrap();
    assert!(first.reply.text().contains("queued"), "{}", first.reply);
    // The bonus must not be taken for the answer to the next command.
    t.send(&env, message()).await.unwrap();
    assert_eq!(server.connections(), 2);
    let mails = server
        .log()
        .iter()
        .filter(|l| l.starts_with("MAIL"))
        .count();
    assert_eq!(mails, 2, "one MAIL per connection: {:?}", server.log());
}

#[tokio::test]
async fn one_reply_too_many_in_a_pipelined_flight_is_a_protocol_error() {
    let server = server(
        PIPELINING,
        vec![
            Step::Expect("MAIL"),
            Step::Expect("RCPT"),
            Step::Expect("DATA"),
            Step::send("250 ok\r\n250 ok\r\n250 surplus\r\n354 go\r\n"),
            Step::Drain,
        ],
    );
    let err = first_error(&server).await;
    protocol(&err, Phase::Data, "not 354");
}

#[tokio::test]
async fn a_multi_line_reply_that_changes_code_is_a_protocol_error() {
    let server = server(
        "250-hostile\r\n251-PIPELINING\r\n250 SIZE 1000\r\n",
        vec![Step::Drain],
    );
    let err = first_error(&server).await;
    protocol(&err, Phase::Ehlo, "changes code from 250 to 251");
}

#[tokio::test]
async fn an_over_long_line_mid_session_is_refused_not_buffered() {
    let long = format!("250 {}\r\n", "x".repeat(100_000));
    let server = server(
        CAPS,
        [
            Step::accept(&["MAIL"]),
            vec![Step::Expect("RCPT"), Step::send(long), Step::Drain],
        ]
        .concat(),
    );
    let err = first_error(&server).await;
    protocol(&err, Phase::Rcpt, "longer than");
}

#[tokio::test]
async fn nul_and_escape_bytes_never_reach_the_caller() {
    let server = ScriptedServer::scripted(
        vec![
            Step::send("220 hostile\0 ESMTP \x1b]0;owned\x07\r\n"),
            Step::Expect("EHLO"),
            Step::send(CAPS),
            Step::Expect("MAIL"),
            Step::send("550 5.7.1 no\0pe \x1b[2J\r\n"),
            Step::Expect("RSET"),
            Step::send("250 ok\r\n"),
            Step::Drain,
        ],
        CAPS,
    );
    let mut session = transport(server.port()).connect().await.unwrap();
    let greeting = session.greeting().to_string();
    assert!(!greeting.contains(['\0', '\x1b', '\x07']), "{greeting:?}");
    let err = session
        .send(&envelope("a@b.example", &["c@d.example"]), message())
        .await
        .unwrap_err();
    assert_eq!(err.phase(), Phase::Mail);
    let shown = format!("{err} {:?}", err.reply());
    assert!(!shown.contains(['\0', '\x1b']), "{shown}");
    assert!(err.to_string().contains(r"no\u{0}pe"), "{err}");
}

/// A reply whose class answers no command of the phase.
#[tokio::test]
async fn codes_that_answer_no_command_of_the_phase_are_refused() {
    let cases: Vec<(&str, Vec<Step>, Phase, &str)> = vec![
        ("EHLO got 354", vec![], Phase::Ehlo, "intermediate"),
        (
            "MAIL got 354",
            vec![Step::Expect("MAIL"), Step::send("354 go ahead\r\n")],
            Phase::Mail,
            "intermediate",
        ),
        (
            "RCPT got 334",
            [
                Step::accept(&["MAIL"]),
                vec![Step::Expect("RCPT"), Step::send("334 VXNlcm5hbWU6\r\n")],
            ]
            .concat(),
            Phase::Rcpt,
            "intermediate",
        ),
        (
            "DATA got 250",
            // DATA answered like MAIL and RCPT.
            Step::accept(&["MAIL", "RCPT", "DATA"]),
            Phase::Data,
            "not 354",
        ),
    ];
    for (name, mut rest, phase, words) in cases {
        rest.push(Step::Drain);
        let caps = if name.starts_with("EHLO") {
            "354 go ahead\r\n"
        } else {
            CAPS
        };
        let server = server(caps, rest);
        let err = first_error(&server).await;
        match &err {
            Error::Protocol { phase: p, detail } if *p == phase && detail.contains(words) => {}
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_intermediate_reply_to_the_final_dot_is_an_unknown_outcome() {
    let server = server(
        CAPS,
        [
            Step::through_data("MAIL"),
            vec![Step::send("354 and again\r\n"), Step::Drain],
        ]
        .concat(),
    );
    let err = first_error(&server).await;
    assert!(err.is_unknown_outcome(), "{err:?}");
}

#[tokio::test]
async fn a_rate_limit_reply_is_transient_and_recognised() {
    let server = server(
        CAPS,
        vec![
            Step::Expect("MAIL"),
            Step::send("451 4.7.1 rate limit exceeded, retry after 30 seconds\r\n"),
            Step::Expect("RSET"),
            Step::send("250 ok\r\n"),
            Step::Drain,
        ],
    );
    let t = transport(server.port());
    let err = t
        .send(&envelope("a@b.example", &["c@d.example"]), message())
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(err.phase(), Phase::Mail);
    assert!(smtp_core::is_rate_limited(err.reply().unwrap()), "{err:?}");
}

/// PLAIN with a fixed secret when the server offers it.
#[derive(Debug)]
struct PlainIfOffered;

struct Plain;

impl smtp_core::sasl::Mechanism for Plain {
    fn name(&self) -> &'static str {
        "PLAIN"
    }
    fn initial_response(&mut self) -> Option<smtp_core::sasl::SecretBytes> {
        Some(secrecy::SecretSlice::from(
            b"\0user\0forged-235-secret".to_vec(),
        ))
    }
    fn respond(&mut self, _: &[u8]) -> Result<smtp_core::sasl::SecretBytes, smtp_core::BoxError> {
        Err("PLAIN takes no challenge".into())
    }
    fn sends_secret_in_clear(&self) -> bool {
        true
    }
}

#[async_trait::async_trait]
impl smtp_core::sasl::Authenticator for PlainIfOffered {
    async fn mechanism(
        &self,
        ctx: &smtp_core::sasl::AuthContext<'_>,
    ) -> Result<Option<Box<dyn smtp_core::sasl::Mechanism>>, smtp_core::BoxError> {
        Ok(ctx
            .offered
            .iter()
            .any(|m| m == "PLAIN")
            .then(|| Box::new(Plain) as Box<dyn smtp_core::sasl::Mechanism>))
    }
    fn allow_cleartext(&self) -> bool {
        true
    }
}
