//! Every form in which a secret could show up in output: raw, base64 at
//! each of the three byte alignments (standard and URL-safe alphabets),
//! percent-encoded, hex, and a Rust `Debug` byte list. Used by
//! secrets.rs; its own tests plant each form to prove the search finds it.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

/// One string to search for, and what it stands for.
#[derive(Debug, Clone)]
pub struct Needle {
    pub what: String,
    pub text: String,
}

/// The needles for `secret` (called `name` in reports).
pub fn forms(name: &str, secret: &[u8]) -> Vec<Needle> {
    let mut out = Vec::new();
    let mut add = |form: &str, text: String| {
        // Shorter needles would match by chance.
        if text.len() >= 8 {
            out.push(Needle {
                what: format!("{name} ({form})"),
                text,
            });
        }
    };
    add("raw", String::from_utf8_lossy(secret).into_owned());
    for k in 0..3 {
        for (alphabet, engine) in [("base64", &STANDARD), ("base64url", &URL_SAFE)] {
            add(
                &format!("{alphabet}, offset {k}"),
                base64_inner(engine, secret, k),
            );
        }
    }
    add("percent-encoded", percent(secret, false));
    add("percent-encoded, lower case", percent(secret, true));
    add("percent-encoded, every byte", {
        secret.iter().map(|b| format!("%{b:02X}")).collect()
    });
    add("hex", secret.iter().map(|b| format!("{b:02x}")).collect());
    add("HEX", secret.iter().map(|b| format!("{b:02X}")).collect());
    let bytes: Vec<String> = secret.iter().map(u8::to_string).collect();
    add("Debug byte list", bytes.join(", "));
    out
}

/// The part of the base64 of `secret`, placed `k` bytes into a 3-byte
/// group, that depends on the secret alone: it shows up in the encoding
/// of any longer blob holding the secret at that alignment.
fn base64_inner(engine: &base64::engine::GeneralPurpose, secret: &[u8], k: usize) -> String {
    let mut buf = vec![0u8; k];
    buf.extend_from_slice(secret);
    let enc = engine.encode(&buf);
    let first = (8 * k).div_ceil(6);
    let last = (8 * (k + secret.len())) / 6;
    enc[first..last.min(enc.len())].to_string()
}

fn percent(secret: &[u8], lower: bool) -> String {
    secret
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else if lower {
                format!("%{b:02x}")
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Full blobs as the protocols build them, base64-encoded whole.
pub fn blob(name: &str, blob: &[u8]) -> Vec<Needle> {
    [("base64", &STANDARD), ("base64url", &URL_SAFE)]
        .iter()
        .map(|(alphabet, engine)| Needle {
            what: format!("{name} ({alphabet} blob)"),
            text: engine.encode(blob),
        })
        .collect()
}

/// Every needle found in `text`.
pub fn find(text: &str, needles: &[Needle]) -> Vec<String> {
    needles
        .iter()
        .filter(|n| text.contains(&n.text))
        .map(|n| n.what.clone())
        .collect()
}

#[test]
fn planted_secrets_are_found_in_every_form() {
    let secret = "pässwörd-Plant-7";
    let needles = forms("planted", secret.as_bytes());
    let plain = format!("\0user@example.test\0{secret}");
    let plants = [
        format!("AUTH PLAIN {}", STANDARD.encode(&plain)),
        format!("334 {}", STANDARD.encode(format!("x{secret}"))),
        format!("C: {}", STANDARD.encode(format!("xy{secret}zz"))),
        format!(
            "Proxy-Authorization: Basic {}",
            URL_SAFE.encode(format!("u:{secret}"))
        ),
        format!("socks5h://u:{}@h", percent(secret.as_bytes(), false)),
        format!(
            "key = {}",
            secret
                .bytes()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ),
        format!("{:?}", secret.as_bytes()),
        format!("error: bad password {secret:?}"),
    ];
    for plant in &plants {
        assert!(!find(plant, &needles).is_empty(), "not found in {plant:?}");
    }
    let clean = format!(
        "AUTH PLAIN <redacted>\n{}",
        STANDARD.encode("\0user@example.test\0another-password")
    );
    assert!(
        find(&clean, &needles).is_empty(),
        "false positive in {clean:?}"
    );
}
