//! Retry with backoff, jitter and a total time, knowing which requests may be resent.
//!
//! The one rule every driver follows lives here: an **idempotent** request (a read,
//! a set of a value) is retried after any retryable failure; a request that is **not
//! idempotent** (a power cycle, a reset, an NMI, a relay pulse) is resent only when
//! the failure proves it never reached the device ([`Error::was_not_delivered`]).

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::poll::Backoff;

/// Whether sending a request twice has the same effect as sending it once.
///
/// ```
/// use hwctl_core::{Error, ErrorKind, retry::{Idempotency, RetryPolicy}};
/// let p = RetryPolicy::default();
/// let busy = Error::new(ErrorKind::Busy, "session limit reached");
/// assert!(p.may_retry(&busy, Idempotency::Idempotent));     // read the power state again
/// assert!(!p.may_retry(&busy, Idempotency::NotIdempotent)); // but never pulse a relay twice
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Idempotency {
    /// Safe to resend (reads; setting a value; power on/off to a fixed state).
    Idempotent,
    /// Resent only when it certainly never reached the device (reset, cycle, NMI).
    NotIdempotent,
}

impl Idempotency {
    /// `Idempotent` when `idempotent` is true.
    ///
    /// ```
    /// use hwctl_core::retry::Idempotency;
    /// assert_eq!(Idempotency::from_bool(true), Idempotency::Idempotent);
    /// assert_eq!(Idempotency::from_bool(false), Idempotency::NotIdempotent);
    /// ```
    pub fn from_bool(idempotent: bool) -> Self {
        if idempotent {
            Idempotency::Idempotent
        } else {
            Idempotency::NotIdempotent
        }
    }
}

/// How often and for how long a failed request is retried.
///
/// `max_attempts` counts the first try (1 = no retry). `max_elapsed` bounds the
/// whole operation, retries and waits included: no retry starts, and no wait is
/// begun, that would end after it. The caller's own deadline, given to [`retry`],
/// bounds it as well.
///
/// ```
/// use std::time::Duration;
/// use hwctl_core::retry::RetryPolicy;
/// let p = RetryPolicy::default();
/// assert_eq!(p.max_attempts, 3);
/// assert!(RetryPolicy::none().max_attempts == 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The wait between attempts.
    pub backoff: Backoff,
    /// The longest the whole operation may take, retries included (`None`: only
    /// the caller's deadline bounds it).
    pub max_elapsed: Option<Duration>,
}

impl Default for RetryPolicy {
    /// Three attempts, 200 ms doubling to 2 s with jitter, no total bound of its own.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            backoff: Backoff::exponential(Duration::from_millis(200), Duration::from_secs(2))
                .with_jitter(),
            max_elapsed: None,
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retry.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use hwctl_core::{Error, ErrorKind, retry::{Idempotency, RetryPolicy, retry}};
    /// let mut calls = 0;
    /// let r: hwctl_core::Result<()> = retry(&RetryPolicy::none(), Idempotency::Idempotent, None, |_| {
    ///     calls += 1;
    ///     async { Err(Error::new(ErrorKind::Timeout, "no reply")) }
    /// }).await;
    /// assert_eq!((r.unwrap_err().kind(), calls), (ErrorKind::Timeout, 1));
    /// # Ok(()) }
    /// ```
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The same policy with `max_attempts` attempts in all.
    ///
    /// ```
    /// use hwctl_core::retry::RetryPolicy;
    /// assert_eq!(RetryPolicy::default().with_max_attempts(5).max_attempts, 5);
    /// assert_eq!(RetryPolicy::default().with_max_attempts(0).max_attempts, 1); // the first try always runs
    /// ```
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The same policy with `backoff` between attempts.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::time::Duration;
    /// use hwctl_core::{Error, ErrorKind, poll::Backoff, retry::{Idempotency, RetryPolicy, retry}};
    /// let policy = RetryPolicy::default().with_backoff(Backoff::fixed(Duration::from_millis(1)));
    /// let r = retry(&policy, Idempotency::Idempotent, None, |n| async move {
    ///     if n == 0 { Err(Error::new(ErrorKind::Unreachable, "refused")) } else { Ok(n) }
    /// }).await?;
    /// assert_eq!(r, 1);
    /// # Ok(()) }
    /// ```
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The same policy bounded to `total` for the whole operation.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
    /// use std::time::Duration;
    /// use hwctl_core::{Error, ErrorKind, retry::{Idempotency, RetryPolicy, retry}};
    /// let policy = RetryPolicy::default().with_max_attempts(100).with_max_elapsed(Duration::from_millis(50));
    /// let started = std::time::Instant::now();
    /// let err = retry(&policy, Idempotency::Idempotent, None, |_| async {
    ///     Err::<(), _>(Error::new(ErrorKind::Busy, "locked"))
    /// }).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Busy);
    /// assert!(started.elapsed() < Duration::from_secs(5)); // far fewer than 100 attempts
    /// # Ok(()) }
    /// ```
    pub fn with_max_elapsed(mut self, total: Duration) -> Self {
        self.max_elapsed = Some(total);
        self
    }

