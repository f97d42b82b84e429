//! Checks one value against its [`KeyKind`] and turns it into the one
//! canonical form the serde model reads. Text from environment variables
//! and the command line arrives as strings and is parsed here too, so
//! every layer gets the same checks and the same error wording.

use std::time::Duration;

use figment::value::{Num, Value};

use crate::keys::{KeyKind, MECHANISMS};
use crate::presets;
use crate::suggest;

/// Normalizes `value` for a key of `kind`; the error is the reason, for a
/// message that already names the key, value and layer.
pub(crate) fn normalize(kind: KeyKind, value: &Value) -> Result<Value, String> {
    match kind {
        KeyKind::Text => text(value).map(Value::from),
        KeyKind::HostName => host_name(value).map(Value::from),
        KeyKind::Secret => secret(value).map(Value::from),
        KeyKind::Bool => boolean(value).map(Value::from),
        KeyKind::Port => integer(value, 1, 65535).map(|n| Value::from(n as u16)),
        KeyKind::Count => integer(value, 1, u64::from(u32::MAX)).map(|n| Value::from(n as u32)),
        KeyKind::Window => {
            integer(value, 1, u64::from(crate::keys::MAX_WINDOW)).map(|n| Value::from(n as u32))
        }
        KeyKind::Duration => {
            duration(value).map(|d| Value::from(humantime::format_duration(d).to_string()))
        }
        KeyKind::Security => security(value).map(Value::from),
        KeyKind::OnFailure => on_failure(value).map(Value::from),
        KeyKind::TlsVersion => tls_version(value).map(Value::from),
        KeyKind::Path | KeyKind::Command => non_empty(value).map(Value::from),
        KeyKind::PathList => list(value, false)?
            .into_iter()
            .map(|v| non_empty(&Value::from(v)).map(Value::from))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::from),
        KeyKind::TextList => list(value, true)?
            .into_iter()
            .map(|v| text(&Value::from(v)).map(Value::from))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::from),
        KeyKind::Mechanisms => list(value, true)?
            .into_iter()
            .map(|m| mechanism(&m).map(Value::from))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::from),
        KeyKind::Url => url(value).map(Value::from),
        KeyKind::ProxyUrl => {
            let s = string(value)?;
            smtp_core::ProxyUrl::parse(&s).map_err(|e| match e {
                smtp_core::Error::InvalidProxyUrl { reason, .. } => reason,
                other => other.to_string(),
            })?;
            Ok(Value::from(s))
        }
        KeyKind::Address => {
            let s = string(value)?;
            smtp_core::Address::new(&s).map_err(|e| match e {
                smtp_core::Error::InvalidInput { reason, .. } => reason.to_string(),
                other => other.to_string(),
            })?;
            Ok(Value::from(s))
        }
        KeyKind::Preset => preset(value).map(Value::from),
        KeyKind::Region => region(value).map(Value::from),
        KeyKind::DsnNotify => {
            let joined = match value {
                Value::Array(_, items) => items
                    .iter()
                    .map(string)
                    .collect::<Result<Vec<_>, _>>()?
                    .join(","),
                other => string(other)?,
            };
            joined
                .parse::<smtp_core::dsn::Notify>()
                .map(|n| Value::from(n.to_string()))
                .map_err(core_reason)
        }
        KeyKind::DsnRet => {
            let s = string(value)?;
            s.parse::<smtp_core::dsn::Ret>()
                .map(|r| Value::from(r.as_str()))
                .map_err(core_reason)
        }
        KeyKind::EnvelopeId => {
            let s = string(value)?;
            smtp_core::dsn::Dsn::new()
                .envid(&s)
                .map(|_| Value::from(s))
                .map_err(core_reason)
        }
        KeyKind::IfUnsupported => {
            let s = string(value)?;
            s.parse::<smtp_core::dsn::IfUnsupported>()
                .map(|u| Value::from(u.as_str()))
                .map_err(core_reason)
        }
    }
}

