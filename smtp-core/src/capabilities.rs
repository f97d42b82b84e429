//! EHLO capabilities (RFC 5321 §4.1.1.1 and the extensions the engine uses).

use crate::reply::Reply;

/// What the server offers, parsed from its EHLO reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The server's name (first EHLO line, first word).
    pub server_name: String,
    /// False when the server refused EHLO and we fell back to HELO.
    pub esmtp: bool,
    /// `STARTTLS` (RFC 3207).
    pub starttls: bool,
    /// `AUTH` mechanisms (RFC 4954), upper case, in the server's order.
    pub auth: Vec<String>,
    /// `PIPELINING` (RFC 2920).
    pub pipelining: bool,
    /// `CHUNKING` (RFC 3030): `BDAT`.
    pub chunking: bool,
    /// `SIZE` (RFC 1870): `Some(0)` means no fixed limit.
    pub size: Option<u64>,
    /// `8BITMIME` (RFC 6152).
    pub eight_bit_mime: bool,
    /// `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// `DSN` (RFC 3461).
    pub dsn: bool,
    /// `ENHANCEDSTATUSCODES` (RFC 2034).
    pub enhanced_status_codes: bool,
    /// `REQUIRETLS` (RFC 8689).
    pub requiretls: bool,
    /// Every keyword line as sent (for display), except the greeting line.
    pub raw: Vec<String>,
}

impl Capabilities {
    /// Parses an EHLO reply. Unknown keywords are kept in `raw` only.
    pub fn from_ehlo(reply: &Reply) -> Capabilities {
        let mut caps = Capabilities {
            esmtp: true,
            ..Capabilities::default()
        };
        let mut lines = reply.lines.iter();
        if let Some(first) = lines.next() {
            caps.server_name = first.split_whitespace().next().unwrap_or("").to_string();
        }
        for line in lines {
            caps.raw.push(line.clone());
            let mut words = line.split_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword.to_ascii_uppercase().as_str() {
                "STARTTLS" => caps.starttls = true,
                "PIPELINING" => caps.pipelining = true,
                "CHUNKING" => caps.chunking = true,
                "8BITMIME" => caps.eight_bit_mime = true,
                "SMTPUTF8" => caps.smtputf8 = true,
                "DSN" => caps.dsn = true,
                "ENHANCEDSTATUSCODES" => caps.enhanced_status_codes = true,
                "REQUIRETLS" => caps.requiretls = true,
                "SIZE" => caps.size = Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0)),
                // `AUTH=PLAIN LOGIN` is the pre-RFC form some servers still send.
                "AUTH" => push_mechanisms(&mut caps.auth, words),
                k if k.starts_with("AUTH=") => {
                    push_mechanisms(&mut caps.auth, std::iter::once(&keyword[5..]).chain(words))
                }
                _ => {}
            }
        }
        caps
    }

    /// Capabilities of a server that only speaks HELO (RFC 821).
    pub fn from_helo(reply: &Reply) -> Capabilities {
        Capabilities {
            server_name: reply
                .first_line()
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string(),
            ..Capabilities::default()
        }
    }

    /// True when the server advertises `mechanism` (case-insensitive).
    pub fn supports_auth(&self, mechanism: &str) -> bool {
        self.auth.iter().any(|m| m.eq_ignore_ascii_case(mechanism))
    }
}

fn push_mechanisms<'a>(into: &mut Vec<String>, words: impl Iterator<Item = &'a str>) {
    for w in words {
        let m = w.to_ascii_uppercase();
        if !m.is_empty() && !into.contains(&m) {
            into.push(m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::ReplyParser;

    fn parse(text: &str) -> Capabilities {
        let (r, _) = ReplyParser::new().parse(text.as_bytes()).unwrap();
        Capabilities::from_ehlo(&r.unwrap())
    }

    #[test]
    fn postfix_ehlo() {
        let c = parse(
            "250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 104857600\r\n250-VRFY\r\n\
             250-ETRN\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-AUTH=PLAIN LOGIN\r\n\
             250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n",
        );
        assert_eq!(c.server_name, "mail.example.test");
        assert!(c.pipelining && c.starttls && c.chunking && c.eight_bit_mime);
        assert!(c.dsn && c.smtputf8 && c.enhanced_status_codes && !c.requiretls);
        assert_eq!(c.size, Some(104_857_600));
        assert_eq!(c.auth, vec!["PLAIN", "LOGIN", "CRAM-MD5"]);
        assert!(c.supports_auth("cram-md5"));
    }

    #[test]
    fn smtp_sink_bare_last_line_and_size_without_value() {
        let c = parse("250-sink\r\n250-PIPELINING\r\n250-SIZE\r\n250-REQUIRETLS\r\n250 \r\n");
        assert!(c.pipelining && c.requiretls);
        assert_eq!(c.size, Some(0));
        assert!(c.auth.is_empty());
    }

    #[test]
    fn lowercase_keywords() {
        let c = parse("250-x\r\n250-auth=login plain\r\n250 starttls\r\n");
        assert_eq!(c.auth, vec!["LOGIN", "PLAIN"]);
        assert!(c.starttls);
    }
}
