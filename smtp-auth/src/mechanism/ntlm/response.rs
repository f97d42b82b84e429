//! The NTLMv2 challenge responses (MS-NLMP §3.3.2), from RustCrypto's
//! MD4 and HMAC-MD5. Every intermediate key is zeroized on drop.

use hmac::{Hmac, Mac};
use md4::{Digest, Md4};
use md5::Md5;
use secrecy::zeroize::Zeroizing;

type Key = Zeroizing<[u8; 16]>;

/// The LM and NT challenge responses of one AUTHENTICATE message.
pub(super) struct Responses {
    pub lm: Vec<u8>,
    pub nt: Vec<u8>,
}

/// NTOWFv1: MD4 of the UTF-16LE password (the "NT hash").
pub(super) fn nt_hash(password: &str) -> Key {
    let utf16: Zeroizing<Vec<u8>> =
        Zeroizing::new(password.encode_utf16().flat_map(u16::to_le_bytes).collect());
    Zeroizing::new(Md4::digest(utf16.as_slice()).into())
}

/// NTOWFv2: HMAC-MD5 keyed by the NT hash over UTF-16LE(UPPER(user) + domain).
pub(super) fn ntowf_v2(nt_hash: &Key, user: &str, domain: &str) -> Key {
    let mut mac = hmac_md5(nt_hash.as_slice());
    let identity = user.to_uppercase() + domain;
    let utf16: Vec<u8> = identity.encode_utf16().flat_map(u16::to_le_bytes).collect();
    mac.update(&utf16);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

fn hmac_md5(key: &[u8]) -> Hmac<Md5> {
    // HMAC takes keys of any length: this cannot fail.
    <Hmac<Md5> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

/// NTLMv2 (MS-NLMP §3.3.2): the NT response is NTProofStr followed by the
/// blob it signs (time, client challenge, the server's target info); the
/// LM response is LMv2, or zeros when the server sent a timestamp
/// (§3.1.5.1.2).
pub(super) fn ntlm_v2(
    key: &Key,
    server_challenge: &[u8; 8],
    client_challenge: &[u8; 8],
    time: u64,
    target_info: &[u8],
    server_timestamp: bool,
) -> Responses {
    let mut blob = Vec::with_capacity(32 + target_info.len());
    blob.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    blob.extend_from_slice(&time.to_le_bytes());
    blob.extend_from_slice(client_challenge);
    blob.extend_from_slice(&[0; 4]);
    blob.extend_from_slice(target_info);
    blob.extend_from_slice(&[0; 4]);

    let mut mac = hmac_md5(key.as_slice());
    mac.update(server_challenge);
    mac.update(&blob);
    let mut nt = mac.finalize().into_bytes().to_vec();
    nt.extend_from_slice(&blob);

    let lm = if server_timestamp {
        vec![0; 24]
    } else {
        let mut mac = hmac_md5(key.as_slice());
        mac.update(server_challenge);
        mac.update(client_challenge);
        let mut lm = mac.finalize().into_bytes().to_vec();
        lm.extend_from_slice(client_challenge);
        lm
    };
    Responses { lm, nt }
}