/// The reason of smtp-core's refusal of a value, for a message that
/// already names the key and value.
fn core_reason(e: smtp_core::Error) -> String {
    match e {
        smtp_core::Error::InvalidInput { reason, .. } => reason.to_string(),
        other => other.to_string(),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(..) | Value::Char(..) => "a string",
        Value::Bool(..) => "a boolean",
        Value::Num(..) => "a number",
        Value::Empty(..) => "nothing",
        Value::Dict(..) => "a table",
        Value::Array(..) => "a list",
    }
}

/// A string; numbers are accepted and turned into their text (so an
/// unquoted `password = 1234` works).
fn string(value: &Value) -> Result<String, String> {
    match value {
        Value::String(_, s) => Ok(s.clone()),
        Value::Char(_, c) => Ok(c.to_string()),
        Value::Num(_, n) => Ok(num_text(*n)),
        other => Err(format!("expected a string, found {}", type_name(other))),
    }
}

/// A whole number of any width and sign (figment keeps signed and
/// unsigned apart).
pub(crate) fn whole(n: Num) -> Option<i128> {
    n.to_i128()
        .or_else(|| n.to_u128().and_then(|u| i128::try_from(u).ok()))
}

pub(crate) fn num_text(n: Num) -> String {
    match n.to_f64() {
        Some(f) => f.to_string(),
        None => whole(n).map(|i| i.to_string()).unwrap_or_default(),
    }
}

fn non_empty(value: &Value) -> Result<String, String> {
    let s = string(value)?;
    if s.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if s.contains(['\r', '\n', '\0']) {
        return Err("contains CR, LF or NUL".into());
    }
    Ok(s)
}

/// Longest text value: one header line (RFC 5322 §2.1.1), the most any
/// text key (display name, subject prefix) can fill.
const MAX_TEXT_LEN: usize = 998;
/// Longest host or EHLO name: the engine's limit.
const MAX_HOST_LEN: usize = smtp_core::MAX_NAME_LEN;
/// Longest secret: the SASL limit smtp-auth checks credentials against.
const MAX_SECRET_LEN: usize = smtp_core::sasl::MAX_SECRET_LEN;

fn text(value: &Value) -> Result<String, String> {
    let s = non_empty(value)?;
    if s.chars().any(char::is_control) {
        return Err("contains a control character".into());
    }
    if s.len() > MAX_TEXT_LEN {
        return Err(format!("longer than {MAX_TEXT_LEN} bytes"));
    }
    Ok(s)
}

fn host_name(value: &Value) -> Result<String, String> {
    let s = text(value)?;
    if s.chars().any(char::is_whitespace) {
        return Err("contains a space".into());
    }
    if s.len() > MAX_HOST_LEN {
        return Err(format!("longer than {MAX_HOST_LEN} bytes"));
    }
    if s.contains("://") {
        return Err("give the bare host name, without a scheme like smtp://".into());
    }
    Ok(s)
}

fn secret(value: &Value) -> Result<String, String> {
    let s = string(value)?;
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.contains(['\r', '\n', '\0']) {
        return Err("contains CR, LF or NUL".into());
    }
    if s.len() > MAX_SECRET_LEN {
        return Err(format!("longer than {MAX_SECRET_LEN} bytes"));
    }
    Ok(s)
}

fn boolean(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(_, b) => Ok(*b),
        Value::String(_, s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            _ => Err("expected true or false".into()),
        },
        Value::Num(_, n) => match whole(*n) {
            Some(1) => Ok(true),
            Some(0) => Ok(false),
            _ => Err("expected true or false".into()),
        },
        other => Err(format!(
            "expected true or false, found {}",
            type_name(other)
        )),
    }
}

fn integer(value: &Value, min: u64, max: u64) -> Result<u64, String> {
    let n = match value {
        Value::Num(_, n) => whole(*n).ok_or_else(|| "expected a whole number".to_string())?,
        Value::String(_, s) => s
            .trim()
            .parse::<i128>()
            .map_err(|_| "expected a whole number".to_string())?,
        other => {
            return Err(format!(
                "expected a whole number, found {}",
                type_name(other)
            ));
        }
    };
    if n < i128::from(min) || n > i128::from(max) {
        return Err(format!("out of range: expected {min}-{max}"));
    }
    Ok(n as u64)
}

