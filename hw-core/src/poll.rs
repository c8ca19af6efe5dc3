//! Bounded polling: ask until an answer is final or a deadline passes.
//!
//! Used for confirming a power change ([`crate::power::wait_for_state`]) and for the
//! long-running operations of REST devices (a Redfish task monitor, a OneView task):
//! every read is cut at the deadline, so one slow read cannot overrun the caller's
//! timeout, and the wait between reads follows a [`Backoff`].

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, ErrorKind, Result};

/// The wait between attempts: `initial`, multiplied by `multiplier` after each
/// attempt, never more than `max`; with `jitter`, each wait is drawn uniformly from
/// its upper half (so many nodes retrying together do not stay in step).
///
/// ```
/// use std::time::Duration;
/// use hwctl_core::poll::Backoff;
/// let b = Backoff::exponential(Duration::from_secs(1), Duration::from_secs(10));
/// assert_eq!(b.delay(0), Duration::from_secs(1));
/// assert_eq!(b.delay(3), Duration::from_secs(8));
/// assert_eq!(b.delay(9), Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The first wait.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
    /// The factor applied after each attempt (1.0 = a fixed interval).
    pub multiplier: f64,
    /// Whether waits are drawn from `[delay/2, delay]` instead of being exact.
    pub jitter: bool,
}

impl Backoff {
    /// A fixed interval, no jitter.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_core::poll::Backoff;
    /// let b = Backoff::fixed(Duration::from_millis(500));
    /// assert_eq!(b.delay(0), Duration::from_millis(500));
    /// assert_eq!(b.delay(10), Duration::from_millis(500));
    /// ```
    pub const fn fixed(interval: Duration) -> Self {
        Backoff {
            initial: interval,
            max: interval,
            multiplier: 1.0,
            jitter: false,
        }
    }

    /// Doubling from `initial` up to `max`, no jitter.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_core::poll::Backoff;
    /// let b = Backoff::exponential(Duration::from_millis(100), Duration::from_secs(1));
    /// let waits: Vec<u128> = (0..5).map(|n| b.delay(n).as_millis()).collect();
    /// assert_eq!(waits, [100, 200, 400, 800, 1000]); // capped at `max`
    /// ```
    pub const fn exponential(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            multiplier: 2.0,
            jitter: false,
        }
    }

    /// The same backoff with jitter on.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_core::poll::Backoff;
    /// let b = Backoff::fixed(Duration::from_secs(2)).with_jitter();
    /// assert!(b.jitter);
    /// assert_eq!(b.delay(0), Duration::from_secs(2)); // the nominal wait is unchanged
    /// ```
    pub const fn with_jitter(mut self) -> Self {
        self.jitter = true;
        self
    }

    /// The nominal wait after attempt `attempt` (0-based), before jitter.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_core::poll::Backoff;
    /// let b = Backoff { initial: Duration::from_secs(1), max: Duration::from_secs(30), multiplier: 1.5, jitter: true };
    /// assert_eq!(b.delay(2), Duration::from_millis(2250)); // 1 s × 1.5²
    /// assert_eq!(b.delay(u32::MAX), Duration::from_secs(30));
    /// ```
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = self.multiplier.max(1.0).powi(attempt.min(64) as i32);
        let secs = (self.initial.as_secs_f64() * factor).min(self.max.as_secs_f64());
        Duration::try_from_secs_f64(secs).unwrap_or(self.max)
    }

    /// The wait to sleep after attempt `attempt`: [`delay`](Self::delay), with jitter
    /// applied when on.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hwctl_core::poll::Backoff;
    /// let exact = Backoff::exponential(Duration::from_secs(1), Duration::from_secs(8));
    /// assert_eq!(exact.sleep_for(2), Duration::from_secs(4));
    /// let jittered = exact.with_jitter();
    /// for _ in 0..100 {
    ///     let d = jittered.sleep_for(2);
    ///     assert!(d >= Duration::from_secs(2) && d <= Duration::from_secs(4)); // upper half
    /// }
    /// ```
    pub fn sleep_for(&self, attempt: u32) -> Duration {
        let d = self.delay(attempt);
        if self.jitter {
            d.mul_f64(0.5 + 0.5 * random_unit())
        } else {
            d
        }
    }
}

