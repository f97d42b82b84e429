use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::*;

const T: Duration = Duration::from_secs(5);

async fn read_reply_line(r: &mut BufReader<TcpStream>) -> String {
    let mut s = String::new();
    r.read_line(&mut s).await.unwrap();
    s
}

#[tokio::test]
async fn scripted_dialogue_and_logs() {
    let server = ScriptedServer::start(|mut c| async move {
        c.send("220 scripted\r\n").await;
        let ehlo = c.expect("ehlo").await; // case-insensitive
        assert_eq!(ehlo, "EHLO client.example");
        c.send("250 ok\r\n").await;
        c.expect("DATA").await;
        c.send("354 go\r\n").await;
        let body = c.read_until_dot().await;
        assert_eq!(body, b"Subject: x\r\n..leading dot\r\n");
        c.send("250 queued\r\n").await;
        let chunk = c.read_exact(5).await;
        assert_eq!(chunk, b"12345");
        assert_eq!(c.read_line().await.as_deref(), Some("bare lf"));
        assert_eq!(c.read_line().await.as_deref(), Some("tail"));
        assert_eq!(c.read_line().await, None);
        assert_eq!(c.received().len(), 8);
    });
    let mut client = BufReader::new(TcpStream::connect(server.addr()).await.unwrap());
    assert_eq!(read_reply_line(&mut client).await, "220 scripted\r\n");
    client
        .get_mut()
        .write_all(b"EHLO client.example\r\n")
        .await
        .unwrap();
    assert_eq!(read_reply_line(&mut client).await, "250 ok\r\n");
    client.get_mut().write_all(b"DATA\r\n").await.unwrap();
    assert_eq!(read_reply_line(&mut client).await, "354 go\r\n");
    client
        .get_mut()
        .write_all(b"Subject: x\r\n..leading dot\r\n.\r\n")
        .await
        .unwrap();
    assert_eq!(read_reply_line(&mut client).await, "250 queued\r\n");
    client
        .get_mut()
        .write_all(b"12345bare lf\ntail")
        .await
        .unwrap();
    client.get_mut().shutdown().await.unwrap();
    server.wait_handled(1, T).await;
    assert_eq!(
        server.log(),
        [
            "EHLO client.example",
            "DATA",
            "Subject: x",
            "..leading dot",
            ".",
            "12345",
            "bare lf",
            "tail"
        ]
    );
    assert!(server.handler_panics().is_empty());
}

#[tokio::test]
async fn empty_data_body() {
    let server = ScriptedServer::start(|mut c| async move {
        assert!(c.read_until_dot().await.is_empty());
    });
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    s.write_all(b".\r\n").await.unwrap();
    server.wait_handled(1, T).await;
    assert!(
        server.handler_panics().is_empty(),
        "{:?}",
        server.handler_panics()
    );
}

#[tokio::test]
async fn into_stream_keeps_unread_bytes() {
    let server = ScriptedServer::start(|mut c| async move {
        c.expect("STARTTLS").await;
        c.send("220 go ahead\r\n").await;
        let mut tcp = c.into_stream();
        let mut rest = Vec::new();
        tcp.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"\x16\x03\x01 not a line, would-be ClientHello");
    });
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    // one write: the handshake bytes arrive together with the command
    s.write_all(b"STARTTLS\r\n\x16\x03\x01 not a line, would-be ClientHello")
        .await
        .unwrap();
    s.shutdown().await.unwrap();
    server.wait_handled(1, T).await;
    assert!(
        server.handler_panics().is_empty(),
        "{:?}",
        server.handler_panics()
    );
}

#[tokio::test]
async fn upgrade_goes_on_over_the_new_stream() {
    let server = ScriptedServer::start(|c| async move {
        // Stand-in for a TLS acceptor: any stream works.
        let mut c = c.upgrade(|tcp| async move { tcp }).await;
        assert_eq!(c.read_line().await.as_deref(), Some("one"));
        assert_eq!(c.read_exact(3).await, b"abc");
        assert_eq!(c.read_line().await.as_deref(), Some("two"));
        c.send("bye\r\n").await;
    });
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    s.write_all(b"one\r\nabctwo\r\n").await.unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.unwrap();
    assert_eq!(buf, "bye\r\n");
    server.wait_handled(1, T).await;
    assert_eq!(server.log(), ["one", "abc", "two"]);
    assert!(server.handler_panics().is_empty());
}