fn duration(value: &Value) -> Result<Duration, String> {
    let d = match value {
        Value::Num(_, n) => match whole(*n) {
            Some(secs) if secs >= 0 => Duration::from_secs(secs as u64),
            _ => return Err("expected a duration such as \"30s\" or a number of seconds".into()),
        },
        Value::String(_, s) => {
            let s = s.trim();
            match s.parse::<u64>() {
                Ok(secs) => Duration::from_secs(secs),
                Err(_) => humantime::parse_duration(s).map_err(|e| {
                    format!("expected a duration such as \"30s\", \"2m\" or \"1h 30m\" ({e})")
                })?,
            }
        }
        other => {
            return Err(format!(
                "expected a duration such as \"30s\", found {}",
                type_name(other)
            ));
        }
    };
    if d.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(d)
}

const SECURITY_VALUES: &[&str] = &["none", "starttls", "starttls-opportunistic", "implicit"];

/// Every word `security` accepts (lower case, `_` and spaces as `-`) and
/// the mode it means: the modes themselves, then the words products use.
pub(crate) const SECURITY_WORDS: &[(&str, &str)] = &[
    ("none", "none"),
    ("starttls", "starttls"),
    ("starttls-opportunistic", "starttls-opportunistic"),
    ("implicit", "implicit"),
    ("plain", "none"),
    ("plaintext", "none"),
    ("off", "none"),
    ("starttls-required", "starttls"),
    ("explicit", "starttls"),
    ("explicit-tls", "starttls"),
    ("explicit-ssl", "starttls"),
    ("opportunistic", "starttls-opportunistic"),
    ("implicit-tls", "implicit"),
    ("implicit-ssl", "implicit"),
    ("ssl", "implicit"),
    ("smtps", "implicit"),
    ("ssl/tls", "implicit"),
];

/// The reason [`normalize`] gives for the bare word "TLS", which products
/// use for both modes; the loader turns it into
/// [`Error::AmbiguousSecurity`](crate::Error::AmbiguousSecurity).
pub(crate) const AMBIGUOUS_TLS: &str = "ambiguous security word \"TLS\"";

/// The words product manuals and settings screens use, mapped onto the
/// four modes. "TLS" alone is refused: some products mean implicit TLS by
/// it (Thunderbird's "SSL/TLS"), others STARTTLS (Outlook's "TLS").
fn security(value: &Value) -> Result<&'static str, String> {
    let s = string(value)?;
    let word = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    if word == "tls" {
        return Err(AMBIGUOUS_TLS.into());
    }
    let Some(&(_, mode)) = SECURITY_WORDS.iter().find(|(w, _)| *w == word) else {
        return Err(format!(
            "expected one of {} (or a product's word: explicit, SSL, SMTPS){}",
            SECURITY_VALUES.join(", "),
            did_you_mean(&word, SECURITY_VALUES.iter().copied())
        ));
    };
    Ok(mode)
}

pub(crate) const ON_FAILURE_VALUES: &[&str] = &["fail", "queue"];

fn on_failure(value: &Value) -> Result<&'static str, String> {
    let s = string(value)?;
    ON_FAILURE_VALUES
        .iter()
        .find(|v| v.eq_ignore_ascii_case(&s))
        .copied()
        .ok_or_else(|| {
            format!(
                "expected fail or queue{}",
                did_you_mean(&s, ON_FAILURE_VALUES.iter().copied())
            )
        })
}

fn tls_version(value: &Value) -> Result<&'static str, String> {
    let raw = match value {
        Value::Num(_, n) => match n.to_f64() {
            Some(f) => format!("{f:.1}"),
            None => num_text(*n),
        },
        other => string(other)?,
    };
    // smtp-core's parser: the one that knows every spelling and why
    // 1.0 and 1.1 are refused.
    raw.parse::<smtp_core::TlsVersion>()
        .map(smtp_core::TlsVersion::number)
        .map_err(|e| e.to_string())
}

fn list(value: &Value, split_text: bool) -> Result<Vec<String>, String> {
    match value {
        Value::Array(_, items) => items.iter().map(string).collect(),
        Value::String(_, s) if s.trim_start().starts_with('[') => {
            // The `[a, b]` syntax of figment's environment values.
            match s.parse::<Value>() {
                Ok(Value::Array(_, items)) => items.iter().map(string).collect(),
                _ => Err("expected a list such as [\"a\", \"b\"]".into()),
            }
        }
        Value::String(_, s) if split_text => Ok(s
            .split([',', ' '])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()),
        Value::String(_, s) => Ok(vec![s.clone()]),
        other => Err(format!("expected a list, found {}", type_name(other))),
    }
}

