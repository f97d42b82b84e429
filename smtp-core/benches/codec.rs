//! Micro-benchmarks of the two byte-crunching parts of the engine, with
//! throughput: the reply parser and the body encoder (CRLF normalisation
//! and dot-stuffing). Run with `cargo bench -p smtp-core --bench codec`;
//! figures in docs/benchmarks.md.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use smtp_core::BodyEncoder;
use smtp_core::ReplyParser;

/// The replies a pipelined batch of 1,000 messages gets, plus EHLO: what
/// the parser sees in a sending session.
fn replies() -> Vec<u8> {
    let mut buf = b"220 mail.example.test ESMTP Postfix\r\n250-mail.example.test\r\n\
250-PIPELINING\r\n250-SIZE 10240000\r\n250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n\
250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"
        .to_vec();
    for _ in 0..1000 {
        buf.extend_from_slice(
            b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n\
250 2.0.0 Ok: queued as 4Xz1Yq0Hw3z9sKp\r\n",
        );
    }
    buf
}

/// 1 MiB of message text in 78-byte lines, one line in 16 starting with a
/// dot (to be stuffed), LF line ends in every other line (to be fixed).
fn body() -> Vec<u8> {
    let mut buf = Vec::with_capacity(1 << 20);
    let mut i = 0usize;
    while buf.len() < (1 << 20) {
        if i % 16 == 0 {
            buf.push(b'.');
        }
        buf.extend_from_slice(&[b'a' + (i % 26) as u8; 74]);
        buf.extend_from_slice(if i % 2 == 0 { b"\r\n" } else { b"\n" });
        i += 1;
    }
    buf
}

fn reply_parser(c: &mut Criterion) {
    let input = replies();
    let mut group = c.benchmark_group("reply_parser");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("pipelined_session_replies", |b| {
        b.iter(|| {
            let mut parser = ReplyParser::new();
            let mut rest = black_box(&input[..]);
            let mut count = 0usize;
            while let Ok((Some(reply), used)) = parser.parse(rest) {
                count += reply.code as usize;
                rest = &rest[used..];
            }
            assert!(rest.is_empty(), "every reply parsed");
            count
        })
    });
    group.finish();
}

fn body_encoder(c: &mut Criterion) {
    let input = body();
    let mut group = c.benchmark_group("body_encoder");
    group.throughput(Throughput::Bytes(input.len() as u64));
    let mut out = Vec::with_capacity(input.len() * 2);
    for (name, dot_stuffing) in [("data_dot_stuffing", true), ("bdat_crlf_only", false)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                let mut encoder = BodyEncoder::new(dot_stuffing);
                // In 64 KiB pieces, as the engine reads a file.
                for piece in black_box(&input[..]).chunks(64 * 1024) {
                    encoder.encode(piece, &mut out);
                }
                encoder.finish(&mut out);
                out.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, reply_parser, body_encoder);
criterion_main!(benches);
