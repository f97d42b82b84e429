//! The NTLM message layouts (MS-NLMP §2.2.1): the NEGOTIATE message we
//! send, the CHALLENGE message we parse, the AUTHENTICATE message we build.
//! Every offset in a CHALLENGE comes from the server and is bounds-checked.

pub(super) const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// NEGOTIATE/CHALLENGE/AUTHENTICATE flags used here (MS-NLMP §2.2.2.5).
pub(super) mod flag {
    pub const UNICODE: u32 = 0x0000_0001;
    pub const OEM: u32 = 0x0000_0002;
    pub const REQUEST_TARGET: u32 = 0x0000_0004;
    pub const NTLM: u32 = 0x0000_0200;
    pub const ALWAYS_SIGN: u32 = 0x0000_8000;
    pub const EXTENDED_SESSION_SECURITY: u32 = 0x0008_0000;
    pub const TARGET_INFO: u32 = 0x0080_0000;
    pub const KEY_128: u32 = 0x2000_0000;
    pub const KEY_56: u32 = 0x8000_0000;
}

/// What the client asks for: Unicode or OEM strings, NTLM with extended
/// session security (NTLMv2 needs it on Windows servers), the target info.
pub(super) const NEGOTIATE_FLAGS: u32 = flag::UNICODE
    | flag::OEM
    | flag::REQUEST_TARGET
    | flag::NTLM
    | flag::ALWAYS_SIGN
    | flag::EXTENDED_SESSION_SECURITY
    | flag::KEY_128
    | flag::KEY_56;

/// AV pair ids (MS-NLMP §2.2.2.1) that change what the client sends.
const AV_EOL: u16 = 0;
const AV_TIMESTAMP: u16 = 7;

/// The NEGOTIATE message: no domain or workstation, no version (32 bytes).
pub(super) fn negotiate() -> Vec<u8> {
    let mut m = Vec::with_capacity(32);
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&NEGOTIATE_FLAGS.to_le_bytes());
    m.extend_from_slice(&[0; 16]);
    m
}

/// The parts of a CHALLENGE message the client uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Challenge {
    pub flags: u32,
    pub server_challenge: [u8; 8],
    /// The raw AV pair list, echoed inside the NTLMv2 response.
    pub target_info: Vec<u8>,
    /// MsvAvTimestamp, when the server sent one (FILETIME).
    pub timestamp: Option<u64>,
}

impl Challenge {
    /// True when strings in the AUTHENTICATE message are UTF-16LE.
    pub fn unicode(&self) -> bool {
        self.flags & flag::UNICODE != 0
    }
}

/// Parses a CHALLENGE message; the error says what was wrong, for the
/// user (the challenge is the server's, never secret).
pub(super) fn parse_challenge(m: &[u8]) -> Result<Challenge, String> {
    if m.len() < 32 {
        return Err(format!(
            "{} bytes, shorter than a CHALLENGE message (32)",
            m.len()
        ));
    }
    if &m[..8] != SIGNATURE {
        return Err("it does not start with the NTLMSSP signature".into());
    }
    let kind = u32_at(m, 8);
    if kind != 2 {
        return Err(format!("message type {kind}, expected 2 (CHALLENGE)"));
    }
    let flags = u32_at(m, 20);
    let mut server_challenge = [0; 8];
    server_challenge.copy_from_slice(&m[24..32]);
    // Servers of the NT4 era stop at 32 bytes: no target info at all.
    let target_info = if flags & flag::TARGET_INFO == 0 {
        Vec::new()
    } else if m.len() < 48 {
        return Err(format!(
            "{} bytes, too short for the target info its flags announce",
            m.len()
        ));
    } else {
        field(m, 40, "target info")?.to_vec()
    };
    let timestamp = timestamp(&target_info)?;
    Ok(Challenge {
        flags,
        server_challenge,
        target_info,
        timestamp,
    })
}

fn u32_at(m: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([m[at], m[at + 1], m[at + 2], m[at + 3]])
}

fn u16_at(m: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([m[at], m[at + 1]])
}

/// The payload a security buffer (length, max length, offset) at `at` points to.
fn field<'a>(m: &'a [u8], at: usize, name: &str) -> Result<&'a [u8], String> {
    let len = usize::from(u16_at(m, at));
    let offset = u32_at(m, at + 4) as usize;
    offset
        .checked_add(len)
        .and_then(|end| m.get(offset..end))
        .ok_or_else(|| {
            format!(
                "the {name} ({len} bytes at offset {offset}) lies outside the {}-byte message",
                m.len()
            )
        })
}

/// Walks the AV pairs: they must end with MsvAvEOL inside the buffer.
fn timestamp(info: &[u8]) -> Result<Option<u64>, String> {
    if info.is_empty() {
        return Ok(None);
    }
    let mut rest = info;
    let mut found = None;
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err("the target info ends inside an AV pair header".into());
        }
        let id = u16_at(rest, 0);
        let len = usize::from(u16_at(rest, 2));
        let value = rest
            .get(4..4 + len)
            .ok_or("an AV pair in the target info runs past its end")?;
        match id {
            AV_EOL => return Ok(found),
            AV_TIMESTAMP if len == 8 => {
                let mut b = [0; 8];
                b.copy_from_slice(value);
                found = Some(u64::from_le_bytes(b));
            }
            _ => {}
        }
        rest = &rest[4 + len..];
    }
    Err("the target info has no MsvAvEOL terminator".into())
}

/// Encodes a name field: UTF-16LE when Unicode was negotiated, else the
/// OEM code page, which for us is ASCII only.
pub(super) fn text(s: &str, unicode: bool) -> Result<Vec<u8>, String> {
    if unicode {
        return Ok(s.encode_utf16().flat_map(u16::to_le_bytes).collect());
    }
    if !s.is_ascii() {
        return Err(format!(
            "the server only takes OEM (8-bit) names and {s:?} is not ASCII"
        ));
    }
    Ok(s.as_bytes().to_vec())
}

/// The AUTHENTICATE message's fields (MS-NLMP §2.2.1.3), no MIC, no version.
pub(super) struct Authenticate<'a> {
    pub flags: u32,
    pub lm_response: &'a [u8],
    pub nt_response: &'a [u8],
    pub domain: &'a [u8],
    pub user: &'a [u8],
    pub workstation: &'a [u8],
}

impl Authenticate<'_> {
    /// The message: a 64-byte header of security buffers, then the payload.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        const HEADER: usize = 64;
        let parts = [
            self.lm_response,
            self.nt_response,
            self.domain,
            self.user,
            self.workstation,
            &[],
        ];
        let mut m = Vec::with_capacity(HEADER + parts.iter().map(|p| p.len()).sum::<usize>());
        m.extend_from_slice(SIGNATURE);
        m.extend_from_slice(&3u32.to_le_bytes());
        let mut offset = HEADER;
        for part in parts {
            let len = u16::try_from(part.len())
                .map_err(|_| format!("a field of {} bytes does not fit", part.len()))?;
            m.extend_from_slice(&len.to_le_bytes());
            m.extend_from_slice(&len.to_le_bytes());
            m.extend_from_slice(&(offset as u32).to_le_bytes());
            offset += part.len();
        }
        m.extend_from_slice(&self.flags.to_le_bytes());
        for part in parts {
            m.extend_from_slice(part);
        }
        Ok(m)
    }
}
