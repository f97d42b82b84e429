use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::session::{SinkState, Step};
use super::{ChunkSink, SessionEndHook, SinkCounters};

fn feed_all(state: &mut SinkState, input: &[u8], c: &SinkCounters) -> (String, Step) {
    let mut out = Vec::new();
    let step = state.feed(input, &mut out, c);
    (String::from_utf8(out).unwrap(), step)
}

#[test]
fn a_pipelined_bdat_group_is_answered_in_one_batch() {
    let c = SinkCounters::default();
    let mut s = SinkState::default();
    let group = b"EHLO me\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 5 LAST\r\nhello\
MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 3\r\nabcBDAT 0 LAST\r\nQUIT\r\n";
    let (out, step) = feed_all(&mut s, group, &c);
    assert_eq!(step.consumed, group.len());
    assert!(step.close, "QUIT ends the session");
    assert!(out.contains("250 CHUNKING\r\n"), "{out}");
    let after_ehlo = out.split("250 CHUNKING\r\n").nth(1).unwrap();
    assert_eq!(
        after_ehlo,
        "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: queued\r\n\
         250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 3 octets\r\n250 2.0.0 Ok: queued\r\n\
         221 2.0.0 Bye\r\n"
    );
    assert_eq!(c.messages(), 2);
    assert_eq!(c.bytes.load(std::sync::atomic::Ordering::Relaxed), 8);
}

#[test]
fn data_ends_only_at_a_lone_dot_even_when_split_across_reads() {
    let c = SinkCounters::default();
    let mut s = SinkState::default();
    let (out, step) = feed_all(&mut s, b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n", &c);
    assert_eq!(
        out,
        "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
    );
    assert!(!step.close);
    // A stuffed dot line, then the terminator cut after its dot.
    let body = b"line one\r\n..stuffed\r\n.";
    let (out, step) = feed_all(&mut s, body, &c);
    assert_eq!(out, "");
    assert_eq!(step.consumed, body.len() - 1, "the lone dot waits for more");
    assert_eq!(c.messages(), 0);
    let (out, step) = feed_all(&mut s, b".\r\nNOOP\r\n", &c);
    assert_eq!(out, "250 2.0.0 Ok: queued\r\n250 2.0.0 Ok\r\n");
    assert_eq!(step.consumed, 9);
    assert_eq!(c.messages(), 1);
}

#[test]
fn a_chunk_split_across_reads_is_consumed_not_parsed() {
    let c = SinkCounters::default();
    let mut s = SinkState::default();
    feed_all(&mut s, b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n", &c);
    // The chunk holds what looks like commands: they are data.
    let (out, step) = feed_all(&mut s, b"BDAT 12 LAST\r\nQUIT\r\n", &c);
    assert_eq!(out, "");
    assert_eq!(step.consumed, 20);
    let (out, _) = feed_all(&mut s, b"RSET\r\n", &c);
    assert_eq!(out, "250 2.0.0 Ok: queued\r\n");
    assert_eq!(c.messages(), 1);
}

#[test]
fn out_of_order_commands_are_refused_and_nothing_is_counted() {
    let c = SinkCounters::default();
    let mut s = SinkState::default();
    let (out, _) = feed_all(
        &mut s,
        b"RCPT TO:<b@y>\r\nDATA\r\nBDAT 2 LAST\r\nhiXYZ\r\n",
        &c,
    );
    assert_eq!(
        out,
        "503 5.5.1 Error: need MAIL command\r\n503 5.5.1 Error: need RCPT command\r\n\
         503 5.5.1 Error: need RCPT command\r\n502 5.5.2 Error: command not recognized\r\n"
    );
    let (out, step) = feed_all(&mut s, b"BDAT x\r\n", &c);
    assert_eq!(out, "501 5.5.4 Syntax: BDAT size [LAST]\r\n");
    assert!(step.close, "an unframed byte stream cannot go on");
    assert_eq!(c.messages(), 0);
}

/// A real client, Python's smtplib (DATA path, no pipelining), against
/// the sink over TCP: the count on the server side is the proof.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_delivers_to_the_sink() {
    let ended = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = ended.clone();
    let hook: SessionEndHook = Arc::new(move |c: &SinkCounters| {
        seen.store(c.sessions(), std::sync::atomic::Ordering::SeqCst);
    });
    let sink = ChunkSink::start("127.0.0.1:0".parse().unwrap(), Some(hook))
        .await
        .unwrap();
    let script = format!(
        "import smtplib\n\
         with smtplib.SMTP('127.0.0.1', {}) as s:\n\
         \x20   s.ehlo()\n\
         \x20   assert s.has_extn('chunking') and s.has_extn('pipelining'), s.esmtp_features\n\
         \x20   for i in range(3):\n\
         \x20       s.sendmail('a@example.net', ['b@example.org'], b'Subject: t\\r\\n\\r\\n.dot\\r\\nbody\\r\\n')\n",
        sink.local_addr().port()
    );
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg("-c")
            .arg(&script)
            .output()
    })
    .await
    .unwrap()
    .expect("python3 runs (Debian package python3; scripts/peers/install.sh installs it)");
    assert!(
        output.status.success(),
        "smtplib failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    for _ in 0..100 {
        if ended.load(std::sync::atomic::Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sink.messages(), 3);
    assert_eq!(sink.counters().sessions(), 1);
}

/// Over TCP, a whole pipelined BDAT group written at once is answered by
/// one batch of replies, and a message split over many writes still counts
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_bdat_over_tcp() {
    let sink = ChunkSink::start("127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let mut c = TcpStream::connect(sink.local_addr()).await.unwrap();
    let mut greeting = [0u8; 35];
    c.read_exact(&mut greeting).await.unwrap();
    assert!(greeting.starts_with(b"220 "));
    let mut group = b"EHLO me\r\n".to_vec();
    for _ in 0..10 {
        group.extend_from_slice(b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 1000 LAST\r\n");
        group.extend_from_slice(&[b'x'; 1000]);
    }
    group.extend_from_slice(b"QUIT\r\n");
    for piece in group.chunks(333) {
        c.write_all(piece).await.unwrap();
    }
    let mut replies = String::new();
    c.read_to_string(&mut replies).await.unwrap();
    assert_eq!(replies.matches("250 2.0.0 Ok: queued\r\n").count(), 10);
    assert!(replies.ends_with("221 2.0.0 Bye\r\n"), "{replies}");
    assert_eq!(sink.messages(), 10);
}
