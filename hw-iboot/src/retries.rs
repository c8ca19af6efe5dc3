//! The retry loop of one iBoot operation: one log line per retry, and no wait
//! begun that the caller's deadline would cut.
//!
//! Every DxP operation the driver retries is idempotent (a read, a relay set to a
//! state), so [`RetryPolicy::may_retry`] decides by the error alone. The loop is
//! the crate's own rather than [`hwctl_core::retry::retry`] for two things that
//! one does not do:
//!
//! - each retry is logged once, at `WARN` (the cause, the wait, `attempt n of
//!   max`): a PDU refusing connections would otherwise keep a user waiting
//!   `max_retry × retry_interval` with nothing on screen;
//! - the caller's deadline ([`caller_deadline`], set by `hwctl --timeout` and by
//!   the power engine's timeout) bounds the *waits* only: when the next wait would
//!   end at or after it, the last failure is returned at once, of its own kind
//!   (`unreachable` for a refused connection), instead of the caller cutting the
//!   wait and reporting a bare timeout. An attempt in flight is not cut here: a
//!   device that is silent at the deadline is the caller's timeout.

use std::future::Future;

use hwctl_core::retry::{Idempotency, RetryPolicy, caller_deadline};
use hwctl_core::{Error, Result};
use tokio::time::Instant;

/// Runs `attempt` (given the 0-based attempt number) under `policy`; `what` names
/// the request in the log (`GET_RELAYS`).
///
/// # Errors
///
/// The last attempt's error, its kind, source and delivery mark kept, with
/// `(after N attempts over X.Xs)` appended when there was more than one attempt,
/// and `the next would start after the caller's time limit` when the caller's
/// deadline ended the loop.
pub(crate) async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    what: &str,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let started = Instant::now();
    let max = policy.max_attempts.max(1);
    let mut made = 0u32;
    loop {
        let err = match attempt(made).await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        made += 1;
        if made >= max || !policy.may_retry(&err, Idempotency::Idempotent) {
            return Err(noted(err, made, started, false));
        }
        let wait = policy.backoff.sleep_for(made - 1);
        if caller_deadline().is_some_and(|d| Instant::now() + wait >= d) {
            return Err(noted(err, made, started, true));
        }
        tracing::warn!(
            "{err}; retrying {what} in {} ms (attempt {} of {max})",
            wait.as_millis(),
            made + 1
        );
        tokio::time::sleep(wait).await;
    }
}

/// `err` with what was tried: the attempts and time when more than one, and the
/// deadline when it ended the loop.
fn noted(err: Error, made: u32, started: Instant, deadline: bool) -> Error {
    let took = started.elapsed().as_secs_f64();
    match (made, deadline) {
        (1, false) => err,
        (1, true) => err.with_note("1 attempt; the next would start after the caller's time limit"),
        (n, false) => err.with_note(format_args!("after {n} attempts over {took:.1}s")),
        (n, true) => err.with_note(format_args!(
            "after {n} attempts over {took:.1}s; the next would start after the caller's time limit"
        )),
    }
}
