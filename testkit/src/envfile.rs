//! Parser for `peers.env`: shell `KEY='VALUE'` lines.

use std::collections::BTreeMap;

use crate::Error;

/// Parses the subset of shell assignment syntax `start.sh` writes (and a
/// person might add by hand): `KEY=VALUE` or `export KEY=VALUE`, where VALUE
/// may mix bare characters, `'single quoted'` runs, `"double quoted"` runs
/// and backslash escapes. Blank lines and `#` comments are skipped; an
/// unquoted `#` after whitespace starts a trailing comment.
pub(crate) fn parse(text: &str) -> Result<BTreeMap<String, String>, Error> {
    let mut map = BTreeMap::new();
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let (key, rest) = line.split_once('=').ok_or_else(|| Error::Parse {
            line: line_no,
            reason: "expected KEY=VALUE".into(),
        })?;
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::Parse {
                line: line_no,
                reason: format!("bad key {key:?}"),
            });
        }
        let value = unquote(rest).map_err(|reason| Error::Parse {
            line: line_no,
            reason,
        })?;
        map.insert(key.to_owned(), value);
    }
    Ok(map)
}

fn unquote(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(c) => out.push(c),
                    None => return Err("unterminated single quote".into()),
                }
            },
            '"' => loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(c @ ('\\' | '"' | '$' | '`')) => out.push(c),
                        Some(c) => {
                            out.push('\\');
                            out.push(c);
                        }
                        None => return Err("unterminated double quote".into()),
                    },
                    Some(c) => out.push(c),
                    None => return Err("unterminated double quote".into()),
                }
            },
            '\\' => match chars.next() {
                Some(c) => out.push(c),
                None => return Err("trailing backslash".into()),
            },
            c if c.is_whitespace() => {
                let rest: String = chars.collect();
                let rest = rest.trim_start();
                if rest.is_empty() || rest.starts_with('#') {
                    break;
                }
                return Err("unquoted whitespace in value".into());
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_start_sh_writes() {
        let text = "# comment\n\nPEERS_A='plain'\nPEERS_B='it'\\''s'\nexport PEERS_C=bare # trailing\n\
                    PEERS_D=\"dq \\\"x\\\" \\$y\"\nPEERS_E=''\nPEERS_F='pässwörd-2'\n";
        let m = parse(text).unwrap();
        assert_eq!(m["PEERS_A"], "plain");
        assert_eq!(m["PEERS_B"], "it's");
        assert_eq!(m["PEERS_C"], "bare");
        assert_eq!(m["PEERS_D"], "dq \"x\" $y");
        assert_eq!(m["PEERS_E"], "");
        assert_eq!(m["PEERS_F"], "pässwörd-2");
        assert_eq!(m.len(), 6);
    }

    #[test]
    fn reports_the_bad_line() {
        let err = parse("A='ok'\nB='open\n").unwrap_err();
        assert!(matches!(err, Error::Parse { line: 2, .. }), "{err:?}");
        let err = parse("just words\n").unwrap_err();
        assert!(matches!(err, Error::Parse { line: 1, .. }), "{err:?}");
        let err = parse("BAD-KEY=1\n").unwrap_err();
        assert!(err.to_string().contains("bad key"), "{err}");
        assert!(parse("A=two words\n").is_err());
    }
}
