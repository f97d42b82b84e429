//! Where a proxy's answer ends and the tunnel begins, by the RFCs,
//! written independently of smtp-proxy: the oracles of the SOCKS and HTTP
//! CONNECT fuzz targets and property tests. Pure std (included by
//! smtp-proxy's property tests with `#[path]`).

/// The most all HTTP response heads together may take (smtp-proxy's limit).
pub const MAX_HEAD: usize = 16 * 1024;

/// Length of a SOCKS5 method choice (+ auth status) + success reply at the
/// start of `a` (RFC 1928 §3, §6; RFC 1929 §2).
pub fn socks5_grant(a: &[u8], with_credentials: bool) -> Option<usize> {
    let mut i = match a.get(..2)? {
        [5, 0] => 2,
        [5, 2] if with_credentials => {
            // VER (not checked by clients in practice), STATUS 0 = success.
            if *a.get(3)? != 0 {
                return None;
            }
            4
        }
        _ => return None,
    };
    let head = a.get(i..i + 3)?;
    if head[0] != 5 || head[1] != 0 {
        return None;
    }
    i += 3;
    let address_len = match *a.get(i)? {
        1 => 4,
        4 => 16,
        3 => {
            i += 1;
            usize::from(*a.get(i)?)
        }
        _ => return None,
    };
    i += 1 + address_len + 2;
    (i <= a.len()).then_some(i)
}

/// Length of a SOCKS4 grant: 8 bytes, VN 0 (or 4, which some send), CD 0x5A.
pub fn socks4_grant(a: &[u8]) -> Option<usize> {
    let reply = a.get(..8)?;
    (matches!(reply[0], 0 | 4) && reply[1] == 0x5A).then_some(8)
}

/// Where the tunnel starts: after any 1xx heads and one 2xx head, each
/// ending at an empty line (CR LF or bare LF, RFC 9112 §2.2), empty lines
/// before a status line skipped. `None` if the answer is anything else.
pub fn tunnel_start(a: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        let start = i + a[i..].iter().position(|&b| b != b'\r' && b != b'\n')?;
        let end = (start + 1..=a.len())
            .find(|&j| a[..j].ends_with(b"\n\n") || a[..j].ends_with(b"\n\r\n"))?;
        if end > MAX_HEAD {
            return None;
        }
        let head = String::from_utf8_lossy(&a[start..end]);
        let mut lines = head.split('\n').map(|l| l.trim_end_matches('\r'));
        let status = status_code(lines.next()?)?;
        if !lines.all(|l| l.is_empty() || l.contains(':')) {
            return None;
        }
        match status {
            100..=199 => i = end,
            200..=299 => return Some(end),
            _ => return None,
        }
    }
}

/// `HTTP/x SSS reason` -> SSS (100..=599).
fn status_code(line: &str) -> Option<u16> {
    let (_version, rest) = line.strip_prefix("HTTP/")?.split_once(' ')?;
    let code = rest.split(' ').next()?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code: u16 = code.parse().ok()?;
    (100..=599).contains(&code).then_some(code)
}