/// A number in `[0, 1)` from the process's random hasher keys and a counter: enough
/// to spread retries, not for anything secret.
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// What one look at a long-running operation found.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> hwctl_core::Result<()> {
/// use std::time::Duration;
/// use hwctl_core::ErrorKind;
/// use hwctl_core::poll::{Backoff, Check, poll_until};
/// let deadline = tokio::time::Instant::now() + Duration::from_millis(30);
/// let err = poll_until("task 7", deadline, Backoff::fixed(Duration::from_millis(5)), || async {
///     Ok::<Check<()>, hwctl_core::Error>(Check::Pending("state Running".into()))
/// }).await.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Timeout);
/// assert!(err.to_string().contains("state Running"), "{err}"); // the last thing seen
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check<T> {
    /// Finished with this value.
    Done(T),
    /// Not yet; the text says what was seen (it goes into the timeout error).
    Pending(String),
}

/// Calls `check` until it returns [`Check::Done`], sleeping per `backoff` between
/// calls, and fails with [`ErrorKind::Timeout`] once `deadline` has passed.
///
/// - Each call is cut at the deadline: a call that hangs cannot overrun it.
/// - When the next sleep would pass the deadline, one last call is made before
///   it, started at the deadline less twice the last call's duration (when that
///   is still ahead), so a deadline shorter than the interval still gets its
///   reads (a 0.9 s timeout with a 1 s interval: a call at 0 s and one just before
///   0.9 s).
/// - An error from `check` that [`is_retryable`](Error::is_retryable) is tolerated
///   while time remains (a device may drop a request while it switches); any other
///   error ends the poll at once and is returned as it is.
/// - The timeout error names `what` and the last thing seen.
///
/// # Errors
///
/// [`ErrorKind::Timeout`] when the deadline passes first; otherwise the first
/// non-retryable error `check` returned.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use hwctl_core::poll::{Backoff, Check, poll_until};
/// let deadline = tokio::time::Instant::now() + Duration::from_millis(50);
/// let mut n = 0;
/// let got = poll_until("task 7", deadline, Backoff::fixed(Duration::from_millis(1)), || {
///     n += 1;
///     let r = if n < 3 { Check::Pending(format!("{n}% done")) } else { Check::Done(n) };
///     async move { Ok(r) }
/// }).await;
/// assert_eq!(got.unwrap(), 3);
/// # }
/// ```
pub async fn poll_until<T, F, Fut>(
    what: &str,
    deadline: Instant,
    backoff: Backoff,
    check: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Check<T>>>,
{
    let total = deadline.saturating_duration_since(Instant::now());
    poll_until_or(deadline, backoff, check, |seen| {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "{what} not reached within {:.1}s; {seen}",
                total.as_secs_f64()
            ),
        )
    })
    .await
}

