//! One operation's attempts: what is being waited for (a session setup step or the
//! command), how many datagrams were sent for it, the one log line per retry, the
//! final error ([`Attempts::final_error`]), and the retry loop itself ([`run`]),
//! shared by every IPMI command and the SOL console's session setup.
//!
//! Session setup retransmits a step's message after silence, and the operation
//! retries after a failure; both count here, so the final error gives one attempt
//! count (after silence: the silent run apart from the answered attempts before
//! it) and one duration, and every resend is logged exactly once: at `WARN`,
//! except busy refusals after the first (a BMC that answers "busy" may be retried
//! for a minute; those go to `DEBUG`).
//!
//! The log line has hwctl-core's form (`<failure>; retrying in 200 ms (attempt 2
//! of 3)`, as HTTP drivers log): `(attempt N of M)` after silence, where the
//! operation bounds silence by a count of attempts (`retries + 1` silent attempts
//! in a row at most, so `M` is an upper bound, reached by a BMC that stays
//! silent); otherwise no count bounds the attempts (busy refusals are retried for
//! as long as the time limit allows), and the line names the time limit instead:
//! `(attempt N, 1.2s of ipmi_command_retry_timeout 60s)`.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use hwctl_core::retry::Idempotency;
use hwctl_core::{Error, ErrorKind, Result};
use tokio::time::Instant;

use crate::config::IpmiConfig;

/// The name of an IPMI command this crate sends, for messages (IPMI 2.0 appendix G).
pub(crate) fn command_name(netfn: u8, cmd: u8) -> Option<&'static str> {
    Some(match (netfn, cmd) {
        (0x00, 0x01) => "Get Chassis Status",
        (0x00, 0x02) => "Chassis Control",
        (0x00, 0x04) => "Chassis Identify",
        (0x00, 0x08) => "Set System Boot Options",
        (0x00, 0x09) => "Get System Boot Options",
        (0x04, 0x2D) => "Get Sensor Reading",
        (0x06, 0x01) => "Get Device ID",
        (0x06, 0x38) => "Get Channel Authentication Capabilities",
        (0x06, 0x3B) => "Set Session Privilege Level",
        (0x06, 0x3C) => "Close Session",
        (0x06, 0x48) => "Activate Payload",
        (0x06, 0x49) => "Deactivate Payload",
        (0x06, 0x54) => "Get Channel Cipher Suites",
        (0x0A, 0x22) => "Reserve SDR Repository",
        (0x0A, 0x23) => "Get SDR",
        _ => return None,
    })
}

/// `Get Chassis Status (netfn 0x00 cmd 0x01)`, or the numbers alone.
pub(crate) fn command_text(netfn: u8, cmd: u8) -> String {
    match command_name(netfn, cmd) {
        Some(name) => format!("{name} (netfn 0x{netfn:02x} cmd 0x{cmd:02x})"),
        None => format!("netfn 0x{netfn:02x} cmd 0x{cmd:02x}"),
    }
}

/// The attempts of one operation on one endpoint.
pub(crate) struct Attempts {
    endpoint: String,
    started: Instant,
    /// Attempts made: the first send of the operation and every resend.
    made: AtomicU32,
    /// Busy refusals retried so far (their retries after the first log at DEBUG).
    busy: AtomicU32,
    /// What the last datagram asked for: the setup step or the command.
    waiting_for: Mutex<String>,
    /// Silent attempts in a row at most, when the operation bounds silence by a
    /// count (`retries + 1`).
    silent_max: Option<u32>,
    /// Attempts met with silence in a row, the last one included.
    silent_run: AtomicU32,
    /// When the current run of silent attempts started: the operation's start,
    /// or the end of the wait after the last failure that was not silence.
    quiet_since: Mutex<Instant>,
    /// The operation's time limit (`ipmi_command_retry_timeout`), for the log.
    limit: Option<Duration>,
}

impl Attempts {
    /// The first attempt of an operation starts now.
    pub(crate) fn new(endpoint: String, first: String) -> Self {
        let started = Instant::now();
        Attempts {
            endpoint,
            started,
            made: AtomicU32::new(1),
            busy: AtomicU32::new(0),
            waiting_for: Mutex::new(first),
            silent_max: None,
            silent_run: AtomicU32::new(0),
            quiet_since: Mutex::new(started),
            limit: None,
        }
    }

