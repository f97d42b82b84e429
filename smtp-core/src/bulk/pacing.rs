//! When to send: the rate limit's slots, pauses a rate-limiting server
//! asked for, and the backoff before a retry.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;
use crate::hint::is_rate_limited;
use crate::reply::Reply;

/// Which failures are retried, how often, and how long to wait between.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1: never retry).
    pub attempts: u32,
    /// The wait before the first retry; it doubles with each retry.
    pub backoff: Duration,
    /// The longest wait, whatever the backoff or the server asks for.
    pub max_delay: Duration,
    /// Adds up to a fifth at random to each wait of our own, so senders
    /// that failed together do not come back together.
    pub jitter: bool,
    /// Also retry a message whose outcome is unknown (the connection broke
    /// after its end of data): it may then be delivered twice.
    pub unknown_outcome: bool,
    /// A cap on one message's time, all attempts and waits included: a
    /// retry whose wait would end later than this after the first attempt
    /// started is not made (the last failure is reported). `None`: only
    /// [`RetryPolicy::attempts`] limits the retries.
    pub total: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            backoff: Duration::from_secs(2),
            max_delay: Duration::from_secs(3600),
            jitter: true,
            unknown_outcome: false,
            total: None,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn never() -> RetryPolicy {
        RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Sets the number of attempts (the first included).
    pub fn attempts(mut self, attempts: u32) -> RetryPolicy {
        self.attempts = attempts.max(1);
        self
    }

    /// Sets the first retry's wait.
    pub fn backoff(mut self, backoff: Duration) -> RetryPolicy {
        self.backoff = backoff;
        self
    }

    /// Sets whether unknown outcomes are retried.
    pub fn unknown_outcome(mut self, retry: bool) -> RetryPolicy {
        self.unknown_outcome = retry;
        self
    }

    /// Sets [`RetryPolicy::total`], the cap on one message's attempts and
    /// waits together.
    pub fn total(mut self, total: Option<Duration>) -> RetryPolicy {
        self.total = total;
        self
    }

    /// Turns the random part of each wait on or off.
    pub fn jitter(mut self, jitter: bool) -> RetryPolicy {
        self.jitter = jitter;
        self
    }

    /// Whether a send that failed with `e` on attempt `attempt` (1 for
    /// the first) goes again: transient failures while attempts are left;
    /// an unknown outcome only when allowed; permanent ones never.
    pub fn may_retry(&self, e: &Error, attempt: u32) -> bool {
        let retryable = if e.is_unknown_outcome() {
            self.unknown_outcome
        } else {
            e.is_transient()
        };
        retryable && attempt < self.attempts
    }

    /// The wait before retry number `retry` (1 for the first retry): the
    /// backoff doubling each time, four times that when the server said it
    /// is rate limiting, at least what the reply asked for, at most
    /// [`RetryPolicy::max_delay`]. `random` in `[0, 1)` is the jitter.
    pub fn delay(&self, retry: u32, reply: Option<&Reply>, random: f64) -> Duration {
        let doubling = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let mut ours = self.backoff.saturating_mul(doubling);
        if reply.is_some_and(is_rate_limited) {
            ours = ours.saturating_mul(4);
        }
        // Capped first: the jitter's multiplication must not overflow a
        // backoff of centuries.
        ours = ours.min(self.max_delay);
        if self.jitter {
            ours = ours.mul_f64(1.0 + random.clamp(0.0, 1.0) / 5.0);
        }
        let asked = reply.and_then(requested_delay).unwrap_or_default();
        ours.max(asked).min(self.max_delay)
    }
}

/// The wait a reply asks for in words: "retry after 30 seconds", "try
/// again in 2 minutes", "retry in 45s". Seconds when no unit is given.
///
/// ```
/// use std::time::Duration;
/// let r = smtp_core::Reply::new(451, "4.7.1 rate limit exceeded, try again in 2 minutes");
/// assert_eq!(smtp_core::bulk::requested_delay(&r), Some(Duration::from_secs(120)));
/// ```
pub fn requested_delay(reply: &Reply) -> Option<Duration> {
    let text = reply.text().to_ascii_lowercase();
    let rest = ["retry after", "try again in", "retry in", "try again after"]
        .iter()
        .find_map(|p| text.split_once(p).map(|(_, rest)| rest))?;
    let rest = rest.trim_start();
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let n: u64 = rest[..digits].parse().ok()?;
    let unit = rest[digits..].trim_start();
    let secs = if unit.starts_with("min") || unit.starts_with("m ") || unit == "m" {
        n.saturating_mul(60)
    } else if unit.starts_with('h') {
        n.saturating_mul(3600)
    } else {
        n
    };
    Some(Duration::from_secs(secs))
}

