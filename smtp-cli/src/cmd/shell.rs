//! `smtp shell`: the telnet walk-through admins are told to do, with TLS
//! and AUTH already done and a transcript. Type SMTP commands; `DATA`
//! reads the message until a line with a single `.`.

use std::io::{BufRead, Write};
use std::sync::Arc;

use anyhow::{Result, anyhow};
use smtp_core::MessageSource;

use crate::cli::{GlobalArgs, ShellArgs};
use crate::record::Recorder;
use crate::setup::{self, Dest};

pub async fn run(global: &GlobalArgs, args: ShellArgs) -> Result<()> {
    let loaded = setup::load(global, &args.conn)?;
    let path = setup::transcript_path(&loaded, args.transcript.as_deref());
    let recorder = Arc::new(Recorder::new(path.as_deref())?);
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
    out!("server offers: {}", session.capabilities().raw.join(", "));
    out!(
        "type SMTP commands (MAIL FROM:<a@b>, RCPT TO:<c@d>, DATA, RSET, NOOP, QUIT); 'help' for help"
    );
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        print!("smtp> ");
        std::io::stdout().flush()?;
        let Some(line) = lines.next() else { break };
        let line = line?;
        let cmd = line.trim();
        if cmd.is_empty() {
            continue;
        }
        if cmd.eq_ignore_ascii_case("help") {
            out!(
                "any SMTP command is sent as typed; DATA then the message, ending with '.'; QUIT or Ctrl-D ends"
            );
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
                    return Err(e.into());
                }
                continue;
            }
        };
        out!("{reply}");
        if cmd.eq_ignore_ascii_case("data") && reply.code == 354 {
            let mut body = Vec::new();
            for l in lines.by_ref() {
                let l = l?;
                if l == "." {
                    break;
                }
                body.extend_from_slice(l.as_bytes());
                body.extend_from_slice(b"\r\n");
            }
            match session.send_data(MessageSource::from_bytes(body)).await {
                Ok(r) => out!("{r}"),
                Err(e) => out!("error: {e}"),
            }
        }
    }
    session.quit().await;
    Ok(())
}
