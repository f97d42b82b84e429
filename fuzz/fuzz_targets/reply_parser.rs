//! The streaming reply parser on arbitrary server bytes: never panics,
//! the same replies whatever the read sizes, every reply well formed and
//! printable, and a reply written back out parses to the same reply.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_core::{EnhancedCode, ReplyParser};
use smtp_fuzz::{oracles, replies};

fuzz_target!(|data: &[u8]| {
    // The first bytes are read sizes, the rest is what the server sent.
    let (sizes, input) = data.split_at(data.len().min(3));
    let whole = replies::parse_whole(input);
    for reply in &whole.replies {
        replies::check_reply(reply);
        round_trip(reply);
    }
    if let Some(error) = &whole.error {
        let shown = error.to_string();
        assert!(oracles::is_one_printable_line(&shown), "{shown:?}");
    }
    // Read sizes of 1 to ~4 KiB; all-tiny reads only make each run slower
    // (the parser rescans the buffered partial line on every read).
    let sizes: Vec<u16> = sizes.iter().map(|&b| 1 + u16::from(b) * 17).collect();
    let chunked = replies::parse_chunked(&oracles::chunks(input, &sizes));
    assert_eq!(whole, chunked, "read sizes {sizes:?} changed the result");
});

fn round_trip(reply: &smtp_core::Reply) {
    let wire = replies::to_wire(reply);
    // Replacement characters take three bytes where the server sent one.
    if wire.split(|&b| b == b'\n').any(|l| l.len() > ReplyParser::MAX_LINE_LEN) {
        return;
    }
    let again = replies::parse_whole(&wire);
    assert_eq!(again.error, None, "{wire:?}");
    assert!(!again.pending, "{wire:?}");
    let [back] = again.replies.as_slice() else {
        panic!("{} replies from {wire:?}", again.replies.len());
    };
    assert_eq!((back.code, back.enhanced), (reply.code, reply.enhanced));
    assert_eq!(back.lines.len(), reply.lines.len());
    assert_eq!(back.lines[0], reply.lines[0]);
    let class = (reply.code / 100) as u8;
    for (b, r) in back.lines.iter().zip(&reply.lines).skip(1) {
        // A later line that still starts with an enhanced code had one
        // stripped already; the parser strips the next one too.
        if EnhancedCode::parse_prefix(r).is_none_or(|(e, _)| e.class != class) {
            assert_eq!(b, r);
        }
    }
}
