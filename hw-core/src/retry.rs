//! Retry with backoff, jitter and a total time, knowing which requests may be resent.
//!
//! The one rule every driver follows lives here: an **idempotent** request (a read,
//! a set of a value) is retried after any retryable failure; a request that is **not
//! idempotent** (a power cycle, a reset, an NMI, a relay pulse) is resent only when
//! the failure proves it never reached the device ([`Error::was_not_delivered`]).
//!
//! Every retry is logged once at `WARN` (the failure, the wait, `attempt n of
//! max`), and no wait is begun that the caller's deadline would cut
//! ([`with_caller_deadline`], set by `hwctl --timeout` and the power engine): the
//! last failure is returned then, of its own kind, rather than lost to the
//! caller's bare timeout.

use std::borrow::Cow;
use std::fmt;
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
/// begun, that would end after it. The `deadline` given to [`retry`] bounds it as
/// well, and the caller's deadline ([`with_caller_deadline`]) bounds its waits.
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

/// The deadline of whoever awaits the operation, and what the user knows it as.
#[derive(Debug, Clone)]
struct CallerDeadline {
    at: Instant,
    name: DeadlineName,
}

/// What the user knows a deadline as (`--timeout 2s`, `the power timeout of 2s`),
/// as the note of an error that it ended prints it: a text, or a text around a
/// duration ([`DeadlineName::timed`]) that is only formatted when printed — a
/// deadline is set on every operation and its name read only when a retry gives
/// up (issue 16).
///
/// ```
/// use std::time::Duration;
/// use hwctl_core::retry::DeadlineName;
/// let name = DeadlineName::timed("the power timeout of ", Duration::from_secs(2), "");
/// assert_eq!(name.to_string(), "the power timeout of 2s");
/// assert_eq!(DeadlineName::from("--timeout 3s").to_string(), "--timeout 3s");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineName(NameText);

#[derive(Debug, Clone, PartialEq, Eq)]
enum NameText {
    Text(Cow<'static, str>),
    Timed {
        before: &'static str,
        limit: Duration,
        after: &'static str,
    },
}

impl DeadlineName {
    /// `before`, then `limit` as `{:?}` prints a [`Duration`] (`2s`, `2.5s`),
    /// then `after`.
    pub const fn timed(before: &'static str, limit: Duration, after: &'static str) -> Self {
        Self(NameText::Timed {
            before,
            limit,
            after,
        })
    }
}

impl fmt::Display for DeadlineName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            NameText::Text(t) => f.write_str(t),
            NameText::Timed {
                before,
                limit,
                after,
            } => write!(f, "{before}{limit:?}{after}"),
        }
    }
}

impl From<&'static str> for DeadlineName {
    fn from(text: &'static str) -> Self {
        Self(NameText::Text(Cow::Borrowed(text)))
    }
}

impl From<String> for DeadlineName {
    fn from(text: String) -> Self {
        Self(NameText::Text(Cow::Owned(text)))
    }
}

impl From<Cow<'static, str>> for DeadlineName {
    fn from(text: Cow<'static, str>) -> Self {
        Self(NameText::Text(text))
    }
}

tokio::task_local! {
    /// The deadline of whoever awaits the operation (see [`with_caller_deadline`]).
    static CALLER_DEADLINE: CallerDeadline;
}

/// What [`with_caller_deadline`] calls the deadline in an error's note.
pub const CALLERS_TIME_LIMIT: &str = "the caller's time limit";

/// Runs `future` knowing that its caller gives up at `deadline` (an enclosing
/// earlier one is kept), named [`CALLERS_TIME_LIMIT`]; see
/// [`with_named_caller_deadline`] to give it the name the user knows.
///
/// [`retry`] (and a driver with a retry loop of its own, through
/// [`caller_deadline`]) never begins a wait the caller would cut: it returns its
/// last failure at once, so the cause (a refused connection) reaches the user
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
    with_named_caller_deadline(deadline, CALLERS_TIME_LIMIT, future).await
}

