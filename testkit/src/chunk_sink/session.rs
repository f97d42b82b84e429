//! One sink connection: a sans-IO state machine fed with whatever bytes
//! arrived, plus the loop that reads, answers and writes.

use std::io;
use std::sync::atomic::Ordering;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::SinkCounters;

const GREETING: &[u8] = b"220 chunk-sink.example.test ESMTP\r\n";
const EHLO_REPLY: &[u8] = b"250-chunk-sink.example.test\r\n250-PIPELINING\r\n\
250-SIZE 104857600\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 CHUNKING\r\n";
/// A command line longer than this (without its end) is refused.
const MAX_LINE: usize = 4096;

/// Serves one client until QUIT or EOF.
pub(super) async fn serve(mut stream: TcpStream, counters: &SinkCounters) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.write_all(GREETING).await?;
    let mut state = SinkState::default();
    let mut input: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut out = Vec::with_capacity(4096);
    loop {
        let step = state.feed(&input, &mut out, counters);
        input.drain(..step.consumed);
        // Replies go out only once no complete command is left: one write
        // answers a whole pipelined group, as Postfix's smtpd does.
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
        if step.close {
            return Ok(());
        }
        input.reserve(64 * 1024);
        if stream.read_buf(&mut input).await? == 0 {
            return Ok(());
        }
    }
}

/// What [`SinkState::feed`] did with its input.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Step {
    /// Bytes used from the front of the input.
    pub consumed: usize,
    /// The session is over (QUIT answered, or the client misbehaved).
    pub close: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
enum Mode {
    #[default]
    Command,
    /// Reading a DATA body; `line_start`: the next byte starts a line.
    Data { line_start: bool },
    /// Reading a BDAT chunk of which `remaining` bytes are still due.
    Bdat {
        remaining: u64,
        size: u64,
        last: bool,
    },
}

/// The protocol state of one connection.
#[derive(Debug, Default)]
pub(super) struct SinkState {
    mode: Mode,
    mail: bool,
    rcpts: usize,
    /// A BDAT chunk was accepted in this transaction: DATA is refused.
    bdat_seen: bool,
    /// Bytes of the current message so far.
    message_bytes: u64,
}

