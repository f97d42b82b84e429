//! "Did you mean" for unknown keys, presets, profiles and mechanisms.

use crate::keys::KEYS;

/// Edit distance counting insertions, deletions, substitutions and swaps
/// of two neighbours (`hots` -> `host` is 1), case-insensitive.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = best;
        }
    }
    d[a.len() * w + b.len()]
}

/// The closest candidate within a third of the word's length (at least 1,
/// at most 3 edits), if any.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Words people write for keys that are spelled differently here.
const ALIASES: &[(&str, &str)] = &[
    ("user", "auth.username"),
    ("username", "auth.username"),
    ("login", "auth.username"),
    ("password", "auth.password"),
    ("pass", "auth.password"),
    ("server", "host"),
    ("hostname", "host"),
    ("smtp_host", "host"),
    ("smtp_server", "host"),
    ("ssl", "security"),
    ("tls", "security"),
    ("starttls", "security"),
    ("encryption", "security"),
    ("from", "message.from"),
    ("sender", "message.from"),
    ("proxy", "proxy.url"),
    ("socks_proxy", "proxy.url"),
    ("helo", "ehlo_name"),
    ("ehlo", "ehlo_name"),
    ("helo_name", "ehlo_name"),
    ("region", "aws_region"),
    ("provider", "preset"),
    ("timeouts", "timeout"),
];

/// A known key to suggest for an unknown `key` (full dotted path).
pub(crate) fn suggest_key(key: &str) -> Option<&'static str> {
    let last = key.rsplit('.').next().unwrap_or(key);
    // Words from other tools first: `tls` means `security`, not `timeouts.tls`.
    if let Some((_, k)) = ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(key))
    {
        return Some(k);
    }
    // Same word under the wrong table (`min_version` at the top level).
    if let Some(k) = KEYS
        .iter()
        .find(|k| k.key != key && k.key.rsplit('.').next() == Some(last))
    {
        return Some(k.key);
    }
    if let Some(k) = closest(key, KEYS.iter().map(|k| k.key)) {
        return Some(k);
    }
    // A typo in a key under the wrong table (`min_verison` at the top level).
    if let Some(k) = KEYS.iter().find(|k| {
        k.key
            .rsplit('.')
            .next()
            .is_some_and(|l| closest(last, [l]).is_some())
    }) {
        return Some(k.key);
    }
    ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(last))
        .map(|(_, k)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "SAME"), 0);
        assert_eq!(levenshtein("hots", "host"), 1);
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest_key("hots"), Some("host"));
        assert_eq!(suggest_key("tls.min_verison"), Some("tls.min_version"));
        assert_eq!(suggest_key("min_version"), Some("tls.min_version"));
        assert_eq!(suggest_key("auth.pasword"), Some("auth.password"));
        assert_eq!(suggest_key("user"), Some("auth.username"));
        assert_eq!(suggest_key("ssl"), Some("security"));
        assert_eq!(suggest_key("tls"), Some("security"));
        assert_eq!(suggest_key("auth.user"), Some("auth.username"));
        assert_eq!(suggest_key("completely_unrelated_thing"), None);
        assert_eq!(closest("gmial", ["gmail", "yahoo"]), Some("gmail"));
    }
}
