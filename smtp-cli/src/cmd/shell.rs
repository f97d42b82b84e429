//! `smtp shell`: the telnet walk-through admins are told to do, with TLS
//! and AUTH already done and a transcript. Type SMTP commands with line
//! editing and history; `DATA` reads the message until a line with a
//! single `.`; QUIT, Ctrl-D or Ctrl-C end the session with QUIT.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Result, anyhow};
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use smtp_core::{MessageSource, Reply};

use crate::cli::{GlobalArgs, ShellArgs};
use crate::record::Recorder;
use crate::setup::{self, Dest};

const HELP: &str = "\
Every line is sent to the server as typed; the reply is shown line by line.
  EHLO name               ask again for the server's capabilities
  MAIL FROM:<a@b>         start a message (sender)
  RCPT TO:<c@d>           add a recipient (repeat for several)
  DATA                    then type the message (headers, empty line, body);
                          a line with a single '.' ends it
  RSET                    abandon the current message
  NOOP                    check the connection is alive
  VRFY / EXPN / HELP      ask the server (many refuse)
  QUIT                    say goodbye (also Ctrl-D or Ctrl-C) and show the reply
  help                    this text
TLS and AUTH were done before the prompt (see the lines above it); typing
AUTH again sends it as typed, and lines typed after a 334 challenge are kept
out of the transcript and the history. Up/Down recall earlier lines.";

pub async fn run(global: &GlobalArgs, args: ShellArgs) -> Result<()> {
    let loaded = setup::load(global, &args.conn)?;
    let path = setup::transcript_path(&loaded, args.transcript.as_deref());
    let recorder = Arc::new(Recorder::new(path.as_deref())?);
    let history = history_file(&loaded.queue_dir());
    let setup = setup::build(&loaded, Some(recorder), None)?;
    let Dest::Smtp(transport) = &setup.dest else {
        return Err(anyhow!("no server configured: give --host"));
    };
    let mut session = transport.connect().await?;
    out!(
        "connected to {} — {}",
        transport.target(),
        session.greeting()
    );
    if let Some(tls) = session.tls_info() {
        out!(
            "tls: {} {} (verified: {})",
            tls.version,
            tls.cipher_suite,
            tls.verified
        );
    }
    if let Some(m) = session.authenticated_mechanism() {
        out!("authenticated with {m}");
    }
    out!("server offers:");
    for cap in &session.capabilities().raw {
        out!("  {cap}");
    }
    out!(
        "type SMTP commands (MAIL FROM:<a@b>, RCPT TO:<c@d>, DATA, RSET, NOOP, QUIT); 'help' for help"
    );

    let mut editor = DefaultEditor::new()?;
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    // A line typed after a 334 challenge is a SASL response: a secret.
    let mut secret_next = false;
    loop {
        let line = match editor.readline("smtp> ") {
            Ok(line) => line,
            Err(ReadlineError::Interrupted | ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let cmd = line.trim();
        if cmd.is_empty() {
            continue;
        }
        let secret = secret_next || starts_with_word(cmd, "AUTH");
        if !secret {
            let _ = editor.add_history_entry(cmd);
        }
        if cmd.eq_ignore_ascii_case("help") || cmd == "?" {
            out!("{HELP}");
            continue;
        }
        if cmd.eq_ignore_ascii_case("quit") {
            break;
        }
        let reply = match session.command(cmd).await {
            Ok(r) => r,
            Err(e) => {
                out!("error: {e}");
                if session.is_broken() {
                    save(&mut editor, history.as_ref());
                    return Err(e.into());
                }
                continue;
            }
        };
        secret_next = reply.code == 334;
        show(&reply);
        if starts_with_word(cmd, "DATA") && reply.code == 354 {
            let mut body = Vec::new();
            loop {
                match editor.readline("") {
                    Ok(l) if l == "." => break,
                    Ok(l) => {
                        body.extend_from_slice(l.as_bytes());
                        body.extend_from_slice(b"\r\n");
                    }
                    Err(ReadlineError::Interrupted | ReadlineError::Eof) => break,
                    Err(e) => return Err(e.into()),
                }
            }
            match session.send_data(MessageSource::from_bytes(body)).await {
                Ok(r) => show(&r),
                Err(e) => out!("error: {e}"),
            }
        }
    }
    save(&mut editor, history.as_ref());
    if session.is_broken() {
        return Ok(());
    }
    match session.command("QUIT").await {
        Ok(r) => show(&r),
        Err(e) => out!("error: {e}"),
    }
    Ok(())
}

/// A reply the way the server wrote it: one line each, `250-` then `250 `.
fn show(reply: &Reply) {
    let n = reply.lines.len();
    let enhanced = reply.enhanced.map(|e| format!("{e} ")).unwrap_or_default();
    if n == 0 {
        out!("{}", reply.code);
    }
    for (i, line) in reply.lines.iter().enumerate() {
        let sep = if i + 1 == n { ' ' } else { '-' };
        // The enhanced code was taken off the first line only.
        let prefix = if i == 0 { enhanced.as_str() } else { "" };
        out!("{}{sep}{prefix}{line}", reply.code);
    }
}

fn starts_with_word(cmd: &str, word: &str) -> bool {
    cmd.split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case(word))
}

/// `shell_history` beside the queue directory (the user's data directory).
fn history_file(queue_dir: &std::path::Path) -> Option<PathBuf> {
    queue_dir.parent().map(|d| d.join("shell_history"))
}

fn save(editor: &mut DefaultEditor, history: Option<&PathBuf>) {
    if let Some(h) = history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(h);
    }
}