impl SinkState {
    /// Answers every complete command (and consumes every body byte) in
    /// `input`, appending the replies to `out`.
    pub(super) fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, c: &SinkCounters) -> Step {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.mode {
                Mode::Command => {
                    let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                        let close = rest.len() > MAX_LINE;
                        if close {
                            out.extend_from_slice(b"500 5.5.2 Error: line too long\r\n");
                        }
                        return Step {
                            consumed: pos,
                            close,
                        };
                    };
                    pos += end + 1;
                    let line = trim_line(&rest[..end]);
                    if self.command(line, out) {
                        return Step {
                            consumed: pos,
                            close: true,
                        };
                    }
                }
                Mode::Data { line_start } => {
                    if line_start {
                        let ends = [&b".\r\n"[..], &b".\n"[..]];
                        if let Some(t) = ends.iter().find(|t| rest.starts_with(t)) {
                            pos += t.len();
                            self.accept_message(out, c);
                            continue;
                        }
                        // Could still become the terminator: wait for more.
                        if !rest.is_empty() && b".\r".starts_with(&rest[..rest.len().min(2)]) {
                            return Step {
                                consumed: pos,
                                close: false,
                            };
                        }
                    }
                    if rest.is_empty() {
                        return Step {
                            consumed: pos,
                            close: false,
                        };
                    }
                    let (used, at_start) = match rest.iter().position(|&b| b == b'\n') {
                        Some(nl) => (nl + 1, true),
                        None => (rest.len(), false),
                    };
                    self.message_bytes += used as u64;
                    pos += used;
                    self.mode = Mode::Data {
                        line_start: at_start,
                    };
                }
                Mode::Bdat {
                    remaining,
                    size,
                    last,
                } => {
                    let take = remaining.min(rest.len() as u64);
                    pos += take as usize;
                    self.message_bytes += take;
                    if take < remaining {
                        self.mode = Mode::Bdat {
                            remaining: remaining - take,
                            size,
                            last,
                        };
                        return Step {
                            consumed: pos,
                            close: false,
                        };
                    }
                    self.mode = Mode::Command;
                    self.end_chunk(size, last, out, c);
                }
            }
        }
    }

    /// Answers one command line; true when the session ends.
    fn command(&mut self, line: &[u8], out: &mut Vec<u8>) -> bool {
        let text = String::from_utf8_lossy(line);
        let upper = text.to_ascii_uppercase();
        let verb = upper.split(' ').next().unwrap_or("");
        let reply: &[u8] = match verb {
            "EHLO" => {
                self.reset();
                EHLO_REPLY
            }
            "HELO" => {
                self.reset();
                b"250 chunk-sink.example.test\r\n"
            }
            "MAIL" if self.mail => b"503 5.5.1 Error: nested MAIL command\r\n",
            "MAIL" => {
                self.mail = true;
                b"250 2.1.0 Ok\r\n"
            }
            "RCPT" if !self.mail => b"503 5.5.1 Error: need MAIL command\r\n",
            "RCPT" => {
                self.rcpts += 1;
                b"250 2.1.5 Ok\r\n"
            }
            "DATA" if self.rcpts == 0 || self.bdat_seen => {
                b"503 5.5.1 Error: need RCPT command\r\n"
            }
            "DATA" => {
                self.mode = Mode::Data { line_start: true };
                b"354 End data with <CR><LF>.<CR><LF>\r\n"
            }
            "BDAT" => return self.bdat(&upper, out),
            "RSET" => {
                self.reset();
                b"250 2.0.0 Ok\r\n"
            }
            "NOOP" => b"250 2.0.0 Ok\r\n",
            "QUIT" => {
                out.extend_from_slice(b"221 2.0.0 Bye\r\n");
                return true;
            }
            _ => b"502 5.5.2 Error: command not recognized\r\n",
        };
        out.extend_from_slice(reply);
        false
    }

    /// `BDAT <size> [LAST]`: the chunk's bytes follow the line. A size that
    /// cannot be read leaves the byte stream unframed: the session ends.
    fn bdat(&mut self, upper: &str, out: &mut Vec<u8>) -> bool {
        let mut words = upper.split_ascii_whitespace().skip(1);
        let size = words.next().and_then(|w| w.parse::<u64>().ok());
        let last = match words.next() {
            None => Some(false),
            Some("LAST") => Some(true),
            Some(_) => None,
        };
        match (size, last, words.next()) {
            (Some(size), Some(last), None) => {
                self.mode = Mode::Bdat {
                    remaining: size,
                    size,
                    last,
                };
                false
            }
            _ => {
                out.extend_from_slice(b"501 5.5.4 Syntax: BDAT size [LAST]\r\n");
                true
            }
        }
    }

    fn end_chunk(&mut self, size: u64, last: bool, out: &mut Vec<u8>, c: &SinkCounters) {
        if self.rcpts == 0 {
            // RFC 3030 §3: chunks of a transaction without recipients are
            // read and refused.
            out.extend_from_slice(b"503 5.5.1 Error: need RCPT command\r\n");
            return;
        }
        self.bdat_seen = true;
        if last {
            self.accept_message(out, c);
        } else {
            out.extend_from_slice(format!("250 2.0.0 Ok: {size} octets\r\n").as_bytes());
        }
    }

    fn accept_message(&mut self, out: &mut Vec<u8>, c: &SinkCounters) {
        c.messages.fetch_add(1, Ordering::Relaxed);
        c.bytes.fetch_add(self.message_bytes, Ordering::Relaxed);
        out.extend_from_slice(b"250 2.0.0 Ok: queued\r\n");
        self.reset();
    }

    fn reset(&mut self) {
        *self = SinkState::default();
    }
}

fn trim_line(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}
