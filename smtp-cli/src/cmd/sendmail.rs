//! `smtp sendmail`: stands in for /usr/sbin/sendmail in cron and scripts.
//! Reads the message on stdin; `-t` takes recipients from the headers and
//! removes `Bcc:`; `-f` sets the envelope sender.

use std::io::Read;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use smtp_core::{Address, Envelope};

use crate::cli::{ConnectionArgs, GlobalArgs, SendmailArgs};
use crate::cmd::deliver::{Job, deliver};
use crate::cmd::send::report;
use crate::record::Recorder;
use crate::setup;

pub async fn run(global: &GlobalArgs, args: SendmailArgs) -> Result<()> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("reading the message from stdin")?;
    let loaded = setup::load(global, &ConnectionArgs::default())?;
    let setup = setup::build(&loaded, None::<Arc<Recorder>>, None)?;
    let mut rcpts: Vec<Address> = args
        .recipients
        .iter()
        .map(|r| Address::new(r.trim()))
        .collect::<Result<_, _>>()?;
    if args.read_recipients {
        rcpts.extend(header_recipients(&bytes)?);
        bytes = strip_bcc(&bytes);
    }
    if rcpts.is_empty() {
        bail!("no recipients: name them as arguments or use -t to read To/Cc/Bcc");
    }
    let from = args
        .from
        .or_else(|| setup.message.from.clone())
        .context("no sender: give -f ADDR or set message.from in the config")?;
    let envelope = Envelope::new(Some(Address::new(&from)?), rcpts)?;
    let outcomes = deliver(
        &setup,
        vec![Job {
            label: "stdin".into(),
            envelope,
            bytes,
        }],
        1,
        true,
    )
    .await;
    report(
        &outcomes,
        false,
        matches!(setup.dest, setup::Dest::Outbox(_)),
    )
}

/// The header block, unfolded, as (name, value) pairs.
fn headers(message: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(message);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let head = head.split("\n\n").next().unwrap_or("");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    out
}

/// Addresses in the To, Cc and Bcc headers.
pub fn header_recipients(message: &[u8]) -> Result<Vec<Address>> {
    let mut out = Vec::new();
    for (name, value) in headers(message) {
        if matches!(name.as_str(), "to" | "cc" | "bcc") {
            for a in split_addresses(&value) {
                out.push(
                    Address::new(&a).with_context(|| format!("bad address in {name}: header"))?,
                );
            }
        }
    }
    Ok(out)
}

/// `Name <a@b>, "Doe, J" <c@d>, e@f` -> the bare addresses.
fn split_addresses(list: &str) -> Vec<String> {
    let mut items = Vec::new();
    let (mut cur, mut quoted, mut angle) = (String::new(), false, 0);
    for c in list.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle += 1,
            '>' if !quoted => angle -= 1,
            ',' if !quoted && angle == 0 => {
                items.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    items.push(cur);
    items
        .into_iter()
        .filter_map(|item| {
            let item = item.trim();
            let addr = match (item.rfind('<'), item.rfind('>')) {
                (Some(a), Some(b)) if a < b => &item[a + 1..b],
                _ => item,
            };
            let addr = addr.trim();
            (!addr.is_empty()).then(|| addr.to_string())
        })
        .collect()
}

/// Removes `Bcc:` header lines (and their continuation lines).
fn strip_bcc(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len());
    let mut in_head = true;
    let mut skipping = false;
    for line in message.split_inclusive(|&b| b == b'\n') {
        if in_head {
            if line == b"\r\n" || line == b"\n" {
                in_head = false;
            } else if line.starts_with(b" ") || line.starts_with(b"\t") {
                if skipping {
                    continue;
                }
            } else {
                skipping = line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"bcc:");
                if skipping {
                    continue;
                }
            }
        }
        out.extend_from_slice(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_from_headers() {
        let msg = b"From: a@b.c\r\nTo: \"Doe, J\" <j@x.test>, k@x.test\r\nCc: L <l@x.test>\r\nBcc: hidden@x.test,\r\n  also@x.test\r\nSubject: s\r\n\r\nTo: not@header.test\r\n";
        let r: Vec<String> = header_recipients(msg)
            .unwrap()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(
            r,
            [
                "j@x.test",
                "k@x.test",
                "l@x.test",
                "hidden@x.test",
                "also@x.test"
            ]
        );
        let stripped = String::from_utf8(strip_bcc(msg)).unwrap();
        assert!(!stripped.contains("hidden") && !stripped.contains("also@x.test"));
        assert!(stripped.contains("To: not@header.test"), "body untouched");
    }
}
