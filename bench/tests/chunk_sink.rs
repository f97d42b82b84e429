//! The bench's own servers with our client: the CHUNKING sink counts every
//! message the engine sends (BDAT, pipelined, through the delay relay), so
//! the figures `scripts/bench.sh` prints rest on a sink known to be right.

use std::time::Duration;

use smtp_core::{Address, Envelope, MessageSource, Security, SmtpTransport, Timeouts};
use smtp_testkit::chunk_sink::ChunkSink;
use smtp_testkit::relay::{DelayRelay, RelayConfig};

fn envelope() -> Envelope {
    let from = Address::new("s@example.net").unwrap();
    let to = Address::new("r@example.org").unwrap();
    Envelope::new(Some(from), vec![to]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pipelined_bdat_message_is_counted_through_the_relay() {
    let sink = ChunkSink::start("127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let relay = DelayRelay::start(
        "127.0.0.1:0".parse().unwrap(),
        RelayConfig::new(sink.local_addr(), Duration::from_millis(4)).connect_rtts(1.5),
    )
    .await
    .unwrap();
    let transport = SmtpTransport::builder("127.0.0.1")
        .port(relay.local_addr().port())
        .security(Security::None)
        .timeouts(Timeouts::uniform(Duration::from_secs(10)))
        .build()
        .unwrap();
    let session = transport.connect().await.unwrap();
    let caps = session.capabilities();
    assert!(caps.chunking && caps.pipelining, "{caps:?}");
    // Bodies of different sizes, one with lines that look like commands
    // and a lone dot: BDAT carries them as they are.
    let items: Vec<_> = (0..60)
        .map(|i| {
            let body = format!(
                "Subject: m{i}\r\n\r\nMAIL FROM:<x@y>\r\n.\r\n{}\r\n",
                "y".repeat(i * 97)
            );
            (envelope(), MessageSource::from_bytes(body.into_bytes()))
        })
        .collect();
    let results = session.send_batch_and_quit(items).await;
    assert_eq!(results.len(), 60);
    for (i, r) in results.iter().enumerate() {
        assert!(r.is_ok(), "message {i}: {r:?}");
    }
    for _ in 0..100 {
        if sink.counters().sessions() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sink.messages(), 60, "the sink counted every message");
    assert_eq!(relay.connections(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_message_per_session_with_quit_riding_along_is_counted() {
    // (The DATA path is covered by the sink's own smtplib test.)
    let sink = ChunkSink::start("127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let transport = SmtpTransport::builder("127.0.0.1")
        .port(sink.local_addr().port())
        .security(Security::None)
        .build()
        .unwrap();
    for i in 0..3 {
        let s = transport.connect().await.unwrap();
        let body = format!("Subject: s{i}\r\n\r\nbody\r\n").into_bytes();
        s.send_and_quit(&envelope(), MessageSource::from_bytes(body))
            .await
            .unwrap();
    }
    for _ in 0..100 {
        if sink.counters().sessions() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sink.messages(), 3);
}