    /// The operation ends within `limit` (`ipmi_command_retry_timeout`) and, when
    /// `silent_max` is given, gives a silent BMC at most that many attempts in a
    /// row; both only shape the log line (the caller's loop enforces them).
    pub(crate) fn bounded(mut self, limit: Duration, silent_max: Option<u32>) -> Self {
        self.limit = Some(limit);
        self.silent_max = silent_max;
        self
    }

    /// The step or command now being waited for (`Open Session (session setup,
    /// cipher suite 17)`).
    pub(crate) fn waiting_for(&self, what: impl Into<String>) {
        if let Ok(mut w) = self.waiting_for.lock() {
            *w = what.into();
        }
    }

    /// What the last datagram asked for.
    pub(crate) fn what(&self) -> String {
        self.waiting_for
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default()
    }

    /// Attempts made so far.
    pub(crate) fn made(&self) -> u32 {
        self.made.load(Ordering::Relaxed)
    }

    /// Seconds since the operation started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Counts the next attempt and logs it once, after `error`, in `wait`.
    pub(crate) fn retrying(&self, error: &Error, wait: Duration) {
        let n = self.made.fetch_add(1, Ordering::Relaxed) + 1;
        let busy = error.kind() == ErrorKind::Busy && self.busy.fetch_add(1, Ordering::Relaxed) > 0;
        let silent = if error.kind() == ErrorKind::Timeout {
            self.silent_run.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            self.silent_run.store(0, Ordering::Relaxed);
            if let Ok(mut q) = self.quiet_since.lock() {
                *q = Instant::now() + wait;
            }
            0
        };
        let bound = self.bound(n, silent);
        let what = self.what();
        let msg = error.message();
        // Session errors name the step already; others (a refusal) do not.
        let cause = if msg.contains(what.as_str()) {
            msg.to_owned()
        } else {
            format!("{}: {what}: {msg}", self.endpoint)
        };
        let ms = wait.as_millis();
        if busy {
            tracing::debug!("{cause}; retrying in {ms} ms ({bound})");
        } else {
            tracing::warn!("{cause}; retrying in {ms} ms ({bound})");
        }
    }

    /// The error of an operation that failed with `e` after these attempts: one
    /// message with what went unanswered, the attempts and the time taken (the
    /// kind, retryability and source of `e` kept).
    ///
    /// After silence: how long the BMC was silent over how many attempts in a
    /// row, and the bound on those (`retries + 1` silent attempts in a row at
    /// most). When answers (busy refusals) came before the silence, the silent
    /// run is the last of the attempts, and the total is said apart, since
    /// neither the attempts nor the time were all silence.
    pub(crate) fn final_error(&self, e: Error, cfg: &IpmiConfig) -> Error {
        let made = self.made();
        let took = self.elapsed().as_secs_f64();
        let plural = |n: u32| if n == 1 { "" } else { "s" };
        match e.kind() {
            ErrorKind::Timeout => {
                let retryable = e.is_retryable();
                // The final attempt was silent too.
                let run = self
                    .silent_run
                    .load(Ordering::Relaxed)
                    .saturating_add(1)
                    .min(made);
                let quiet = self.quiet_since.lock().map(|q| *q).unwrap_or(self.started);
                let silent = Instant::now()
                    .saturating_duration_since(quiet)
                    .as_secs_f64();
                let over = if run == made {
                    format!("{made} attempt{}", plural(made))
                } else {
                    format!(
                        "the last {run} of {made} attempts, {took:.1}s in all (the BMC answered the others)"
                    )
                };
                let max = cfg.retries.saturating_add(1);
                Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "{}: no reply to {}: the BMC was silent for {silent:.1}s over {over} \
                         (each waiting up to {:.1}s; at most {max} silent attempt{} in a row, \
                         ipmi_command_retry_timeout {}s)",
                        self.endpoint,
                        self.what(),
                        cfg.request_timeout.as_secs_f64(),
                        plural(max),
                        cfg.command_retry_timeout.as_secs_f64(),
                    ),
                )
                .with_retryable(retryable)
                .with_source(e)
            }
            ErrorKind::Busy if made > 1 => e.with_note(format_args!(
                "{made} attempts over {took:.1}s, within ipmi_command_retry_timeout {}s",
                cfg.command_retry_timeout.as_secs_f64()
            )),
            _ if made > 1 => {
                let mut f = Error::new(
                    e.kind(),
                    format!(
                        "{}: {made} attempts over {took:.1}s: {}",
                        self.what(),
                        e.message()
                    ),
                )
                .with_retryable(e.is_retryable());
                if e.was_not_delivered() {
                    f = f.not_delivered();
                }
                f.with_source(e)
            }
            _ => e,
        }
    }

    /// `attempt N of M` for attempt `n` after `silent` silent attempts in a row,
    /// where silence is bounded by a count; `attempt N, X.Xs of
    /// ipmi_command_retry_timeout Ys` otherwise (`X.Xs so far` without a limit).
    fn bound(&self, n: u32, silent: u32) -> String {
        if let Some(max) = self.silent_max.filter(|_| silent > 0) {
            // `n` is silent attempt `silent + 1` of at most `max` in this run.
            let m = n.saturating_sub(silent + 1).saturating_add(max);
            return format!("attempt {n} of {m}");
        }
        let took = self.started.elapsed().as_secs_f64();
        match self.limit {
            Some(limit) => format!(
                "attempt {n}, {took:.1}s of ipmi_command_retry_timeout {}s",
                limit.as_secs_f64()
            ),
            None => format!("attempt {n}, {took:.1}s so far"),
        }
    }
}