fn mechanism(name: &str) -> Result<String, String> {
    let upper = name.trim().to_ascii_uppercase();
    if MECHANISMS.contains(&upper.as_str()) {
        return Ok(upper);
    }
    Err(format!(
        "unknown mechanism {name:?}: expected some of {}{}",
        MECHANISMS.join(", "),
        did_you_mean(&upper, MECHANISMS.iter().copied())
    ))
}

fn url(value: &Value) -> Result<String, String> {
    let s = text(value)?;
    let rest = if let Some(rest) = s.strip_prefix("https://") {
        rest
    } else if let Some(rest) = s.strip_prefix("http://") {
        let host = rest.split(['/', '?']).next().unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
            return Err("must use https:// (plain http is allowed only to a loopback host)".into());
        }
        rest
    } else {
        return Err("expected an https:// URL".into());
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err("missing host".into());
    }
    Ok(s)
}

fn preset(value: &Value) -> Result<String, String> {
    let s = text(value)?.to_ascii_lowercase();
    if presets::find(&s).is_some() {
        return Ok(s);
    }
    let names = presets::presets().iter().map(|p| p.name);
    Err(format!(
        "unknown preset{}; `smtp presets` lists them all",
        did_you_mean(&s, names)
    ))
}

fn region(value: &Value) -> Result<String, String> {
    let s = text(value)?.to_ascii_lowercase();
    if s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !s.starts_with('-') {
        Ok(s)
    } else {
        Err("expected a region name such as \"eu-west-1\"".into())
    }
}

