//! A 50 MiB file attachment is streamed, never held whole in memory.
//!
//! One test in its own binary (its own process), so the peak resident
//! memory it measures is its own.

mod common;

use smtp_message::{Attachment, Composer};

#[tokio::test]
async fn fifty_mib_attachment_streams_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    let len = 50 * 1024 * 1024;
    common::write_noise_file(&path, len);
    let before = common::peak_rss();

    let m = Composer::new("app@example.test")
        .to("ops@example.test")
        .subject("big")
        .text_body("see attachment")
        .attach(Attachment::file(&path))
        .build()
        .unwrap();
    let source = m.open().await.unwrap();
    assert_eq!(source.size(), m.size());
    let (read, _) = common::drain(source).await;

    let grown = common::peak_rss().saturating_sub(before);
    assert_eq!(Some(read), m.size(), "size() is the bytes read");
    assert!(read > len as u64 * 4 / 3, "the base64 of 50 MiB was read");
    // Buffering the file (50 MiB) or its base64 (68 MiB) would show here;
    // the reader holds one 57 KiB chunk and its 78 KiB encoding.
    assert!(
        grown < 8 * 1024 * 1024,
        "peak memory grew by {} KiB while streaming",
        grown / 1024
    );
}