/// One operation, bounded in all by `cfg.command_retry_timeout`, each try made
/// by `attempt(until)` (which must not wait past `until`), with the retry rule
/// of `hwctl_core::retry` ([`RetryPolicy::may_retry`]: an idempotent operation
/// after any retryable failure, another only when it never left):
///
/// - busy-type refusals (kind `Busy`: no free session slot, RMCP+ status
///   0x01/0x0B, or a busy completion code the caller turned into an error) are
///   retried with backoff for as long as the time limit allows, as Ironic
///   retries them, the last wait shortened so one attempt is made 100 ms
///   before the window ends;
/// - silence (kind `Timeout`) is bounded by [`IpmiConfig::silence_budget`]
///   counted from the start, or from the next attempt after a busy refusal (a
///   lost reply does not restart the count by re-opening the session); the
///   wait for the reply is the pause, so a datagram after silence follows at
///   once;
/// - other retryable failures (a corrupt reply, an ICMP refusal) by `retries`,
///   each after the policy's backoff (never back to back).
///
/// `on_retry` runs before each retry (a counter). Every retry is logged once
/// through `tries`; the final error is [`Attempts::final_error`]'s.
///
/// [`RetryPolicy::may_retry`]: hwctl_core::retry::RetryPolicy::may_retry
pub(crate) async fn run<T, F, Fut>(
    cfg: &IpmiConfig,
    tries: &Attempts,
    idempotency: Idempotency,
    mut attempt: F,
    mut on_retry: impl FnMut(),
) -> Result<T>
where
    F: FnMut(Instant) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let policy = cfg.retry_policy();
    let end = tries.started + cfg.command_retry_timeout;
    let silence = cfg.silence_budget();
    // When silence started to count: `None` after a busy refusal, so it is
    // counted afresh from the next attempt (the backoff wait is not silence).
    let mut heard: Option<Instant> = Some(tries.started);
    // Failures other than silence and busy refusals, and busy refusals.
    let (mut others, mut busy) = (0u32, 0u32);
    loop {
        let since = *heard.get_or_insert_with(Instant::now);
        let until = (since + silence).min(end);
        let e = match tokio::time::timeout_at(end, attempt(until)).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => e,
            Err(_) => Error::new(
                ErrorKind::Timeout,
                "no answer before ipmi_command_retry_timeout",
            ),
        };
        let now = Instant::now();
        let wait = match e.kind() {
            ErrorKind::Busy => {
                heard = None;
                busy += 1;
                last_busy_wait(policy.backoff.sleep_for(busy - 1), now, end)
            }
            // The wait for the reply was the pause; another attempt only while
            // silence is within its budget.
            ErrorKind::Timeout => {
                Some(Duration::ZERO).filter(|_| now + cfg.request_timeout / 10 < until)
            }
            _ => {
                others += 1;
                Some(policy.backoff.sleep_for(others - 1))
                    .filter(|w| others <= cfg.retries && now + *w < end)
            }
        };
        match wait {
            Some(wait) if policy.may_retry(&e, idempotency) => {
                on_retry();
                tries.retrying(&e, wait);
                tokio::time::sleep(wait).await;
            }
            _ => return Err(tries.final_error(e, cfg)),
        }
    }
}

