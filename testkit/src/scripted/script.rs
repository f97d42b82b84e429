//! Per-case scripts: a hostile first connection played from a list of
//! [`Step`]s, and a well-behaved server for every later connection, so a
//! test can check that the client gave up the bad connection and opened a
//! new one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;

use super::conn::Duplex;
use super::{ScriptConn, ScriptedServer};

/// The server side of a TLS handshake (a rustls `TlsAcceptor`, say): takes
/// the TCP stream, returns the encrypted one, or `None` when the handshake
/// failed. The testkit has no TLS code of its own; the test supplies this.
pub type TlsAccept = Arc<
    dyn Fn(TcpStream) -> Pin<Box<dyn Future<Output = Option<Box<dyn Duplex>>> + Send>>
        + Send
        + Sync,
>;

/// One step of a scripted connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Write exactly these bytes (a reply, garbage, a NUL, half a line).
    Send(Vec<u8>),
    /// Read one line that must start with this prefix (ASCII case
    /// ignored); the handler panics on another line or EOF.
    Expect(&'static str),
    /// Read a DATA body up to and including the `.` line.
    ReadData,
    /// Read `BDAT` frames up to and including the one marked `LAST`.
    ReadBdat,
    /// Read (and discard) this many bytes, or fewer if the client closes:
    /// part of a message body.
    ReadBytes(usize),
    /// Wait this long before the next step.
    Pause(Duration),
    /// Say nothing and read nothing until the client gives up (or the
    /// server is dropped): the connection stays open.
    Stall,
    /// Close the connection now (also what happens after the last step).
    Drop,
    /// Read and log every line until the client closes.
    Drain,
    /// Run the server's [`TlsAccept`] on the connection (after the script
    /// answered STARTTLS with `220`, or first thing for implicit TLS) and
    /// go on over TLS; a failed handshake ends the script.
    Tls,
}

impl Step {
    /// [`Step::Send`] of a text.
    pub fn send(text: impl AsRef<[u8]>) -> Step {
        Step::Send(text.as_ref().to_vec())
    }

    /// Each command in turn: expect the line (by prefix) and answer
    /// `250 ok`.
    pub fn accept(commands: &[&'static str]) -> Vec<Step> {
        commands
            .iter()
            .flat_map(|c| [Step::Expect(c), Step::send("250 ok\r\n")])
            .collect()
    }

    /// One transaction in plain DATA up to the final dot: the MAIL line
    /// (expected by the prefix `mail`) and one RCPT answered `250 ok`, DATA
    /// answered `354 go`, the message read. The caller scripts the reply
    /// to the dot.
    pub fn through_data(mail: &'static str) -> Vec<Step> {
        let mut steps = Step::accept(&[mail, "RCPT"]);
        steps.extend([
            Step::Expect("DATA"),
            Step::send("354 go\r\n"),
            Step::ReadData,
        ]);
        steps
    }
}

impl ScriptConn {
    /// Plays `steps` in order; returns after [`Step::Drop`] or the last
    /// step (the caller then drops the connection).
    ///
    /// # Panics
    ///
    /// When an [`Step::Expect`] sees another line, the client closes
    /// inside [`Step::ReadData`] / [`Step::ReadBdat`], or a [`Step::Tls`]
    /// comes without a `tls`.
    pub async fn play(&mut self, steps: &[Step], tls: Option<&TlsAccept>) {
        for step in steps {
            match step {
                Step::Send(bytes) => self.send_bytes(bytes).await,
                Step::Expect(prefix) => {
                    self.expect(prefix).await;
                }
                Step::ReadData => {
                    self.read_until_dot().await;
                }
                Step::ReadBdat => while !self.read_bdat().await {},
                Step::ReadBytes(n) => self.discard(*n).await,
                Step::Pause(d) => tokio::time::sleep(*d).await,
                Step::Stall => std::future::pending::<()>().await,
                Step::Drop => return,
                Step::Drain => while self.read_line().await.is_some() {},
                Step::Tls => {
                    let accept = tls.expect("scripted server: Step::Tls without a TlsAccept");
                    if !self.upgrade_in_place(accept).await {
                        return;
                    }
                }
            }
        }
    }

    /// Reads one `BDAT <n> [LAST]` frame; returns whether it was the last.
    ///
    /// # Panics
    ///
    /// On another command, a bad size, or EOF.
    pub async fn read_bdat(&mut self) -> bool {
        let header = self.expect("BDAT").await;
        let mut words = header.split_whitespace().skip(1);
        let n: usize = words
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("scripted server: bad BDAT header {header:?}"));
        let last = words.next().is_some_and(|w| w.eq_ignore_ascii_case("LAST"));
        self.discard(n).await;
        last
    }

