//! Sends N messages of SIZE bytes over one lettre connection (its pool
//! reuses the connection), the way a Rust service using lettre would:
//! `lettre-client HOST PORT N SIZE`. Plain SMTP, no TLS, no AUTH.

use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

fn body(size: usize) -> String {
    // The payload smtp-bench and the smtplib client send: 78-byte lines.
    let mut body = String::with_capacity(size);
    let mut left = size;
    while left >= 2 {
        let k = left.min(78);
        body.push_str(&"x".repeat(k - 2));
        body.push_str("\r\n");
        left -= k;
    }
    body.push_str(&"x".repeat(left));
    body
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, host, port, n, size] = args.as_slice() else {
        eprintln!("usage: lettre-client HOST PORT N SIZE");
        std::process::exit(2);
    };
    let port: u16 = port.parse().expect("PORT");
    let n: usize = n.parse().expect("N");
    let size: usize = size.parse().expect("SIZE");
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
        .port(port)
        .build();
    let body = body(size);
    for i in 0..n {
        let message = Message::builder()
            .from("s@example.net".parse().unwrap())
            .to("r@example.org".parse().unwrap())
            .subject("bench")
            .header(ContentType::TEXT_PLAIN)
            .body(body.clone())
            .unwrap();
        if let Err(e) = transport.send(message).await {
            eprintln!("lettre-client: message {i}: {e}");
            std::process::exit(1);
        }
    }
}
