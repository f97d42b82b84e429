//! The MS-NLMP §4.2 examples (user `Domain\User`, password `Password`,
//! server challenge 0123456789abcdef, client challenge aa…aa, time 0),
//! replayed through the mechanism: the CHALLENGE messages are the spec's
//! bytes, the responses must be the spec's bytes.

use secrecy::{ExposeSecret, SecretString};
use smtp_core::sasl::Mechanism;

use super::{Ntlm, response, wire};
use crate::error::Error;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// §4.2.4.3: the NTLMv2 CHALLENGE, target name "Server", target info
/// NbDomainName "Domain" + NbComputerName "Server".
const CHALLENGE_V2: &str = "4e544c4d53535000 02000000 0c000c00 38000000 33828ae2
    0123456789abcdef 0000000000000000 24002400 44000000 060070170000000f
    530065007200760065007200
    02000c0044006f006d00610069006e00 01000c00530065007200760065007200 00000000";

/// §4.2.3.3: the CHALLENGE with extended session security and no target info.
const CHALLENGE_NO_TARGET_INFO: &str = "4e544c4d53535000 02000000 0c000c00 38000000 33820a82
    0123456789abcdef 0000000000000000 0000000000000000 060070170000000f
    530065007200760065007200";

fn spec_client() -> Ntlm {
    let mut m = Ntlm::new(r"Domain\User", SecretString::from("Password"));
    m.client_challenge = Some([0xaa; 8]);
    m.time = Some(0);
    m
}

/// Answers `challenge` after the NEGOTIATE message; the AUTHENTICATE bytes.
fn answer(m: &mut Ntlm, challenge: &[u8]) -> Result<Vec<u8>, Error> {
    m.initial_response().expect("NEGOTIATE");
    m.respond(challenge)
        .map(|r| r.expose_secret().to_vec())
        .map_err(|e| *e.downcast::<Error>().expect("an smtp_auth::Error"))
}

/// The payload of the AUTHENTICATE security buffer at `at`.
fn field(m: &[u8], at: usize) -> &[u8] {
    let len = usize::from(u16::from_le_bytes([m[at], m[at + 1]]));
    let off = u32::from_le_bytes([m[at + 4], m[at + 5], m[at + 6], m[at + 7]]) as usize;
    &m[off..off + len]
}

#[test]
fn password_hashes_match_ms_nlmp_4_2() {
    let nt = response::nt_hash("Password");
    assert_eq!(to_hex(nt.as_slice()), "a4f49c406510bdcab6824ee7c30fd852");
    let v2 = response::ntowf_v2(&nt, "User", "Domain");
    assert_eq!(to_hex(v2.as_slice()), "0c868a403bfd7a93a3001ef22ef02e3f");
}

#[test]
fn ntlmv2_authenticate_matches_ms_nlmp_4_2_4() {
    let mut m = spec_client();
    let auth = answer(&mut m, &hex(CHALLENGE_V2)).unwrap();
    assert_eq!(&auth[..12], b"NTLMSSP\0\x03\0\0\0");
    assert_eq!(
        to_hex(field(&auth, 12)),
        "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa",
        "LMv2 response (§4.2.4.2.1)"
    );
    assert_eq!(
        to_hex(field(&auth, 20)),
        concat!(
            "68cd0ab851e51c96aabc927bebef6a1c",
            "01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000",
            "02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000",
            "00000000"
        ),
        "NTProofStr + blob (§4.2.4.2.2)"
    );
    assert_eq!(field(&auth, 28), hex("44006f006d00610069006e00"), "Domain");
    assert_eq!(field(&auth, 36), hex("5500730065007200"), "User");
    assert!(field(&auth, 44).is_empty(), "no workstation");
    let flags = u32::from_le_bytes(auth[60..64].try_into().unwrap());
    assert_eq!(flags & wire::flag::UNICODE, wire::flag::UNICODE);
}

#[test]
fn ntlmv2_also_answers_a_challenge_without_target_info() {
    // §4.2.3.3's CHALLENGE (NTLMv1 era: no target info), as Cyrus SASL sends.
    let mut m = spec_client();
    let auth = answer(&mut m, &hex(CHALLENGE_NO_TARGET_INFO)).unwrap();
    // LMv2 depends only on the key and the two challenges: same as §4.2.4.
    assert_eq!(
        to_hex(field(&auth, 12)),
        "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa"
    );
    let nt = field(&auth, 20);
    assert_eq!(
        to_hex(&nt[16..]),
        "01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000000000000",
        "the blob with an empty target info"
    );
}