    /// Whether a failed attempt with `error` may be tried again, by kind and by
    /// idempotency (the time and attempt limits aside).
    ///
    /// ```
    /// use hwctl_core::{Error, ErrorKind, retry::{Idempotency, RetryPolicy}};
    /// let p = RetryPolicy::default();
    /// let timeout = Error::new(ErrorKind::Timeout, "no reply");
    /// assert!(p.may_retry(&timeout, Idempotency::Idempotent));
    /// // A reset that timed out may have been done: never resent.
    /// assert!(!p.may_retry(&timeout, Idempotency::NotIdempotent));
    /// let refused = Error::new(ErrorKind::Unreachable, "connection refused").not_delivered();
    /// assert!(p.may_retry(&refused, Idempotency::NotIdempotent));
    /// ```
    pub fn may_retry(&self, error: &Error, idempotency: Idempotency) -> bool {
        error.is_retryable()
            && (idempotency == Idempotency::Idempotent || error.was_not_delivered())
    }
}

tokio::task_local! {
    /// The deadline of whoever awaits the operation (see [`with_caller_deadline`]).
    static CALLER_DEADLINE: Instant;
}

/// Runs `future` knowing that its caller gives up at `deadline` (an enclosing
/// earlier one is kept). A driver with a retry loop of its own reads it with
/// [`caller_deadline`] and, rather than start a wait the caller will cut, returns
/// its last failure at once: the cause (a refused connection) reaches the user
/// instead of the caller's bare timeout. `hwctl --timeout` and the power engine's
/// timeout set it; it is not inherited by spawned tasks.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use hwctl_core::retry::{caller_deadline, with_caller_deadline};
/// use tokio::time::Instant;
/// assert_eq!(caller_deadline(), None);
/// let outer = Instant::now() + Duration::from_secs(3);
/// let seen = with_caller_deadline(outer, async {
///     with_caller_deadline(outer + Duration::from_secs(60), async { caller_deadline() }).await
/// })
/// .await;
/// assert_eq!(seen, Some(outer)); // the earlier deadline wins
/// # }
/// ```
pub async fn with_caller_deadline<F: Future>(deadline: Instant, future: F) -> F::Output {
    let deadline = caller_deadline().map_or(deadline, |outer| outer.min(deadline));
    CALLER_DEADLINE.scope(deadline, future).await
}

/// The deadline set by [`with_caller_deadline`] around the running task, if any.
///
/// ```
/// assert_eq!(hwctl_core::retry::caller_deadline(), None); // outside any scope
/// ```
pub fn caller_deadline() -> Option<Instant> {
    CALLER_DEADLINE.try_with(|d| *d).ok()
}