/// How long before the end of `ipmi_command_retry_timeout` the last attempt after a
/// busy refusal is made: room for the BMC to answer (a refusal comes back within
/// milliseconds on a LAN).
const LAST_BUSY_TRY_ROOM: Duration = Duration::from_millis(100);

/// The wait before retrying a busy refusal at `now`, or `None` to give up: the
/// backoff `wait` when the retry still fits before `end`; otherwise a shortened
/// wait so that one last attempt is made [`LAST_BUSY_TRY_ROOM`] before `end` (the
/// window is used to its end, whatever the jitter drew); `None` once no more than
/// that room is left.
fn last_busy_wait(wait: Duration, now: Instant, end: Instant) -> Option<Duration> {
    let room = end.saturating_duration_since(now);
    if wait + LAST_BUSY_TRY_ROOM <= room {
        Some(wait)
    } else if room > LAST_BUSY_TRY_ROOM {
        Some(room - LAST_BUSY_TRY_ROOM)
    } else {
        None
    }
}

#[cfg(test)]
mod busy_wait_tests {
    use super::*;

    #[test]
    fn a_wait_that_fits_is_kept() {
        let now = Instant::now();
        let end = now + Duration::from_secs(2);
        assert_eq!(
            last_busy_wait(Duration::from_millis(400), now, end),
            Some(Duration::from_millis(400))
        );
    }

    #[test]
    fn a_wait_past_the_end_is_shortened_to_one_last_try_then_none() {
        let now = Instant::now();
        let end = now + Duration::from_millis(600);
        assert_eq!(
            last_busy_wait(Duration::from_millis(1600), now, end),
            Some(Duration::from_millis(500))
        );
        // After that last try there is no room for another.
        let later = now + Duration::from_millis(510);
        assert_eq!(last_busy_wait(Duration::from_millis(50), later, end), None);
        assert_eq!(last_busy_wait(Duration::from_millis(50), end, end), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_named_with_their_numbers() {
        assert_eq!(
            command_text(0x00, 0x01),
            "Get Chassis Status (netfn 0x00 cmd 0x01)"
        );
        assert_eq!(command_text(0x2E, 0xCA), "netfn 0x2e cmd 0xca");
    }

    #[tokio::test]
    async fn each_retry_is_counted_once() {
        let a = Attempts::new("h:623".into(), "x".into());
        assert_eq!(a.made(), 1);
        a.retrying(&Error::new(ErrorKind::Timeout, "no reply"), Duration::ZERO);
        a.retrying(&Error::new(ErrorKind::Busy, "busy"), Duration::ZERO);
        assert_eq!(a.made(), 3);
        a.waiting_for("RAKP 1");
        assert_eq!(a.what(), "RAKP 1");
    }

    /// The retry line's bound: `attempt N of M` in a run of silence (M counted
    /// from the run's first attempt), the time limit after anything else.
    #[tokio::test]
    async fn the_bound_is_a_count_after_silence_and_the_time_limit_otherwise() {
        let timeout = Error::new(ErrorKind::Timeout, "no reply");
        let busy = Error::new(ErrorKind::Busy, "no session slot");
        let a = Attempts::new("h:623".into(), "x".into()).bounded(Duration::from_secs(60), Some(4));
        a.retrying(&timeout, Duration::ZERO); // attempt 2, run of 1
        assert_eq!(a.bound(2, 1), "attempt 2 of 4");
        a.retrying(&busy, Duration::ZERO); // attempt 3
        assert!(
            a.bound(3, 0)
                .starts_with("attempt 3, 0.0s of ipmi_command_retry_timeout 60s"),
            "{}",
            a.bound(3, 0)
        );
        // Silence after the busy refusal: a new run, from attempt 3.
        a.retrying(&timeout, Duration::ZERO); // attempt 4, run of 1
        assert_eq!(a.bound(4, 1), "attempt 4 of 6");
        assert_eq!(a.bound(6, 3), "attempt 6 of 6");
        let sol = Attempts::new("h:623".into(), "x".into()).bounded(Duration::from_secs(20), None);
        assert_eq!(
            sol.bound(2, 1),
            "attempt 2, 0.0s of ipmi_command_retry_timeout 20s"
        );
        let plain = Attempts::new("h:623".into(), "x".into());
        assert_eq!(plain.bound(2, 0), "attempt 2, 0.0s so far");
    }
}