#[tokio::test]
async fn one_handler_call_per_connection_and_shared_log() {
    let server = ScriptedServer::start(|mut c| async move {
        let line = c.read_line().await.unwrap();
        c.send(&format!("{} {line}\r\n", c.index())).await;
    });
    for i in 0..3 {
        let mut s = BufReader::new(TcpStream::connect(server.addr()).await.unwrap());
        s.get_mut()
            .write_all(format!("hello {i}\r\n").as_bytes())
            .await
            .unwrap();
        assert_eq!(read_reply_line(&mut s).await, format!("{i} hello {i}\r\n"));
    }
    server.wait_handled(3, T).await;
    assert_eq!(server.connections(), 3);
    assert_eq!(server.log(), ["hello 0", "hello 1", "hello 2"]);
}

#[tokio::test]
async fn failed_expectation_is_reported() {
    let server = ScriptedServer::start(|mut c| async move {
        c.expect("EHLO").await;
    });
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    s.write_all(b"HELO old.client\r\n").await.unwrap();
    server.wait_handled(1, T).await;
    let panics = server.handler_panics();
    assert_eq!(panics.len(), 1);
    assert!(panics[0].contains("expected \"EHLO\""), "{panics:?}");
    // Dropping a server whose handler panicked fails the test:
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(server)));
    assert!(dropped.is_err());
}

#[tokio::test]
async fn expect_panics_on_eof() {
    let server = ScriptedServer::start(|mut c| async move {
        c.expect("QUIT").await;
    });
    drop(TcpStream::connect(server.addr()).await.unwrap());
    server.wait_handled(1, T).await;
    let panics = server.handler_panics();
    assert!(panics[0].contains("closed the connection"), "{panics:?}");
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(server)));
    assert!(dropped.is_err());
}

#[tokio::test]
async fn drop_stops_listener_and_handlers() {
    let server = ScriptedServer::start(|mut c| async move {
        c.send("220 stalls now\r\n").await;
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    let addr = server.addr();
    let mut s = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert_eq!(read_reply_line(&mut s).await, "220 stalls now\r\n");
    drop(server);
    // the stalled handler is cancelled: its socket closes
    let mut rest = Vec::new();
    let n = tokio::time::timeout(T, s.read_to_end(&mut rest)).await;
    assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "{n:?}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "listener still open"
    );
}

#[tokio::test]
#[should_panic(expected = "0 of 1 handlers finished")]
async fn wait_handled_times_out() {
    let server = ScriptedServer::start(|mut c| async move {
        c.read_line().await;
    });
    let _s = TcpStream::connect(server.addr()).await.unwrap();
    server.wait_handled(1, Duration::from_millis(200)).await;
}

#[test]
fn the_ehlo_after_tls_drops_starttls() {
    assert_eq!(
        script::without_starttls("250-hi\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
        "250-hi\r\n250 PIPELINING\r\n"
    );
    assert_eq!(
        script::without_starttls("250-hi\r\n250-STARTTLS\r\n250 SIZE 10\r\n"),
        "250-hi\r\n250 SIZE 10\r\n"
    );
}

#[tokio::test]
async fn a_script_plays_the_first_connection_and_later_ones_are_served() {
    let server = ScriptedServer::scripted(
        vec![
            Step::send("220 hostile\r\n"),
            Step::Expect("EHLO"),
            Step::send("250 hostile\r\n"),
            Step::Expect("MAIL"),
            Step::Drop,
        ],
        "250-fine\r\n250 CHUNKING\r\n",
    );
    let mut first = BufReader::new(TcpStream::connect(server.addr()).await.unwrap());
    assert_eq!(read_reply_line(&mut first).await, "220 hostile\r\n");
    first.get_mut().write_all(b"EHLO c\r\n").await.unwrap();
    assert_eq!(read_reply_line(&mut first).await, "250 hostile\r\n");
    first
        .get_mut()
        .write_all(b"MAIL FROM:<>\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    first.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "dropped without a reply: {rest:?}");

    let mut second = BufReader::new(TcpStream::connect(server.addr()).await.unwrap());
    assert!(read_reply_line(&mut second).await.starts_with("220 "));
    second
        .get_mut()
        .write_all(b"EHLO c\r\nSTARTTLS\r\nBDAT 3 LAST\r\nabcQUIT\r\n")
        .await
        .unwrap();
    for want in ["250-fine", "250 CHUNKING", "454 ", "250 ", "221 "] {
        let line = read_reply_line(&mut second).await;
        assert!(line.starts_with(want), "{want:?}: {line:?}");
    }
    server.wait_handled(2, T).await;
    assert!(
        server.log().contains(&"<3 bytes>".to_string()),
        "{:?}",
        server.log()
    );
}
