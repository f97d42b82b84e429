//! [`Hint`]: a piece of advice with a stable code, and the macro that
//! declares a crate's table of them.

use std::fmt;

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
    /// case); it names the config key and the CLI flag where one applies,
    /// e.g. `tls.ca_file (--ca-file)`. The error's own `Display` states
    /// only the fact, so the two never repeat each other.
    pub text: &'static str,
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
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
