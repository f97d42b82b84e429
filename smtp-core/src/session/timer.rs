//! One timer per session for the time limits of reads and writes.
//!
//! `tokio::time::timeout` around each read built a fresh timer, put it
//! in the runtime's timer wheel (a lock) and took it out again (another)
//! for every reply, and read the clock to do so. Here each session keeps
//! one `Sleep`: it is only armed when an operation has to wait (an I/O
//! future that completes on its first poll, as most writes and the reads
//! of replies already buffered by the kernel do, never touches it), and
//! re-arming it for a later deadline only moves the deadline stored in
//! the entry (tokio re-files the entry when the old deadline comes up).

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// The session's timer, created on first use inside the runtime that
/// polls the session.
#[derive(Debug, Default)]
pub(super) struct SessionTimer {
    /// The runtime the `Sleep` belongs to: a session handed to another
    /// runtime (the first one may be gone) gets a new one.
    sleep: Option<(tokio::runtime::Id, Pin<Box<Sleep>>)>,
}

impl SessionTimer {
    /// Runs `io` for at most `limit`: `None` when the limit passed first.
    /// The clock is read and the timer armed only if `io` is not ready on
    /// its first poll.
    pub(super) async fn run<F: Future>(&mut self, limit: Duration, io: F) -> Option<F::Output> {
        let mut io = std::pin::pin!(io);
        let mut armed = false;
        std::future::poll_fn(|cx| {
            if let Poll::Ready(out) = io.as_mut().poll(cx) {
                return Poll::Ready(Some(out));
            }
            if !armed {
                armed = true;
                if limit.is_zero() {
                    return Poll::Ready(None);
                }
                self.arm(Instant::now().checked_add(limit));
            }
            match self.sleep.as_mut() {
                Some((_, sleep)) => sleep.as_mut().poll(cx).map(|()| None),
                None => Poll::Pending,
            }
        })
        .await
    }

    /// Sets the deadline; `None` (a limit too far to represent) means none.
    fn arm(&mut self, deadline: Option<Instant>) {
        let Some(deadline) = deadline else {
            self.sleep = None;
            return;
        };
        let runtime = tokio::runtime::Handle::current().id();
        match &mut self.sleep {
            Some((id, sleep)) if *id == runtime => sleep.as_mut().reset(deadline),
            slot => *slot = Some((runtime, Box::pin(tokio::time::sleep_until(deadline)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_ready_future_never_arms_the_timer() {
        let mut timer = SessionTimer::default();
        assert_eq!(
            timer.run(Duration::from_secs(1), async { 7 }).await,
            Some(7)
        );
        assert!(timer.sleep.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_pending_future_times_out_at_its_limit_each_time() {
        let mut timer = SessionTimer::default();
        for limit in [5, 1, 3] {
            let started = tokio::time::Instant::now();
            let out = timer
                .run(Duration::from_secs(limit), std::future::pending::<()>())
                .await;
            assert_eq!(out, None);
            assert_eq!(started.elapsed(), Duration::from_secs(limit));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_later_deadline_replaces_an_earlier_one() {
        // The re-armed timer must not fire at the first deadline.
        let mut timer = SessionTimer::default();
        let first = timer
            .run(
                Duration::from_secs(10),
                tokio::time::sleep(Duration::from_secs(1)),
            )
            .await;
        assert_eq!(first, Some(()));
        let started = tokio::time::Instant::now();
        let second = timer
            .run(
                Duration::from_secs(60),
                tokio::time::sleep(Duration::from_secs(30)),
            )
            .await;
        assert_eq!(second, Some(()));
        assert_eq!(started.elapsed(), Duration::from_secs(30));
    }
}