/// [`with_caller_deadline`], the deadline named `name` in the note of an error
/// that it ended: what the user set, such as `--timeout 3s` or `the power
/// timeout` (no secret: it is shown). An enclosing earlier deadline is kept with
/// its own name; of two equal ones, the enclosing one.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use hwctl_core::{Error, ErrorKind, poll::Backoff};
/// use hwctl_core::retry::{Idempotency, RetryPolicy, retry, with_named_caller_deadline};
/// use tokio::time::Instant;
/// let policy = RetryPolicy::default().with_backoff(Backoff::fixed(Duration::from_secs(5)));
/// let limit = Instant::now() + Duration::from_secs(2);
/// let err = with_named_caller_deadline(limit, "--timeout 2s", async {
///     retry(&policy, Idempotency::Idempotent, None, |_| async {
///         Err::<(), _>(Error::new(ErrorKind::Unreachable, "connection refused"))
///     })
///     .await
/// })
/// .await
/// .unwrap_err();
/// // The 5 s wait would end after the caller's 2 s: the refusal at once, not a timeout.
/// assert_eq!(err.kind(), ErrorKind::Unreachable);
/// assert_eq!(
///     err.message(),
///     "connection refused (1 attempt; the next would start after --timeout 2s)"
/// );
/// # }
/// ```
pub async fn with_named_caller_deadline<F: Future>(
    deadline: Instant,
    name: impl Into<DeadlineName>,
    future: F,
) -> F::Output {
    let enclosing = CALLER_DEADLINE
        .try_with(|outer| (outer.at <= deadline).then(|| outer.clone()))
        .ok()
        .flatten();
    let scope = enclosing.unwrap_or_else(|| CallerDeadline {
        at: deadline,
        name: name.into(),
    });
    CALLER_DEADLINE.scope(scope, future).await
}

/// The deadline set by [`with_caller_deadline`] around the running task, if any.
///
/// ```
/// assert_eq!(hwctl_core::retry::caller_deadline(), None); // outside any scope
/// ```
pub fn caller_deadline() -> Option<Instant> {
    CALLER_DEADLINE.try_with(|d| d.at).ok()
}

/// Runs `attempt` (given the 0-based attempt number) until it succeeds, fails in a
/// way that must not be retried, or the policy or a deadline runs out.
///
/// - **Attempts** are cut at the earlier of `deadline` and the policy's
///   `max_elapsed` (counted from the call); one that is cut fails with
///   [`crate::ErrorKind::Timeout`]. The caller's deadline
///   ([`with_caller_deadline`]) does not cut an attempt: a device still silent then
///   is the caller's own timeout.
/// - **Waits**: no wait is begun that would end at or after the earliest of
///   `deadline`, `max_elapsed` and the caller's deadline. The last failure is
///   returned at once instead, of its own kind, with its source and delivery
///   mark, noted `(after N attempts over X.Xs; the next would start after
///   <limit>)` (`(1 attempt; …)` after one), `<limit>` being the caller's
///   deadline's name, `the operation's deadline` or `the retry time limit of Xs`.
/// - Any other failure after more than one attempt is noted `(after N attempts
///   over X.Xs)`; a retry loop inside another notes its attempts once.
/// - **Each retry is logged once at `WARN`**: `<failure>; retrying in 200 ms
///   (attempt 2 of 3)`, the failure's `Display` (which holds no secret). See
///   [`retry_named`] to name what is retried.
///
/// # Errors
///
/// The last attempt's error, of whatever kind it was; [`crate::ErrorKind::Timeout`]
/// when `deadline` or `max_elapsed` cut an attempt.
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
    attempt: F,
) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    run(policy, idempotency, deadline, None, attempt).await
}