/// [`poll_until`] with the error for an overrun made by `failure` from the last
/// thing seen.
pub(crate) async fn poll_until_or<T, F, Fut>(
    deadline: Instant,
    backoff: Backoff,
    mut check: F,
    failure: impl Fn(&str) -> Error,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Check<T>>>,
{
    let mut attempt = 0u32;
    let mut last_chance = false;
    loop {
        let started = Instant::now();
        let seen = match tokio::time::timeout_at(deadline, check()).await {
            Err(_) => return Err(failure("the last check did not answer in time")),
            Ok(Ok(Check::Done(v))) => return Ok(v),
            Ok(Ok(Check::Pending(seen))) => seen,
            Ok(Err(e)) if e.is_retryable() => format!("the last check failed: {e}"),
            Ok(Err(e)) => return Err(e),
        };
        let took = started.elapsed();
        let wait = backoff.sleep_for(attempt);
        attempt = attempt.saturating_add(1);
        let now = Instant::now();
        if now + wait <= deadline {
            tokio::time::sleep(wait).await;
            continue;
        }
        // The next wait would pass the deadline: one last check, started so that
        // it ends by the deadline if it takes twice as long as this one did, rather
        // than giving up with time left (a 0.9 s timeout and a 1 s interval failed
        // after the first check, a few milliseconds in).
        let last_start = deadline.checked_sub(took.saturating_mul(2));
        match last_start {
            Some(at) if !last_chance && at > now => {
                last_chance = true;
                tokio::time::sleep_until(at).await;
            }
            _ => return Err(failure(&seen)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_the_upper_half() {
        let b = Backoff::fixed(Duration::from_secs(2)).with_jitter();
        for i in 0..200 {
            let d = b.sleep_for(i);
            assert!(
                d >= Duration::from_secs(1) && d <= Duration::from_secs(2),
                "{d:?}"
            );
        }
    }

    #[test]
    fn backoff_saturates_without_overflow() {
        let b = Backoff::exponential(Duration::from_secs(1), Duration::from_secs(10));
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(10));
    }

    /// A deadline shorter than the interval (or between two intervals) still
    /// gets a last check just before it, not a failure right after the first
    /// (found by a newcomer: a blade that reached the state at 0.3 s failed a
    /// 0.9 s timeout 3 ms in, with a 1 s interval).
    #[tokio::test(start_paused = true)]
    async fn a_last_check_comes_before_a_deadline_shorter_than_the_interval() {
        let start = Instant::now();
        let checks = std::sync::Mutex::new(Vec::new());
        let r = poll_until(
            "state",
            start + Duration::from_millis(900),
            Backoff::fixed(Duration::from_secs(1)),
            || {
                let at = start.elapsed();
                checks.lock().unwrap().push(at);
                async move {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    Ok(if at >= Duration::from_millis(300) {
                        Check::Done(at)
                    } else {
                        Check::Pending("off".into())
                    })
                }
            },
        )
        .await;
        let at = r.unwrap();
        // Started at the deadline less twice the first check's 10 ms.
        assert_eq!(at, Duration::from_millis(880));
        assert_eq!(checks.lock().unwrap().len(), 2);
        // With the state never reached: exactly one last check, then the error
        // at the deadline's side (no third check, no sleep past it).
        let start = Instant::now();
        let n = std::sync::atomic::AtomicU32::new(0);
        let r: Result<()> = poll_until(
            "state",
            start + Duration::from_millis(1900),
            Backoff::fixed(Duration::from_secs(1)),
            || {
                n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                async {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    Ok(Check::Pending("off".into()))
                }
            },
        )
        .await;
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Timeout);
        assert_eq!(n.load(std::sync::atomic::Ordering::Relaxed), 3);
        assert!(start.elapsed() <= Duration::from_millis(1900));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_check_is_cut_at_the_deadline() {
        let start = Instant::now();
        let r: Result<()> = poll_until(
            "task",
            start + Duration::from_secs(5),
            Backoff::fixed(Duration::from_secs(1)),
            || async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(Check::Done(()))
            },
        )
        .await;
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(e.message().contains("task"), "{e}");
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn retryable_errors_are_tolerated_permanent_ones_end_it() {
        let mut n = 0;
        let r = poll_until(
            "x",
            Instant::now() + Duration::from_secs(10),
            Backoff::fixed(Duration::from_secs(1)),
            || {
                n += 1;
                let r = match n {
                    1 => Err(Error::new(ErrorKind::Timeout, "dropped")),
                    _ => Ok(Check::Done(n)),
                };
                async move { r }
            },
        )
        .await;
        assert_eq!(r.unwrap(), 2);
        let r: Result<()> = poll_until(
            "x",
            Instant::now() + Duration::from_secs(10),
            Backoff::fixed(Duration::from_secs(1)),
            || async { Err(Error::new(ErrorKind::Unauthenticated, "no")) },
        )
        .await;
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Unauthenticated);
    }
}