/// The shared clock of every sender of one bulk run.
#[derive(Debug)]
pub(super) struct Pacing {
    interval: Option<Duration>,
    pub(super) policy: RetryPolicy,
    next: tokio::sync::Mutex<Instant>,
    seed: AtomicU64,
    rng: Mutex<u64>,
}

impl Pacing {
    pub(super) fn new(interval: Option<Duration>, policy: RetryPolicy) -> Pacing {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id());
        Pacing {
            interval,
            policy,
            next: tokio::sync::Mutex::new(Instant::now()),
            seed: AtomicU64::new(seed),
            rng: Mutex::new(seed | 1),
        }
    }

    /// Whether sends are spaced one by one.
    pub(super) fn is_rate_limited(&self) -> bool {
        self.interval.is_some()
    }

    /// Waits for this send's slot: the rate limit's interval and any pause
    /// a rate-limiting server asked for, which holds every sender back.
    pub(super) async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(Instant::now());
            if let Some(interval) = self.interval {
                *next = slot + interval;
            }
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// The wait before retry `retry` after `reply`. When the server said
    /// it is rate limiting, every later send is held back as long, from
    /// now on, whoever sends it.
    pub(super) async fn hold(&self, retry: u32, reply: Option<&Reply>) -> Duration {
        let wait = self.policy.delay(retry, reply, self.random());
        if reply.is_some_and(is_rate_limited) {
            let mut next = self.next.lock().await;
            *next = (*next).max(Instant::now() + wait);
        }
        wait
    }

    /// A number in `[0, 1)` (xorshift: jitter needs no crypto).
    fn random(&self) -> f64 {
        let mut state = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let mut x = *state
            ^ self
                .seed
                .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *state = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(code: u16, text: &str) -> Error {
        Error::Rejected {
            phase: crate::error::Phase::Mail,
            reply: Reply::new(code, text),
        }
    }

    #[test]
    fn replies_ask_for_delays_in_words() {
        let asked = |t| requested_delay(&Reply::new(451, t));
        assert_eq!(
            asked("4.7.1 rate limit exceeded, retry after 30 seconds"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(asked("Retry in 45s"), Some(Duration::from_secs(45)));
        assert_eq!(
            asked("try again in 1 hour"),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(asked("try again later"), None);
    }

    #[test]
    fn delay_doubles_grows_when_rate_limited_honours_the_reply_and_is_capped() {
        let p = RetryPolicy::default()
            .backoff(Duration::from_secs(1))
            .jitter(false);
        let secs = |n, r: Option<Reply>| p.delay(n, r.as_ref(), 0.0).as_secs();
        assert_eq!([secs(1, None), secs(2, None), secs(3, None)], [1, 2, 4]);
        assert_eq!(secs(1, Some(Reply::new(421, "4.7.0 too many messages"))), 4);
        let asks = Reply::new(451, "4.7.1 slow down, retry after 30 seconds");
        assert_eq!(secs(1, Some(asks)), 30);
        let greedy = Reply::new(451, "retry after 90000 seconds");
        assert_eq!(secs(1, Some(greedy)), 3600);
    }

    #[test]
    fn a_huge_backoff_is_capped_never_a_panic() {
        let p = RetryPolicy::default().backoff(Duration::MAX);
        assert_eq!(p.delay(40, None, 0.99), p.max_delay);
    }

    #[test]
    fn jitter_adds_at_most_a_fifth_of_our_own_wait() {
        let p = RetryPolicy::default().backoff(Duration::from_secs(10));
        assert_eq!(p.delay(1, None, 0.0), Duration::from_secs(10));
        assert_eq!(
            p.delay(1, None, 0.999_999),
            Duration::from_secs(10).mul_f64(1.199_999_8)
        );
        let pacing = Pacing::new(None, p);
        let draws: Vec<f64> = (0..1000).map(|_| pacing.random()).collect();
        assert!(draws.iter().all(|r| (0.0..1.0).contains(r)));
        let distinct: std::collections::HashSet<u64> = draws.iter().map(|r| r.to_bits()).collect();
        assert!(distinct.len() > 990, "the jitter is not constant");
    }

    #[test]
    fn retries_transient_failures_while_attempts_are_left() {
        let p = RetryPolicy::default().attempts(3);
        assert!(p.may_retry(&rejected(451, "later"), 1));
        assert!(p.may_retry(&rejected(421, "closing"), 2));
        assert!(
            !p.may_retry(&rejected(451, "later"), 3),
            "3 attempts in all"
        );
        assert!(!p.may_retry(&rejected(550, "no"), 1));
        let garbage = Error::Protocol {
            phase: crate::error::Phase::Rcpt,
            detail: "malformed reply".into(),
        };
        assert!(!p.may_retry(&garbage, 1));
        let unknown = Error::UnknownOutcome { detail: "x".into() };
        assert!(!p.may_retry(&unknown, 1));
        assert!(p.unknown_outcome(true).may_retry(&unknown, 1));
    }
}
