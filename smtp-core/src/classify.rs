//! One classification rule for every failure: what retrying can achieve
//! ([`Retry`]) and what to tell a person ([`Hint`]).
//!
//! The engine knows its own errors. A plugin (connector, TLS upgrade,
//! SASL) knows its own better than any text match could: it implements
//! [`Classify`] for its error type and hands errors to the engine wrapped
//! in a [`PluginError`], so [`Error::retry`](crate::Error::retry),
//! [`Error::is_transient`](crate::Error::is_transient) and
//! [`Error::coded_hint`](crate::Error::coded_hint) give the plugin's
//! verdict in every crate that looks at the error.

use std::fmt;

use crate::error::BoxError;
use crate::hint::Hint;

/// What sending the same message again can achieve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Retry {
    /// A later attempt may succeed: 4xx replies, timeouts, dropped or
    /// refused connections.
    Transient,
    /// Retrying will fail the same way: 5xx replies, bad input, TLS and
    /// configuration problems.
    Permanent,
    /// The connection broke after the message was handed over: it may
    /// have been delivered, so a retry may deliver it twice.
    UnknownOutcome,
}

impl Retry {
    /// `Transient` when `transient`, else `Permanent`.
    pub fn transient_if(transient: bool) -> Retry {
        if transient {
            Retry::Transient
        } else {
            Retry::Permanent
        }
    }

    /// `transient`, `permanent` or `unknown-outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            Retry::Transient => "transient",
            Retry::Permanent => "permanent",
            Retry::UnknownOutcome => "unknown-outcome",
        }
    }
}

impl fmt::Display for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error type that says what it means: implemented by each plugin's
/// error enum.
///
/// ```
/// use smtp_core::{Classify, Hint, PluginError, Retry};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("proxy refused the login")]
/// struct ProxyLoginRefused;
///
/// impl Classify for ProxyLoginRefused {
///     fn retry(&self) -> Retry { Retry::Permanent }
///     fn hint(&self) -> Option<Hint> { None }
/// }
///
/// let e = smtp_core::Error::Connect {
///     target: "mail.example.com:587".into(),
///     source: PluginError::boxed(ProxyLoginRefused),
/// };
/// assert!(!e.is_transient(), "the plugin's verdict, not the phase's default");
/// ```
pub trait Classify: std::error::Error + Send + Sync + 'static {
    /// What retrying can achieve.
    fn retry(&self) -> Retry;
    /// What to try, when the plugin knows the likely cause.
    fn hint(&self) -> Option<Hint>;
}

/// A plugin's error with its classification, as the engine carries it in
/// [`Error::Connect`](crate::Error::Connect),
/// [`Error::Tls`](crate::Error::Tls) and
/// [`Error::Sasl`](crate::Error::Sasl).
///
/// Displays as the plugin's error, which is also its
/// [`source`](std::error::Error::source); [`PluginError::downcast_ref`]
/// reaches the plugin's own type. A plugin trait method returns it boxed
/// ([`PluginError::boxed`]), so callers of the plugin itself find the
/// plugin's error with [`PluginError::find`] (or by walking `source()`).
pub struct PluginError {
    inner: BoxError,
    retry: Retry,
    hint: Option<Hint>,
}

impl PluginError {
    /// Wraps a classified error.
    pub fn new(error: impl Classify) -> PluginError {
        PluginError {
            retry: error.retry(),
            hint: error.hint(),
            inner: Box::new(error),
        }
    }

    /// Wraps and boxes, ready to return from a plugin trait method.
    pub fn boxed(error: impl Classify) -> BoxError {
        Box::new(PluginError::new(error))
    }

    /// The plugin's verdict.
    pub fn retry(&self) -> Retry {
        self.retry
    }

    /// The plugin's hint, if it gave one.
    pub fn hint(&self) -> Option<Hint> {
        self.hint
    }

    /// The plugin's own error.
    pub fn get_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.inner.as_ref()
    }

    /// The plugin's own error, unwrapped (to `downcast` it by value).
    pub fn into_inner(self) -> BoxError {
        self.inner
    }

    /// The plugin's own error as its concrete type.
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.inner.downcast_ref::<T>()
    }

    /// Finds the classified error in an error chain: `error` itself or
    /// one of its sources.
    pub fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a PluginError> {
        std::iter::successors(Some(error), |e| e.source()).find_map(|e| e.downcast_ref())
    }
}

impl fmt::Debug for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The plugin's Debug is its own business (and redacts its secrets).
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl std::error::Error for PluginError {
    // The plugin's own error is next in the chain, so code that walks
    // `source()` looking for a plugin's type finds it.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.inner.as_ref())
    }
}
