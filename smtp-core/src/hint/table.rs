//! [`Hint`]: a piece of advice with a stable code, and the macro that
//! declares a crate's table of them.

use std::fmt;

use crate::setting::Setting;

/// Advice for an error, with a stable code.
///
/// The code (`tls-unknown-issuer`, `reply-relay-denied`, ...) never changes
/// once published: scripts may match on it, and `docs/troubleshooting.md`
/// has a section per code (its anchor is the code) with cause and fix.
/// The text may be reworded.
///
/// ```
/// let h = smtp_core::hints::REPLY_RELAY_DENIED;
/// assert_eq!(h.code, "reply-relay-denied");
/// assert!(h.to_string().contains("authenticate"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hint {
    /// Stable, lowercase, dash-separated; unique across all crates.
    pub code: &'static str,
    /// One line saying what to try, starting lowercase (acronyms keep their
    /// case). A setting is named as `{TlsCaFile}`, or `{Security=implicit}`
    /// with the value to give it (see [`Setting`]), never as a config key
    /// or a CLI flag: [`Hint::render`] words it for the reader. The error's
    /// own `Display` states only the fact, so the two never repeat each
    /// other.
    pub text: &'static str,
}

impl Hint {
    /// The text with each setting worded by `name(setting, value)`: a
    /// config key for `smtp-config`, key and flag for the CLI.
    ///
    /// ```
    /// let h = smtp_core::hints::REPLY_EHLO_REFUSED;
    /// let text = h.render(|s, _| format!("<{s}>"));
    /// assert!(text.contains("<EhloName>"), "{text}");
    /// ```
    pub fn render(&self, mut name: impl FnMut(Setting, Option<&str>) -> String) -> String {
        let mut out = String::with_capacity(self.text.len());
        let mut rest = self.text;
        while let Some((before, after)) = rest.split_once('{') {
            out.push_str(before);
            let Some((inside, tail)) = after.split_once('}') else {
                out.push('{');
                rest = after;
                continue;
            };
            match placeholder(inside) {
                Some((setting, value)) => out.push_str(&name(setting, value)),
                None => {
                    out.push('{');
                    out.push_str(inside);
                    out.push('}');
                }
            }
            rest = tail;
        }
        out.push_str(rest);
        out
    }

    /// The settings the text names, in order; an error names a `{...}`
    /// that is no [`Setting`] (each crate's tests check its table).
    pub fn settings(&self) -> Result<Vec<Setting>, String> {
        let mut found = Vec::new();
        let mut rest = self.text;
        while let Some((_, after)) = rest.split_once('{') {
            let (inside, tail) = after
                .split_once('}')
                .ok_or_else(|| format!("hint {}: unclosed {{", self.code))?;
            let (setting, _) = placeholder(inside)
                .ok_or_else(|| format!("hint {}: {{{inside}}} names no setting", self.code))?;
            found.push(setting);
            rest = tail;
        }
        Ok(found)
    }
}

fn placeholder(inside: &str) -> Option<(Setting, Option<&str>)> {
    let (id, value) = match inside.split_once('=') {
        Some((id, value)) => (id, Some(value)),
        None => (inside, None),
    };
    id.parse().ok().map(|setting| (setting, value))
}

/// The library's wording: each setting as the method that sets it.
impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(|setting, value| match value {
            Some(v) => setting.api_with(v),
            None => setting.api().to_string(),
        }))
    }
}

/// Declares a module of [`Hint`] constants and `ALL`, the list of them,
/// from one table, so the list used by the documentation check cannot miss
/// a hint the code returns.
///
/// ```
/// smtp_core::hint_table! {
///     /// Hints of my plugin.
///     pub mod my_hints {
///         MY_PROBLEM = "my-problem": "do the obvious thing";
///     }
/// }
/// assert_eq!(my_hints::ALL, &[my_hints::MY_PROBLEM]);
/// ```
#[macro_export]
macro_rules! hint_table {
    (
        $(#[$meta:meta])*
        $vis:vis mod $module:ident {
            $( $name:ident = $code:literal : $text:literal; )*
        }
    ) => {
        $(#[$meta])*
        $vis mod $module {
            $(
                #[doc = concat!("`", $code, "`: ", $text)]
                pub const $name: $crate::Hint = $crate::Hint { code: $code, text: $text };
            )*
            /// Every hint in this table, in declaration order.
            pub const ALL: &[$crate::Hint] = &[$($name),*];
        }
    };
}