#[test]
fn server_timestamp_is_used_and_the_lm_response_is_zero() {
    // Target info: MsvAvTimestamp (7) = 0x0102030405060708, then EOL.
    let mut c = hex(CHALLENGE_NO_TARGET_INFO);
    c[22] |= 0x80; // NEGOTIATE_TARGET_INFO
    let info = hex("07000800 0807060504030201 00000000");
    c[40..42].copy_from_slice(&(info.len() as u16).to_le_bytes());
    c[42..44].copy_from_slice(&(info.len() as u16).to_le_bytes());
    let offset = c.len() as u32;
    c[44..48].copy_from_slice(&offset.to_le_bytes());
    c.extend_from_slice(&info);
    let mut m = spec_client();
    m.time = None;
    let auth = answer(&mut m, &c).unwrap();
    assert_eq!(field(&auth, 12), [0; 24]);
    let nt = field(&auth, 20);
    assert_eq!(&nt[16..18], [1, 1]);
    assert_eq!(to_hex(&nt[24..32]), "0807060504030201", "blob time");
}

#[test]
fn negotiate_message_is_32_bytes_asking_for_unicode_ntlm_and_session_security() {
    let mut m = Ntlm::new("u", SecretString::from("p"));
    let neg = m.initial_response().unwrap().expose_secret().to_vec();
    assert_eq!(neg.len(), 32);
    assert_eq!(&neg[..12], b"NTLMSSP\0\x01\0\0\0");
    let flags = u32::from_le_bytes(neg[12..16].try_into().unwrap());
    for f in [
        wire::flag::UNICODE,
        wire::flag::NTLM,
        wire::flag::EXTENDED_SESSION_SECURITY,
    ] {
        assert_eq!(flags & f, f, "{f:#x}");
    }
}

#[test]
fn malformed_challenges_are_errors_never_panics() {
    let good = hex(CHALLENGE_V2);
    for len in 0..good.len() {
        let e = answer(&mut spec_client(), &good[..len]);
        assert!(
            matches!(e, Err(Error::InvalidChallenge { .. })),
            "prefix of {len} bytes: {e:?}"
        );
    }
    type Corrupt = fn(&mut Vec<u8>);
    let cases: [(&str, Corrupt); 4] = [
        ("signature", |c| c[0] = b'X'),
        ("type", |c| c[8] = 1),
        ("target info offset", |c| c[44] = 0xff),
        ("no EOL", |c| {
            let n = c.len();
            c[n - 4] = 9;
        }),
    ];
    for (what, corrupt) in cases {
        let mut c = good.clone();
        corrupt(&mut c);
        let e = answer(&mut spec_client(), &c).unwrap_err();
        assert!(matches!(e, Error::InvalidChallenge { .. }), "{what}: {e}");
        assert_eq!(e.coded_hint().code, "auth-invalid-challenge", "{what}");
    }
}

#[test]
fn a_second_challenge_is_refused() {
    let mut m = spec_client();
    answer(&mut m, &hex(CHALLENGE_V2)).unwrap();
    assert!(m.respond(&hex(CHALLENGE_V2)).is_err());
}

#[test]
fn oem_only_servers_get_ascii_names_and_refuse_others() {
    let mut c = hex(CHALLENGE_V2);
    c[20] = (c[20] & !0x01) | 0x02; // OEM instead of UNICODE
    let auth = answer(&mut spec_client(), &c).unwrap();
    assert_eq!(field(&auth, 36), b"User");
    let mut m = Ntlm::new("Jürgen", SecretString::from("p"));
    let e = answer(&mut m, &c).unwrap_err();
    assert!(e.to_string().contains("not ASCII"), "{e}");
}

#[test]
fn username_forms_split_into_user_and_domain() {
    let p = || SecretString::from("p");
    let m = Ntlm::new(r"CORP\alice", p());
    assert_eq!((m.domain(), m.user()), ("CORP", "alice"));
    let m = Ntlm::new("CORP/alice", p());
    assert_eq!((m.domain(), m.user()), ("CORP", "alice"));
    let m = Ntlm::new("alice@corp.example", p());
    assert_eq!((m.domain(), m.user()), ("", "alice@corp.example"));
}

#[test]
fn debug_never_shows_the_password() {
    let m = Ntlm::new(r"CORP\alice", SecretString::from("hunter2-secret"));
    let shown = format!("{m:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("alice"), "{shown}");
}