/// [`retry`], with `what` (the request: `GET_RELAYS`, `GET /redfish/v1/Systems/1`)
/// named in each retry's log line: `<failure>; retrying GET_RELAYS in 1000 ms
/// (attempt 2 of 4)`. `what` is written to the log: it must hold no secret.
///
/// # Errors
///
/// As [`retry`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use hwctl_core::{Error, ErrorKind, poll::Backoff};
/// use hwctl_core::retry::{Idempotency, RetryPolicy, retry_named};
/// let policy = RetryPolicy::default().with_backoff(Backoff::fixed(Duration::from_millis(1)));
/// let err = retry_named(&policy, Idempotency::Idempotent, None, &"GET_RELAYS", |_| async {
///     Err::<(), _>(Error::new(ErrorKind::Busy, "locked"))
/// })
/// .await
/// .unwrap_err();
/// assert!(err.message().starts_with("locked (after 3 attempts over "), "{err}");
/// # }
/// ```
pub async fn retry_named<T, F, Fut>(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    deadline: Option<Instant>,
    what: &(dyn fmt::Display + Sync),
    attempt: F,
) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    run(policy, idempotency, deadline, Some(what), attempt).await
}

/// The loop of [`retry`] and [`retry_named`].
async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    deadline: Option<Instant>,
    what: Option<&(dyn fmt::Display + Sync)>,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let started = Instant::now();
    let budget = policy.max_elapsed.map(|d| (started + d, d));
    let cut = match (deadline, budget.map(|(at, _)| at)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let max = policy.max_attempts.max(1);
    let mut n = 0u32;
    loop {
        let result = match cut {
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
        if n >= max || !policy.may_retry(&err, idempotency) {
            return Err(noted(err, n, started, None));
        }
        let wait = policy.backoff.sleep_for(n - 1);
        if let Some(limit) = limit_before(Instant::now() + wait, deadline, budget) {
            return Err(noted(err, n, started, Some(limit)));
        }
        let wait_ms = wait.as_millis();
        let next = n + 1;
        match what {
            Some(what) => {
                tracing::warn!("{err}; retrying {what} in {wait_ms} ms (attempt {next} of {max})")
            }
            None => tracing::warn!("{err}; retrying in {wait_ms} ms (attempt {next} of {max})"),
        }
        tokio::time::sleep(wait).await;
    }
}

/// The name of the earliest limit at or before `ends` (the end of the next wait):
/// the caller's deadline, `deadline` or the policy's `budget` (its end and
/// length); on a tie, in that order. `None` when the wait fits.
fn limit_before(
    ends: Instant,
    deadline: Option<Instant>,
    budget: Option<(Instant, Duration)>,
) -> Option<DeadlineName> {
    let caller = CALLER_DEADLINE
        .try_with(|c| (c.at <= ends).then(|| (c.at, c.name.clone())))
        .ok()
        .flatten();
    let own = deadline
        .filter(|at| *at <= ends)
        .map(|at| (at, DeadlineName::from("the operation's deadline")));
    let budget = budget.filter(|(at, _)| *at <= ends).map(|(at, total)| {
        (
            at,
            DeadlineName::timed("the retry time limit of ", total, ""),
        )
    });
    [caller, own, budget]
        .into_iter()
        .flatten()
        .min_by_key(|(at, _)| *at)
        .map(|(_, name)| name)
}

/// `err` with what was tried: the attempts and time when more than one, and the
/// limit when one ended the retries (`limit`). Noted once however deep the loops.
fn noted(err: Error, n: u32, started: Instant, limit: Option<DeadlineName>) -> Error {
    let took = started.elapsed().as_secs_f64();
    match (n, limit) {
        (1, None) => err,
        (n, None) => err.note_attempts(format_args!("after {n} attempts over {took:.1}s")),
        (1, Some(limit)) => err.note_attempts(format_args!(
            "1 attempt; the next would start after {limit}"
        )),
        (n, Some(limit)) => err.note_attempts(format_args!(
            "after {n} attempts over {took:.1}s; the next would start after {limit}"
        )),
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

    /// A refusal retried 1 s apart under a caller's 2.5 s: three attempts (at 0, 1
    /// and 2 s), then the wait that would end at 3 s is not begun.
    #[tokio::test(start_paused = true)]
    async fn the_callers_deadline_ends_the_waits_with_the_last_failure() {
        let policy = RetryPolicy::default()
            .with_max_attempts(10)
            .with_backoff(Backoff::fixed(Duration::from_secs(1)));
        let start = Instant::now();
        let mut calls = 0;
        let r: Result<()> = with_named_caller_deadline(
            start + Duration::from_millis(2500),
            "--timeout 2.5s",
            retry(&policy, Idempotency::NotIdempotent, None, |_| {
                calls += 1;
                let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
                async move {
                    Err(Error::new(ErrorKind::Unreachable, "connect: refused")
                        .with_source(refused)
                        .not_delivered())
                }
            }),
        )
        .await;
        let e = r.unwrap_err();
        assert_eq!(calls, 3);
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        assert_eq!(e.kind(), ErrorKind::Unreachable);
        assert!(e.was_not_delivered());
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(
            e.message(),
            "connect: refused (after 3 attempts over 2.0s; the next would start after --timeout 2.5s)"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_callers_deadline_does_not_cut_an_attempt() {
        let start = Instant::now();
        let r = with_caller_deadline(
            start + Duration::from_secs(1),
            retry(
                &RetryPolicy::default(),
                Idempotency::Idempotent,
                None,
                |_| async {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    Ok(7)
                },
            ),
        )
        .await;
        // Cutting a silent device is the caller's timeout, with its own message.
        assert_eq!(r.unwrap(), 7);
        assert_eq!(start.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn an_enclosing_earlier_deadline_keeps_its_name() {
        let start = Instant::now();
        let policy = RetryPolicy::default().with_backoff(Backoff::fixed(Duration::from_secs(5)));
        let failing = |_| async { Err::<(), _>(Error::new(ErrorKind::Busy, "locked")) };
        let inner = with_named_caller_deadline(
            start + Duration::from_secs(60),
            "the power timeout",
            retry(&policy, Idempotency::Idempotent, None, failing),
        );
        let e = with_named_caller_deadline(start + Duration::from_secs(3), "--timeout 3s", inner)
            .await
            .unwrap_err();
        assert_eq!(
            e.message(),
            "locked (1 attempt; the next would start after --timeout 3s)"
        );
        // Unnamed, the deadline is the caller's time limit.
        let e = with_caller_deadline(
            start + Duration::from_secs(3),
            retry(&policy, Idempotency::Idempotent, None, failing),
        )
        .await
        .unwrap_err();
        assert!(
            e.message()
                .ends_with(&format!("after {CALLERS_TIME_LIMIT})")),
            "{e}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_limit_that_ends_the_waits_is_named() {
        let start = Instant::now();
        let policy = RetryPolicy::default()
            .with_max_attempts(100)
            .with_backoff(Backoff::fixed(Duration::from_secs(1)));
        let failing = |_| async { Err::<(), _>(Error::new(ErrorKind::Busy, "locked")) };
        let e = retry(
            &policy,
            Idempotency::Idempotent,
            Some(start + Duration::from_millis(1500)),
            failing,
        )
        .await
        .unwrap_err();
        assert_eq!(
            e.message(),
            "locked (after 2 attempts over 1.0s; the next would start after the operation's deadline)"
        );
        let start = Instant::now();
        let e = retry(
            &policy.with_max_elapsed(Duration::from_millis(2500)),
            Idempotency::Idempotent,
            Some(start + Duration::from_secs(60)),
            failing,
        )
        .await
        .unwrap_err();
        assert_eq!(
            e.message(),
            "locked (after 3 attempts over 2.0s; the next would start after the retry time limit of 2.5s)"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn nested_retries_stopped_by_the_callers_deadline_note_once() {
        let start = Instant::now();
        let policy = RetryPolicy::default()
            .with_max_attempts(5)
            .with_backoff(Backoff::fixed(Duration::from_secs(1)));
        let r: Result<()> = with_caller_deadline(start + Duration::from_millis(1500), async {
            retry(&policy, Idempotency::Idempotent, None, |_| async {
                retry(&policy, Idempotency::Idempotent, None, |_| async {
                    Err(Error::new(ErrorKind::Unreachable, "refused"))
                })
                .await
            })
            .await
        })
        .await;
        let e = r.unwrap_err();
        assert_eq!(
            e.message(),
            "refused (after 2 attempts over 1.0s; the next would start after the caller's time limit)"
        );
    }
}