    /// A well-behaved server: greets, answers EHLO with `ehlo` (a whole
    /// reply, CRLFs included), accepts AUTH, every envelope command and
    /// every message, until QUIT or EOF. STARTTLS runs `tls` when given
    /// (EHLO is then answered with `ehlo` minus its STARTTLS line), and is
    /// refused without it.
    pub async fn serve(&mut self, ehlo: &str, tls: Option<&TlsAccept>) {
        let mut ehlo = ehlo.to_string();
        self.send("220 well-behaved ESMTP\r\n").await;
        while let Some(line) = self.read_line().await {
            let verb = line
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            match verb.as_str() {
                "EHLO" => self.send(&ehlo).await,
                "HELO" => self.send("250 well-behaved\r\n").await,
                "AUTH" => self.send("235 2.7.0 authenticated\r\n").await,
                "MAIL" | "RCPT" | "RSET" | "NOOP" => self.send("250 2.0.0 ok\r\n").await,
                "DATA" => {
                    self.send("354 go ahead\r\n").await;
                    self.read_until_dot().await;
                    self.send("250 2.0.0 queued\r\n").await;
                }
                "BDAT" => {
                    let mut words = line.split_whitespace().skip(1);
                    let n = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                    self.discard(n).await;
                    let last = words.next().is_some_and(|w| w.eq_ignore_ascii_case("LAST"));
                    let reply = if last {
                        "250 2.0.0 queued\r\n"
                    } else {
                        "250 2.0.0 chunk ok\r\n"
                    };
                    self.send(reply).await;
                }
                "QUIT" => {
                    self.send("221 2.0.0 bye\r\n").await;
                    return;
                }
                "STARTTLS" => match tls {
                    Some(accept) => {
                        self.send("220 2.0.0 ready\r\n").await;
                        if !self.upgrade_in_place(accept).await {
                            return;
                        }
                        ehlo = without_starttls(&ehlo);
                    }
                    None => self.send("454 4.7.0 no tls here\r\n").await,
                },
                _ => self.send("500 5.5.2 unknown command\r\n").await,
            }
        }
    }
}

impl ScriptedServer {
    /// A server whose first connection plays `steps`, and whose later
    /// connections are [`ScriptConn::serve`]d with the EHLO reply
    /// `then_ehlo`.
    ///
    /// ```no_run
    /// # async fn demo() {
    /// use smtp_testkit::{ScriptedServer, Step};
    /// let server = ScriptedServer::scripted(
    ///     vec![
    ///         Step::send("220 hostile ESMTP\r\n"),
    ///         Step::Expect("EHLO"),
    ///         Step::send("250 hostile\r\n"),
    ///         Step::Expect("MAIL"),
    ///         Step::Stall,
    ///     ],
    ///     "250 well-behaved\r\n",
    /// );
    /// // ... the first send times out at MAIL; the next one must arrive
    /// // on connection 1 (server.connections() == 2) and succeed.
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn scripted(steps: Vec<Step>, then_ehlo: &'static str) -> ScriptedServer {
        ScriptedServer::scripted_with(steps, then_ehlo, None)
    }

    /// Like [`ScriptedServer::scripted`], with TLS for [`Step::Tls`] and for
    /// STARTTLS on the well-behaved later connections.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn scripted_with(
        steps: Vec<Step>,
        then_ehlo: &'static str,
        tls: Option<TlsAccept>,
    ) -> ScriptedServer {
        let steps = Arc::new(steps);
        ScriptedServer::start(move |mut conn| {
            let steps = Arc::clone(&steps);
            let tls = tls.clone();
            async move {
                if conn.index() == 0 {
                    conn.play(&steps, tls.as_ref()).await;
                } else {
                    conn.serve(then_ehlo, tls.as_ref()).await;
                }
            }
        })
    }
}

/// An EHLO reply without its STARTTLS line (what a server offers after
/// TLS), keeping the last line's space separator right.
pub(super) fn without_starttls(ehlo: &str) -> String {
    let lines: Vec<&str> = ehlo
        .split("\r\n")
        .filter(|l| {
            !l.is_empty()
                && !l[3.min(l.len())..]
                    .trim_start_matches(['-', ' '])
                    .eq_ignore_ascii_case("STARTTLS")
        })
        .collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let text = line.get(4..).unwrap_or("");
        let sep = if i + 1 == lines.len() { ' ' } else { '-' };
        out.push_str(&format!("250{sep}{text}\r\n"));
    }
    out
}