/// Runs `attempt` (given the 0-based attempt number) until it succeeds, fails in a
/// way that must not be retried, or the policy or `deadline` runs out.
///
/// A failure after more than one attempt has `(after N attempts over X.Xs)`
/// appended to its message, so the caller reads what was tried for how long.
/// Each attempt is cut at the deadline (the earlier of `deadline` and the policy's
/// `max_elapsed`); one that is cut fails with [`crate::ErrorKind::Timeout`]. The
/// first retry after a timeout is logged once at `WARN` (`…; retrying (2/3)`), the
/// other retries at `DEBUG`.
///
/// # Errors
///
/// The last attempt's error, of whatever kind it was; [`crate::ErrorKind::Timeout`]
/// when the deadline cut an attempt.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use hwctl_core::{Error, ErrorKind, retry::{Idempotency, RetryPolicy, retry}};
/// let mut calls = 0;
/// let r = retry(&RetryPolicy::default(), Idempotency::Idempotent, None, |n| {
///     calls += 1;
///     async move {
///         if n < 2 { Err(Error::new(ErrorKind::Timeout, "dropped")) } else { Ok(n) }
///     }
/// }).await;
/// assert_eq!(r.unwrap(), 2);
/// assert_eq!(calls, 3);
/// # }
/// ```
pub async fn retry<T, F, Fut>(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    deadline: Option<Instant>,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let started = Instant::now();
    let deadline = match (deadline, policy.max_elapsed.map(|d| started + d)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let max = policy.max_attempts.max(1);
    let mut n = 0u32;
    loop {
        let result = match deadline {
            Some(d) => match tokio::time::timeout_at(d, attempt(n)).await {
                Ok(r) => r,
                Err(_) => Err(Error::new(
                    crate::ErrorKind::Timeout,
                    "no answer before the deadline",
                )),
            },
            None => attempt(n).await,
        };
        let err = match result {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        n += 1;
        let tried = |e: Error| {
            if n > 1 {
                e.note_attempts(n, started.elapsed().as_secs_f64())
            } else {
                e
            }
        };
        if n >= max || !policy.may_retry(&err, idempotency) {
            return Err(tried(err));
        }
        let wait = policy.backoff.sleep_for(n - 1);
        if let Some(d) = deadline
            && Instant::now() + wait >= d
        {
            return Err(tried(err));
        }
        if n == 1 && err.kind() == crate::ErrorKind::Timeout {
            // A silent device: say so once at the default level, so the user is not
            // left staring at nothing while the retries run.
            tracing::warn!("{err}; retrying ({}/{max})", n + 1);
        } else {
            tracing::debug!(attempt = n, error = %err, wait_ms = wait.as_millis() as u64, "retrying");
        }
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[tokio::test(start_paused = true)]
    async fn a_reset_that_may_have_arrived_is_sent_once() {
        let mut calls = 0;
        let r: Result<()> = retry(
            &RetryPolicy::default(),
            Idempotency::NotIdempotent,
            None,
            |_| {
                calls += 1;
                async { Err(Error::new(ErrorKind::Timeout, "no reply")) }
            },
        )
        .await;
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Timeout);
        assert_eq!(calls, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_never_left_is_resent_even_if_not_idempotent() {
        let mut calls = 0;
        let r: Result<()> = retry(
            &RetryPolicy::default(),
            Idempotency::NotIdempotent,
            None,
            |_| {
                calls += 1;
                async { Err(Error::new(ErrorKind::Unreachable, "refused").not_delivered()) }
            },
        )
        .await;
        let e = r.unwrap_err();
        assert_eq!(calls, 3);
        assert!(e.message().contains("after 3 attempts"), "{e}");
    }

    #[tokio::test(start_paused = true)]
    async fn nested_retries_note_their_attempts_once() {
        let policy = RetryPolicy::default().with_max_attempts(2);
        let r: Result<()> = retry(&policy, Idempotency::Idempotent, None, |_| async {
            retry(&policy, Idempotency::Idempotent, None, |_| async {
                Err(Error::new(ErrorKind::Unreachable, "refused"))
            })
            .await
        })
        .await;
        let e = r.unwrap_err();
        assert_eq!(e.message().matches("attempts over").count(), 1, "{e}");
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_errors_are_not_retried() {
        let mut calls = 0;
        let r: Result<()> = retry(
            &RetryPolicy::default(),
            Idempotency::Idempotent,
            None,
            |_| {
                calls += 1;
                async { Err(Error::new(ErrorKind::Unauthenticated, "wrong password")) }
            },
        )
        .await;
        assert_eq!(r.unwrap_err().message(), "wrong password");
        assert_eq!(calls, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_total_time_bounds_attempts_and_waits() {
        let policy = RetryPolicy::default()
            .with_max_attempts(100)
            .with_backoff(Backoff::fixed(Duration::from_secs(1)))
            .with_max_elapsed(Duration::from_secs(5));
        let start = Instant::now();
        let r: Result<()> = retry(&policy, Idempotency::Idempotent, None, |_| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            Err(Error::new(ErrorKind::Timeout, "silent"))
        })
        .await;
        assert!(r.is_err());
        assert!(
            start.elapsed() <= Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_attempt_is_cut_at_the_callers_deadline() {
        let start = Instant::now();
        let r: Result<()> = retry(
            &RetryPolicy::default(),
            Idempotency::Idempotent,
            Some(start + Duration::from_secs(3)),
            |_| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(())
            },
        )
        .await;
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Timeout);
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }
}
