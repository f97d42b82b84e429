//! The streaming body encoder: for DATA, undoing the dot-stuffing gives
//! the body with normalised line ends (decode(encode(x)) == x for a body
//! that already has CR LF lines); for BDAT the bytes are just normalised;
//! how the body is cut into chunks never matters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_core::BodyEncoder;
use smtp_fuzz::oracles;

fuzz_target!(|data: &[u8]| {
    // First byte: mode; next three: chunk sizes; the rest is the body.
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (sizes, body) = rest.split_at(rest.len().min(3));
    let dot_stuffing = mode & 1 == 1;

    let encode = |chunks: &[&[u8]]| {
        let mut encoder = BodyEncoder::new(dot_stuffing);
        let mut out = Vec::new();
        for chunk in chunks {
            encoder.encode(chunk, &mut out);
        }
        encoder.finish(&mut out);
        out
    };
    let wire = encode(&oracles::chunks(body, sizes));
    assert_eq!(wire, encode(&[body]), "chunking changed the output");

    let expected = oracles::normalize_line_ends(body);
    if dot_stuffing {
        let decoded = oracles::unstuff(&wire).unwrap_or_else(|e| panic!("{e}: {wire:?}"));
        assert_eq!(decoded, expected);
    } else {
        assert_eq!(wire, expected);
    }
});