/// `"; did you mean \"x\""` or nothing.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    suggest::closest(word, candidates)
        .map(|c| format!("; did you mean {c:?}?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(kind: KeyKind, v: impl Into<Value>) -> Result<Value, String> {
        normalize(kind, &v.into())
    }

    #[test]
    fn numbers_from_text_and_toml() {
        assert_eq!(n(KeyKind::Port, "2525").unwrap(), Value::from(2525u16));
        assert_eq!(n(KeyKind::Port, 587).unwrap(), Value::from(587u16));
        assert!(n(KeyKind::Port, 0).unwrap_err().contains("1-65535"));
        assert!(n(KeyKind::Port, "70000").unwrap_err().contains("1-65535"));
        assert!(
            n(KeyKind::Port, "abc")
                .unwrap_err()
                .contains("whole number")
        );
        assert!(n(KeyKind::Count, 0).is_err());
        assert_eq!(n(KeyKind::Window, "64").unwrap(), Value::from(64u32));
        assert!(n(KeyKind::Window, 0).unwrap_err().contains("1-64"));
        assert!(n(KeyKind::Window, 65).unwrap_err().contains("1-64"));
    }

    #[test]
    fn booleans() {
        assert_eq!(n(KeyKind::Bool, "yes").unwrap(), Value::from(true));
        assert_eq!(n(KeyKind::Bool, "0").unwrap(), Value::from(false));
        assert!(n(KeyKind::Bool, "maybe").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(n(KeyKind::Duration, "30s").unwrap(), Value::from("30s"));
        assert_eq!(n(KeyKind::Duration, 90).unwrap(), Value::from("1m 30s"));
        assert_eq!(
            n(KeyKind::Duration, "1500ms").unwrap(),
            Value::from("1s 500ms")
        );
        assert!(
            n(KeyKind::Duration, "0s")
                .unwrap_err()
                .contains("longer than zero")
        );
        assert!(
            n(KeyKind::Duration, "soon")
                .unwrap_err()
                .contains("duration")
        );
    }

    #[test]
    fn tls_versions() {
        assert_eq!(n(KeyKind::TlsVersion, 1.3).unwrap(), Value::from("1.3"));
        assert_eq!(
            n(KeyKind::TlsVersion, "TLSv1.2").unwrap(),
            Value::from("1.2")
        );
        assert_eq!(
            n(KeyKind::TlsVersion, "tls1_3").unwrap(),
            Value::from("1.3")
        );
        let e = n(KeyKind::TlsVersion, "1.1").unwrap_err();
        assert!(e.contains("not supported") && e.contains("rustls"), "{e}");
        assert!(
            n(KeyKind::TlsVersion, 1.0)
                .unwrap_err()
                .contains("not supported")
        );
        assert!(
            n(KeyKind::TlsVersion, "2")
                .unwrap_err()
                .contains("expected 1.2 or 1.3")
        );
    }

    #[test]
    fn enums_and_lists() {
        assert_eq!(
            n(KeyKind::Security, "SSL").unwrap(),
            Value::from("implicit")
        );
        for (word, mode) in [
            ("explicit", "starttls"),
            ("STARTTLS", "starttls"),
            ("Explicit TLS", "starttls"),
            ("Implicit", "implicit"),
            ("SMTPS", "implicit"),
            ("SSL/TLS", "implicit"),
            ("none", "none"),
        ] {
            assert_eq!(
                n(KeyKind::Security, word).unwrap(),
                Value::from(mode),
                "{word}"
            );
        }
        assert_eq!(n(KeyKind::Security, "TLS").unwrap_err(), AMBIGUOUS_TLS);
        let e = n(KeyKind::Security, "startls").unwrap_err();
        assert!(e.contains("did you mean \"starttls\""), "{e}");
        assert_eq!(
            n(KeyKind::Mechanisms, "plain, cram-md5").unwrap(),
            Value::from(vec![Value::from("PLAIN"), Value::from("CRAM-MD5")])
        );
        assert!(
            n(KeyKind::Mechanisms, "PLAN")
                .unwrap_err()
                .contains("did you mean \"PLAIN\"")
        );
        assert_eq!(
            n(KeyKind::PathList, "/a b.pem").unwrap(),
            Value::from(vec![Value::from("/a b.pem")])
        );
        assert_eq!(
            n(KeyKind::PathList, "[a.pem, b.pem]").unwrap(),
            Value::from(vec![Value::from("a.pem"), Value::from("b.pem")])
        );
    }

    #[test]
    fn strings() {
        assert!(
            n(KeyKind::HostName, "smtp.example.com\r\nRCPT")
                .unwrap_err()
                .contains("CR, LF")
        );
        assert!(
            n(KeyKind::HostName, "smtp://x")
                .unwrap_err()
                .contains("without a scheme")
        );
        assert!(n(KeyKind::Text, "").unwrap_err().contains("empty"));
        assert_eq!(n(KeyKind::Secret, 1234).unwrap(), Value::from("1234"));
        assert!(
            n(KeyKind::Url, "http://example.com/token")
                .unwrap_err()
                .contains("https")
        );
        assert!(n(KeyKind::Url, "http://127.0.0.1:8080/token").is_ok());
        assert!(n(KeyKind::Address, "not-an-address").is_err());
        assert!(
            n(KeyKind::Preset, "gmial")
                .unwrap_err()
                .contains("did you mean \"gmail\"")
        );
        assert!(n(KeyKind::Region, "eu-west-1.evil.com/x").is_err());
    }

    #[test]
    fn dsn_values() {
        assert_eq!(
            n(KeyKind::DsnNotify, "failure, success").unwrap(),
            Value::from("SUCCESS,FAILURE")
        );
        let list = Value::from(vec![Value::from("delay"), Value::from("failure")]);
        assert_eq!(
            normalize(KeyKind::DsnNotify, &list).unwrap(),
            Value::from("FAILURE,DELAY")
        );
        let e = n(KeyKind::DsnNotify, "never,success").unwrap_err();
        assert!(e.contains("never cannot be combined"), "{e}");
        assert_eq!(n(KeyKind::DsnRet, "Headers").unwrap(), Value::from("HDRS"));
        assert!(n(KeyKind::DsnRet, "body").is_err());
        assert!(n(KeyKind::EnvelopeId, "x".repeat(101)).is_err());
        assert_eq!(
            n(KeyKind::IfUnsupported, "DROP").unwrap(),
            Value::from("drop")
        );
    }
}
